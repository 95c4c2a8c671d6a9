//! The task state word.
//!
//! One `AtomicUsize` per task holds the lifecycle bits and the reference count. Every
//! transition is a named method returning a `#[must_use]` outcome; no other module touches
//! the bits. The compare-and-swap loop is written once, in [`State::fetch_update_action`].
//!
//! ## Bits
//! | bit | meaning |
//! |---|---|
//! | `RUNNING` | some thread owns the future (polling it, or cancelling it) |
//! | `COMPLETE` | the future is gone and the output (or the `JoinError`) is stored |
//! | `NOTIFIED` | a [`Notified`](super::Notified) reference for this task exists, or will be made when the current poll ends |
//! | `JOIN_INTEREST` | the `Task<T>` handle is alive and will read the output |
//! | `JOIN_WAKER` | the join-waker slot belongs to the runtime side (see below) |
//! | `CANCELLED` | the task was asked to stop; the next thread to own it drops the future |
//!
//! The upper bits count references. Each of these holds one: the owned-tasks list entry,
//! the `Task<T>` handle, every `Notified`, every `Waker`. The thread that runs the task
//! reuses the reference of the `Notified` it was handed.
//!
//! ## Invariants
//! - `RUNNING` and `COMPLETE` are never both set. `COMPLETE` is never cleared.
//! - While `JOIN_WAKER` is clear and the task is not complete, only the handle may write the
//!   join-waker slot; while it is set, only the runtime side may read it. Setting and
//!   clearing it are CAS transitions that fail once `COMPLETE` is set.
//! - `NOTIFIED` set while idle means exactly one `Notified` is queued somewhere.
//!
//! ## Orderings
//! The state word hands the stage and the join-waker slot from thread to thread: every
//! transition that passes ownership is an `AcqRel` RMW (it both publishes what this side
//! wrote and sees what the other side wrote), and plain reads are `Acquire`. Only taking a
//! new reference from an existing one is `Relaxed` (see `ref_inc`).

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use std::fmt;

const RUNNING: usize = 0b00_0001;
const COMPLETE: usize = 0b00_0010;
const NOTIFIED: usize = 0b00_0100;
const JOIN_INTEREST: usize = 0b00_1000;
const JOIN_WAKER: usize = 0b01_0000;
const CANCELLED: usize = 0b10_0000;
const LIFECYCLE_MASK: usize = RUNNING | COMPLETE;
const STATE_BITS: u32 = 6;
const REF_ONE: usize = 1 << STATE_BITS;
const REF_MASK: usize = !(REF_ONE - 1);

/// A new task: one reference for the owned list, one for the `Task<T>` handle, one for the
/// `Notified` that submits it; it starts notified with the handle interested.
const INITIAL_STATE: usize = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;

/// The atomic state word of a task.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word, read with one load.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What the scheduler must do after asking to run a notified task.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// The caller owns the future and polls it.
    Success,
    /// The caller owns the future and must drop it: the task was cancelled.
    Cancelled,
    /// Someone else owns the task (or it is complete); the `Notified` reference was dropped.
    Failed,
    /// As `Failed`, and that was the last reference: deallocate.
    Dealloc,
}

/// What the scheduler must do after a poll returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// Idle; the running reference was dropped.
    Ok,
    /// Woken during the poll: the running reference becomes a new `Notified` to submit.
    OkNotified,
    /// Idle, and the running reference was the last one: deallocate.
    OkDealloc,
    /// Cancelled during the poll: still running; drop the future and complete.
    Cancelled,
}

/// What a waker must do after notifying.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotified {
    /// Nothing: the task is complete or already queued.
    DoNothing,
    /// The task is running: marked notified, its runner resubmits it when the poll ends.
    WhileRunning,
    /// The task was idle: submit a `Notified` holding one reference.
    Submit,
    /// The waker held the last reference: deallocate.
    Dealloc,
}

