//! [`DeadlineTimer`]: the timer behind a timeout's deadline.
//!
//! A timeout is a cancel scope with a deadline. Its deadline must cancel the scope, and every
//! task spawned below it, even while the task that owns the timeout is not being polled, so
//! firing cannot be "wake the owner and let it look": the timer entry's [`Notify`] is
//! `Expire(node)`, and the thread turning the time driver calls [`CancelNode::expire`].
//!
//! ## State
//! - The deadline lives in the node ([`CancelNode::set_deadline`]), one atomic word, so
//!   `current_deadline()` reads it and any thread can move it.
//! - `driver`: set once, by [`arm`](DeadlineTimer::arm) (the owner's first poll that has to
//!   wait); before that, a deadline change only writes the node.
//! - `entry`: created at the first finite deadline after arming ("never" costs no timer).
//! - `disarmed`: set once by [`disarm`](DeadlineTimer::disarm) (the scope finished).
//!
//! ## Protocol (`reschedule` from any thread, O(1), no lock shared with other timers)
//! 1. Write the deadline into the node (a swap), then [`sync`](DeadlineTimer::sync).
//! 2. `sync`: if armed and not disarmed, read the node's deadline and apply it to the entry;
//!    read the deadline again and repeat if it changed meanwhile. Whoever applies last read
//!    the last deadline written after its apply, so racing reschedulers converge on the
//!    last value written.
//! 3. Applying a *later* deadline is one CAS on the entry (`TimerEntry::reset`): the entry
//!    stays in its wheel slot and the driver re-inserts it when that slot fires. An *earlier*
//!    one (or one in the same tick) reads the clock: already passed (the deadline instant
//!    at or before now, whatever the ticks say), the entry is marked fired and this thread
//!    expires the node itself; otherwise the entry is queued for the driver (which is unparked if it
//!    sleeps past it).
//! 4. `arm` publishes `driver`, then makes a read-modify-write of the node's deadline word
//!    that changes nothing, then runs `sync`; a reschedule swaps the deadline in and then
//!    reads `driver`. Every write of that word is a read-modify-write (`AcqRel`), so they
//!    are in one modification order: if the reschedule's swap comes after the arm's, it
//!    reads from the arm's release sequence and sees `driver`; if it comes before, the
//!    arm's `sync` reads the node after its own read-modify-write and sees the new
//!    deadline. Either way at least one of them applies it, with no fence (a store and a
//!    fence cost a full barrier more per reschedule). Racing `sync`s converge by step 2: an
//!    apply is an `AcqRel` CAS on the entry, so a `sync` whose apply lands after another's
//!    sees that one's deadline write when it reads the node again. `loom_tests.rs` checks
//!    steps 2-5 on this code (its atomics, and the set-once `driver` and `entry`, come
//!    through `crate::loom`), armed on a real driver.
//! 5. `disarm` sets `disarmed`, then marks the entry dropped (queued for removal). A `sync`
//!    that created the entry re-checks `disarmed` after publishing it (fences again), so no
//!    entry outlives its timeout in the wheel; `TimerEntry::reset` leaves a dropped entry
//!    alone, so a racing apply cannot revive it.

use super::CancelNode;
use crate::context;
use crate::driver::Driver;
use crate::loom::SetOnce;
use crate::loom::sync::atomic::{AtomicBool, Ordering, fence};
use crate::time::Instant;
use crate::time::entry::{NEVER, Notify, TimerEntry};
use crate::time::instant::{NO_INSTANT, encode};
use std::fmt;
use std::sync::Arc;

/// The timer that enforces a cancel node's deadline (see the module header). Used by
/// `arbor-timeouts`; not a user-facing API.
pub struct DeadlineTimer {
    node: Arc<CancelNode>,
    /// Set once by `arm`.
    driver: SetOnce<Arc<Driver>>,
    /// Created by the first `sync` that applies a finite deadline.
    entry: SetOnce<Arc<TimerEntry>>,
    /// Set once by `disarm`.
    disarmed: AtomicBool,
}

impl DeadlineTimer {
    /// A timer for `node`'s deadline; nothing is registered until [`arm`](Self::arm).
    pub fn new(node: Arc<CancelNode>) -> DeadlineTimer {
        DeadlineTimer {
            node,
            driver: SetOnce::new(),
            entry: SetOnce::new(),
            disarmed: AtomicBool::new(false),
        }
    }

    /// The node whose deadline this timer enforces.
    pub fn node(&self) -> &Arc<CancelNode> {
        &self.node
    }

