//! `RawTask`: a copyable, type-erased task pointer, and the vtable that gives it back its
//! types. A `RawTask` holds no reference by itself; the typed wrappers in `mod.rs`
//! (`OwnedTask`, `Notified`, `Task<T>`, wakers) each hold exactly one.

use super::core::{Cell, Header, Trailer, Vtable};
use super::harness::Harness;
use super::state::TransitionToNotified;
use super::{Schedule, TaskId, TaskMeta};
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: a task is shared between threads by design; everything reachable through the
// header is synchronised by the state word (see `core.rs`). Futures of spawned tasks are
// `Send`, and the scheduler hook is `Sync`.
unsafe impl Send for RawTask {}
// SAFETY: as above.
unsafe impl Sync for RawTask {}

pub(super) fn vtable<T: Future, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: poll::<T, S>,
        schedule: schedule::<T, S>,
        dealloc: dealloc::<T, S>,
        try_read_output: try_read_output::<T, S>,
        drop_join_handle_slow: drop_join_handle_slow::<T, S>,
        shutdown: shutdown::<T, S>,
        trailer_offset: std::mem::offset_of!(Cell<T, S>, trailer),
    }
}

impl RawTask {
    /// Allocates a task with three references (see `state.rs`).
    pub(crate) fn new<T, S>(future: T, scheduler: S, id: TaskId, meta: TaskMeta) -> RawTask
    where
        T: Future,
        S: Schedule,
    {
        let cell = Cell::new(future, scheduler, id, meta);
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    /// # Safety
    /// `ptr` points to a live task header.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    /// The header's address (never 0), for intrusive links (`cancel/leaf.rs`).
    pub(crate) fn header_addr(self) -> usize {
        self.ptr.as_ptr() as usize
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: whoever holds this `RawTask` holds a reference, so the header is alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn trailer(&self) -> &Trailer {
        let offset = self.header().vtable.trailer_offset;
        // SAFETY: the trailer lives `trailer_offset` bytes after the header in the same
        // allocation, which is alive while a reference is held.
        unsafe { &*self.ptr.as_ptr().cast::<u8>().add(offset).cast::<Trailer>() }
    }

    pub(crate) fn id(&self) -> TaskId {
        self.header().id
    }

    /// Runs the task. Consumes the caller's `Notified` reference.
    pub(crate) fn poll(self) {
        // SAFETY: the caller hands over a `Notified` reference, as `poll` requires.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// Consumes one reference, which becomes the submitted `Notified`'s.
    pub(crate) fn schedule(self) {
        // SAFETY: the caller hands over one reference.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    /// # Safety
    /// `dst` points to a `Poll<Result<T::Output, JoinError>>` of this task's `T`.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded to the caller.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// Consumes the handle's reference.
    pub(crate) fn drop_join_handle_slow(self) {
        // SAFETY: the caller hands over the handle's reference.
        unsafe { (self.header().vtable.drop_join_handle_slow)(self.ptr) }
    }

    /// Cancels the task, dropping its future here if it is idle. Consumes one reference:
    /// the owned list's (runtime shutdown) or a fresh one (`TaskRef::cancel_in_place`).
    pub(crate) fn shutdown(self) {
        // SAFETY: the caller hands over one reference.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    pub(crate) fn ref_inc(self) {
        self.header().state.ref_inc();
    }

    /// Drops one reference, deallocating on the last.
    pub(crate) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }

    /// A waker consumed by `wake`: consumes its reference.
    pub(crate) fn wake_by_val(self) {
        match self.header().state.transition_to_notified_by_val() {
            TransitionToNotified::Submit => {
                // The transition took a fresh reference for the `Notified`; ours keeps the
                // task alive until the scheduler call returns (the task may run, complete
                // and lose every other reference meanwhile: see `task/mod.rs`).
                self.schedule();
                self.drop_reference();
            }
            // SAFETY: the waker held the last reference.
            TransitionToNotified::Dealloc => unsafe { (self.header().vtable.dealloc)(self.ptr) },
            // Only the pointer is compared (the consumed reference is gone; the runner's
            // keeps the task alive anyway).
            TransitionToNotified::WhileRunning => crate::context::note_wake_while_running(self),
            TransitionToNotified::DoNothing => {}
        }
    }

    /// A waker used by reference: consumes nothing.
    pub(crate) fn wake_by_ref(self) {
        match self.header().state.transition_to_notified_by_ref() {
            TransitionToNotified::Submit => self.schedule(),
            TransitionToNotified::Dealloc => unreachable!("wake_by_ref never drops a reference"),
            TransitionToNotified::WhileRunning => crate::context::note_wake_while_running(self),
            TransitionToNotified::DoNothing => {}
        }
    }

    /// The cancel walk of the node this task is a leaf of wakes it (see
    /// `State::transition_to_notified_for_cancel`). Consumes nothing; the caller holds a
    /// reference across the submit.
    pub(crate) fn wake_for_cancel(self) {
        match self.header().state.transition_to_notified_for_cancel() {
            TransitionToNotified::Submit => self.schedule(),
            TransitionToNotified::Dealloc => unreachable!("a wake by reference drops none"),
            TransitionToNotified::WhileRunning => crate::context::note_wake_while_running(self),
            TransitionToNotified::DoNothing => {}
        }
    }

    /// `Task::cancel`: returns whether the task had not finished.
    pub(crate) fn remote_cancel(self) -> bool {
        let (not_finished, submit) = self.header().state.transition_to_notified_and_cancel();
        if submit {
            self.schedule();
        }
        not_finished
    }
}

/// # Safety
/// `ptr` is a live `Cell<T, S>` and the caller hands over a `Notified` reference.
unsafe fn poll<T: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded.
    unsafe { Harness::<T, S>::from_raw(ptr) }.poll();
}

/// # Safety
/// `ptr` is a live `Cell<T, S>`; the caller hands over one reference.
unsafe fn schedule<T: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded.
    unsafe { Harness::<T, S>::from_raw(ptr) }.schedule();
}

/// # Safety
/// The reference count is zero.
unsafe fn dealloc<T: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded.
    unsafe { Harness::<T, S>::from_raw(ptr) }.dealloc();
}

/// # Safety
/// As `Vtable::try_read_output`.
unsafe fn try_read_output<T: Future, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: forwarded; `dst` has the output type of this `T`.
    unsafe { Harness::<T, S>::from_raw(ptr).try_read_output(dst.cast(), waker) }
}

/// # Safety
/// The caller hands over the handle's reference.
unsafe fn drop_join_handle_slow<T: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded.
    unsafe { Harness::<T, S>::from_raw(ptr) }.drop_join_handle_slow();
}

/// # Safety
/// `ptr` is a live `Cell<T, S>`; the caller hands over one reference.
unsafe fn shutdown<T: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded.
    unsafe { Harness::<T, S>::from_raw(ptr) }.shutdown();
}
