//! Time: [`Instant`], [`sleep`], [`Interval`], and virtual time for tests.
//!
//! ## Design
//! Each runtime owns a time driver (`driver.rs`): a hierarchical timing wheel (`wheel/`;
//! Varghese & Lauck, "Hashed and Hierarchical Timing Wheels", SOSP 1987) with 1 ms ticks
//! and 11 levels of 64 slots (enough for every `u64` tick), owned by whichever thread
//! holds the runtime's driver (the worker parked in the IO poller, or a busy worker doing
//! maintenance). Nothing else touches the wheel:
//!
//! - A [`Sleep`] registers at its first poll, and only if it must wait, by pushing its
//!   timer entry onto a lock-free submission queue; the driver moves queued entries into
//!   the wheel before each turn. No lock is shared by all timers.
//! - Moving a deadline later ([`Sleep::reset`]) is a CAS on the entry: the entry stays in
//!   its old slot, and when that slot fires the driver re-inserts it at the new deadline.
//!   Moving it earlier re-queues the entry.
//! - Dropping a registered `Sleep` queues its entry for removal. A submitter that finds
//!   the queue backlogged wakes the driver to drain it, so dropped timers are reclaimed
//!   promptly even when their thread never turns the driver (`driver.rs`).
//!
//! The per-timer protocol is in `entry.rs`; the hand-off with the thread waiting in the
//! poller (so that a new, earlier timer wakes it) in `driver.rs`.
//!
//! ## Virtual time
//! The runtime's `Clock` (`clock.rs`) reads the OS clock until a test calls [`pause`] (or builds
//! the runtime with `start_paused(true)`). While paused, time moves only through
//! [`advance`], and, on a current-thread runtime whose tasks are all idle with no blocking
//! call running, by jumping to the next timer (Trio's autojump clock), so timeout tests
//! take no wall time.

mod clock;
pub(crate) mod driver;
pub(crate) mod entry;
pub(crate) mod instant;
mod interval;
mod sleep;
pub(crate) mod wheel;

pub use crate::cancel::current_deadline;
pub(crate) use clock::Clock;
pub use clock::{advance, pause, resume};
pub use instant::Instant;
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
