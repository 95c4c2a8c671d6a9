//! The future a group's child task runs: the user's future, wrapped so that the group
//! learns how it ended and when it was dropped.
//!
//! ## What the wrapper does
//! - **Cancellation.** Before each poll, and after a poll that returned `Pending`, it reads
//!   the group's node (one atomic load). If the group is cancelled and no shielded region
//!   is active inside this task, it drops the user's future right there (never polled at
//!   all, if that is the first poll) and completes the task as cancelled. A shielded
//!   region inside the task (or inside its own groups' children) defers the drop until it
//!   ends: the region ends during a poll of this task, or of a descendant whose exit wakes
//!   this task through its group, and the wrapper checks again after every poll.
//! - **Errors.** `Ready(Err(e))` records `e` with the group, which cancels the group; the
//!   task then completes as cancelled (its `Task<T>` never sees a `T`).
//! - **Panics.** A panic in the user's `poll` (or its destructor) is caught and recorded
//!   with the group, which cancels the group and resumes the panic in the caller of
//!   `scope` once every child is gone. The task itself then reports a panic whose payload
//!   says where the original went.
//! - **Drop.** Whatever path ends the task (completion, cancellation, a failure, runtime
//!   shutdown, an in-place cancel by a dropped scope), the wrapper's destructor drops the
//!   user's future first and then tells the group one child is gone. That order is the
//!   structured guarantee: the group's scope cannot return before this future is dropped.

use super::shared::Shared;
use arbor_runtime::cancel::CancelNode;
use arbor_runtime::task::TaskRef;
use pin_project_lite::pin_project;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The payload a panicking child's own `Task` reports.
/// The runtime knows it: a dropped child `Task` with this panic is no unhandled panic.
pub(crate) const PANIC_MOVED: &str = arbor_runtime::task::PANIC_MOVED_TO_GROUP;

pin_project! {
    #[project = StageProj]
    enum Stage<F> {
        Running { #[pin] fut: F },
        Gone,
    }
}

pin_project! {
    /// A group child's task future.
    pub(crate) struct Child<F, E> {
        #[pin]
        stage: Stage<F>,
        group: Arc<Shared<E>>,
    }

    impl<F, E> PinnedDrop for Child<F, E> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            drop_future(this.stage, this.group);
            this.group.completion.child_done();
        }
    }
}

impl<F, T, E> Child<F, E>
where
    F: Future<Output = Result<T, E>>,
    E: Send + 'static,
{
    pub(crate) fn new(fut: F, group: Arc<Shared<E>>) -> Child<F, E> {
        Child {
            stage: Stage::Running { fut },
            group,
        }
    }
}

/// Drops the user's future in place; a panic in its destructor goes to the group.
fn drop_future<F, E>(mut stage: Pin<&mut Stage<F>>, group: &Shared<E>) {
    if let Stage::Gone = &*stage {
        return;
    }
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| stage.set(Stage::Gone))) {
        group.record_panic(payload);
    }
}

/// Whether this child must drop its future now: the group is cancelled and no shielded
/// region inside this task is active.
fn must_drop<E>(group: &Shared<E>) -> bool {
    group.node.is_cancelled() && CancelNode::current_task_shields() == 0
}

/// Completes the running task as cancelled: its future (already gone) is dropped when this
/// poll returns `Pending`, and its `Task` reports `is_cancelled()`.
fn cancel_this_task() -> Poll<std::convert::Infallible> {
    if let Some(task) = TaskRef::current() {
        task.cancel();
    }
    Poll::Pending
}

impl<F, T, E> Future for Child<F, E>
where
    F: Future<Output = Result<T, E>>,
    E: Send + 'static,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut this = self.project();
        let group = &**this.group;
        let fut = match this.stage.as_mut().project() {
            StageProj::Running { fut } => fut,
            // Finished with an error or cancelled: the task is being completed.
            StageProj::Gone => return Poll::Pending,
        };
        if must_drop(group) {
            drop_future(this.stage, group);
            return cancel_this_task().map(|never| match never {});
        }
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Ready(Ok(value))) => {
                drop_future(this.stage, group);
                Poll::Ready(value)
            }
            Ok(Poll::Ready(Err(error))) => {
                drop_future(this.stage, group);
                group.record_error(error);
                cancel_this_task().map(|never| match never {})
            }
            Ok(Poll::Pending) => {
                if must_drop(group) {
                    drop_future(this.stage, group);
                    return cancel_this_task().map(|never| match never {});
                }
                Poll::Pending
            }
            Err(payload) => {
                drop_future(this.stage, group);
                group.record_panic(payload);
                resume_unwind(Box::new(PANIC_MOVED))
            }
        }
    }
}
