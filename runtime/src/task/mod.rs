//! Tasks: the raw task (one allocation, see `core.rs`), its state machine (`state.rs`), the
//! harness that polls and completes it (`harness.rs`), and the handles that hold references
//! to it.
//!
//! | handle | who holds it | reference |
//! |---|---|---|
//! | `OwnedTask` | the runtime's owned-task list | one, released on completion or shutdown |
//! | `Notified` | a run queue | one, consumed by running the task |
//! | [`Task<T>`](crate::Task) | the user | one, released on drop (detaches the task) |
//! | `Waker` | whoever waits on the task's behalf | one each |
//! | leaf entry | the cancel node the task was spawned under (`cancel/leaf.rs`) | one, released on completion |
//! | [`TaskRef`] | a dropped task group, for each child it cancels in place (doc-hidden) | one, released on drop |
//!
//! ## Submitting keeps a reference
//! Once a `Notified` is queued, the task may run, complete and be freed on another worker
//! while the scheduler call that queued it still runs, and the scheduler hook the call runs
//! on (`S`, `&self`) lives in the task. So:
//! - a submitter keeps a reference of its own until the call returns: a consumed waker
//!   (`wake_by_val`) takes a fresh reference for the `Notified` (in the same CAS) and drops
//!   its own after the call; `wake_by_ref`, `Task::cancel`, a cancel walk and spawning hold
//!   one anyway;
//! - the runner resubmitting a task woken during its poll (`yield_now`) hands its own
//!   reference over, as the hot path it is, and calls the hook through a bitwise copy made
//!   before the hand-off and never dropped: `Schedule`'s contract keeps what the copy
//!   points to alive on a thread that polls the scheduler's tasks.

mod core;
mod error;
mod harness;
mod id;
mod info;
mod join;
pub(crate) mod list;
mod raw;
mod spawn;
mod state;
mod task_ref;
mod waker;

pub(crate) use self::core::TaskMeta;
pub use crate::blocking::spawn_blocking;
pub use error::JoinError;
#[doc(hidden)]
pub use harness::PANIC_MOVED_TO_GROUP;
pub use harness::{SLOW_POLL_TARGET, UNHANDLED_PANIC_TARGET};
pub use id::TaskId;
pub(crate) use info::GroupTag;
pub use info::{GroupInfo, TaskInfo, all, current, dump};
pub use join::Task;
pub(crate) use raw::RawTask;
pub use spawn::{Builder, YieldNow, spawn, try_id, yield_now};
#[doc(hidden)]
pub use task_ref::TaskRef;

use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::time::Duration;

/// The hook a task calls into its scheduler with.
///
/// Contract: a thread that polls a task of this scheduler keeps whatever the hook points to
/// alive for as long as it runs tasks (a worker holds the runtime's handle; `block_on`
/// borrows the runtime), so that `yield_now` may be called on a bitwise copy of the hook
/// while the task that holds the original is freed (see "Submitting keeps a reference").
pub(crate) trait Schedule: Sync + Sized + 'static {
    /// A woken task must run again.
    fn schedule(&self, task: Notified<Self>);

    /// A task woken while it ran (e.g. `yield_now`) must run again, after the others.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// A task woken while it ran, by another thread or task (not by itself), must run
    /// again: as a wake that found it idle would have queued it, not behind this worker's
    /// whole queue as a `yield_now`.
    fn woken_while_running(&self, task: Notified<Self>) {
        self.yield_now(task);
    }

    /// The task completed: remove it from the owned list, returning the list's reference
    /// (`None` if shutdown already took it).
    fn release(&self, task: &OwnedTask<Self>) -> Option<OwnedTask<Self>>;

    /// A detached task panicked (already logged by the harness): `name` is its name or
    /// `<unnamed>`. `runtime::Builder::unhandled_panic` decides what else happens.
    fn unhandled_panic(&self, id: TaskId, name: &str, message: &str) {
        let _ = (id, name, message);
    }

    /// `runtime::Builder::slow_poll_threshold`: polls longer than this are reported. Read
    /// once per poll; `None` (the default) means no measurement at all.
    fn slow_poll_threshold(&self) -> Option<Duration> {
        None
    }
}

/// The owned list's reference to a task.
pub(crate) struct OwnedTask<S: 'static> {
    raw: RawTask,
    _scheduler: PhantomData<S>,
}

/// A reference that stands for one pending run of the task.
pub(crate) struct Notified<S: 'static>(OwnedTask<S>);

// SAFETY: tasks are shared across threads by design (see `RawTask`'s impls).
unsafe impl<S> Send for OwnedTask<S> {}
// SAFETY: as above.
unsafe impl<S> Sync for OwnedTask<S> {}

/// Allocates a task: the owned list's reference, the first `Notified`, and the handle.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    meta: TaskMeta,
) -> (OwnedTask<S>, Notified<S>, Task<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let raw = RawTask::new(future, scheduler, TaskId::next(), meta);
    if let Some(node) = &raw.trailer().meta.cancel {
        // A leaf of the node it was spawned under from before it can run: the list takes
        // the fourth reference the task was born with (`State::new_leaf`), released by a
        // sweep after the task completes (`cancel/leaf.rs`).
        node.add_leaf(raw);
    }
    // The three references of `INITIAL_STATE`.
    (
        OwnedTask::from_raw(raw),
        Notified(OwnedTask::from_raw(raw)),
        Task::from_raw(raw),
    )
}

impl<S: 'static> OwnedTask<S> {
    /// Takes over one reference.
    pub(crate) fn from_raw(raw: RawTask) -> OwnedTask<S> {
        OwnedTask {
            raw,
            _scheduler: PhantomData,
        }
    }

    pub(crate) fn raw(&self) -> RawTask {
        self.raw
    }

    fn into_raw(self) -> RawTask {
        ManuallyDrop::new(self).raw
    }

    /// Runtime shutdown: cancels the task in place if it is idle. Consumes the reference.
    pub(crate) fn shutdown(self) {
        self.into_raw().shutdown();
    }
}

impl<S: 'static> Drop for OwnedTask<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> Notified<S> {
    /// # Safety
    /// `raw` is a task whose scheduler is `S`; one reference is handed over.
    pub(crate) unsafe fn from_raw(raw: RawTask) -> Notified<S> {
        Notified(OwnedTask::from_raw(raw))
    }

    /// Polls the task; consumes the reference.
    pub(crate) fn run(self) {
        self.0.into_raw().poll();
    }

    pub(crate) fn id(&self) -> TaskId {
        self.0.raw.id()
    }

    /// Cancels a queued task that will never run (a blocking call at pool shutdown): the
    /// `Notified` reference stands in for the owned list's.
    pub(crate) fn shutdown(self) {
        self.0.shutdown();
    }
}

impl<S> std::fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notified({:?})", self.id())
    }
}
