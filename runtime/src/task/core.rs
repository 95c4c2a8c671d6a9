//! The memory layout of a task: one allocation holding the header, the scheduler hook, the
//! future (later its output) and the trailer.
//!
//! ```text
//! Cell<T, S> (#[repr(C)])
//! +--------------------------+
//! | Header                   |  state word, vtable, id: all a type-erased pointer needs
//! +--------------------------+
//! | Core<T, S>               |  scheduler hook S, Stage<T> (future | output | consumed)
//! +--------------------------+
//! | Trailer (#[repr(C)])     |  span, cancel nodes (read at every poll), then the cold
//! |                          |  tail: parent id, name, join waker, owned-list slot
//! +--------------------------+
//! ```
//!
//! ## No false sharing between neighbours
//! Tasks spawned in a burst sit back to back in memory and often run on different workers.
//! A poll writes its task's header (state) and future, and reads the trailer's first
//! fields; so the cache line that holds the next task's header must hold nothing of this
//! task that a poll touches. The trailer therefore ends with [`COLD_TAIL`] bytes that only
//! spawning, joining and completion touch (a compile-time assertion checks the layout): with an allocator's
//! chunk header (8 bytes for glibc) that covers a 64-byte line. Measured: `yield_many`
//! with 2 workers was 25% slower when the hot trailer fields came last. (Aligning each
//! task to 128 bytes, as tokio does, fixes it too, but makes every spawn an aligned
//! allocation, which cost more than it saved.)
//!
//! ## Who may touch what
//! - `Header::state`: anyone holding a reference, through `State`'s transitions only.
//! - `Core::stage`: only the thread that owns the task (set `RUNNING`, or the `Task<T>`
//!   handle after `COMPLETE` while `JOIN_INTEREST` is set). See `state.rs`.
//! - `Trailer::waker`: as `JOIN_WAKER` says (see `state.rs`).
//! - `Trailer::owned_slot`: only under the owned-list shard lock.
//! - `Trailer::leaf_link`: by the task's completion once (`LEFT`, `Release`), otherwise under
//!   the lock of the node in `meta.cancel` or by the sweep that unlisted it
//!   (`cancel/leaf.rs`).
//! - `Trailer::task_node`: set once, by the task itself while it runs (`OnceLock`).
//! - The rest is immutable after creation.

use super::error::JoinError;
use super::state::State;
use super::{Schedule, TaskId};
use crate::cancel::CancelNode;
use crate::loom::cell::UnsafeCell;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

/// The type-erased head of every task; a `NonNull<Header>` is a task pointer.
#[repr(C)]
pub(crate) struct Header {
    /// Lifecycle bits and reference count.
    pub(crate) state: State,
    /// The functions that know the concrete `T` and `S`.
    pub(crate) vtable: &'static Vtable,
    /// Immutable after creation.
    pub(crate) id: TaskId,
}

/// Functions over a type-erased task. Each `unsafe fn` takes the task pointer and documents
/// how many references it consumes.
pub(crate) struct Vtable {
    /// Runs the task; consumes the `Notified` reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Submits the task to its scheduler; consumes one reference (it becomes the `Notified`).
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the allocation; the reference count is zero.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Reads the output into `*dst` (a `Poll<Result<T::Output, JoinError>>`) if complete,
    /// else stores the waker. Consumes nothing.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The `Task<T>` handle was dropped; consumes the handle's reference.
    pub(crate) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    /// Runtime shutdown, or `TaskRef::cancel_in_place`: cancels the task, dropping its future
    /// here if it is idle; consumes one reference (the owned list's, or a fresh one).
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// Where the trailer starts, from the header.
    pub(crate) trailer_offset: usize,
}

#[repr(C)]
pub(crate) struct Cell<T: Future, S> {
    pub(crate) header: Header,
    pub(crate) core: Core<T, S>,
    pub(crate) trailer: Trailer,
}

pub(crate) struct Core<T: Future, S> {
    /// The scheduler hook (the runtime handle); immutable.
    pub(crate) scheduler: S,
    /// The future, then its output. Owned as the module header says.
    pub(crate) stage: UnsafeCell<Stage<T>>,
}

pub(crate) enum Stage<T: Future> {
    Running(T),
    Finished(Result<T::Output, JoinError>),
    Consumed,
}

