//! `TaskRef`: a type-erased, reference-counted handle to a task, for the structured
//! concurrency crates (`arbor-taskgroup`). Not part of the public API.
//!
//! When a task group's scope future is dropped, it takes a `TaskRef` to each child from its
//! cancel node's leaf list (`CancelNode::close_leaves`) and cancels the child *in place*: an
//! idle child's future is dropped on the calling thread at once; a child being polled
//! elsewhere is marked cancelled and its runner drops the future when that poll returns. A
//! child's own wrapper uses [`TaskRef::current`] to complete itself as cancelled.

use super::TaskId;
use super::raw::RawTask;
use crate::context;
use std::fmt;

/// A type-erased reference to a task: keeps the task's allocation alive, gives no access to
/// its output.
#[doc(hidden)]
pub struct TaskRef {
    /// Holds one reference, released on drop.
    raw: RawTask,
}

impl TaskRef {
    /// Takes a new reference to `raw`, which the caller keeps alive.
    pub(crate) fn new(raw: RawTask) -> TaskRef {
        raw.ref_inc();
        TaskRef { raw }
    }

    /// The task being polled on this thread, if any.
    pub fn current() -> Option<TaskRef> {
        context::current_task().map(TaskRef::new)
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.id()
    }

    /// Whether the task has completed (its future is gone).
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// Wakes the task, as its waker would.
    pub fn wake(&self) {
        self.raw.wake_by_ref();
    }

    /// `Task::cancel`: the future is dropped at the task's next scheduling point (when the
    /// current poll returns, if it is running). Returns whether the task had not finished.
    pub fn cancel(&self) -> bool {
        self.raw.remote_cancel()
    }

    /// Cancels the task and, if it is idle (queued or waiting), claims it and drops its
    /// future on this thread before returning, completing it as cancelled. A task being
    /// polled on another thread is marked cancelled instead: its runner drops the future
    /// when that poll returns. Either way the task is never polled again.
    pub fn cancel_in_place(&self) {
        // The claim's reference: consumed by completing the task, or dropped if another
        // thread owns it (the same path as runtime shutdown, see `Harness::shutdown`).
        self.raw.ref_inc();
        self.raw.shutdown();
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> TaskRef {
        TaskRef::new(self.raw)
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRef").field("id", &self.id()).finish()
    }
}
