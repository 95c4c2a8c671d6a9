//! The typed side of a task: polling, completing, cancelling and reading the output.
//!
//! ## Panics
//! This is where a task's panics are handled. A panic in the future's `poll` or its
//! destructor is caught here and stored as the task's `JoinError`; a panic while dropping
//! an output nobody reads is caught and discarded; a panic in the join waker (possibly a
//! user's) is contained by `crate::wake`, like every waker arbor wakes. Nothing unwinds
//! into a worker.
//!
//! ## Slow polls
//! With `runtime::Builder::slow_poll_threshold` set, `poll_future` reads the monotonic clock
//! before and after the future's `poll` and reports a poll longer than the threshold with
//! a `tracing` warning (target [`SLOW_POLL_TARGET`]) naming the task. The threshold comes
//! from the scheduler hook (`Schedule::slow_poll_threshold`), already at hand here; when it
//! is `None` the clock is never read.
//!
//! ## References
//! `poll` consumes the `Notified` reference: on `Pending` it is dropped, or reused for the
//! resubmitted `Notified` (submitted on a copy of the hook: see `task/mod.rs`); on
//! completion it is dropped with the owned list's reference and, for a task spawned under a
//! cancel node, the node's leaf-list reference (`cancel/leaf.rs`). `shutdown` consumes the
//! owned list's reference the same way.

use super::core::{Cell, Core, Header, Trailer};
use super::error::JoinError;
use super::raw::RawTask;
use super::state::{State, TransitionToIdle, TransitionToRunning};
use super::{Notified, OwnedTask, Schedule, TaskId, waker};
use crate::context;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The `tracing` target of slow-poll warnings (`runtime::Builder::slow_poll_threshold`).
pub const SLOW_POLL_TARGET: &str = "arbor::slow_poll";

/// The `tracing` target of the error logged when a detached task panics (its `Task` was
/// dropped, so nobody will see the panic otherwise); see `runtime::UnhandledPanic`.
pub const UNHANDLED_PANIC_TARGET: &str = "arbor::unhandled_panic";

/// The panic payload of a task group's child whose panic was handed to its group (which
/// resumes it from `scope`): such a panic is not unhandled, whatever became of the `Task`.
#[doc(hidden)]
pub const PANIC_MOVED_TO_GROUP: &str =
    "this task panicked inside a TaskGroup; the panic resumes in the caller of `TaskGroup::scope`";

/// Logs a panic nobody will read and tells the scheduler (`Builder::unhandled_panic`); out
/// of line: only a panicking detached task gets here.
#[cold]
#[inline(never)]
fn report_unhandled_panic<S: Schedule>(
    scheduler: &S,
    id: TaskId,
    name: Option<&str>,
    message: &str,
) {
    let name = name.unwrap_or(super::info::UNNAMED);
    tracing::error!(
        target: UNHANDLED_PANIC_TARGET,
        { task.id = id.as_u64(), task.name = name, panic = message },
        "task {} ({}) panicked and its `Task` was dropped, so nobody will see the panic \
         otherwise: {}",
        name,
        id,
        message,
    );
    scheduler.unhandled_panic(id, name, message);
}

/// Emits the slow-poll warning; out of line, so the poll path stays small.
#[cold]
#[inline(never)]
fn report_slow_poll(id: TaskId, name: Option<&str>, took: Duration, threshold: Duration) {
    tracing::warn!(
        target: SLOW_POLL_TARGET,
        { task.id = id.as_u64(), task.name = name.unwrap_or(super::info::UNNAMED), poll_duration = ?took, threshold = ?threshold },
        "a single poll of task {} ({}) took {:?}, longer than the slow_poll_threshold of {:?}; \
         it blocked its worker meanwhile: move blocking work to `arbor::to_thread`",
        name.unwrap_or(super::info::UNNAMED),
        id,
        took,
        threshold,
    );
}

pub(super) struct Harness<T: Future, S: 'static> {
    cell: NonNull<Cell<T, S>>,
}

