//! Helpers for the sync tests: polling a future by hand with a waker that counts its
//! wake-ups, and a wrapper that reports when a future has queued (its first `Pending`).

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

use arbor_runtime::sync::Event;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts how often it was woken.
#[derive(Clone)]
pub struct CountingWaker {
    count: Arc<Count>,
    waker: Waker,
}

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl CountingWaker {
    pub fn new() -> CountingWaker {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        CountingWaker {
            waker: Waker::from(count.clone()),
            count,
        }
    }

    /// Wake-ups so far.
    pub fn wakes(&self) -> usize {
        self.count.0.load(SeqCst)
    }

    /// Polls `fut` once with this waker.
    pub fn poll<F: Future + ?Sized>(&self, fut: Pin<&mut F>) -> Poll<F::Output> {
        fut.poll(&mut Context::from_waker(&self.waker))
    }
}

/// A boxed, pinned future, polled by hand in the cancellation tests.
pub type Manual<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Boxes and pins `fut`.
pub fn manual<'a, F: Future + 'a>(fut: F) -> Manual<'a, F::Output> {
    Box::pin(fut)
}

/// Polls `fut` once with a no-op waker.
pub fn poll_noop<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Wraps `fut` so that `queued` is set once `fut` first returns `Pending` (it has joined
/// its primitive's wait list) or resolves.
pub async fn report_queued<F: Future>(fut: F, queued: Arc<Event>) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        let out = fut.as_mut().poll(cx);
        queued.set();
        out
    })
    .await
}
