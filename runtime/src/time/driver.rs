//! The time half of the driver: the submission queue, the wheel, and turning instants into
//! wheel ticks.
//!
//! ## Ticks
//! A tick is one millisecond since the driver's `origin`. A deadline rounds *up* to a tick
//! and "now" rounds *down*, so a timer never fires early.
//!
//! ## Registering without a shared lock
//! `Sleep`s never lock the wheel. They push their [`TimerEntry`] onto `queue` (a lock-free
//! `crossbeam_deque::Injector`) and the thread holding the driver moves queued entries into
//! the wheel before each turn (see `entry.rs` for the per-timer protocol).
//!
//! ## Waking the driver for an earlier timer (no lost wake-up)
//! The thread about to wait in the poller publishes the tick it will wake at in
//! `next_wake` (`0` when nobody waits), then re-checks the queue; a submitter pushes, then
//! reads `next_wake`, and unparks the driver if its deadline is earlier. Both sides order
//! their write before their read with a `SeqCst` fence, so at least one sees the other:
//! either the waiter sees the entry in the queue, or the submitter sees the waiter.
//!
//! ## Bounding the queue (dropped timers are reclaimed promptly)
//! A queued entry stays allocated until a driver turn drains it. A thread that registers
//! and drops timers without turning the driver itself (the `block_on` thread of a
//! multi-thread runtime, or a busy worker while another waits in the driver) would pile
//! them up until the next turn, which on an idle runtime is the earliest deadline. So a
//! submitter that finds [`QUEUE_BACKLOG`] entries or more on the queue also asks for an
//! unpark of the driver (its answer says so), once: `drain_requested` is set by the
//! submitter that asks (a swap, so one of many racing submitters does) and cleared by the
//! next drain, which takes every entry pushed before it. A requester's unpark makes the
//! thread in the driver (or the next one to wait there) return and drain, so the queue
//! settles below the threshold without any timer coming due.

use super::Instant;
use super::entry::{Reset, TimerEntry};
use super::wheel::{Expired, Wheel};
use crossbeam_deque::{Injector, Steal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};
use std::time::Duration;

/// Milliseconds per wheel tick, as a `Duration`.
const TICK: Duration = Duration::from_millis(1);

/// Entries on the submission queue from which a submitter asks for a drain (see "Bounding
/// the queue"). Bounds the memory held by timers dropped between driver turns to about
/// this many entries (around 100 bytes each), at the cost of at most one wake-up of the
/// driver per this many timer submissions, which an idle driver would do later anyway.
pub(crate) const QUEUE_BACKLOG: usize = 1024;

pub(crate) struct TimeDriver {
    /// Tick 0, in nanoseconds on the instant scale (`Instant::as_nanos`, which is also a
    /// deadline's encoding): instants and encoded deadlines convert to ticks with integer
    /// arithmetic alone.
    origin_nanos: u64,
    /// Entries to (re)place in the wheel or remove from it.
    queue: Injector<Arc<TimerEntry>>,
    /// The tick the thread waiting in the poller wakes at; `0` when nobody waits.
    next_wake: AtomicU64,
    /// A submitter found the queue backlogged and asked for an unpark; cleared by the next
    /// drain (see "Bounding the queue").
    drain_requested: AtomicBool,
    /// Set once at runtime shutdown.
    shutdown: AtomicBool,
    /// The wheel's length after the last drain or fire (`RuntimeMetrics::timers_armed`);
    /// written by the thread holding the driver, only when it changed.
    armed: AtomicUsize,
}

/// The wheel and scratch space: owned by the thread holding the driver.
pub(crate) struct TimeCore {
    wheel: Wheel<Arc<TimerEntry>>,
    /// Entries whose deadline moved later, re-inserted after the wheel is polled.
    moved: Vec<(u64, Arc<TimerEntry>)>,
}

impl TimeCore {
    pub(crate) fn new() -> TimeCore {
        TimeCore {
            wheel: Wheel::new(),
            moved: Vec::new(),
        }
    }
}

/// Nanoseconds per tick.
const NANOS_PER_TICK: u64 = TICK.as_nanos() as u64;

impl TimeDriver {
    pub(crate) fn new(origin: std::time::Instant) -> TimeDriver {
        TimeDriver {
            origin_nanos: Instant::from_std(origin).as_nanos(),
            queue: Injector::new(),
            next_wake: AtomicU64::new(0),
            drain_requested: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            armed: AtomicUsize::new(0),
        }
    }

    /// The tick a deadline falls in (rounded up; saturating at "never").
    pub(crate) fn deadline_tick(&self, t: Instant) -> u64 {
        self.encoded_deadline_tick(t.as_nanos())
    }

