//! A registered timer: the state a [`Sleep`](super::Sleep) (or a
//! [`DeadlineTimer`](crate::cancel::DeadlineTimer)) shares with the time driver.
//!
//! ## The word
//! One `AtomicU64` holds `FIRED | QUEUED | DROPPED | deadline` (the deadline in ticks of the
//! driver's wheel, 61 bits). Both sides change it with single atomic operations, so "the
//! deadline at the moment it fired" is always well defined.
//!
//! ## Who does what (no lock shared by all timers)
//! - The `Sleep` (its owner task) sets the deadline; when the entry must be (re)placed in
//!   the wheel it sets `QUEUED` and pushes the entry onto the driver's lock-free submission
//!   queue. Only the thread holding the driver touches the wheel.
//! - The driver drains the queue: it clears `QUEUED`, removes the entry's old wheel slot
//!   (the key in `key`), and inserts it at the deadline it reads then.
//! - When a wheel slot fires, the driver re-reads the deadline: if it has moved later, it
//!   re-inserts the entry there (moving a deadline later is lazy: no wheel operation until
//!   the old slot fires); otherwise it sets `FIRED` by CAS and wakes the waker.
//!
//! - What firing does is the entry's [`Notify`]: wake a task (a `Sleep`), or expire a cancel
//!   node (a timeout's deadline: it cancels the scope even while no task polls it).
//! - A `DeadlineTimer` may `reset` from any thread, racing its owner's drop: `reset` leaves a
//!   `DROPPED` entry alone, so a dropped entry is never queued again.
//!
//! Invariant: an entry that is neither fired nor dropped sits in the wheel at a tick no
//! later than its deadline, or is `QUEUED`. `reset` keeps it: moving later keeps the old
//! slot (earlier than the new deadline), moving earlier queues the entry.

use crate::cancel::CancelNode;
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::time::wheel::Key;
use std::sync::{Arc, Mutex};
use std::task::Waker;

/// The driver fired this timer: its deadline has passed.
pub(crate) const FIRED: u64 = 1 << 63;
/// The entry is on the submission queue (at most once).
pub(crate) const QUEUED: u64 = 1 << 62;
/// The `Sleep` was dropped: the driver only removes it from the wheel.
pub(crate) const DROPPED: u64 = 1 << 61;
/// The deadline bits.
pub(crate) const DEADLINE_MASK: u64 = DROPPED - 1;
/// A deadline that never fires.
pub(crate) const NEVER: u64 = DEADLINE_MASK;
/// `key` when the entry is in no wheel slot.
const NO_KEY: u64 = u64::MAX;

/// What firing an entry does.
pub(crate) enum Notify {
    /// Wake the task waiting on a `Sleep`.
    Task(Waker),
    /// Expire a timeout's cancel node ([`CancelNode::expire`]).
    Expire(Arc<CancelNode>),
}

pub(crate) struct TimerEntry {
    /// See the module header.
    word: AtomicU64,
    /// What to do when the timer fires. Locked briefly by the owner (to store it) and by the
    /// driver (to take it); never held while notifying.
    waker: Mutex<Option<Notify>>,
    /// The entry's wheel key, or `NO_KEY`. Only the thread holding the driver reads or
    /// writes it (an atomic only so that the entry is `Sync` without `unsafe`; std's, as no
    /// protocol races on it).
    key: std::sync::atomic::AtomicU64,
}

/// What `reset` asks of the caller.
#[must_use]
pub(crate) enum Reset {
    /// Nothing: the wheel holds the entry early enough, or it is queued already.
    Nothing,
    /// Push the entry onto the submission queue.
    Submit,
}

impl TimerEntry {
    /// A new entry with deadline `when`, marked `QUEUED` (the caller submits it).
    pub(crate) fn new_queued(when: u64, waker: Waker) -> TimerEntry {
        TimerEntry {
            word: AtomicU64::new(when.min(NEVER) | QUEUED),
            waker: Mutex::new(Some(Notify::Task(waker))),
            key: std::sync::atomic::AtomicU64::new(NO_KEY),
        }
    }

    /// A new entry that is in no wheel and on no queue, with deadline "never": the first
    /// `reset` to a real deadline queues it (it counts as "earlier").
    pub(crate) fn new_idle(notify: Notify) -> TimerEntry {
        TimerEntry {
            word: AtomicU64::new(NEVER),
            waker: Mutex::new(Some(notify)),
            key: std::sync::atomic::AtomicU64::new(NO_KEY),
        }
    }

    fn lock_waker(&self) -> std::sync::MutexGuard<'_, Option<Notify>> {
        self.waker.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current deadline tick (`NEVER` for none).
    pub(crate) fn deadline(&self) -> u64 {
        self.word.load(Ordering::Acquire) & DEADLINE_MASK
    }

