//! Streams: [`generator`], an async generator (`async def` with `yield`) as a
//! [`futures_core::Stream`].
//!
//! # The hand-over protocol
//!
//! The body and the reader share one slot (`Option<T>`); the body only runs inside the
//! reader's `poll_next`, so the two never race, and the mutex is never contended.
//!
//! 1. `yield_(v)` is *yielded* when its future is first polled with the slot empty: it puts
//!    `v` in the slot and is pending. If the slot is still full (an earlier `yield_` put its
//!    value there and was dropped before resolving, in this same poll), it keeps `v` and is
//!    pending without touching the slot; the reader takes the earlier value and the next
//!    poll puts `v` in (values are delivered in the order they entered the slot).
//! 2. After each poll of the body, `poll_next` takes the slot. A value there is returned,
//!    whatever the body did afterwards: a `yield_` dropped before resolving (its deadline
//!    passed, a select let it go) still delivered its value, and a body that returned in
//!    the same poll delivers it too.
//! 3. A yielded `yield_` resolves the next time it is polled: the reader came back.
//! 4. Once the body returned it is never polled again: `done` is set in that same poll, and
//!    every later `poll_next` is `Ready(None)` (after the value of step 2, if there was one).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Makes a stream from an async closure that yields values through its [`Co`] handle
/// (Python's async generators, `async for`).
///
/// Values are handed over through one slot allocated with the generator: nothing is
/// allocated per item. The body runs only while the stream is polled, up to its next
/// `yield_`, so it is lazy and back-pressured like a Python generator.
///
/// ```
/// use arbor::stream::generator;
///
/// arbor::run(async {
///     let mut countdown = generator(|co| async move {
///         for i in (1..=3).rev() {
///             co.yield_(i).await;
///         }
///     });
///     let mut seen = Vec::new();
///     while let Some(i) = countdown.next().await {
///         seen.push(i);
///     }
///     assert_eq!(seen, [3, 2, 1]);
/// });
/// ```
pub fn generator<T, F, Fut>(body: F) -> Generator<T, Fut>
where
    F: FnOnce(Co<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    let slot = Arc::new(Mutex::new(None));
    let body = body(Co { slot: slot.clone() });
    Generator {
        body: Box::pin(body),
        slot,
        done: false,
    }
}

/// The yielding end of a [`generator`].
pub struct Co<T> {
    slot: Arc<Mutex<Option<T>>>,
}

impl<T> Co<T> {
    /// Hands `value` to the stream's reader; resolves when the reader asks for the next.
    ///
    /// The value counts as yielded from the future's first poll: it reaches the reader even
    /// if the future is then dropped before resolving (a deadline passes, a select lets it
    /// go) or the body returns in the same poll.
    pub fn yield_(&self, value: T) -> Yield<'_, T> {
        Yield {
            co: self,
            value: Some(value),
        }
    }
}

/// The future of [`Co::yield_`].
#[must_use = "a yield does nothing unless awaited"]
pub struct Yield<'a, T> {
    co: &'a Co<T>,
    value: Option<T>,
}

impl<T> Unpin for Yield<'_, T> {}

impl<T> Future for Yield<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        // `value` is `Some` until the value entered the slot (protocol step 1).
        if self.value.is_none() {
            // Step 3: the reader came back for the next value.
            return Poll::Ready(());
        }
        let mut slot = self.co.slot.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = self.value.take();
        }
        // Either way the generator's reader finds a value in the slot after this poll and
        // returns it at once, then polls again: no wake-up is needed.
        Poll::Pending
    }
}

/// The stream of [`generator`]; also has an inherent [`next`](Generator::next).
#[must_use = "streams do nothing unless polled"]
pub struct Generator<T, Fut> {
    /// The body; never polled once it returned (`done`).
    body: Pin<Box<Fut>>,
    /// The value yielded in the current poll (protocol steps 1 and 2).
    slot: Arc<Mutex<Option<T>>>,
    /// The body returned; set in the poll it returned in (step 4).
    done: bool,
}

impl<T, Fut> Unpin for Generator<T, Fut> {}

impl<T, Fut: Future<Output = ()>> Generator<T, Fut> {
    /// The next value, or `None` once the body has returned.
    pub async fn next(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_value(cx)).await
    }

    fn poll_value(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if self.done {
            return Poll::Ready(None);
        }
        // Step 4: a body that returns is marked done before anything else, so a value it
        // yielded in this same poll is still returned below but the body is not polled again.
        self.done = self.body.as_mut().poll(cx).is_ready();
        // Step 2.
        let value = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        match value {
            Some(value) => Poll::Ready(Some(value)),
            None if self.done => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

impl<T, Fut: Future<Output = ()>> futures_core::Stream for Generator<T, Fut> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_value(cx)
    }
}

impl<T, Fut> fmt::Debug for Generator<T, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Co<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Yield<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yield").finish_non_exhaustive()
    }
}