/// What `poll_inner` decided; `poll` acts on it after the borrow of the core ends.
enum PollOutcome {
    Done,
    Notified,
    Complete,
    Dealloc,
}

impl<T: Future, S: Schedule> Harness<T, S> {
    /// # Safety
    /// `ptr` is the header of a live `Cell<T, S>`.
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> Harness<T, S> {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<T, S> {
        // SAFETY: the cell is alive while the caller holds a reference.
        unsafe { self.cell.as_ref() }
    }

    fn state(&self) -> &State {
        &self.cell().header.state
    }

    fn core(&self) -> &Core<T, S> {
        &self.cell().core
    }

    fn trailer(&self) -> &Trailer {
        &self.cell().trailer
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the cell is alive.
        unsafe { RawTask::from_raw(self.cell.cast()) }
    }

    pub(super) fn schedule(self) {
        // SAFETY: the caller's reference becomes the `Notified`'s.
        let task = unsafe { Notified::from_raw(self.raw()) };
        self.core().scheduler.schedule(task);
    }

    /// Runs the task once; consumes the `Notified` reference.
    pub(super) fn poll(self) {
        match self.poll_inner() {
            PollOutcome::Done => {}
            PollOutcome::Notified => {
                // Once queued, the task may run, complete and be freed on another worker
                // before `yield_now` returns, and the hook lives in the task: the call runs
                // on a bitwise copy of the hook, taken before the hand-off and never
                // dropped (see "Submitting keeps a reference" in `mod.rs`).
                // SAFETY: the copy is never dropped, so the hook's ownership stays with the
                // task; what it points to outlives the call by `Schedule`'s contract (this
                // thread polls the scheduler's tasks, so it keeps the hook's referents
                // alive while it runs them).
                let scheduler =
                    ManuallyDrop::new(unsafe { std::ptr::read(&self.core().scheduler) });
                // SAFETY: the running reference becomes the new `Notified`'s.
                let task = unsafe { Notified::from_raw(self.raw()) };
                if crate::context::take_self_woken() {
                    scheduler.yield_now(task);
                } else {
                    scheduler.woken_while_running(task);
                }
            }
            PollOutcome::Complete => self.complete(),
            PollOutcome::Dealloc => self.dealloc(),
        }
    }

    fn poll_inner(&self) -> PollOutcome {
        match self.state().transition_to_running() {
            TransitionToRunning::Success => {
                let header = self.cell.cast::<Header>();
                let waker = waker::waker_ref(&header);
                let mut cx = Context::from_waker(&waker);
                if self.poll_future(&mut cx).is_ready() {
                    return PollOutcome::Complete;
                }
                match self.state().transition_to_idle() {
                    TransitionToIdle::Ok => PollOutcome::Done,
                    TransitionToIdle::OkNotified => PollOutcome::Notified,
                    TransitionToIdle::OkDealloc => PollOutcome::Dealloc,
                    TransitionToIdle::Cancelled => {
                        self.cancel_future();
                        PollOutcome::Complete
                    }
                }
            }
            TransitionToRunning::Cancelled => {
                self.cancel_future();
                PollOutcome::Complete
            }
            TransitionToRunning::Failed => PollOutcome::Done,
            TransitionToRunning::Dealloc => PollOutcome::Dealloc,
        }
    }

    /// Polls the future with the task's context installed; on `Ready` or panic the future
    /// is dropped and the output stored. Requires `RUNNING`.
    fn poll_future(&self, cx: &mut Context<'_>) -> Poll<()> {
        let id = self.cell().header.id;
        let raw = self.raw();
        let _span = self.trailer().span.enter();
        // Also gives the poll a fresh cooperative budget.
        let _task = context::enter_task(raw);

        /// Drops the future if `poll` unwinds.
        struct DropOnUnwind<'a, T: Future, S>(&'a Core<T, S>);
        impl<T: Future, S> Drop for DropOnUnwind<'_, T, S> {
            fn drop(&mut self) {
                // SAFETY: only alive during the poll, while this thread owns the task.
                unsafe { self.0.drop_future_or_output() }
            }
        }

