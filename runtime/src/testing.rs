//! Tools for tests of concurrent code (Trio's `trio.testing`).
//!
//! - [`wait_all_tasks_blocked`]: waits until every other task of a current-thread
//!   runtime is blocked, so a test can check a state "once everything has settled" without
//!   guessing a sleep.
//! - Seeded scheduling: [`Builder::rng_seed`](crate::runtime::Builder::rng_seed) makes a
//!   current-thread runtime take its ready tasks in a pseudo-random order fixed by the
//!   seed, so that a test can try many interleavings and replay the one that failed.
//!   `#[arbor::test]` draws a seed for every test (or takes `seed = N`, or the
//!   `ARBOR_SEED` variable) and prints it when the test fails.
//!
//! ```
//! use arbor_runtime::runtime::Builder;
//! use arbor_runtime::sync::oneshot;
//! use arbor_runtime::testing::wait_all_tasks_blocked;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//!
//! let rt = Builder::new_current_thread().rng_seed(7).build().unwrap();
//! rt.block_on(async {
//!     let steps = Arc::new(AtomicUsize::new(0));
//!     let (tx, rx) = oneshot::channel::<()>();
//!     let counter = steps.clone();
//!     let task = arbor_runtime::spawn(async move {
//!         for _ in 0..10 {
//!             counter.fetch_add(1, Ordering::Relaxed);
//!             arbor_runtime::yield_now().await;
//!         }
//!         let _ = rx.await; // blocked from here on
//!     });
//!     wait_all_tasks_blocked().await;
//!     assert_eq!(steps.load(Ordering::Relaxed), 10, "the task ran up to its `await`");
//!     drop(tx);
//!     task.await.unwrap();
//! });
//! ```

use crate::context;
use crate::runtime::panic_no_runtime;
use crate::scheduler;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Resolves once every other task of the current-thread runtime is blocked (Trio's
/// `trio.testing.wait_all_tasks_blocked`).
///
/// # When it resolves
/// At the moment the scheduler would otherwise go to sleep: its run queue (tasks woken on
/// its thread and from other threads) is empty, the `block_on` future has not been woken,
/// and a non-blocking turn of the driver (due timers, ready IO) woke nothing. So a task
/// waiting on a channel, a lock, a socket, a timer that is not due, or a call on the
/// blocking pool counts as blocked; a task that keeps yielding (`yield_now` in a loop)
/// does not, and the wait lasts until it blocks or ends. With virtual time (a paused
/// clock) the wait resolves before the clock jumps to the next timer: a task sleeping on
/// virtual time is blocked.
///
/// While one caller waits it takes no turn of its own, so several callers do not keep each
/// other "ready": they are woken one at a time, in the order they began to wait, each time
/// the runtime is otherwise idle.
///
/// Cancellation-safe: a wait dropped before it resolves leaves nothing behind.
///
/// # Panics
/// Outside a runtime, and on a multi-thread runtime: its workers run tasks in parallel
/// and steal from each other, so there is no moment at which "every task is blocked" can
/// be observed without stopping all of them. Run such tests on a current-thread runtime
/// (the default of `#[arbor::test]`).
#[track_caller]
pub fn wait_all_tasks_blocked() -> WaitAllTasksBlocked {
    let waiters = context::with_handle(|handle| match handle {
        Some(scheduler::Handle::CurrentThread(h)) => h.shared.blocked_waiters.clone(),
        Some(scheduler::Handle::MultiThread(_)) => panic!(
            "arbor::testing::wait_all_tasks_blocked needs a current-thread runtime \
             (Builder::new_current_thread, or #[arbor::test], which is current-thread by \
             default): the workers of a multi-thread runtime run in parallel, so no moment \
             has every task blocked"
        ),
        None => panic_no_runtime("arbor::testing::wait_all_tasks_blocked"),
    });
    WaitAllTasksBlocked {
        waiters,
        slot: None,
    }
}

/// The future of [`wait_all_tasks_blocked`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` them"]
pub struct WaitAllTasksBlocked {
    waiters: Arc<BlockedWaiters>,
    /// This wait's place in the queue, from its first poll on.
    slot: Option<Arc<Slot>>,
}

impl Future for WaitAllTasksBlocked {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        match &this.slot {
            Some(slot) if slot.woken.load(Ordering::Acquire) => {
                this.slot = None;
                Poll::Ready(())
            }
            Some(slot) => {
                *slot.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
                // Woken between the check above and the new waker: don't miss it.
                if slot.woken.load(Ordering::Acquire) {
                    this.slot = None;
                    return Poll::Ready(());
                }
                Poll::Pending
            }
            None => {
                let slot = Arc::new(Slot {
                    woken: AtomicBool::new(false),
                    waker: Mutex::new(Some(cx.waker().clone())),
                });
                this.waiters.lock().push_back(slot.clone());
                this.slot = Some(slot);
                Poll::Pending
            }
        }
    }
}

impl Drop for WaitAllTasksBlocked {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            // Still queued: leave. Already woken: that idle moment is gone; the scheduler
            // wakes the next waiter the next time it is idle, so nobody is left waiting.
            self.waiters.lock().retain(|s| !Arc::ptr_eq(s, &slot));
        }
    }
}

/// The callers of [`wait_all_tasks_blocked`] on one runtime, in the order they began to
/// wait. Touched by the waiters' polls and drops and by the scheduler when it is idle
/// (`current_thread::Context::park`), all on the runtime's thread in practice; a `Mutex`
/// because the runtime handle is `Sync`.
#[derive(Debug, Default)]
pub(crate) struct BlockedWaiters {
    queue: Mutex<VecDeque<Arc<Slot>>>,
}

#[derive(Debug)]
struct Slot {
    /// Set once, by `wake_one`; the wait resolves when its poll sees it.
    woken: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl BlockedWaiters {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Slot>>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The runtime is idle: wakes the longest waiting caller. Returns whether there was one
    /// (then the scheduler has a task to run and does not sleep).
    pub(crate) fn wake_one(&self) -> bool {
        let Some(slot) = self.lock().pop_front() else {
            return false;
        };
        slot.woken.store(true, Ordering::Release);
        let waker = slot.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }
}
