//! Shared test support: the runtime's (the flavours every test runs on, `rt_test!`,
//! counting futures, the quiet panic hook), plus small events to park children on
//! ([`Gate`], [`Latch`]) and panic helpers.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

#[path = "../../../runtime/tests/support/mod.rs"]
mod runtime_support;
#[allow(
    unused_imports,
    reason = "each test binary uses a different part of it"
)]
pub use runtime_support::*;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

/// A one-shot event: `wait()` is pending until `set()` (asyncio's `Event`, minimal).
#[derive(Clone, Default, Debug)]
pub struct Gate(Arc<Mutex<(bool, Vec<Waker>)>>);

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }
    pub fn set(&self) {
        let wakers = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            std::mem::take(&mut state.1)
        };
        for waker in wakers {
            waker.wake();
        }
    }
    pub fn is_set(&self) -> bool {
        self.0.lock().unwrap().0
    }
    /// How many polls found the gate closed and wait for it (a waiter's poll has returned,
    /// or is returning, `Pending`).
    pub fn waiters(&self) -> usize {
        self.0.lock().unwrap().1.len()
    }
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let gate = self.clone();
        std::future::poll_fn(move |cx| {
            let mut state = gate.0.lock().unwrap();
            if state.0 {
                Poll::Ready(())
            } else {
                state.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// Counts up; `wait_for(n)` is pending until the count reaches `n`.
#[derive(Clone, Default, Debug)]
pub struct Latch(Arc<Mutex<(usize, Vec<Waker>)>>);

impl Latch {
    pub fn new() -> Latch {
        Latch::default()
    }
    pub fn arrive(&self) {
        let wakers = {
            let mut state = self.0.lock().unwrap();
            state.0 += 1;
            std::mem::take(&mut state.1)
        };
        for waker in wakers {
            waker.wake();
        }
    }
    pub fn count(&self) -> usize {
        self.0.lock().unwrap().0
    }
    pub fn wait_for(&self, n: usize) -> impl Future<Output = ()> + Send + 'static {
        let latch = self.clone();
        std::future::poll_fn(move |cx| {
            let mut state = latch.0.lock().unwrap();
            if state.0 >= n {
                Poll::Ready(())
            } else {
                state.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// Runs `f` when dropped: records that a future was dropped, from inside it.
pub struct OnDrop<F: FnMut()>(pub F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Resolves to `Err(payload)` if polling `fut` panics (futures' `catch_unwind`, minimal).
pub fn catch_unwind<F: Future>(
    fut: F,
) -> impl Future<Output = Result<F::Output, Box<dyn std::any::Any + Send>>> {
    let mut fut = Box::pin(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
}

/// Polls `fut` once, with the current task's waker; `Some` if it completed.
pub async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        Poll::Ready(match Pin::new(&mut *fut).poll(cx) {
            Poll::Ready(out) => Some(out),
            Poll::Pending => None,
        })
    })
    .await
}

/// Yields until `cond` holds (for conditions another task or thread makes true).
pub async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        arbor_runtime::yield_now().await;
    }
}

/// A child that never finishes on its own ("sleeps" until cancelled).
pub fn sleeper<E: Send + 'static>() -> impl Future<Output = Result<(), E>> + Send + 'static {
    std::future::pending()
}