        let core = self.core();
        // One branch when the threshold is off: the clock is only read when it is on.
        let timed = core
            .scheduler
            .slow_poll_threshold()
            .map(|threshold| (threshold, Instant::now()));
        let polled = catch_unwind(AssertUnwindSafe(|| {
            let guard = DropOnUnwind(core);
            // SAFETY: RUNNING is set by this thread and the stage is `Running`.
            let res = unsafe { core.poll(cx) };
            std::mem::forget(guard);
            res
        }));
        if let Some((threshold, started)) = timed {
            let took = started.elapsed();
            if took > threshold {
                report_slow_poll(id, self.trailer().meta.name.as_deref(), took, threshold);
            }
        }
        let output = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => {
                // Drop the future before storing the output; its destructor may panic.
                // SAFETY: this thread owns the stage.
                match catch_unwind(AssertUnwindSafe(|| unsafe { core.drop_future_or_output() })) {
                    Ok(()) => Ok(output),
                    Err(payload) => Err(JoinError::panic(id, payload)),
                }
            }
            Err(payload) => Err(JoinError::panic(id, payload)),
        };
        // SAFETY: this thread owns the stage, which is `Consumed` now.
        unsafe { core.store_output(output) };
        Poll::Ready(())
    }

    /// Drops the future of a cancelled task and stores the `JoinError`. Requires `RUNNING`.
    fn cancel_future(&self) {
        let id = self.cell().header.id;
        let core = self.core();
        let _span = self.trailer().span.enter();
        let _task = context::enter_task(self.raw());
        // SAFETY: this thread owns the stage.
        let err = match catch_unwind(AssertUnwindSafe(|| unsafe { core.drop_future_or_output() })) {
            Ok(()) => JoinError::cancelled(id),
            Err(payload) => JoinError::panic(id, payload),
        };
        // SAFETY: this thread owns the stage, which is `Consumed` now.
        unsafe { core.store_output(Err(err)) };
    }

    /// Drops an output nobody will read; a panic in it is reported (see
    /// `runtime/unhandled.rs`). The check reads the stage's discriminant only.
    ///
    /// # Safety
    /// The caller owns the stage and the task is complete.
    unsafe fn drop_unread_output(&self) {
        let core = self.core();
        // SAFETY: forwarded.
        if let Some(message) = unsafe { core.stored_panic() }
            && message != PANIC_MOVED_TO_GROUP
        {
            let header = &self.cell().header;
            report_unhandled_panic(
                &core.scheduler,
                header.id,
                self.trailer().meta.name.as_deref(),
                &message,
            );
        }
        // SAFETY: forwarded.
        unsafe { core.drop_future_or_output() };
    }

    /// Leaves the leaf list of the task's cancel node, publishes the output, wakes the
    /// handle, leaves the owned list and drops the references of the runner and the owned
    /// list (the leaf list's goes at a sweep, `cancel/leaf.rs`).
    fn complete(self) {
        // The future is gone. Leave the leaf list of the node the task was spawned under
        // (`cancel/leaf.rs`) before anyone can see the task complete: whoever awaited it
        // sees the list without it.
        if let Some(node) = &self.trailer().meta.cancel {
            node.leave(self.raw());
        }
        let snapshot = self.state().transition_to_complete();
        // Dropping an unread output must not unwind into a worker (`wake_join` contains a
        // panic of the handle's waker itself).
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if !snapshot.is_join_interested() {
                // Nobody reads the output: drop it here.
                // SAFETY: no handle, so the runtime side owns the stage.
                unsafe { self.drop_unread_output() };
            } else if snapshot.is_join_waker_set() {
                // SAFETY: JOIN_WAKER is set and the task complete: the slot is ours to read.
                unsafe { self.trailer().wake_join() };
                let snapshot = self.state().unset_join_waker_after_complete();
                if !snapshot.is_join_interested() {
                    // The handle went away meanwhile: the waker is ours to drop.
                    // SAFETY: as above.
                    unsafe { self.trailer().set_waker(None) };
                }
            }
        }));
        // A borrowed view: `ManuallyDrop` keeps it from releasing a reference.
        let me = ManuallyDrop::new(OwnedTask::<S>::from_raw(self.raw()));
        let released = match self.core().scheduler.release(&me) {
            Some(task) => {
                std::mem::forget(task);
                2
            }
            None => 1,
        };

        if self.state().transition_to_terminal(released) {
            self.dealloc();
        }
    }

    /// Runtime shutdown, or an in-place cancel (`TaskRef::cancel_in_place`): claims the task
    /// if it is idle and drops its future here; consumes one reference (the owned list's,
    /// or the claimer's fresh one, which `complete` releases as the runner's).
    pub(super) fn shutdown(self) {
        if !self.state().transition_to_shutdown() {
            // Running elsewhere (the runner sees CANCELLED) or already complete.
            self.raw().drop_reference();
            return;
        }
        self.cancel_future();
        self.complete();
    }

    pub(super) fn dealloc(self) {
        // SAFETY: the reference count is zero; the cell came from `Box::leak`.
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) });
    }

    /// # Safety
    /// `dst` points to a `Poll<Result<T::Output, JoinError>>`; the caller is the handle.
    pub(super) unsafe fn try_read_output(
        self,
        dst: *mut Poll<Result<T::Output, JoinError>>,
        waker: &Waker,
    ) {
        if self.can_read_output(waker) {
            // SAFETY: the task is complete and the handle owns the output.
            let output = unsafe { self.core().take_output() };
            // SAFETY: the caller guarantees `dst`.
            unsafe { *dst = Poll::Ready(output) };
        }
    }

    /// Whether the output is ready; if not, the handle's waker is stored.
    fn can_read_output(&self, waker: &Waker) -> bool {
        let state = self.state();
        let snapshot = state.load();
        debug_assert!(snapshot.is_join_interested());
        if snapshot.is_complete() {
            return true;
        }
        let res = if !snapshot.is_join_waker_set() {
            self.set_join_waker(waker.clone())
        } else {
            // SAFETY: JOIN_WAKER is set and the handle is alive, so the runtime side never
            // writes the slot; reading it concurrently with the runtime's read is fine.
            if unsafe { self.trailer().will_wake(waker) } {
                return false;
            }
            state
                .unset_join_waker()
                .and_then(|_| self.set_join_waker(waker.clone()))
        };
        match res {
            Ok(_) => false,
            Err(snapshot) => {
                debug_assert!(snapshot.is_complete());
                true
            }
        }
    }

    fn set_join_waker(
        &self,
        waker: Waker,
    ) -> Result<super::state::Snapshot, super::state::Snapshot> {
        // SAFETY: JOIN_WAKER is clear and the task not complete: the handle owns the slot.
        unsafe { self.trailer().set_waker(Some(waker)) };
        let res = self.state().set_join_waker();
        if res.is_err() {
            // Completed meanwhile: the slot is still the handle's; clear it.
            // SAFETY: as above.
            unsafe { self.trailer().set_waker(None) };
        }
        res
    }

    /// The handle was dropped; consumes its reference.
    pub(super) fn drop_join_handle_slow(self) {
        let dropped = self.state().transition_to_join_handle_dropped();
        if dropped.drop_output {
            // SAFETY: complete with the handle still interested until now: the handle side
            // owns the output.
            let _ = catch_unwind(AssertUnwindSafe(|| unsafe { self.drop_unread_output() }));
        }
        if dropped.drop_waker {
            // SAFETY: the transition gave the slot to the handle side.
            unsafe { self.trailer().set_waker(None) };
        }
        self.raw().drop_reference();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! Submitting keeps a reference (`task/mod.rs`): a scheduler may run the task it was
    //! handed, to completion, before its `schedule` call returns (another worker can), and
    //! the hook it was called on lives in the task.

    use super::super::{Notified, OwnedTask, Schedule, TaskMeta, new_task};
    use std::future::poll_fn;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    use std::task::{Poll, Waker};

    /// Runs a submitted task at once, inside the call, then checks that the task (and so
    /// this hook, which lives in it) was not freed meanwhile. `freed` is set by the hook's
    /// drop, which runs when the task is freed.
    struct RunInline {
        freed: Arc<AtomicBool>,
    }

    impl Drop for RunInline {
        fn drop(&mut self) {
            self.freed.store(true, SeqCst);
        }
    }

    impl Schedule for RunInline {
        fn schedule(&self, task: Notified<Self>) {
            // Taken before the hand-off: reading `self` after it would be the bug itself.
            let freed = self.freed.clone();
            task.run();
            assert!(
                !freed.load(SeqCst),
                "the task was freed while its scheduler hook was still in use"
            );
        }

        fn release(&self, _task: &OwnedTask<Self>) -> Option<OwnedTask<Self>> {
            None
        }
    }

    /// A detached task whose future is pending at its first poll (calling `first` with its
    /// waker) and ready at its second. Returns its first `Notified` and the `freed` flag.
    fn detached(first: impl Fn(&Waker) + Send + 'static) -> (Notified<RunInline>, Arc<AtomicBool>) {
        let freed = Arc::new(AtomicBool::new(false));
        let polls = AtomicUsize::new(0);
        let fut = poll_fn(move |cx| {
            if polls.fetch_add(1, SeqCst) == 0 {
                first(cx.waker());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        });
        let hook = RunInline {
            freed: freed.clone(),
        };
        let (owned, notified, task) = new_task(fut, hook, TaskMeta::default());
        // No owned list here (`release` gives nothing back), and no handle.
        drop(owned);
        drop(task);
        (notified, freed)
    }

    #[test]
    fn a_consumed_waker_keeps_the_task_alive_through_the_submit() {
        let slot = Arc::new(Mutex::new(None));
        let s = slot.clone();
        let (notified, freed) = detached(move |w| *s.lock().unwrap() = Some(w.clone()));
        notified.run();
        let waker: Waker = slot
            .lock()
            .unwrap()
            .take()
            .expect("stored at the first poll");
        // The waker holds the last reference; the submit runs the task to completion.
        waker.wake();
        assert!(freed.load(SeqCst), "freed once the waker is gone");
    }

    #[test]
    fn a_runner_resubmitting_a_task_calls_the_hook_through_a_copy() {
        // Woken during its own poll (`yield_now`): the runner resubmits it when the poll
        // ends and the submit runs it to completion, freeing it (and the hook in it) while
        // the call still runs on the hook; the call runs on a copy, which is never dropped.
        let freed = Arc::new(AtomicBool::new(false));
        let polls = AtomicUsize::new(0);
        let fut = poll_fn(move |cx| {
            if polls.fetch_add(1, SeqCst) == 0 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        });
        // The test keeps the hook's referents alive, as a worker keeps its runtime's handle
        // (`Schedule`'s contract).
        let canary = Arc::new(CANARY);
        let hook = YieldInline {
            freed: freed.clone(),
            canary: canary.clone(),
        };
        let (owned, notified, task) = new_task(fut, hook, TaskMeta::default());
        drop(owned);
        drop(task);
        notified.run();
        assert!(freed.load(SeqCst), "freed once the runner is done");
    }

    const CANARY: u64 = 0x5eed_cafe;

    /// Runs a task resubmitted by its runner at once, then reads the hook it was called on,
    /// which must still be valid though the task holding the original was freed (without
    /// the copy, `self` is in the freed task: AddressSanitizer reports the read).
    struct YieldInline {
        freed: Arc<AtomicBool>,
        canary: Arc<u64>,
    }

    impl Drop for YieldInline {
        fn drop(&mut self) {
            self.freed.store(true, SeqCst);
        }
    }

    impl Schedule for YieldInline {
        fn schedule(&self, task: Notified<Self>) {
            task.run();
            assert!(self.freed.load(SeqCst), "the task ran to completion inline");
            assert_eq!(*self.canary, CANARY);
        }

        fn release(&self, _task: &OwnedTask<Self>) -> Option<OwnedTask<Self>> {
            None
        }
    }
}
