//! A waker slot that one registrant fills and any number of threads wake, without a lock:
//! the receiver's side of the lock-free [`mpsc`](super::mpsc) channels.
//!
//! # Protocol
//!
//! `state` is `IDLE`, or has `REGISTERING` (the registrant is writing the slot) and/or
//! `WAKING` (a waker is taking the slot) set. Whoever moves `state` away from `IDLE` owns
//! the slot until it moves it back.
//!
//! - **register** (one registrant at a time: the owner of `&mut Receiver`): CAS `IDLE ->
//!   REGISTERING`, store the waker, CAS `REGISTERING -> IDLE`. If that last CAS fails, a
//!   `wake` came in between (`WAKING` is set and that waker left the slot alone): take the
//!   waker back out, reset to `IDLE`, and wake it. If the first CAS fails, a wake is under
//!   way: wake the new waker at once.
//! - **wake**: `fetch_or(WAKING)`. If that found `IDLE`, the slot is ours: take the waker,
//!   clear `WAKING`, wake it. Otherwise the registrant (who will see `WAKING`) or the other
//!   waker does the wake-up.
//!
//! # Why nothing is missed
//!
//! A producer publishes its change (a pushed value, a closed flag) and then calls `wake`;
//! the consumer registers and then looks for changes. Both `register` and `wake` are
//! read-modify-writes of `state` with `AcqRel`, so they are totally ordered: if the wake
//! comes first, the registrant's RMW reads from it (or from an RMW after it) and sees the
//! change when it looks; if the registration comes first, the wake finds the waker (or sees
//! `REGISTERING` and leaves it to the registrant, who then sees `WAKING`).
//!
//! Old wakers are dropped after `state` is back at `IDLE`: a waker's drop may run a task's
//! destructor, which may use this very channel.

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use std::fmt;
use std::task::Waker;

/// Nobody owns the slot.
const IDLE: usize = 0;
/// The registrant is writing the slot.
const REGISTERING: usize = 0b01;
/// A waker is taking the slot (or came while the registrant wrote it).
const WAKING: usize = 0b10;

/// See the module documentation.
pub(crate) struct AtomicWaker {
    state: AtomicUsize,
    /// Written only by whoever moved `state` away from `IDLE`.
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
            state: AtomicUsize::new(IDLE),
            waker: UnsafeCell::new(None),
        }
    }

    /// Stores `waker` to be woken by the next [`wake`](AtomicWaker::wake). Callers must not
    /// register from two threads at once (the receiver's `&mut self` ensures it).
    pub(crate) fn register(&self, waker: &Waker) {
        // Acquire: a wake that released the slot before us published its change first.
        match self
            .state
            .compare_exchange(IDLE, REGISTERING, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => {}
            Err(_) => {
                // A wake is taking the slot right now; it may have missed the change we are
                // about to look for, so we must be polled again. The wake is a few
                // instructions from done: give it a moment before we are polled again.
                waker.wake_by_ref();
                crate::loom::hint::spin_loop();
                return;
            }
        }
        // SAFETY: `state` is REGISTERING, set by us: the slot is ours until we move it on.
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
            .compare_exchange(REGISTERING, IDLE, Ordering::AcqRel, Ordering::Acquire)
            .is_err();
        if raced {
            // A wake set WAKING while we wrote and left the slot to us: it is still ours.
            // SAFETY: `state` is REGISTERING | WAKING and no one else touches the slot then.
            let woken = self.waker.with_mut(|slot| unsafe { (*slot).take() });
            self.state.swap(IDLE, Ordering::AcqRel);
            drop(old);
            if let Some(waker) = woken {
                waker.wake();
            }
            return;
        }
        drop(old);
    }

    /// Wakes the registered waker, if any, and empties the slot.
    pub(crate) fn wake(&self) {
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }

    /// Empties the slot and returns its waker, with the same ordering as a
    /// [`wake`](AtomicWaker::wake) (a producer's change before it is seen by the registrant
    /// after it). `None` when the slot was empty or another thread is emptying it.
    pub(crate) fn take(&self) -> Option<Waker> {
        // AcqRel: release our change to the registrant; acquire the slot's contents.
        if self.state.fetch_or(WAKING, Ordering::AcqRel) != IDLE {
            // The registrant sees WAKING and wakes itself, or another waker is at it.
            return None;
        }
        // SAFETY: we moved `state` from IDLE to WAKING: the slot is ours.
        let waker = self.waker.with_mut(|slot| unsafe { (*slot).take() });
        self.state.fetch_and(!WAKING, Ordering::Release);
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