    /// Forgets what firing would do (the owner is gone).
    pub(crate) fn clear_notify(&self) {
        let notify = self.lock_waker().take();
        drop(notify);
    }

    /// Whether the owner dropped the timer (`mark_dropped`).
    #[cfg(all(test, loom))]
    pub(crate) fn is_dropped(&self) -> bool {
        self.word.load(Ordering::Acquire) & DROPPED != 0
    }

    /// Acquire: pairs with the driver's `AcqRel` CAS that set `FIRED`.
    pub(crate) fn is_fired(&self) -> bool {
        self.word.load(Ordering::Acquire) & FIRED != 0
    }

    /// Stores `waker` to be woken on fire. Returns `true` if the timer has fired (checked
    /// after storing, so a fire racing this call is never missed).
    pub(crate) fn register_waker(&self, waker: &Waker) -> bool {
        {
            let mut slot = self.lock_waker();
            match &*slot {
                Some(Notify::Task(w)) if w.will_wake(waker) => {}
                _ => *slot = Some(Notify::Task(waker.clone())),
            }
        }
        self.is_fired()
    }

    /// Moves the deadline to `when`; `fired_now` marks it fired at once (the deadline has
    /// passed already). A dropped entry is left alone.
    pub(crate) fn reset(&self, when: u64, fired_now: bool) -> Reset {
        let when = when.min(NEVER);
        let mut cur = self.word.load(Ordering::Acquire);
        loop {
            if cur & DROPPED != 0 {
                return Reset::Nothing;
            }
            let old_deadline = cur & DEADLINE_MASK;
            let queued = cur & QUEUED != 0;
            let (next, submit) = if fired_now {
                (when | FIRED | (cur & QUEUED), false)
            } else if cur & FIRED != 0 || when < old_deadline {
                // Out of the wheel, or the wheel holds it too late: (re)place it.
                (when | QUEUED, !queued)
            } else {
                // Later: the old slot fires first and the driver re-inserts (lazy).
                (when | (cur & QUEUED), false)
            };
            match self
                .word
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    return if submit {
                        Reset::Submit
                    } else {
                        Reset::Nothing
                    };
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// The owner drops the timer. Returns `true` if the caller must submit it so the driver
    /// removes it from the wheel.
    pub(crate) fn mark_dropped(&self) -> bool {
        let prev = self.word.fetch_or(DROPPED | QUEUED, Ordering::AcqRel);
        prev & (QUEUED | FIRED) == 0
    }

    // ---- driver side: only the thread holding the driver calls these ----

    /// Takes the entry off the queue: clears `QUEUED` and returns the old wheel key (which
    /// the caller removes) and where to insert it now (`None`: nowhere).
    pub(crate) fn dequeue(&self) -> (Option<Key>, Option<u64>) {
        let word = self.word.fetch_and(!QUEUED, Ordering::AcqRel);
        let old = self.take_key();
        let when = word & DEADLINE_MASK;
        let place = word & (FIRED | DROPPED) == 0 && when != NEVER;
        (old, place.then_some(when))
    }

    fn take_key(&self) -> Option<Key> {
        match self.key.swap(NO_KEY, Ordering::Relaxed) {
            NO_KEY => None,
            raw => Some(Key::from_raw(raw)),
        }
    }

    /// Records the wheel key of the entry's new slot.
    pub(crate) fn set_key(&self, key: Key) {
        self.key.store(key.into_raw(), Ordering::Relaxed);
    }

    /// The entry's slot fired at tick `now`. Returns `Some(deadline)` if the deadline moved
    /// later and the caller must re-insert it there; otherwise the entry fired (its waker is
    /// woken) or needs nothing (dropped, or queued: the queue re-places it).
    pub(crate) fn fire(&self, now: u64) -> Option<u64> {
        self.key.store(NO_KEY, Ordering::Relaxed);
        let mut cur = self.word.load(Ordering::Acquire);
        loop {
            if cur & (FIRED | DROPPED | QUEUED) != 0 {
                return None;
            }
            let when = cur & DEADLINE_MASK;
            if when > now {
                return (when != NEVER).then_some(when);
            }
            match self.word.compare_exchange_weak(
                cur,
                cur | FIRED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        let notify = self.lock_waker().take();
        match notify {
            // Possibly a user's waker, woken on the thread turning the driver.
            Some(Notify::Task(waker)) => crate::wake::wake(waker),
            Some(Notify::Expire(node)) => {
                node.expire();
            }
            None => {}
        }
        None
    }

    /// Shutdown: wakes the owner, whose next poll sees the driver gone.
    pub(crate) fn wake_for_shutdown(&self) {
        let notify = self.lock_waker().take();
        if let Some(Notify::Task(waker)) = notify {
            // Possibly a user's waker, woken on the thread turning the driver.
            crate::wake::wake(waker);
        }
    }
}
