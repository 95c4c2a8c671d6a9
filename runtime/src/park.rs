//! Blocking a thread on a future: the parker behind `block_on` for threads that do not
//! drive a scheduler (the multi-thread runtime's `block_on` caller).

use crate::coop;
use crossbeam_utils::sync::{Parker, Unparker};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A thread parker whose waker unparks it.
pub(crate) struct ParkThread {
    parker: Parker,
    waker: Waker,
}

struct Unpark(Unparker);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl ParkThread {
    pub(crate) fn new() -> ParkThread {
        let parker = Parker::new();
        let waker = Waker::from(Arc::new(Unpark(parker.unparker().clone())));
        ParkThread { parker, waker }
    }

    pub(crate) fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Blocks until woken (an earlier wake makes this return at once).
    pub(crate) fn park(&self) {
        self.parker.park();
    }

    /// Polls `future` to completion, parking between polls.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(&self.waker);
        loop {
            {
                let _budget = coop::budget_guard();
                if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                    return out;
                }
            }
            self.park();
        }
    }
}
