//! The timer wheel behind arbor's time driver: a hierarchical hashed timing wheel, scheme 7
//! of G. Varghese and T. Lauck, "Hashed and Hierarchical Timing Wheels: Data Structures for
//! the Efficient Implementation of a Timer Facility", SOSP 1987.
//!
//! The wheel is a plain single-threaded data structure: no locks, no atomics, no `unsafe`.
//! The driver owns it and decides how it is shared.
//!
//! # Time
//! Time is a `u64` count of ticks of 1 ms since the driver started. `elapsed` is the tick the
//! wheel has been processed up to: every timer whose deadline is `<= elapsed` has either fired
//! or waits on the *due list* and fires at the next poll. Any `u64` is a valid deadline,
//! `u64::MAX` included; it is an ordinary deadline that fires only once a poll reaches
//! `u64::MAX`, so a driver that means "never" simply does not insert a timer.
//!
//! # Layout
//! - [`LEVELS`] = 11 levels of [`SLOTS`](level::SLOTS) = 64 slots. A deadline read in base
//!   64 has 11 digits; level `l` sorts by digit `l`, so one of its slots spans 64^l ticks.
//!   Eleven levels reach every `u64` deadline (a wheel of 6 levels would end after 64^6 ms,
//!   about 2.2 years, and need an overflow list or clamping beyond). The levels take about
//!   5.7 KiB inside the `Wheel`, so a driver may want to box it.
//! - Each level keeps a `u64` occupancy bitmap: bit `s` is set iff slot `s` is non-empty.
//! - Each slot, and the due list, is an index-linked doubly linked list of entries that live
//!   in a slab (see [`slab`]): insert and remove are O(1) and allocate nothing once the slab
//!   has grown to the peak number of timers.
//!
//! # The placement rule (the invariant)
//! A timer with deadline `when <= elapsed` is on the due list. One with `when > elapsed` is in
//! level `l` = the highest base-64 digit in which `when` and `elapsed` differ, in slot
//! `s` = digit `l` of `when`. It follows that:
//! 1. `when` and `elapsed` agree above digit `l` and `when`'s digit `l` is larger, so every
//!    occupied slot of a level lies *after* `elapsed` in the level's current turn: slot
//!    indexes never wrap around.
//! 2. Slot `s` of level `l` starts at tick `start(l, s)` = `elapsed` with digits `0..=l`
//!    cleared, plus `s * 64^l`; every timer in it has `start(l, s) <= when < start(l, s) +
//!    64^l`, and `elapsed < start(l, s)`.
//! 3. The slot starts of level `l` all lie before the end of `elapsed`'s turn of level `l`;
//!    those of level `l + 1` all lie at or after it. So the earliest slot start in the whole
//!    wheel is the lowest set bit of the lowest non-empty level: `next_expiration` costs at
//!    most 11 word tests and one `trailing_zeros`.
//! 4. Moving `elapsed` forward to any tick up to that earliest slot start keeps the rule
//!    true for every timer (no digit comparison above the slot's level changes).
//!
//! # Polling, step by step ([`Wheel::poll_expired`])
//! 1. If the due list is non-empty, pop its earliest timer and return it.
//! 2. Otherwise take the earliest slot start `t` (3. above). If there is none or `t > now`,
//!    set `elapsed = now` (allowed by 4.) and return `None`.
//! 3. Set `elapsed = t` and *cascade* the slot: detach its whole list, clear its bit, and
//!    place each timer again under the rule: `when == t` goes to the due list, any other
//!    lands in a lower level, because it now agrees with `elapsed` in digit `l`. Go to 1.
//!
//! Each cascade moves at least one timer down a level, and a timer moves at most once per
//! level, so a poll costs O(timers fired + cascades) whatever the distance from `elapsed`
//! to `now`: a one-hour jump of virtual time over an empty stretch is a single step, never a
//! loop over milliseconds. Timers at level `l` only cascade when time actually reaches their
//! slot, so a far deadline (even `u64::MAX`) costs nothing until then.
//!
//! # Order
//! One poll fires its timers in non-decreasing deadline order; timers with the same deadline
//! fire in an unspecified order. (A timer inserted already overdue fires at the next poll,
//! so after timers with later deadlines that an earlier poll fired.) Cascading delivers each tick's timers to the due list in tick order.
//! The due list is kept sorted: a timer inserted with a deadline already passed is appended
//! when its deadline is the latest on the list (always the case for `when == elapsed`),
//! prepended when it is the earliest, and otherwise appended with the list marked unsorted;
//! the next pop sorts the list once (into a reused scratch buffer, so without allocating once
//! warm) and pops in order from then on.

#[cfg(any(test, fuzzing))]
mod invariants;
mod level;
#[cfg(any(test, fuzzing))]
pub(crate) mod model;
mod slab;
#[cfg(test)]
mod tests;

pub(crate) use slab::Key;

