//! Streams: [`generator`], an async generator (`async def` with `yield`) as a
//! [`futures_core::Stream`].

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
        match self.value.take() {
            // First poll: hand the value over and pause the body; the generator returns
            // the value to its reader at once (no wake-up needed).
            Some(value) => {
                let mut slot = self.co.slot.lock().unwrap_or_else(|e| e.into_inner());
                assert!(
                    slot.is_none(),
                    "arbor::stream::generator: two `yield_`s awaited at once; await each \
                     before the next"
                );
                *slot = Some(value);
                Poll::Pending
            }
            // The reader came back for the next value.
            None => Poll::Ready(()),
        }
    }
}

/// The stream of [`generator`]; also has an inherent [`next`](Generator::next).
#[must_use = "streams do nothing unless polled"]
pub struct Generator<T, Fut> {
    body: Pin<Box<Fut>>,
    slot: Arc<Mutex<Option<T>>>,
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
        let finished = self.body.as_mut().poll(cx).is_ready();
        let value = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(value) = value {
            return Poll::Ready(Some(value));
        }
        if finished {
            self.done = true;
            return Poll::Ready(None);
        }
        Poll::Pending
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
