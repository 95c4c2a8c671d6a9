//! The wheel's internal invariants as assertions, for the unit tests, the model check and the
//! fuzz target: consistent lists, bitmaps and slab, and every timer where the placement rule
//! of the module docs puts it.

use super::Wheel;
use super::level::{level_for, slot_for};
use super::slab::Loc;

impl<T> Wheel<T> {
    /// Asserts the wheel's invariants: consistent lists and bitmaps, every live timer on
    /// exactly one list, the placement rule, the due list's order and `due_min`.
    pub(crate) fn check_invariants(&self) {
        self.slab.check_free_list();
        let mut linked = 0;
        for (level, slots) in self.levels.iter().enumerate() {
            for (slot, list) in slots.slots().iter().enumerate() {
                let loc = Loc::Slot {
                    level: level as u8,
                    slot: slot as u8,
                };
                let entries = self.slab.check_list(list, loc);
                let bit = slots.occupied() >> slot & 1 == 1;
                assert_eq!(
                    bit,
                    !entries.is_empty(),
                    "bitmap of level {level} slot {slot}"
                );
                for index in &entries {
                    let when = self.slab.when(*index);
                    assert!(when > self.elapsed, "overdue timer {when} in level {level}");
                    assert_eq!(level_for(self.elapsed, when), level, "level of {when}");
                    assert_eq!(slot_for(level, when), slot, "slot of {when}");
                }
                linked += entries.len();
            }
        }
        let due = self.slab.check_list(&self.due, Loc::Due);
        let due_whens: Vec<u64> = due.iter().map(|&index| self.slab.when(index)).collect();
        assert!(
            due_whens.iter().all(|&when| when <= self.elapsed),
            "future timer due"
        );
        if due.is_empty() {
            assert!(self.due_sorted, "an empty due list counts as sorted");
        }
        if self.due_sorted {
            assert!(
                due_whens.is_sorted(),
                "due list out of order: {due_whens:?}"
            );
        } else {
            assert!(
                due_whens.iter().all(|&when| self.due_min <= when),
                "due_min"
            );
        }
        linked += due.len();
        assert_eq!(linked, self.slab.len(), "a live timer is on no list");
    }
}
