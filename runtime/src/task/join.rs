//! `Task<T>`: the handle to a spawned task (asyncio's `Task`, tokio's `JoinHandle`).

use super::raw::RawTask;
use super::{JoinError, TaskId};
use crate::coop;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// A handle to a spawned task. Awaiting it gives the task's output, or a [`JoinError`] if
/// the task was cancelled or panicked.
///
/// Dropping a `Task` *detaches* the task: it keeps running, and its output is dropped when
/// it completes (as with asyncio and tokio). Structured code uses a `TaskGroup` instead.
///
/// ```
/// arbor_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
///     let task = arbor_runtime::spawn(async { 6 * 7 });
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
#[must_use = "dropping a `Task` detaches it; await it, or drop it on purpose"]
pub struct Task<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle only reads `T` out of the task once it is complete, and moves it to the
// thread that awaits; that needs `T: Send`. Its `&self` methods only touch the atomic state.
unsafe impl<T: Send> Send for Task<T> {}
// SAFETY: as above; `&Task<T>` gives no access to `T`.
unsafe impl<T: Send> Sync for Task<T> {}

impl<T> Unpin for Task<T> {}

impl<T> Task<T> {
    /// Takes over the handle's reference.
    pub(crate) fn from_raw(raw: RawTask) -> Task<T> {
        Task {
            raw,
            _output: PhantomData,
        }
    }

    /// Asks the task to stop (asyncio's `Task.cancel()`).
    ///
    /// Returns `true` if the task had not finished. Its future is dropped at its next
    /// scheduling point, on a worker; if it never started, it is never polled. Awaiting
    /// the task then gives a `JoinError` with [`is_cancelled`](JoinError::is_cancelled).
    pub fn cancel(&self) -> bool {
        self.raw.remote_cancel()
    }

    /// Whether the task has finished (asyncio's `Task.done()`): its future is gone and its
    /// output, or its error, is ready.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.id()
    }

    /// The task's name, if it was given one with `task::Builder::name`.
    pub fn name(&self) -> Option<&str> {
        self.raw.trailer().meta.name.as_deref()
    }

    /// Spawned under a cancel node whose leaves were closed before this returned (a group's
    /// scope being dropped): cancels the task in place, so that it cannot outlive the group
    /// (`cancel/leaf.rs`, step 4). Called by the spawner once the task is submitted.
    pub(crate) fn cancel_if_leaves_closed(&self) {
        if let Some(node) = &self.raw.trailer().meta.cancel {
            if node.leaves_closed() {
                self.task_ref().cancel_in_place();
            }
        }
    }

    /// A type-erased reference to this task (for task groups).
    #[doc(hidden)]
    pub fn task_ref(&self) -> super::TaskRef {
        super::TaskRef::new(self.raw)
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(coop::poll_proceed(cx));
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: `out` has the type of this task's output, which `T` names.
        unsafe {
            self.raw.try_read_output(
                (&mut out as *mut Poll<Result<T, JoinError>>).cast(),
                cx.waker(),
            )
        };
        if out.is_ready() {
            coop.made_progress();
        }
        out
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle_slow();
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .finish()
    }
}
