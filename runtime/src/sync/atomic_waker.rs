//! A waker slot that one registrant fills and any number of threads wake, without a lock:
//! the receiver's side of the lock-free [`mpsc`](super::mpsc) channels.
//!
//! # Protocol
//!
//! `state` holds three bits: `REGISTERING` (the registrant is writing the slot), `WAKING` (a
//! waker is taking the slot, or came while the registrant wrote it) and `FULL` (the slot
//! holds a waker). Whoever sets `REGISTERING` or `WAKING` on a state with neither owns the
//! slot until it clears them.
//!
//! - **register** (one registrant at a time: the owner of `&mut Receiver`): unless `WAKING`
//!   is set, CAS `REGISTERING` in; store the waker; CAS to `FULL`. If that last CAS fails,
//!   a wake came in between (`WAKING` is set and that waker left the slot alone): take the
//!   waker back out, reset the state, and wake it. If `WAKING` was set at the start, a wake
//!   is under way: wake the new waker at once. A successful registration ends with a
//!   `SeqCst` fence.
//! - **wake**: a `SeqCst` fence, then a load: with neither `FULL` nor `REGISTERING` there is
//!   no one to wake, and no read-modify-write is made. Else `fetch_or(WAKING)`; if that found
//!   neither `REGISTERING` nor `WAKING`, the slot is ours: take the waker, clear the state,
//!   wake it. Otherwise the registrant (who will see `WAKING`) or the other waker does it.
//!
//! # Why nothing is missed
//!
//! A producer publishes its change (a pushed value, a closed flag) and then wakes; the
//! consumer registers and then looks for changes. Both sides put a `SeqCst` fence between
//! the two, so the fences are ordered: if the producer's comes first, the consumer's look
//! sees the change; if the consumer's does, the producer's load sees `FULL` or
//! `REGISTERING` (both set before the consumer's fence) and takes the slow path, where the
//! read-modify-writes of `state` decide who wakes whom as described above. The producer's
//! fast path costs a fence (local to its core) and a load of a line the consumer writes only
//! when it registers, instead of two read-modify-writes of a line every producer writes.
//!
//! Old wakers are dropped after `state` is released: a waker's drop may run a task's
//! destructor, which may use this very channel.

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicUsize, Ordering, fence};
use std::fmt;
use std::task::Waker;

/// The registrant is writing the slot.
const REGISTERING: usize = 0b001;
/// A waker is taking the slot (or came while the registrant wrote it).
const WAKING: usize = 0b010;
/// The slot holds a waker.
const FULL: usize = 0b100;

/// See the module documentation.
pub(crate) struct AtomicWaker {
    state: AtomicUsize,
    /// Written only by whoever owns it through `state` (see the module documentation).
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the slot is only touched by the one thread that owns it through `state` (see the
// module documentation), and `Waker` is `Send + Sync`.
unsafe impl Send for AtomicWaker {}
// SAFETY: as above.
unsafe impl Sync for AtomicWaker {}

impl AtomicWaker {
    pub(crate) fn new() -> AtomicWaker {
        AtomicWaker {
            state: AtomicUsize::new(0),
            waker: UnsafeCell::new(None),
        }
    }

    /// Stores `waker` to be woken by the next [`wake`](AtomicWaker::wake), and ends with a
    /// `SeqCst` fence: the caller's next look for changes sees every change published
    /// before a `wake` that found nothing to wake. Callers must not register from two
    /// threads at once (the receiver's `&mut self` ensures it).
    pub(crate) fn register(&self, waker: &Waker) {
        // Acquire: a wake that released the slot before us published its change first.
        let current = self.state.load(Ordering::Acquire);
        if current & WAKING != 0
            || self
                .state
                .compare_exchange(
                    current,
                    current | REGISTERING,
                    Ordering::Acquire,
                    Ordering::Acquire,
                )
                .is_err()
        {
            // A wake is taking the slot right now; it may have missed the change we are
            // about to look for, so we must be polled again. The wake is a few
            // instructions from done: give it a moment before we are polled again.
            waker.wake_by_ref();
            crate::loom::hint::spin_loop();
            return;
        }
        // SAFETY: we set REGISTERING on a state with neither it nor WAKING: the slot is
        // ours until we move the state on.
        let old = self.waker.with_mut(|slot| unsafe {
            match &mut *slot {
                Some(current) if current.will_wake(waker) => None,
                slot => slot.replace(waker.clone()),
            }
        });
        // AcqRel: release the slot's new contents to the next waker; acquire the change of
        // a wake that came in between (below).
        let raced = self
            .state
            .compare_exchange(
                current | REGISTERING,
                FULL,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err();
        if raced {
            // A wake set WAKING while we wrote and left the slot to us: it is still ours.
            // SAFETY: `state` is REGISTERING | WAKING (| FULL) and no one else touches the
            // slot then.
            let woken = self.waker.with_mut(|slot| unsafe { (*slot).take() });
            self.state.store(0, Ordering::Release);
            drop(old);
            if let Some(waker) = woken {
                waker.wake();
            }
            return;
        }
        // Pairs with the fence of a `wake` (see "Why nothing is missed").
        fence(Ordering::SeqCst);
        drop(old);
    }

    /// Wakes the registered waker, if any, and empties the slot. Call it after publishing
    /// the change the registrant looks for; it starts with a `SeqCst` fence, which also
    /// orders the caller's change before any load the caller makes after it.
    pub(crate) fn wake(&self) {
        fence(Ordering::SeqCst);
        // Relaxed: the fence orders this load against the registrant's fence.
        if self.state.load(Ordering::Relaxed) & (FULL | REGISTERING) == 0 {
            // No waker, and no registration under way: the registrant's next look (after
            // its fence) sees our change.
            return;
        }
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }

    /// Empties the slot and returns its waker. `None` when the slot was empty or another
    /// thread is at it (a registrant then sees `WAKING` and wakes itself).
    fn take(&self) -> Option<Waker> {
        // AcqRel: release our change to the registrant; acquire the slot's contents.
        if self.state.fetch_or(WAKING, Ordering::AcqRel) & (REGISTERING | WAKING) != 0 {
            return None;
        }
        // SAFETY: we set WAKING on a state with neither it nor REGISTERING: the slot is
        // ours until we clear the state.
        let waker = self.waker.with_mut(|slot| unsafe { (*slot).take() });
        self.state.store(0, Ordering::Release);
        waker
    }
}

impl fmt::Debug for AtomicWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicWaker")
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish()
    }
}