/// What the handle must clean up after it was dropped.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JoinHandleDropped {
    /// The task is complete: the handle must drop the stored output.
    pub(crate) drop_output: bool,
    /// The join-waker slot belongs to the handle: it must drop the waker.
    pub(crate) drop_waker: bool,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL_STATE),
        }
    }

    /// A task spawned under a cancel node: `INITIAL_STATE` and the leaf list's reference
    /// (`cancel/leaf.rs`), taken at birth rather than by an RMW later.
    pub(crate) fn new_leaf() -> State {
        State {
            val: AtomicUsize::new(INITIAL_STATE + REF_ONE),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    /// Runs `f` in a CAS loop. `f` sees the current snapshot and returns the action plus the
    /// next snapshot, or `None` to leave the state alone.
    fn fetch_update_action<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (output, next) = f(curr);
            let Some(next) = next else { return output };
            match self
                .val
                .compare_exchange_weak(curr.0, next.0, AcqRel, Acquire)
            {
                Ok(_) => return output,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// Called with a `Notified` in hand, whose reference the running thread keeps.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|mut next| {
            debug_assert!(next.is_notified(), "running a task that is not notified");
            if !next.is_idle() {
                // Owned elsewhere or complete: give back the notified reference.
                next.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(next));
            }
            next.0 |= RUNNING;
            next.0 &= !NOTIFIED;
            let action = if next.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (action, Some(next))
        })
    }

    /// Called by the running thread after `poll` returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_running());
            if curr.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            let mut next = curr;
            next.0 &= !RUNNING;
            let action = if next.is_notified() {
                // Keep the running reference: it becomes the new `Notified`'s.
                TransitionToIdle::OkNotified
            } else {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            (action, Some(next))
        })
    }

    /// Running -> complete. Returns the snapshot from before the transition.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        const DELTA: usize = RUNNING | COMPLETE;
        let prev = Snapshot(self.val.fetch_xor(DELTA, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        prev
    }

    /// Drops `count` references after completion; `true` when the task must be deallocated.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, AcqRel));
        assert!(prev.ref_count() >= count, "task reference count underflow");
        prev.ref_count() == count
    }

    /// A waker consumed by `wake`: its reference is reused or dropped.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update_action(|mut next| {
            let action = if next.is_running() {
                // The runner resubmits it when the poll ends; the runner holds a reference,
                // so this cannot be the last one.
                next.0 |= NOTIFIED;
                next.ref_dec();
                debug_assert!(next.ref_count() > 0);
                TransitionToNotified::WhileRunning
            } else if next.is_complete() || next.is_notified() {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                }
            } else {
                // Idle: a fresh reference for the `Notified`; the waker keeps its own until
                // it has submitted it, then drops it.
                next.0 |= NOTIFIED;
                next.ref_inc();
                TransitionToNotified::Submit
            };
            (action, Some(next))
        })
    }

    /// A waker used by reference: a `Submit` comes with a fresh reference.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update_action(|mut next| {
            if next.is_complete() || next.is_notified() {
                (TransitionToNotified::DoNothing, None)
            } else if next.is_running() {
                next.0 |= NOTIFIED;
                (TransitionToNotified::WhileRunning, Some(next))
            } else {
                next.0 |= NOTIFIED;
                next.ref_inc();
                (TransitionToNotified::Submit, Some(next))
            }
        })
    }

    /// A cancel walk wakes a leaf task (`cancel/leaf.rs`): as
    /// [`transition_to_notified_by_ref`](Self::transition_to_notified_by_ref), but always
    /// an RMW, also when the task is already notified or complete (writing the word back
    /// unchanged). The task's next `transition_to_running` (or `transition_to_idle`) then
    /// reads from it, so the poll that follows sees the cancel flag the walker set before:
    /// with a plain load, a walker finding the task queued and a runner starting it would
    /// each read the other's location stale (loom found it).
    pub(crate) fn transition_to_notified_for_cancel(&self) -> TransitionToNotified {
        self.fetch_update_action(|mut next| {
            if next.is_complete() || next.is_notified() {
                (TransitionToNotified::DoNothing, Some(next))
            } else if next.is_running() {
                next.0 |= NOTIFIED;
                (TransitionToNotified::WhileRunning, Some(next))
            } else {
                next.0 |= NOTIFIED;
                next.ref_inc();
                (TransitionToNotified::Submit, Some(next))
            }
        })
    }

    /// `Task::cancel` from any thread. Returns whether the task had not completed, and
    /// whether the caller must submit a `Notified` (with the fresh reference taken here) so
    /// that a worker drops the future.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> (bool, bool) {
        self.fetch_update_action(|mut next| {
            if next.is_complete() {
                return ((false, false), None);
            }
            if next.is_cancelled() {
                return ((true, false), None);
            }
            next.0 |= CANCELLED;
            if next.is_running() || next.is_notified() {
                // The runner (when its poll ends), or the queued `Notified`, sees the bit.
                ((true, false), Some(next))
            } else {
                next.0 |= NOTIFIED;
                next.ref_inc();
                ((true, true), Some(next))
            }
        })
    }

    /// Runtime shutdown: marks the task cancelled and, if it is idle, claims it. `true`
    /// means the caller now owns the future and must cancel it in place.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update_action(|mut next| {
            let claimed = next.is_idle();
            if claimed {
                next.0 |= RUNNING;
            }
            next.0 |= CANCELLED;
            (claimed, Some(next))
        })
    }

    /// The handle stores its waker: hands the slot to the runtime side. Fails (returning the
    /// snapshot) if the task completed meanwhile, in which case the handle keeps the slot.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested() && !curr.is_join_waker_set());
            if curr.is_complete() {
                return (Err(curr), None);
            }
            let next = Snapshot(curr.0 | JOIN_WAKER);
            (Ok(next), Some(next))
        })
    }

    /// The handle takes the slot back to replace its waker. Fails once complete.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested() && curr.is_join_waker_set());
            if curr.is_complete() {
                return (Err(curr), None);
            }
            let next = Snapshot(curr.0 & !JOIN_WAKER);
            (Ok(next), Some(next))
        })
    }

    /// The runtime side gives the slot back after waking the handle on completion.
    /// Returns the new snapshot: if the handle is gone, the runtime side drops the waker.
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    /// The `Task<T>` handle is dropped (its reference is dropped separately).
    pub(crate) fn transition_to_join_handle_dropped(&self) -> JoinHandleDropped {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested());
            let mut next = Snapshot(curr.0 & !JOIN_INTEREST);
            if !curr.is_complete() {
                // Not complete: the handle takes the waker slot back.
                next.0 &= !JOIN_WAKER;
            }
            let outcome = JoinHandleDropped {
                drop_output: curr.is_complete(),
                drop_waker: !next.is_join_waker_set(),
            };
            (outcome, Some(next))
        })
    }

    pub(crate) fn ref_inc(&self) {
        // Relaxed: a new reference is made from an existing one, so the task is alive and
        // nothing is published by the increment itself.
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; `true` when it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, AcqRel));
        assert!(prev.ref_count() >= 1, "task reference count underflow");
        prev.ref_count() == 1
    }
}

