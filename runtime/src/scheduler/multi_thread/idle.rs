//! Which workers are parked, and which are searching for work.
//!
//! ## The protocol (no lost wake-ups)
//! The state word packs two counters: `unparked` (workers not parked) and `searching`
//! (workers looking for work to steal). Parked workers' indices sit in `sleepers`, which
//! only changes under its lock, together with the counters.
//!
//! 1. A producer (spawn, wake) pushes a task, then calls [`Idle::worker_to_notify`]: a
//!    `SeqCst` fence, then a load of the state. If someone is searching, or nobody is
//!    parked, it does nothing; else it pops a sleeper, counts it as unparked *and
//!    searching*, and the caller unparks it.
//! 2. A worker with nothing to do first becomes a searcher
//!    ([`transition_worker_to_searching`](Idle::transition_worker_to_searching)); at most
//!    half the workers search at once, so a burst of wake-ups does not turn into a
//!    thundering herd of stealers.
//! 3. A searcher that finds work leaves searching; if it was the last searcher and it sees
//!    work queued in the injector or another worker's queue, it notifies another worker, so
//!    that work left in queues keeps being spread. Seeing none, it notifies nobody: a worker
//!    woken for nothing would search, find nothing and park again (two context switches),
//!    and a producer whose push the look missed came after the `SeqCst` decrement, so it
//!    sees no searcher and wakes a worker itself. (Nothing can be lost here either way: the
//!    worker is awake and reaches every queue again at its next scheduling decisions.)
//! 4. A worker parks with [`transition_worker_to_parked`](Idle::transition_worker_to_parked)
//!    (under the lock: leave `unparked`, and `searching` if it was searching; push itself to
//!    `sleepers`). If it was the last searcher, it checks every queue once more and notifies
//!    if any has work.
//!
//! Why nothing is lost: a worker only parks without searching when another searcher exists
//! at that moment (step 2 refuses only then), and that searcher, or the last one after it,
//! re-checks the queues after its `SeqCst` decrement (step 4). A producer's fence orders its
//! push before its load of the state; so either the producer sees `searching > 0` and a
//! searcher will see the push, or it sees `searching == 0` with a worker parked and wakes it.
//! The loom test `idle_no_lost_wakeup` checks this.

use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::Relaxed, Ordering::SeqCst, fence};

/// Bits of the state word that count searching workers; the rest count unparked ones.
const SEARCH_MASK: usize = (1 << UNPARK_SHIFT) - 1;
const UNPARK_SHIFT: usize = 16;
const UNPARK_ONE: usize = 1 << UNPARK_SHIFT;

pub(crate) struct Idle {
    /// `unparked << UNPARK_SHIFT | searching`.
    state: AtomicUsize,
    num_workers: usize,
    /// Indices of parked workers; changed together with `state`, under this lock.
    sleepers: Mutex<Vec<usize>>,
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCH_MASK, "too many workers");
        Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            num_workers,
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
        }
    }

    fn lock(&self) -> crate::loom::sync::MutexGuard<'_, Vec<usize>> {
        self.sleepers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Step 1: the worker to wake after pushing a task, if any.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        // Orders the caller's push before the state load below (see the module header).
        fence(SeqCst);
        self.worker_to_notify_after_fence()
    }

    /// [`worker_to_notify`](Idle::worker_to_notify) for a caller whose push is already
    /// followed by a `SeqCst` fence (`Inject::push` makes one after its enqueue): a second fence right after the first orders nothing more, and on
    /// x86 each costs a full barrier.
    pub(crate) fn worker_to_notify_after_fence(&self) -> Option<usize> {
        if !self.notify_should_wakeup() {
            return None;
        }
        let mut sleepers = self.lock();
        if !self.notify_should_wakeup() {
            return None;
        }
        // Counted as unparked and searching on its behalf, so concurrent producers do not
        // wake a second worker for the same push.
        self.state.fetch_add(UNPARK_ONE | 1, SeqCst);
        let index = sleepers.pop();
        debug_assert!(index.is_some(), "fewer sleepers than parked workers");
        index
    }

    /// For a worker that pushed onto its *own* queue: that worker runs the task anyway, so
    /// waking another is only for parallelism and a stale answer loses nothing. A relaxed
    /// load filters out the common case (someone searching, or nobody parked) without the
    /// `SeqCst` fence of [`worker_to_notify`](Idle::worker_to_notify).
    pub(crate) fn worth_notifying_for_local_work(&self) -> bool {
        let state = self.state.load(Relaxed);
        state & SEARCH_MASK == 0 && (state >> UNPARK_SHIFT) < self.num_workers
    }

    fn notify_should_wakeup(&self) -> bool {
        let state = self.state.load(SeqCst);
        state & SEARCH_MASK == 0 && (state >> UNPARK_SHIFT) < self.num_workers
    }

    /// Step 2: `false` if enough workers are searching already.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * (state & SEARCH_MASK) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Step 3: `true` if this was the last searcher (the caller notifies another worker).
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(prev & SEARCH_MASK > 0);
        prev & SEARCH_MASK == 1
    }

    /// Step 4: `true` if this was the last searcher (the caller re-checks every queue).
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.lock();
        let delta = UNPARK_ONE | usize::from(is_searching);
        let prev = self.state.fetch_sub(delta, SeqCst);
        sleepers.push(worker);
        is_searching && prev & SEARCH_MASK == 1
    }

    /// A parked worker found work of its own (tasks the driver woke while it was parked in
    /// it): takes it off the sleepers and counts it as unparked, not searching. `false` if a
    /// producer had already popped it (and counted it as searching).
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.lock();
        let Some(pos) = sleepers.iter().position(|&w| w == worker) else {
            return false;
        };
        sleepers.swap_remove(pos);
        self.state.fetch_add(UNPARK_ONE, SeqCst);
        true
    }

    /// Whether `worker` is still in the sleepers list (not yet woken by a producer).
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        self.lock().contains(&worker)
    }

    /// How many workers are parked (a relaxed snapshot).
    pub(crate) fn num_parked(&self) -> usize {
        self.num_workers - (self.state.load(Relaxed) >> UNPARK_SHIFT)
    }

    #[cfg(all(test, not(loom)))]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = self.state.load(SeqCst);
        (state >> UNPARK_SHIFT, state & SEARCH_MASK)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn at_most_half_the_workers_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_from_searching());
        assert!(idle.transition_worker_from_searching());
    }

    #[test]
    fn a_producer_wakes_a_parked_worker_only_when_nobody_searches() {
        let idle = Idle::new(2);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_parked(1, true));
        assert_eq!(idle.counts(), (1, 0));
        assert_eq!(idle.worker_to_notify(), Some(1));
        assert_eq!(idle.counts(), (2, 1));
        // Worker 1 now searches: a second producer wakes nobody.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(!idle.is_parked(1));
    }
}