    /// [`deadline_tick`](TimeDriver::deadline_tick) of an encoded deadline (not
    /// `NO_INSTANT`): an encoded deadline is the instant's nanoseconds on the scale the
    /// origin is kept on, so this is the same integer arithmetic.
    pub(crate) fn encoded_deadline_tick(&self, raw: u64) -> u64 {
        debug_assert_ne!(raw, super::instant::NO_INSTANT);
        raw.saturating_sub(self.origin_nanos)
            .div_ceil(NANOS_PER_TICK)
    }

    /// The tick `now` falls in (rounded down).
    pub(crate) fn now_tick(&self, now: Instant) -> u64 {
        now.as_nanos().saturating_sub(self.origin_nanos) / NANOS_PER_TICK
    }

    /// The instant a tick starts at.
    pub(crate) fn tick_instant(&self, tick: u64) -> Instant {
        let nanos = tick
            .saturating_mul(NANOS_PER_TICK)
            .saturating_add(self.origin_nanos);
        super::instant::decode(nanos).expect("at or after the origin, so not NO_INSTANT")
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Pushes `entry` (already marked `QUEUED`) for the driver. Returns `true` if the caller
    /// must unpark the driver: a thread waits in it past `when`, or the queue is backlogged.
    pub(crate) fn submit(&self, entry: Arc<TimerEntry>, when: u64) -> bool {
        self.queue.push(entry);
        // Orders the push before the read of `next_wake` (see the module header).
        fence(Ordering::SeqCst);
        when < self.next_wake.load(Ordering::Relaxed) || self.request_drain()
    }

    /// Pushes a dropped entry (marked `DROPPED | QUEUED`) for the driver to remove. Returns
    /// `true` if the caller must unpark the driver: the queue is backlogged. Nobody needs
    /// waking for the removal itself.
    pub(crate) fn submit_removal(&self, entry: Arc<TimerEntry>) -> bool {
        self.queue.push(entry);
        self.request_drain()
    }

    /// Whether the caller is the one to ask for a drain of a backlogged queue (see
    /// "Bounding the queue"). `queue.len()` is three loads of indexes this thread has just
    /// written or that only the drain moves.
    fn request_drain(&self) -> bool {
        self.queue.len() >= QUEUE_BACKLOG && !self.drain_requested.swap(true, Ordering::AcqRel)
    }

    /// `reset`'s answer, acted on.
    pub(crate) fn after_reset(&self, entry: &Arc<TimerEntry>, reset: Reset, when: u64) -> bool {
        match reset {
            Reset::Nothing => false,
            Reset::Submit => self.submit(entry.clone(), when),
        }
    }

    /// How many entries wait on the submission queue (a snapshot).
    pub(crate) fn num_queued(&self) -> usize {
        self.queue.len()
    }

    /// Moves queued entries into the wheel.
    pub(crate) fn drain_queue(&self, core: &mut TimeCore) {
        // Before the first steal: a request made before this drain is answered by it, one
        // made after it asks again (see "Bounding the queue"). Read first, so that a queue
        // that never backlogs costs no write here.
        if self.drain_requested.load(Ordering::Acquire) {
            self.drain_requested.store(false, Ordering::Release);
        }
        loop {
            match self.queue.steal() {
                Steal::Success(entry) => {
                    match entry.dequeue() {
                        // Still in the wheel: move it, keeping its key.
                        (Some(old), Some(when)) if core.wheel.reset(old, when) => {
                            entry.set_key(old);
                        }
                        (old, place) => {
                            if let Some(old) = old {
                                core.wheel.remove(old);
                            }
                            if let Some(when) = place {
                                let key = core.wheel.insert(when, entry.clone());
                                entry.set_key(key);
                            }
                        }
                    }
                }
                Steal::Empty => return self.publish_armed(core),
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    /// Fires every timer due by `now` (a tick). Returns how many fired or moved.
    pub(crate) fn fire(&self, core: &mut TimeCore, now: u64) -> usize {
        let TimeCore { wheel, moved } = core;
        let mut fired = 0;
        wheel.poll(now, |expired: Expired<Arc<TimerEntry>>| {
            fired += 1;
            if let Some(later) = expired.value.fire(now) {
                moved.push((later, expired.value));
            }
        });
        for (when, entry) in moved.drain(..) {
            let key = wheel.insert(when, entry.clone());
            entry.set_key(key);
        }
        self.publish_armed(core);
        fired
    }

    /// Publishes the wheel's length for `timers_armed`; a write only when it changed.
    fn publish_armed(&self, core: &TimeCore) {
        let len = core.wheel.len();
        if self.armed.load(Ordering::Relaxed) != len {
            self.armed.store(len, Ordering::Relaxed);
        }
    }

    /// How many timers the wheel held after the driver's last turn (a snapshot).
    pub(crate) fn num_armed(&self) -> usize {
        self.armed.load(Ordering::Relaxed)
    }

    /// Whether the wheel holds no timer.
    pub(crate) fn is_empty(&self, core: &TimeCore) -> bool {
        core.wheel.is_empty()
    }

    /// The earliest tick at which the wheel has something to do.
    pub(crate) fn next_expiration(&self, core: &TimeCore) -> Option<u64> {
        core.wheel.next_expiration()
    }

    /// Publishes the tick the caller will wait until (see the module header); returns
    /// `false` if entries arrived meanwhile and the caller must drain them first.
    pub(crate) fn prepare_wait(&self, wake_at: u64) -> bool {
        self.next_wake.store(wake_at.max(1), Ordering::Relaxed);
        // Orders the store before the queue check (see the module header).
        fence(Ordering::SeqCst);
        if self.queue.is_empty() {
            true
        } else {
            self.next_wake.store(0, Ordering::Relaxed);
            false
        }
    }

    /// The waiter is back.
    pub(crate) fn end_wait(&self) {
        self.next_wake.store(0, Ordering::Relaxed);
    }

    /// Runtime shutdown: no timer will fire again; wake every owner so that it notices.
    pub(crate) fn shutdown(&self, core: &mut TimeCore) {
        self.shutdown.store(true, Ordering::Release);
        self.drain_queue(core);
        core.wheel
            .poll(u64::MAX, |expired: Expired<Arc<TimerEntry>>| {
                expired.value.wake_for_shutdown();
            });
    }
}

#[cfg(all(test, not(loom)))]
mod tick_tests {
    use super::*;
    use crate::time::instant::encode;
    use proptest::prelude::*;

    /// The reference, on std instants: the deadline's distance from the origin in 128-bit
    /// nanoseconds, divided by the tick and rounded up (0 before the origin), saturating.
    fn reference(origin: std::time::Instant, t: std::time::Instant) -> u64 {
        let d = t.saturating_duration_since(origin);
        u64::try_from(d.as_nanos().div_ceil(TICK.as_nanos())).unwrap_or(u64::MAX)
    }

    fn offset(origin: std::time::Instant, before: bool, d: Duration) -> std::time::Instant {
        if before {
            origin.checked_sub(d).unwrap_or(origin)
        } else {
            origin.checked_add(d).unwrap_or(origin)
        }
    }

    #[test]
    fn ticks_round_up_at_the_edges() {
        let origin = std::time::Instant::now();
        let time = TimeDriver::new(origin);
        for d in [
            Duration::ZERO,
            Duration::from_nanos(1),
            TICK - Duration::from_nanos(1),
            TICK,
            TICK + Duration::from_nanos(1),
            Duration::from_secs(1),
            Duration::from_secs(1) + Duration::from_nanos(1),
            Duration::from_secs(86_400 * 365 * 100),
        ] {
            for before in [false, true] {
                let t = offset(origin, before, d);
                assert_eq!(
                    time.deadline_tick(Instant::from_std(t)),
                    reference(origin, t),
                    "{d:?} before: {before}"
                );
            }
        }
        // The instant a tick starts at falls in that tick, and its deadline is that tick.
        for tick in [0, 1, 999, 1000, 1 << 40] {
            let at = time.tick_instant(tick);
            assert_eq!(time.now_tick(at), tick);
            assert_eq!(time.deadline_tick(at), tick);
            assert_eq!(time.now_tick(at + TICK - Duration::from_nanos(1)), tick);
            assert_eq!(time.deadline_tick(at + Duration::from_nanos(1)), tick + 1);
        }
    }

    proptest! {
        /// A deadline converts to the tick std's 128-bit arithmetic gives, before the origin
        /// and after it, and its encoding converts to the same tick.
        #[test]
        fn deadlines_convert_to_the_reference_tick(
            before in any::<bool>(),
            secs in 0u64..(1 << 32),
            nanos in 0u32..1_000_000_000,
        ) {
            let origin = std::time::Instant::now();
            let time = TimeDriver::new(origin);
            let t = offset(origin, before, Duration::new(secs, nanos));
            let ours = Instant::from_std(t);
            prop_assert_eq!(time.deadline_tick(ours), reference(origin, t));
            prop_assert_eq!(time.encoded_deadline_tick(encode(Some(ours))), reference(origin, t));
        }
    }
}