use level::{LEVELS, Level, level_for, slot_for, slot_start};
use slab::{List, Loc, Slab};
use std::fmt;

/// A hierarchical timing wheel of timers carrying a `T` each; see the module documentation.
pub(crate) struct Wheel<T> {
    /// The tick processed up to; only moves forward.
    elapsed: u64,
    /// Every timer's deadline, value and links.
    slab: Slab<T>,
    /// Timers with deadlines after `elapsed`, placed by the rule in the module docs.
    levels: [Level; LEVELS],
    /// Timers with deadlines `<= elapsed`, waiting for the next poll.
    due: List,
    /// Whether `due` is in non-decreasing deadline order; `true` whenever it is empty.
    due_sorted: bool,
    /// While `due` is unsorted: no later than any deadline on it (exact unless the earliest
    /// was removed since). Unused while sorted, when the head holds the earliest deadline.
    due_min: u64,
    /// Reused by the sort of the due list.
    scratch: Vec<u32>,
    /// Slots cascaded so far, for tests that check how much work a poll does.
    #[cfg(test)]
    cascades: u64,
}

/// A timer that [`Wheel::poll_expired`] took out of the wheel because its deadline passed.
#[derive(Debug)]
pub(crate) struct Expired<T> {
    #[cfg_attr(
        not(any(test, fuzzing)),
        expect(dead_code, reason = "read by the model checks and tests")
    )]
    /// The key the timer had; stale from now on.
    pub(crate) key: Key,
    #[cfg_attr(
        not(any(test, fuzzing)),
        expect(dead_code, reason = "read by the model checks and tests")
    )]
    /// The timer's deadline, `<=` the `now` of the poll.
    pub(crate) deadline: u64,
    /// What the timer carried.
    pub(crate) value: T,
}

impl<T> Wheel<T> {
    /// An empty wheel at tick 0.
    pub(crate) fn new() -> Self {
        Wheel {
            elapsed: 0,
            slab: Slab::new(),
            levels: [Level::EMPTY; LEVELS],
            due: List::EMPTY,
            due_sorted: true,
            due_min: u64::MAX,
            scratch: Vec::new(),
            #[cfg(test)]
            cascades: 0,
        }
    }