impl Snapshot {
    pub(crate) fn is_idle(self) -> bool {
        self.0 & LIFECYCLE_MASK == 0
    }
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> STATE_BITS
    }
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interested", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_new_task_is_notified_with_three_references() {
        let s = State::new().load();
        assert!(s.is_notified() && s.is_join_interested() && s.is_idle());
        assert_eq!(s.ref_count(), 3);
    }

    #[test]
    fn wake_while_running_defers_the_submit_to_the_runner() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::WhileRunning
        );
        assert_eq!(s.transition_to_idle(), TransitionToIdle::OkNotified);
        assert_eq!(s.load().ref_count(), 3);
    }

    #[test]
    fn a_consumed_waker_keeps_its_reference_through_the_submit() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        // Two references left (list, handle), plus a waker's.
        s.ref_inc();
        assert_eq!(
            s.transition_to_notified_by_val(),
            TransitionToNotified::Submit
        );
        // The waker's reference and the `Notified`'s: the waker drops its own after the
        // scheduler call returned.
        assert_eq!(s.load().ref_count(), 4);
    }

    #[test]
    fn cancel_of_an_idle_task_submits_it_once() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(s.transition_to_notified_and_cancel(), (true, true));
        assert_eq!(s.transition_to_notified_and_cancel(), (true, false));
        assert_eq!(s.transition_to_running(), TransitionToRunning::Cancelled);
    }

    #[test]
    fn shutdown_claims_only_idle_tasks() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert!(!s.transition_to_shutdown());
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Cancelled);
        let idle = State::new();
        assert!(idle.transition_to_shutdown());
        assert!(idle.load().is_running() && idle.load().is_cancelled());
    }

    #[test]
    fn the_handle_cannot_take_the_waker_slot_after_completion() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        s.set_join_waker().unwrap();
        let _ = s.transition_to_complete();
        assert!(s.unset_join_waker().is_err());
        let dropped = s.transition_to_join_handle_dropped();
        assert_eq!(
            dropped,
            JoinHandleDropped {
                drop_output: true,
                drop_waker: false
            }
        );
    }
}