    /// Starts enforcing the deadline on the current runtime: a deadline that has passed
    /// expires the node now; a finite one registers a timer. Call it from the owner's poll
    /// (inside a runtime), once; later calls do nothing.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn arm(&self) {
        if self.driver.get().is_some() {
            return;
        }
        let driver = context::with_handle(|h| h.map(|h| h.driver().clone()))
            .unwrap_or_else(|| crate::runtime::panic_no_runtime("polling an arbor timeout"));
        self.arm_on(driver);
    }

    /// [`arm`](Self::arm) on `driver` (the loom models arm a driver of their own).
    pub(crate) fn arm_on(&self, driver: Arc<Driver>) {
        if driver.time.is_shutdown() {
            // Nothing fires any more; the runtime drops the task.
            return;
        }
        let _ = self.driver.get_or_set(driver);
        // Protocol step 4.
        self.node.touch_deadline();
        self.sync();
    }

    /// Moves the deadline (protocol steps 1-3); `None` means never. From any thread.
    pub fn reschedule(&self, deadline: Option<Instant>) {
        // Protocol step 4: a read-modify-write, ordered against `arm`'s.
        self.node.set_deadline(deadline);
        self.sync();
    }

    /// The deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.node.deadline()
    }

    /// Stops enforcing the deadline (protocol step 5); the node stays as it is.
    pub fn disarm(&self) {
        self.disarmed.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if let Some(entry) = self.entry.get() {
            drop_entry(self.driver.get(), entry);
        }
    }

    fn sync(&self) {
        let Some(driver) = self.driver.get() else {
            return;
        };
        loop {
            if self.disarmed.load(Ordering::SeqCst) {
                return;
            }
            let raw = self.node.deadline_raw();
            self.apply(driver, raw);
            if self.node.deadline_raw() == raw {
                return;
            }
        }
    }

    /// Protocol step 3 for deadline `raw` (encoded).
    fn apply(&self, driver: &Arc<Driver>, raw: u64) {
        let time = &driver.time;
        let tick = match raw {
            NO_INSTANT => NEVER,
            raw => time.encoded_deadline_tick(raw),
        };
        let entry = match self.entry.get() {
            Some(entry) => entry,
            None if tick >= NEVER => return,
            None => {
                let made = Arc::new(TimerEntry::new_idle(Notify::Expire(self.node.clone())));
                let (entry, created) = self.entry.get_or_set(made);
                if created {
                    // Protocol step 5: a disarm that missed the entry is seen here.
                    fence(Ordering::SeqCst);
                    if self.disarmed.load(Ordering::SeqCst) {
                        drop_entry(Some(driver), entry);
                        return;
                    }
                }
                entry
            }
        };
        if entry.is_fired() {
            // The node has expired: moving the deadline changes nothing any more.
            return;
        }
        if tick > entry.deadline() {
            // Later: one CAS, no timer operation until the old slot fires.
            let _ = entry.reset(tick, false);
            return;
        }
        // Earlier, or the same tick. Passed is decided on the instants, not their ticks
        // (which round the deadline up and now down): a deadline earlier in the current
        // tick has passed, and fires now even if its tick is the one the entry holds.
        let passed = raw != NO_INSTANT && raw <= encode(Some(driver.clock.now()));
        let reset = entry.reset(tick, passed);
        if time.after_reset(entry, reset, tick) {
            driver.unpark();
        }
        if passed {
            self.node.expire();
        }
    }
}

/// Marks `entry` dropped and lets the driver remove it from the wheel.
fn drop_entry(driver: Option<&Arc<Driver>>, entry: &Arc<TimerEntry>) {
    if entry.mark_dropped() {
        if let Some(driver) = driver {
            if driver.time.submit_removal(entry.clone()) {
                driver.unpark();
            }
        }
    }
    entry.clear_notify();
}

impl Drop for DeadlineTimer {
    fn drop(&mut self) {
        self.disarm();
    }
}

impl fmt::Debug for DeadlineTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadlineTimer")
            .field("deadline", &self.deadline())
            .field("armed", &self.driver.get().is_some())
            .field("registered", &self.entry.get().is_some())
            .field("disarmed", &self.disarmed.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(all(test, loom))]
impl DeadlineTimer {
    /// The timer's entry, once made (for the loom models in `loom_tests.rs`).
    pub(super) fn entry(&self) -> Option<&Arc<TimerEntry>> {
        self.entry.get()
    }
}
