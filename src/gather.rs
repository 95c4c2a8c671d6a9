//! `gather` and `try_gather`: run futures concurrently inside the calling task.
//!
//! Unlike `asyncio.gather`, nothing is spawned: the futures are polled in place, so they
//! may borrow from the caller, and when the gather is dropped (or `try_gather` fails) every
//! one of them is dropped with it. To keep work running past that, spawn it and gather the
//! [`Task`](crate::Task)s.

use crate::maybe_done::MaybeDone;
use crate::ready::ReadySet;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs futures concurrently and returns their outputs as a tuple, in argument order
/// (`asyncio.gather(a, b, c)`).
///
/// The futures are polled in place, inside the calling task, in argument order; the macro
/// allocates nothing. For a `Vec` of futures use the function [`gather()`](crate::gather()).
///
/// ```
/// arbor::run(async {
///     let name = String::from("arbor");
///     let (a, b, c) = arbor::gather!(
///         async { 1 },
///         async { name.len() }, // may borrow
///         async { "three" },
///     )
///     .await;
///     assert_eq!((a, b, c), (1, 5, "three"));
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($fut:expr),+ $(,)?) => {
        $crate::__gather_impl!(@count () () $($fut,)+)
    };
}

/// Runs futures that return `Result` concurrently; the first `Err` drops the others and is
/// returned; otherwise the `Ok` values, as a tuple, in argument order.
///
/// ```
/// arbor::run(async {
///     let ok: Result<(i32, &str), String> =
///         arbor::try_gather!(async { Ok(1) }, async { Ok("b") }).await;
///     assert_eq!(ok, Ok((1, "b")));
///
///     let failed: Result<(i32, i32), &str> = arbor::try_gather!(
///         async { Err("boom") },
///         std::future::pending::<Result<i32, &str>>(), // dropped when the first fails
///     )
///     .await;
///     assert_eq!(failed, Err("boom"));
/// });
/// ```
#[macro_export]
macro_rules! try_gather {
    ($($fut:expr),+ $(,)?) => {
        $crate::__try_gather_impl!(@count () () $($fut,)+)
    };
}

/// Gives each future the list of `_` that skips to its place in the tuple.
#[doc(hidden)]
#[macro_export]
macro_rules! __gather_impl {
    (@count ($($skip:tt)*) ($($done:tt)*) $fut:expr, $($rest:tt)*) => {
        $crate::__gather_impl!(@count ($($skip)* _) ($($done)* [($($skip)*) $fut]) $($rest)*)
    };
    (@count ($($skip:tt)*) ($([($($s:tt)*) $fut:expr])*)) => {{
        let mut futures = ($($crate::__private::MaybeDone::new(
            ::core::future::IntoFuture::into_future($fut)),)*);
        async move {
            let futures = &mut futures;
            ::core::future::poll_fn(move |cx| {
                let mut all_done = true;
                $(
                    let ($($s,)* fut, ..) = &mut *futures;
                    // SAFETY: `futures` is a local of this async block, which is pinned
                    // while it runs; the futures in it are never moved.
                    let fut = unsafe { ::core::pin::Pin::new_unchecked(fut) };
                    all_done &= fut.poll_done(cx);
                )*
                if !all_done {
                    return ::core::task::Poll::Pending;
                }
                ::core::task::Poll::Ready(($({
                    let ($($s,)* fut, ..) = &mut *futures;
                    // SAFETY: as above.
                    let fut = unsafe { ::core::pin::Pin::new_unchecked(fut) };
                    fut.take_output().expect("gather!: output taken twice")
                },)*))
            })
            .await
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __try_gather_impl {
    (@count ($($skip:tt)*) ($($done:tt)*) $fut:expr, $($rest:tt)*) => {
        $crate::__try_gather_impl!(@count ($($skip)* _) ($($done)* [($($skip)*) $fut]) $($rest)*)
    };
    (@count ($($skip:tt)*) ($([($($s:tt)*) $fut:expr])*)) => {{
        let mut futures = ($($crate::__private::MaybeDone::new(
            ::core::future::IntoFuture::into_future($fut)),)*);
        async move {
            let futures = &mut futures;
            ::core::future::poll_fn(move |cx| {
                let mut all_done = true;
                $(
                    let ($($s,)* fut, ..) = &mut *futures;
                    // SAFETY: `futures` is a local of this async block, which is pinned
                    // while it runs; the futures in it are never moved.
                    let mut fut = unsafe { ::core::pin::Pin::new_unchecked(fut) };
                    if fut.as_mut().poll_done(cx) {
                        if let Some(Err(_)) = fut.as_mut().output_mut() {
                            let Some(Err(e)) = fut.take_output() else { unreachable!() };
                            return ::core::task::Poll::Ready(Err(e));
                        }
                    } else {
                        all_done = false;
                    }
                )*
                if !all_done {
                    return ::core::task::Poll::Pending;
                }
                ::core::task::Poll::Ready(Ok(($({
                    let ($($s,)* fut, ..) = &mut *futures;
                    // SAFETY: as above.
                    let fut = unsafe { ::core::pin::Pin::new_unchecked(fut) };
                    match fut.take_output() {
                        Some(Ok(v)) => v,
                        _ => unreachable!("try_gather!: every output is Ok here"),
                    }
                },)*)))
            })
            .await
        }
    }};
}

/// The futures of [`Gather`] and [`TryGather`], with the indices woken since last polled.
pub(crate) struct InPlace<F: Future> {
    futures: Pin<Box<[MaybeDone<F>]>>,
    ready: ReadySet,
    pub(crate) remaining: usize,
}

impl<F: Future> InPlace<F> {
    pub(crate) fn new(iter: impl IntoIterator<Item: IntoFuture<IntoFuture = F>>) -> InPlace<F> {
        let futures: Box<[MaybeDone<F>]> = iter
            .into_iter()
            .map(|f| MaybeDone::new(f.into_future()))
            .collect();
        let n = futures.len();
        InPlace {
            futures: Box::into_pin(futures),
            ready: ReadySet::new(n),
            remaining: n,
        }
    }

    fn slot(&mut self, i: usize) -> Pin<&mut MaybeDone<F>> {
        // SAFETY: projecting to one element of a pinned slice; elements are never moved.
        unsafe { self.futures.as_mut().map_unchecked_mut(|s| &mut s[i]) }
    }

    /// Polls the woken futures; calls `done(i, slot)` for each that completed.
    pub(crate) fn poll_woken(
        &mut self,
        cx: &mut Context<'_>,
        mut done: impl FnMut(usize, Pin<&mut MaybeDone<F>>) -> bool,
    ) -> bool {
        let batch = self.ready.drain(cx);
        let mut stop = false;
        for &i in &batch {
            let waker = self.ready.waker(i).clone();
            let mut sub = Context::from_waker(&waker);
            let mut slot = self.slot(i);
            if matches!(*slot, MaybeDone::Future(_)) && slot.as_mut().poll_done(&mut sub) {
                self.remaining -= 1;
                if done(i, self.slot(i)) {
                    stop = true;
                    break;
                }
            }
        }
        self.ready.recycle(batch);
        stop
    }

    fn outputs(&mut self) -> impl Iterator<Item = F::Output> + '_ {
        let n = self.futures.len();
        (0..n).map(|i| self.slot(i).take_output().expect("every future completed"))
    }
}

/// Runs every future of `iter` concurrently inside the calling task and returns their
/// outputs in iteration order (`asyncio.gather(*aws)`).
///
/// Over futures whose output is a `Result`, this is `gather(..., return_exceptions=True)`:
/// every result, in order. Only woken futures are polled again, so it scales to many.
///
/// ```
/// arbor::run(async {
///     let squares = arbor::gather((1..=4u64).map(|i| async move { i * i })).await;
///     assert_eq!(squares, vec![1, 4, 9, 16]);
/// });
/// ```
pub fn gather<I>(iter: I) -> Gather<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator<Item: IntoFuture>,
{
    Gather {
        inner: InPlace::new(iter),
    }
}

/// The future of [`gather()`](crate::gather()).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Gather<F: Future> {
    inner: InPlace<F>,
}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let inner = &mut self.inner;
        inner.poll_woken(cx, |_, _| false);
        if inner.remaining > 0 {
            return Poll::Pending;
        }
        Poll::Ready(inner.outputs().collect())
    }
}

