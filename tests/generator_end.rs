//! stream::generator: a `yield_` that never resolves (its deadline passes, a select-like
//! future polls it once and lets it go) and a body that returns in the poll it yielded in.
//!
//! The rule under test: a value is yielded once `yield_` was polled (it is in the slot
//! then); that value is delivered even if the `Yield` is dropped before resolving and even
//! if the body returns in the same poll. The body is never polled after it returned, and
//! `next()` keeps returning `None` after the end. All deadlines are at or before now on a
//! paused clock: nothing waits on the wall clock.

use arbor::time::Instant;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Context, Poll};

/// Polls its future once, then drops it and returns whether it was ready (a `select!`
/// against a branch that is already ready).
struct PollOnce<F>(Option<F>);

impl<F: Future + Unpin> Future for PollOnce<F> {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let mut fut = self.0.take().expect("polled after completion");
        Poll::Ready(Pin::new(&mut fut).poll(cx).is_ready())
    }
}

/// Pulls values until `None`, then checks that `next()` stays `None`.
async fn drain<T, Fut: Future<Output = ()>>(
    stream: &mut arbor::stream::Generator<T, Fut>,
) -> Vec<T> {
    let mut seen = Vec::new();
    while let Some(v) = stream.next().await {
        seen.push(v);
    }
    for _ in 0..3 {
        assert!(stream.next().await.is_none(), "the end is sticky");
    }
    seen
}

#[arbor::test(start_paused = true)]
async fn body_returning_after_a_yield_whose_deadline_passed_delivers_it_then_ends() {
    let timed_out = Arc::new(AtomicBool::new(false));
    let t = timed_out.clone();
    let mut stream = arbor::stream::generator(move |co| async move {
        co.yield_(1).await;
        // The deadline is now: the yield hands 2 over, then the scope fires in the same
        // poll, and the body returns at once.
        let resolved = arbor::move_on_at(Instant::now(), co.yield_(2)).await;
        t.store(resolved.is_none(), SeqCst);
    });
    assert_eq!(drain(&mut stream).await, [1, 2]);
    assert!(timed_out.load(SeqCst), "the yield did not resolve");
}

#[arbor::test(start_paused = true)]
async fn body_returning_after_a_timed_out_yield_delivers_it_then_ends() {
    let mut stream = arbor::stream::generator(|co| async move {
        let res = arbor::timeout_at(Instant::now(), co.yield_("only")).await;
        assert_eq!(res, Err(arbor::TimedOut));
    });
    assert_eq!(drain(&mut stream).await, ["only"]);
}

#[arbor::test(start_paused = true)]
async fn a_yield_after_a_cancelled_yield_waits_its_turn() {
    let mut stream = arbor::stream::generator(|co| async move {
        // 1 is in the slot when its scope fires; 2 follows in the same poll and must
        // wait for the reader to take 1 instead of overwriting it or panicking.
        assert_eq!(arbor::move_on_at(Instant::now(), co.yield_(1)).await, None);
        co.yield_(2).await;
        co.yield_(3).await;
    });
    assert_eq!(drain(&mut stream).await, [1, 2, 3]);
}

#[arbor::test]
async fn body_returning_after_a_select_like_poll_of_a_yield_delivers_it_then_ends() {
    let resolved = Arc::new(AtomicBool::new(true));
    let r = resolved.clone();
    let mut stream = arbor::stream::generator(move |co| async move {
        co.yield_(10).await;
        r.store(PollOnce(Some(co.yield_(20))).await, SeqCst);
    });
    assert_eq!(drain(&mut stream).await, [10, 20]);
    assert!(!resolved.load(SeqCst), "a yield's first poll is pending");
}

#[test]
fn poll_next_after_the_end_stays_ready_none_without_polling_the_body() {
    use futures_core::Stream;
    let mut stream = arbor::stream::generator(|co| async move {
        let _ = PollOnce(Some(co.yield_('x'))).await;
    });
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert_eq!(
        Pin::new(&mut stream).poll_next(&mut cx),
        Poll::Ready(Some('x'))
    );
    for _ in 0..3 {
        assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(None));
    }
}