/// What spawning attaches to a task besides its future.
///
/// Laid out in order: `cancel` is read at every poll, the rest only by introspection (see
/// "No false sharing between neighbours").
#[derive(Default)]
#[repr(C)]
pub(crate) struct TaskMeta {
    /// The cancel-scope node the task was spawned under (a TaskGroup's), installed as the
    /// current node around every poll.
    pub(crate) cancel: Option<Arc<CancelNode>>,
    /// The task being polled on the spawning thread at spawn time, for `task::dump`'s tree
    /// (set by `scheduler::Handle::spawn`).
    pub(crate) parent: Option<TaskId>,
    /// `task::Builder::name`.
    pub(crate) name: Option<Arc<str>>,
}

/// The bytes at the end of [`Trailer`] that a poll never touches (see "No false sharing
/// between neighbours"): a 64-byte line less an allocator's 8-byte chunk header.
pub(crate) const COLD_TAIL: usize = 56;

// The trailer's layout keeps that promise (on 64-bit targets, where the sizes add up).
#[cfg(target_pointer_width = "64")]
const _: () = {
    use std::mem::{offset_of, size_of};
    let cold_from = offset_of!(Trailer, meta) + offset_of!(TaskMeta, parent);
    assert!(size_of::<Trailer>() - cold_from >= COLD_TAIL);
};

/// Laid out in order: what every poll reads first, then the cold tail (from `meta.parent`
/// on; see "No false sharing between neighbours").
#[repr(C)]
pub(crate) struct Trailer {
    /// `tracing` span for the task (id and name); entered around every poll.
    pub(crate) span: tracing::Span,
    /// The task's own node in the cancel tree, below `meta.cancel`: created the first time
    /// the task opens a scope (`CancelNode::scope_parent`); the harness installs it as the
    /// current node from then on.
    pub(crate) task_node: OnceLock<Arc<CancelNode>>,
    /// Immutable after creation.
    pub(crate) meta: TaskMeta,
    /// The `Task<T>` handle's waker; see `JOIN_WAKER` in `state.rs`.
    pub(crate) waker: UnsafeCell<Option<Waker>>,
    /// Index in the owned-list shard, or `NOT_LISTED`; read and written under its lock.
    pub(crate) owned_slot: AtomicUsize,
    /// The task's mark in the leaf list of the node in `meta.cancel` (`cancel/leaf.rs`):
    /// listed, left, or once swept the link of the sweep's chain. Also completes the cold
    /// tail to [`COLD_TAIL`] bytes.
    pub(crate) leaf_link: crate::loom::sync::atomic::AtomicUsize,
}

impl<T: Future, S: Schedule> Cell<T, S> {
    pub(crate) fn new(future: T, scheduler: S, id: TaskId, meta: TaskMeta) -> Box<Cell<T, S>> {
        let span = tracing::trace_span!(
            "task",
            id = id.as_u64(),
            name = meta.name.as_deref().unwrap_or("")
        );
        Box::new(Cell {
            header: Header {
                state: if meta.cancel.is_some() {
                    State::new_leaf()
                } else {
                    State::new()
                },
                vtable: super::raw::vtable::<T, S>(),
                id,
            },
            core: Core {
                scheduler,
                stage: UnsafeCell::new(Stage::Running(future)),
            },
            trailer: Trailer {
                owned_slot: AtomicUsize::new(super::list::NOT_LISTED),
                leaf_link: crate::loom::sync::atomic::AtomicUsize::new(crate::cancel::LISTED),
                waker: UnsafeCell::new(None),
                meta,
                task_node: OnceLock::new(),
                span,
            },
        })
    }
}

impl<T: Future, S> Core<T, S> {
    /// Polls the future.
    ///
    /// # Safety
    /// The caller owns the task (`RUNNING` is set) and the stage is `Running`.
    pub(crate) unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<T::Output> {
        self.stage.with_mut(|ptr| {
            // SAFETY: the caller owns the stage (RUNNING), so this is the only reference.
            let stage = unsafe { &mut *ptr };
            let future = match stage {
                // SAFETY: the future lives in the task's heap cell and is never moved out of
                // it while `Running` (it is dropped in place), so pinning it is sound.
                Stage::Running(future) => unsafe { Pin::new_unchecked(future) },
                _ => unreachable!("polled a task that is not running"),
            };
            future.poll(cx)
        })
    }