    #[cfg_attr(
        not(any(test, fuzzing)),
        expect(dead_code, reason = "read by the model checks and tests")
    )]
    /// The tick the wheel has been processed up to.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Timers in the wheel, due ones included.
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// Whether the wheel holds no timer.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a timer that fires at tick `when`; one with `when <= elapsed()` fires at the next
    /// poll. O(1).
    ///
    /// # Panics
    /// If `u32::MAX` timers would be in the wheel at once.
    pub(crate) fn insert(&mut self, when: u64, value: T) -> Key {
        let index = self.slab.insert(when, value);
        self.place(index);
        self.slab.key(index)
    }

    /// Takes a timer out before it fires and returns its value; `None` if `key` is stale
    /// (the timer fired or was removed). O(1).
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let index = self.slab.index_of(key)?;
        self.detach(index);
        Some(self.slab.remove(index))
    }

    /// Moves a timer to deadline `when`, earlier or later, keeping its key; `false` (and no
    /// change) if `key` is stale. O(1).
    pub(crate) fn reset(&mut self, key: Key, when: u64) -> bool {
        let Some(index) = self.slab.index_of(key) else {
            return false;
        };
        self.detach(index);
        self.slab.set_when(index, when);
        self.place(index);
        true
    }

    #[cfg_attr(
        not(any(test, fuzzing)),
        expect(dead_code, reason = "read by the model checks and tests")
    )]
    /// The deadline of the timer `key` names, or `None` if `key` is stale.
    pub(crate) fn deadline(&self, key: Key) -> Option<u64> {
        self.slab.index_of(key).map(|index| self.slab.when(index))
    }

    /// The earliest tick at which the wheel has work: `None` when empty, otherwise never later
    /// than the earliest deadline in the wheel, so a driver may sleep until then.
    ///
    /// - With timers due, the earliest due deadline (`<= elapsed()`: poll now). It can be
    ///   earlier than every deadline still due only after the earliest of several overdue
    ///   timers inserted out of order was removed.
    /// - Otherwise the start of the earliest non-empty slot. For level 0 that is exactly the
    ///   earliest deadline; for a higher level it may be a cascade point before any deadline,
    ///   where a poll fires nothing but moves timers down a level. O(levels).
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        if let Some(head) = self.due.head() {
            return Some(if self.due_sorted {
                self.slab.when(head)
            } else {
                self.due_min
            });
        }
        self.earliest_slot().map(|(_, _, start)| start)
    }

    /// Takes out the next timer whose deadline is `<= now`, in deadline order, advancing
    /// `elapsed()` as far as it has to (at most to `now`, and to exactly `now` once it
    /// returns `None`). A `now` before `elapsed()` counts as `elapsed()`. Timers inserted
    /// between two calls are seen by the next call. Costs O(1) per timer plus one cascade
    /// per non-empty slot passed; see "Polling" in the module docs.
    pub(crate) fn poll_expired(&mut self, now: u64) -> Option<Expired<T>> {
        let now = now.max(self.elapsed);
        loop {
            if let Some(index) = self.pop_due() {
                let key = self.slab.key(index);
                let deadline = self.slab.when(index);
                let value = self.slab.remove(index);
                return Some(Expired {
                    key,
                    deadline,
                    value,
                });
            }
            match self.earliest_slot() {
                Some((level, slot, start)) if start <= now => self.cascade(level, slot, start),
                _ => {
                    self.elapsed = now;
                    return None;
                }
            }
        }
    }

    /// Advances to `now` and hands every timer with a deadline `<= now` to `fire`, in
    /// deadline order: [`poll_expired`](Self::poll_expired) until it returns `None`.
    pub(crate) fn poll(&mut self, now: u64, mut fire: impl FnMut(Expired<T>)) {
        while let Some(expired) = self.poll_expired(now) {
            fire(expired);
        }
    }

    /// Links a detached entry where the placement rule says it belongs.
    fn place(&mut self, index: u32) {
        let when = self.slab.when(index);
        if when <= self.elapsed {
            self.push_due(index, when);
        } else {
            let level = level_for(self.elapsed, when);
            self.levels[level].push(&mut self.slab, level, slot_for(level, when), index);
        }
    }

    /// Puts a detached entry with deadline `when <= elapsed` on the due list, keeping the list
    /// sorted when that is O(1) and marking it unsorted otherwise (see "Order").
    fn push_due(&mut self, index: u32, when: u64) {
        match (self.due.head(), self.due.tail()) {
            (Some(head), Some(tail)) if when < self.slab.when(tail) => {
                let head_when = self.slab.when(head);
                if when <= head_when {
                    self.slab.push_front(&mut self.due, index, Loc::Due);
                } else {
                    if self.due_sorted {
                        self.due_sorted = false;
                        self.due_min = head_when;
                    }
                    self.slab.push_back(&mut self.due, index, Loc::Due);
                }
            }
            _ => self.slab.push_back(&mut self.due, index, Loc::Due),
        }
        if !self.due_sorted {
            self.due_min = self.due_min.min(when);
        }
    }

    /// Takes the earliest entry off the due list, sorting the list first if it has to.
    fn pop_due(&mut self) -> Option<u32> {
        if !self.due_sorted {
            self.sort_due();
        }
        self.slab.pop_front(&mut self.due)
    }

    /// Relinks the due list in deadline order.
    fn sort_due(&mut self) {
        self.scratch.clear();
        let mut cursor = self.due.head();
        while let Some(index) = cursor {
            self.scratch.push(index);
            cursor = self.slab.next(index);
        }
        let slab = &self.slab;
        self.scratch.sort_unstable_by_key(|&index| slab.when(index));
        self.due = List::EMPTY;
        for &index in &self.scratch {
            self.slab.mark_detached(index);
            self.slab.push_back(&mut self.due, index, Loc::Due);
        }
        self.due_sorted = true;
    }

    /// Takes a linked entry off its list.
    fn detach(&mut self, index: u32) {
        match self.slab.loc(index) {
            Loc::Due => {
                self.slab.unlink(&mut self.due, index);
                if self.due.is_empty() {
                    self.due_sorted = true;
                }
            }
            Loc::Slot { level, slot } => {
                self.levels[level as usize].unlink(&mut self.slab, slot as usize, index);
            }
            Loc::Detached => unreachable!("a live timer is always on a list"),
        }
    }

    /// The earliest non-empty slot, as `(level, slot, start)` (rule 3 in the module docs).
    fn earliest_slot(&self) -> Option<(usize, usize, u64)> {
        self.levels.iter().enumerate().find_map(|(level, slots)| {
            let slot = slots.earliest_slot()?;
            Some((level, slot, slot_start(self.elapsed, level, slot)))
        })
    }

    /// Step 3 of polling: advances `elapsed` to `start`, the start of the earliest non-empty
    /// slot, and places that slot's timers again.
    fn cascade(&mut self, level: usize, slot: usize, start: u64) {
        debug_assert!(self.due.is_empty() && start > self.elapsed);
        self.elapsed = start;
        #[cfg(test)]
        {
            self.cascades += 1;
        }
        let list = self.levels[level].take(slot);
        let mut cursor = list.head();
        while let Some(index) = cursor {
            cursor = self.slab.next(index);
            self.slab.mark_detached(index);
            self.place(index);
        }
    }
}

impl<T> fmt::Debug for Wheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.slab.len())
            .field("next_expiration", &self.next_expiration())
            .finish_non_exhaustive()
    }
}
