//! Level arithmetic of the timer wheel (which level and slot a deadline belongs to, where a
//! slot starts) and one level's slots with their occupancy bitmap.
//!
//! A deadline is read as a number in base 64: digit `l` is bits `6l .. 6l + 6`. Level `l`
//! sorts deadlines by digit `l`; one of its slots spans 64^l ticks and a full turn of the
//! level 64^(l+1) ticks.

use super::slab::{List, Loc, Slab};
use std::mem;

/// Bits of a deadline that one level's slot index takes: one base-64 digit.
pub(super) const SLOT_BITS: u32 = 6;

/// Slots per level, 64, so that a level's occupancy fits one `u64` bitmap.
pub(super) const SLOTS: usize = 1 << SLOT_BITS;

/// Levels: as many as a `u64` deadline has base-64 digits, ceil(64 / 6) = 11, so every
/// deadline up to `u64::MAX` has a slot and nothing needs an overflow list or clamping.
/// The top level only uses its first 16 slots (a `u64` has 4 bits above bit 60).
pub(super) const LEVELS: usize = u64::BITS.div_ceil(SLOT_BITS) as usize;

/// The level for a deadline `when` after `elapsed`: that of the highest base-64 digit in which
/// the two differ.
pub(super) fn level_for(elapsed: u64, when: u64) -> usize {
    debug_assert!(when > elapsed, "only a future deadline has a level");
    let highest_differing_bit = u64::BITS - 1 - (elapsed ^ when).leading_zeros();
    (highest_differing_bit / SLOT_BITS) as usize
}

/// The slot of `level` for deadline `when`: its digit `level`.
pub(super) fn slot_for(level: usize, when: u64) -> usize {
    ((when >> shift(level)) & (SLOTS as u64 - 1)) as usize
}

/// The first tick of slot `slot` of `level` in the turn of that level that holds `elapsed`.
/// Never overflows: the turn starts at a multiple of 64^(level+1) and the slot lies inside it.
pub(super) fn slot_start(elapsed: u64, level: usize, slot: usize) -> u64 {
    let turn_start = match 1u64.checked_shl(shift(level) + SLOT_BITS) {
        Some(turn) => elapsed & !(turn - 1),
        // The top level's turn is all of `u64`.
        None => 0,
    };
    turn_start + ((slot as u64) << shift(level))
}

/// log2 of the ticks one slot of `level` spans.
fn shift(level: usize) -> u32 {
    debug_assert!(level < LEVELS);
    level as u32 * SLOT_BITS
}

/// One level: its slots, and the bitmap of the non-empty ones.
#[derive(Clone, Copy)]
pub(super) struct Level {
    /// Bit `s` is set exactly when `slots[s]` is non-empty.
    occupied: u64,
    slots: [List; SLOTS],
}

impl Level {
    pub(super) const EMPTY: Level = Level {
        occupied: 0,
        slots: [List::EMPTY; SLOTS],
    };

    /// The lowest non-empty slot. By the wheel's placement rule every non-empty slot lies
    /// after `elapsed` in the current turn, so the lowest is also the earliest.
    pub(super) fn earliest_slot(&self) -> Option<usize> {
        (self.occupied != 0).then(|| self.occupied.trailing_zeros() as usize)
    }

    /// Appends a detached entry to slot `slot` of this level, number `level`.
    pub(super) fn push<T>(&mut self, slab: &mut Slab<T>, level: usize, slot: usize, index: u32) {
        let loc = Loc::Slot {
            level: level as u8,
            slot: slot as u8,
        };
        slab.push_back(&mut self.slots[slot], index, loc);
        self.occupied |= 1 << slot;
    }

    /// Takes an entry out of slot `slot`.
    pub(super) fn unlink<T>(&mut self, slab: &mut Slab<T>, slot: usize, index: u32) {
        slab.unlink(&mut self.slots[slot], index);
        if self.slots[slot].is_empty() {
            self.occupied &= !(1 << slot);
        }
    }

    /// Empties slot `slot` in one go and returns its list; the entries on it still record
    /// this slot until the caller places them again.
    pub(super) fn take(&mut self, slot: usize) -> List {
        self.occupied &= !(1 << slot);
        mem::replace(&mut self.slots[slot], List::EMPTY)
    }

    #[cfg(any(test, fuzzing))]
    pub(super) fn occupied(&self) -> u64 {
        self.occupied
    }

    #[cfg(any(test, fuzzing))]
    pub(super) fn slots(&self) -> &[List; SLOTS] {
        &self.slots
    }
}