    /// Replaces the stage. The old value is dropped *in place*: a future that was polled is
    /// pinned, and must not move before its destructor runs (a future that borrows its own
    /// locals would read freed memory). If that destructor panics, the new stage is still
    /// written (by a drop guard), so the stage stays consistent and is never dropped twice.
    ///
    /// # Safety
    /// The caller owns the stage (see the module header).
    pub(crate) unsafe fn set_stage(&self, stage: Stage<T>) {
        /// Writes the new stage over the dropped one, on return and on unwind alike.
        struct WriteOnDrop<T: Future>(*mut Stage<T>, Option<Stage<T>>);
        impl<T: Future> Drop for WriteOnDrop<T> {
            fn drop(&mut self) {
                if let Some(stage) = self.1.take() {
                    // SAFETY: the old stage was dropped in place (or is being unwound out
                    // of); `ptr::write` does not drop it again.
                    unsafe { std::ptr::write(self.0, stage) };
                }
            }
        }
        self.stage.with_mut(|ptr| {
            let _write = WriteOnDrop(ptr, Some(stage));
            // SAFETY: the caller owns the stage, so nothing else references it; the guard
            // above re-initialises the place before anyone can observe it.
            unsafe { std::ptr::drop_in_place(ptr) };
        });
    }

    /// # Safety
    /// The caller owns the stage.
    pub(crate) unsafe fn drop_future_or_output(&self) {
        // SAFETY: forwarded.
        unsafe { self.set_stage(Stage::Consumed) }
    }

    /// # Safety
    /// The caller owns the stage.
    pub(crate) unsafe fn store_output(&self, output: Result<T::Output, JoinError>) {
        // SAFETY: forwarded.
        unsafe { self.set_stage(Stage::Finished(output)) }
    }

    /// Whether the stored output is a panic: `Some(message)` if so. Reads the stage's
    /// discriminant only, unless it is a panic.
    ///
    /// # Safety
    /// The caller owns the stage.
    pub(crate) unsafe fn stored_panic(&self) -> Option<String> {
        self.stage.with_mut(|ptr| {
            // SAFETY: the caller owns the stage, so nothing writes it meanwhile.
            match unsafe { &*ptr } {
                Stage::Finished(Err(err)) if err.is_panic() => Some(
                    err.panic_message()
                        .unwrap_or("a panic payload that is not a string")
                        .to_string(),
                ),
                _ => None,
            }
        })
    }

    /// # Safety
    /// The caller is the handle and the task is complete.
    pub(crate) unsafe fn take_output(&self) -> Result<T::Output, JoinError> {
        // SAFETY: the caller owns the stage.
        let stage = self
            .stage
            .with_mut(|ptr| unsafe { std::ptr::replace(ptr, Stage::Consumed) });
        match stage {
            Stage::Finished(output) => output,
            _ => panic!("`Task` polled after it returned its output"),
        }
    }
}

impl Trailer {
    /// # Safety
    /// The caller owns the waker slot (see `JOIN_WAKER`).
    pub(crate) unsafe fn set_waker(&self, waker: Option<Waker>) {
        // SAFETY: the caller owns the slot.
        let old = self
            .waker
            .with_mut(|ptr| unsafe { std::ptr::replace(ptr, waker) });
        drop(old);
    }

    /// # Safety
    /// The slot holds a waker and may be read (see `JOIN_WAKER`).
    pub(crate) unsafe fn will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: the caller may read the slot.
        self.waker
            .with(|ptr| unsafe { (*ptr).as_ref() }.is_some_and(|w| w.will_wake(waker)))
    }

    /// # Safety
    /// The runtime side owns the slot (`JOIN_WAKER` set, task complete).
    pub(crate) unsafe fn wake_join(&self) {
        // SAFETY: the caller may read the slot.
        self.waker.with(|ptr| match unsafe { &*ptr } {
            // The handle's waker may be a user's: its panic must not unwind into a worker.
            Some(waker) => crate::wake::wake_by_ref(waker),
            None => panic!("join waker missing"),
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #[test]
    fn the_header_is_three_words() {
        // state, vtable, id: what every type-erased task pointer needs, nothing more.
        assert_eq!(
            std::mem::size_of::<super::Header>(),
            3 * std::mem::size_of::<usize>()
        );
    }
}
