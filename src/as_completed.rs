//! `as_completed`: outputs in the order their futures complete.

use crate::gather::InPlace as Futures;
use crate::maybe_done::MaybeDone;
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs every future of `iter` concurrently inside the calling task and yields their
/// outputs in completion order (`asyncio.as_completed`).
///
/// Read it with the inherent [`next`](AsCompleted::next) or as a
/// [`futures_core::Stream`]. For a deadline on the whole, wrap the loop in
/// `arbor::timeout`. Dropping it drops the futures still running.
///
/// ```
/// use std::time::Duration;
///
/// arbor::run(async {
///     let mut done = arbor::as_completed([30u64, 10, 20].map(|ms| async move {
///         arbor::sleep(Duration::from_millis(ms)).await;
///         ms
///     }));
///     let mut order = Vec::new();
///     while let Some(ms) = done.next().await {
///         order.push(ms);
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub fn as_completed<I>(iter: I) -> AsCompleted<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator<Item: IntoFuture>,
{
    AsCompleted {
        inner: Futures::new(iter),
        completed: VecDeque::new(),
    }
}

/// The stream of [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future> {
    inner: Futures<F>,
    /// Completed in one poll, handed out one at a time.
    completed: VecDeque<F::Output>,
}

impl<F: Future> AsCompleted<F> {
    /// The next output to complete, or `None` when all have been returned.
    pub async fn next(&mut self) -> Option<F::Output> {
        std::future::poll_fn(|cx| self.poll_next_output(cx)).await
    }

    /// How many outputs are still to come.
    pub fn len(&self) -> usize {
        self.inner.remaining + self.completed.len()
    }

    /// Whether every output has been returned.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn poll_next_output(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        if let Some(out) = self.completed.pop_front() {
            return Poll::Ready(Some(out));
        }
        if self.inner.remaining == 0 {
            return Poll::Ready(None);
        }
        let completed = &mut self.completed;
        self.inner
            .poll_woken(cx, |_, slot: Pin<&mut MaybeDone<F>>| {
                completed.extend(slot.take_output());
                false
            });
        match self.completed.pop_front() {
            Some(out) => Poll::Ready(Some(out)),
            None => Poll::Pending,
        }
    }
}

// The futures sit in a pinned box and the outputs are never pinned.
impl<F: Future> Unpin for AsCompleted<F> {}

impl<F: Future> futures_core::Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.get_mut().poll_next_output(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl<F: Future> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.len())
            .finish()
    }
}
