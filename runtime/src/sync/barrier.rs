//! [`Barrier`]: `n` tasks wait for each other (asyncio's `Barrier`, tokio's shape).
//!
//! # Protocol
//!
//! All under one lock: an arriving `wait` counts itself; if it is the `n`-th, it resets the
//! count, grants every queued waiter (a new generation starts at once) and resolves as the
//! leader; otherwise it queues. A waiter dropped before the barrier trips withdraws: its
//! arrival is uncounted, so the barrier still waits for `n` live tasks (asyncio does the
//! same for a cancelled waiter). A waiter dropped after the trip owes nothing.

use super::lock;
use super::wait_list::{WaitKey, WaitList, WakeList};
use crate::coop;
use crate::loom::sync::Mutex;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Lets `n` tasks wait until all of them have arrived (asyncio's `Barrier`).
///
/// The barrier is reusable: once `n` tasks have arrived, they are released together and the
/// next `n` arrivals form a new round. In each round exactly one task, the last to arrive,
/// is the leader.
///
/// Cancellation-safe: a `wait()` dropped before its round is complete withdraws its arrival.
///
/// ```
/// use arbor_runtime::sync::Barrier;
/// use std::sync::Arc;
///
/// arbor_runtime::run(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = barrier.clone();
///             arbor_runtime::spawn(async move { barrier.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for task in tasks {
///         leaders += task.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1);
/// });
/// ```
pub struct Barrier {
    /// Arrivals that complete a round; fixed at creation.
    parties: usize,
    /// The current round, under one lock.
    state: Mutex<State>,
}

struct State {
    /// Arrivals in the current round (fewer than `parties`).
    arrived: usize,
    /// The tasks of the current round waiting for the rest.
    waiters: WaitList<(), ()>,
}

/// What [`Barrier::wait`] resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    /// This arrival completed the round.
    leader: bool,
}

impl BarrierWaitResult {
    /// `true` for exactly one task per round: the one whose arrival completed it.
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    /// If `parties` is 0 (asyncio raises `ValueError`): nobody could ever pass.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let solo = arbor_runtime::sync::Barrier::new(1);
    ///     assert!(solo.wait().await.is_leader());
    /// });
    /// ```
    #[track_caller]
    pub fn new(parties: usize) -> Barrier {
        assert!(
            parties > 0,
            "Barrier::new(0): a barrier needs at least one party"
        );
        Barrier {
            parties,
            state: Mutex::new(State {
                arrived: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// How many tasks each round waits for.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks are waiting in the current round.
    pub fn n_waiting(&self) -> usize {
        lock(&self.state).arrived
    }

    /// Arrives at the barrier and waits for the rest of the round.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .finish()
    }
}

/// The future of [`Barrier::wait`]. It arrives when first polled.
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    /// The barrier arrived at.
    barrier: &'a Barrier,
    /// `Some` while waiting in a round, or released-but-unobserved.
    key: Option<WaitKey>,
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let coop = ready!(coop::poll_proceed(cx));
        let this = &mut *self;
        let barrier = this.barrier;
        let mut state = lock(&barrier.state);
        let Some(key) = &this.key else {
            state.arrived += 1;
            if state.arrived < barrier.parties {
                this.key = Some(state.waiters.push_back((), cx.waker()));
                return Poll::Pending;
            }
            state.arrived = 0;
            let mut wakers = WakeList::new();
            state.waiters.grant_all(|_| (), &mut wakers);
            drop(state);
            wakers.wake_all();
            coop.made_progress();
            return Poll::Ready(BarrierWaitResult { leader: true });
        };
        if state.waiters.is_granted(key) {
            let removed = state
                .waiters
                .remove(this.key.take().expect("checked above"));
            drop(state);
            drop(removed);
            coop.made_progress();
            Poll::Ready(BarrierWaitResult { leader: false })
        } else {
            let old = state.waiters.set_waker(key, cx.waker());
            drop(state);
            drop(old);
            Poll::Pending
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut state = lock(&self.barrier.state);
        let removed = state.waiters.remove(key);
        if removed.grant.is_none() {
            // Still waiting for its round: withdraw the arrival.
            state.arrived -= 1;
        }
        drop(state);
        drop(removed);
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
