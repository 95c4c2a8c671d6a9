//! The injection queue: tasks scheduled from outside a scheduler's threads.
//!
//! A lock-free `crossbeam_deque::Injector` plus a `closed` flag. Closing happens once, at
//! shutdown, and must not lose a task pushed concurrently (it would keep its runtime alive
//! through the task's scheduler handle, a reference cycle). Pushers and the closer follow a
//! store-then-load pattern on both sides, each with a `SeqCst` fence between:
//!
//! - push: enqueue; fence; if `closed` is set, drain.
//! - close: set `closed`; fence; drain.
//!
//! Either the pusher sees `closed` and drains its own task, or the closer's drain sees it.

use crossbeam_deque::{Injector, Steal, Worker};
use std::sync::atomic::{AtomicBool, Ordering, fence};

pub(crate) struct Inject<T> {
    queue: Injector<T>,
    closed: AtomicBool,
}

impl<T> Inject<T> {
    pub(crate) fn new() -> Inject<T> {
        Inject {
            queue: Injector::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// Enqueues `task`; after shutdown it is dropped instead. The fence also orders the push
    /// before the caller's load of the idle state: `Idle::worker_to_notify_after_fence`
    /// relies on it (keep a `SeqCst` fence after the enqueue).
    pub(crate) fn push(&self, task: T) {
        self.queue.push(task);
        fence(Ordering::SeqCst);
        if self.closed.load(Ordering::Relaxed) {
            self.drain();
        }
    }

    pub(crate) fn pop(&self) -> Option<T> {
        loop {
            match self.queue.steal() {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    /// Moves a batch into `dest` and returns one task.
    pub(crate) fn pop_batch_into(&self, dest: &Worker<T>) -> Option<T> {
        loop {
            match self.queue.steal_batch_and_pop(dest) {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    /// How many tasks are queued (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Closes the queue and drops everything in it.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.drain();
    }

    fn drain(&self) {
        while let Some(task) = self.pop() {
            drop(task);
        }
    }
}
