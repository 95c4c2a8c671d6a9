//! Waking wakers that arbor did not make.
//!
//! A `Waker` handed to arbor (stored by a `Sleep`, a sync primitive's wait list, a `Task`
//! handle) may be a user's: any `std::task::Wake` impl, or a foreign executor's waker. Its
//! `wake` is user code and may panic. arbor calls it from places where an unwind would do
//! damage far from the bug:
//!
//! - the time driver fires timers on whichever thread turns it (a parked worker, a busy
//!   worker's maintenance turn, the current-thread scheduler): an unwind there would kill a
//!   worker, or escape `Runtime::block_on`, with the timer wheel half polled;
//! - a sync primitive wakes every waiter it granted in one batch: an unwind would skip the
//!   rest of the batch, so innocent waiters would hold a grant and never be woken, and the
//!   panic would land in whichever task happened to call `set` or drop a guard (inside a
//!   destructor that runs while unwinding, a second panic aborts the process);
//! - a task's completion wakes its handle's waker on a worker.
//!
//! So every such call goes through [`wake`] or [`wake_by_ref`]: the panic is caught, reported
//! with a `tracing` error event, and dropped. The waker's owner finds its future not woken by
//! that call, which is the waker's own fault; everything else carries on. The catch costs
//! nothing on the path that does not panic.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Waker;

/// Wakes `waker`, containing a panic in it (see the module header).
pub fn wake(waker: Waker) {
    // AssertUnwindSafe: the closure owns the waker; nothing of ours is observed after a panic.
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || waker.wake())) {
        report(payload);
    }
}

/// Wakes `waker` by reference, containing a panic in it (see the module header).
pub fn wake_by_ref(waker: &Waker) {
    // AssertUnwindSafe: a waker is only ever read here.
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake_by_ref())) {
        report(payload);
    }
}

fn report(payload: Box<dyn Any + Send>) {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a non-string payload)");
    tracing::error!(
        panic = message,
        "arbor: a waker panicked when woken; the panic was caught and dropped"
    );
    // The payload's destructor is user code too.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::task::Wake;

    struct Panicky(AtomicUsize);
    impl Wake for Panicky {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
            std::panic::panic_any(String::from("a user waker's bug"));
        }
    }

    #[test]
    fn a_panicking_waker_is_called_and_contained() {
        let panicky = Arc::new(Panicky(AtomicUsize::new(0)));
        let waker = Waker::from(panicky.clone());
        wake_by_ref(&waker);
        wake(waker);
        assert_eq!(panicky.0.load(SeqCst), 2);
        assert_eq!(
            Arc::strong_count(&panicky),
            1,
            "the consumed waker was dropped"
        );
    }
}
