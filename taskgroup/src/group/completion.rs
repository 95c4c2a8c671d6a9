//! When is a group finished? The live-children count, the `CLOSED` bit, and the waker of
//! whoever waits for the count to reach zero.
//!
//! ## State (one `AtomicUsize`)
//! `live << 1 | CLOSED`: `live` counts children whose future has not been dropped yet;
//! `CLOSED` is set once, when the group is finished, and never cleared. While `CLOSED` is
//! set `live` is zero and stays zero: no child can be added.
//!
//! ## Protocol
//! 1. **Add** ([`Completion::try_add`], at spawn): a CAS loop adds one child unless `CLOSED`
//!    is set. Adding and closing are CASes on the same word, so a spawn racing the group's
//!    completion either is counted before the close (and awaited) or is refused.
//! 2. **Done** ([`Completion::child_done`], when a child's future has been dropped):
//!    `fetch_sub` (`AcqRel`: it publishes what the child recorded, its error or panic, to the
//!    waiter that sees zero); whoever takes the count to zero takes the waiter's waker under
//!    its lock and wakes it.
//! 3. **Wait** ([`Completion::poll_closed`], the scope future once its body is gone): store
//!    the waker under the lock, *then* try to close (CAS `0 -> CLOSED`, `Acquire`). Either
//!    the last `child_done`'s locked section comes after our store and finds the waker, or
//!    it came before our locked section, so its decrement happens-before our CAS, which sees
//!    zero. No wake-up is lost.
//! 4. **Blocking wait** ([`Completion::wait_closed_blocking`], the scope future's `Drop`): the
//!    same, with a waker that unparks this thread, looping on `park` until closed.
//!
//! The loom model in `loom_tests.rs` checks this protocol against a failing child, a
//! cancel and a late spawn racing the group's completion.

use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::thread::{self, Thread};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// The group is finished: no child may be added.
const CLOSED: usize = 1;
/// One live child in the state word.
const ONE_CHILD: usize = 2;

pub(crate) struct Completion {
    /// `live << 1 | CLOSED`.
    state: AtomicUsize,
    /// Woken when `live` reaches zero. Written by the waiter, taken by the last child.
    waiter: Mutex<Option<Waker>>,
}

impl Completion {
    pub(crate) fn new() -> Completion {
        Completion {
            state: AtomicUsize::new(0),
            waiter: Mutex::new(None),
        }
    }

    /// Counts one more child; `false` if the group is closed (step 1).
    pub(crate) fn try_add(&self) -> bool {
        let mut curr = self.state.load(Ordering::Relaxed);
        loop {
            if curr & CLOSED != 0 {
                return false;
            }
            // Relaxed: the count orders nothing by itself on this side; the child's record
            // is published by its `child_done`.
            match self.state.compare_exchange_weak(
                curr,
                curr + ONE_CHILD,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => curr = actual,
            }
        }
    }

    /// A child's future has been dropped (step 2).
    pub(crate) fn child_done(&self) {
        let prev = self.state.fetch_sub(ONE_CHILD, Ordering::AcqRel);
        debug_assert!(prev >= ONE_CHILD, "group live count underflow");
        if prev >> 1 == 1 {
            let waker = self.lock().take();
            if let Some(waker) = waker {
                arbor_runtime::wake::wake(waker);
            }
        }
    }

    /// How many children are live.
    pub(crate) fn live(&self) -> usize {
        self.state.load(Ordering::Acquire) >> 1
    }

    /// Whether the group is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Closes the group if no child is live; `true` if it is closed now.
    fn try_close(&self) -> bool {
        match self
            .state
            .compare_exchange(0, CLOSED, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(actual) => actual & CLOSED != 0,
        }
    }

    /// Ready once every child is gone; the group is closed then (step 3).
    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.try_close() {
            return Poll::Ready(());
        }
        {
            let mut waiter = self.lock();
            match &*waiter {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *waiter = Some(cx.waker().clone()),
            }
        }
        if self.try_close() {
            // Do not keep a stale waker (and the task it references) alive.
            drop(self.lock().take());
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Blocks this thread until every child is gone, then closes the group (step 4).
    pub(crate) fn wait_closed_blocking(&self) {
        if self.try_close() {
            return;
        }
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        loop {
            // (Re-)register after every wake-up: the last child took the waker, and a spawn
            // may have slipped in since. Replace whatever is there: a waker the scope future
            // registered while it was polled would not unpark this thread.
            {
                let mut slot = self.lock();
                if !slot.as_ref().is_some_and(|w| w.will_wake(&waker)) {
                    *slot = Some(waker.clone());
                }
            }
            if self.try_close() {
                break;
            }
            thread::park();
        }
        drop(self.lock().take());
    }

    fn lock(&self) -> impl std::ops::DerefMut<Target = Option<Waker>> + '_ {
        // A poisoned lock only means a waker panicked elsewhere; the slot is still valid.
        self.waiter.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A waker that unparks a thread (the blocking wait of step 4).
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("live", &self.live())
            .field("closed", &self.is_closed())
            .finish()
    }
}
