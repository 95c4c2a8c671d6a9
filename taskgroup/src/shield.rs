//! `shield`: asyncio's `shield(aw)`. The work runs as its own task, outside the caller's
//! cancel tree, so cancelling or dropping the awaiter does not stop it.

use arbor_runtime::{JoinError, Task};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs `fut` as its own task and awaits it; the task survives its awaiter (asyncio's
/// `asyncio.shield(aw)`).
///
/// The task starts at once, on the current runtime, outside every cancel scope and task
/// group: cancelling an enclosing scope, or dropping the returned future, only stops the
/// *waiting*. Awaited to the end, it gives the output, or a [`JoinError`] if the task
/// panicked. To protect a region *inside* the current task instead, use
/// [`CancelScope::shielded`](crate::CancelScope::shielded).
///
/// # Panics
/// Outside a runtime, as `arbor::spawn`.
///
/// ```
/// use arbor_taskgroup::{CancelScope, shield};
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// arbor_runtime::run(async {
///     let saved = Arc::new(AtomicBool::new(false));
///     let flag = saved.clone();
///     let (tx, rx) = std::sync::mpsc::channel();
///     let scope = CancelScope::new();
///     scope.cancel(); // the awaiter is cancelled before it even starts
///     let _ = scope
///         .run(shield(async move {
///             flag.store(true, Ordering::SeqCst);
///             tx.send(()).unwrap();
///         }))
///         .await;
///     // The shielded work still ran.
///     arbor_runtime::to_thread(move || rx.recv().unwrap()).await;
///     assert!(saved.load(Ordering::SeqCst));
/// });
/// ```
#[track_caller]
pub fn shield<F>(fut: F) -> Shield<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Shield {
        task: arbor_runtime::spawn(fut),
    }
}

/// The future of [`shield`]: awaits the shielded task. Dropping it detaches the task.
#[must_use = "the work runs anyway; await this to get its output"]
pub struct Shield<T> {
    task: Task<T>,
}

impl<T> Future for Shield<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task).poll(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield").field("task", &self.task).finish()
    }
}