/// Runs every future of `iter` concurrently inside the calling task; the first `Err` drops
/// the others and is returned, otherwise every `Ok` value in iteration order.
///
/// ```
/// arbor::run(async {
///     let all: Result<Vec<u32>, String> =
///         arbor::try_gather((1..=3).map(|i| async move { Ok(i) })).await;
///     assert_eq!(all, Ok(vec![1, 2, 3]));
///
///     let first_error = arbor::try_gather((1..=3).map(|i| async move {
///         if i == 2 { Err(format!("{i} failed")) } else { Ok(i) }
///     }))
///     .await;
///     assert_eq!(first_error, Err("2 failed".to_string()));
/// });
/// ```
pub fn try_gather<I, T, E>(iter: I) -> TryGather<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator<Item: IntoFuture<Output = Result<T, E>>>,
{
    TryGather {
        inner: Some(InPlace::new(iter)),
    }
}

/// The future of [`try_gather()`](crate::try_gather()).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TryGather<F: Future> {
    /// `None` once it has resolved (its futures are dropped then).
    inner: Option<InPlace<F>>,
}

impl<F, T, E> Future for TryGather<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, E>> {
        let inner = self
            .inner
            .as_mut()
            .expect("TryGather polled after it resolved");
        let mut error = None;
        inner.poll_woken(cx, |_, mut slot| {
            if let Some(Err(_)) = slot.as_mut().output_mut() {
                error = slot.take_output();
                true
            } else {
                false
            }
        });
        if let Some(Err(e)) = error {
            self.inner = None; // drops every other future now
            return Poll::Ready(Err(e));
        }
        if inner.remaining > 0 {
            return Poll::Pending;
        }
        let out = inner.outputs().map(|r| r.ok().expect("checked")).collect();
        self.inner = None;
        Poll::Ready(Ok(out))
    }
}

// The futures sit in a pinned box and the outputs are never pinned: moving the wrapper
// moves neither.
impl<F: Future> Unpin for Gather<F> {}
impl<F: Future> Unpin for TryGather<F> {}

impl<F: Future> fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("len", &self.inner.futures.len())
            .field("remaining", &self.inner.remaining)
            .finish()
    }
}

impl<F: Future> fmt::Debug for TryGather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("remaining", &self.inner.as_ref().map(|i| i.remaining))
            .finish()
    }
}
