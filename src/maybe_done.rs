//! [`MaybeDone`]: a future, then its output, polled in place.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future until it completes, then its output until taken.
///
/// Used by `gather!` and the function forms; not meant to be named by users.
#[doc(hidden)]
#[derive(Debug)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Future(F),
    /// Completed; the output waits to be taken.
    Done(F::Output),
    /// The output was taken.
    Gone,
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Future(future)
    }

    /// Polls the future if it is still running; `true` once it has completed.
    pub fn poll_done(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY: the `Future` variant is structurally pinned: it is never moved out of
        // `self`, only dropped in place when replaced by `Done` below.
        let this = unsafe { self.get_unchecked_mut() };
        match this {
            MaybeDone::Future(f) => {
                // SAFETY: `f` lives inside the pinned `self` and is not moved (see above).
                let f = unsafe { Pin::new_unchecked(f) };
                match f.poll(cx) {
                    Poll::Ready(out) => {
                        *this = MaybeDone::Done(out);
                        true
                    }
                    Poll::Pending => false,
                }
            }
            MaybeDone::Done(_) | MaybeDone::Gone => true,
        }
    }

    /// The output, if the future has completed (and it was not taken yet).
    pub fn take_output(self: Pin<&mut Self>) -> Option<F::Output> {
        // SAFETY: only the `Done` variant is moved out of, and it holds no pinned data;
        // a running future is left untouched.
        let this = unsafe { self.get_unchecked_mut() };
        match this {
            MaybeDone::Done(_) => match std::mem::replace(this, MaybeDone::Gone) {
                MaybeDone::Done(out) => Some(out),
                _ => unreachable!(),
            },
            _ => None,
        }
    }

    /// The output, if the future has completed: by reference (for `try_gather!`).
    pub fn output_mut(self: Pin<&mut Self>) -> Option<&mut F::Output> {
        // SAFETY: the output is not pinned data; nothing is moved.
        match unsafe { self.get_unchecked_mut() } {
            MaybeDone::Done(out) => Some(out),
            _ => None,
        }
    }
}
