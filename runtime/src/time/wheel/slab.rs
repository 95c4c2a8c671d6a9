//! Entry storage of the timer wheel: a slab of entries with generation-checked [`Key`]s, and
//! the index-linked doubly linked lists that thread entries through the wheel's slots and its
//! due list.
//!
//! - A vacant entry holds no value and sits on the free list, threaded through `next`.
//!   Freeing an entry bumps its generation, so every key issued for the old occupant is
//!   stale from then on: [`Slab::index_of`] compares generations and never hands out a
//!   reused entry.
//! - An occupied entry is on exactly one [`List`] (recorded in its [`Loc`]) or, for the
//!   instant between allocation, unlinking and re-placement, on none (`Loc::Detached`).
//! - Links are `u32` indexes with [`NIL`] for "none": no pointers and no `unsafe`, and an
//!   entry costs no allocation once the `Vec` has grown to the peak number of timers.

use std::fmt;

/// "No entry": the end of a list, of the free list, or an empty list's head and tail.
const NIL: u32 = u32::MAX;

/// Names one timer in a [`Wheel`](super::Wheel).
///
/// A key stays valid while its timer is in the wheel (across [`reset`](super::Wheel::reset)s)
/// and goes stale once the timer fires or is removed; a stale key finds nothing. Generations
/// are `u32` and wrap, so a key could alias a later timer only after its entry has been
/// reused 2^32 times.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    /// The key as one word, for storing in an atomic.
    pub(crate) fn into_raw(self) -> u64 {
        u64::from(self.generation) << 32 | u64::from(self.index)
    }

    /// The key [`into_raw`](Key::into_raw) made.
    pub(crate) fn from_raw(raw: u64) -> Key {
        Key {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}v{})", self.index, self.generation)
    }
}

/// Which list an occupied entry is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Loc {
    /// On no list: vacant, just allocated, or being moved by the wheel.
    Detached,
    /// On the wheel's due list: its deadline has passed and it fires at the next poll.
    Due,
    /// In slot `slot` of level `level`.
    Slot { level: u8, slot: u8 },
}

/// A doubly linked list of entries, by index. Both ends are [`NIL`] when it is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct List {
    head: u32,
    tail: u32,
}

impl List {
    pub(super) const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };

    pub(super) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    pub(super) fn head(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    pub(super) fn tail(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }
}

struct Entry<T> {
    /// The deadline, in ticks. Meaningless while vacant.
    when: u64,
    /// `None` exactly while vacant.
    value: Option<T>,
    /// Bumped each time the entry is freed; part of every key issued for it.
    generation: u32,
    /// Neighbours on the entry's list; `next` also threads the free list.
    prev: u32,
    next: u32,
    loc: Loc,
}

/// The slab: entries, the head of the free list, and the number of occupied entries.
pub(super) struct Slab<T> {
    entries: Vec<Entry<T>>,
    free: u32,
    len: usize,
}

impl<T> Slab<T> {
    pub(super) const fn new() -> Self {
        Slab {
            entries: Vec::new(),
            free: NIL,
            len: 0,
        }
    }

    /// Occupied entries.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Stores a timer in a vacant entry (reusing the free list first) and returns its index;
    /// the entry is on no list yet.
    ///
    /// # Panics
    /// If `u32::MAX` timers would be live at once.
    pub(super) fn insert(&mut self, when: u64, value: T) -> u32 {
        let index = if self.free != NIL {
            let index = self.free;
            let entry = &mut self.entries[index as usize];
            self.free = entry.next;
            entry.when = when;
            entry.value = Some(value);
            entry.prev = NIL;
            entry.next = NIL;
            index
        } else {
            let index = u32::try_from(self.entries.len())
                .ok()
                .filter(|&index| index != NIL)
                .expect("timer wheel: more than u32::MAX - 1 timers at once");
            self.entries.push(Entry {
                when,
                value: Some(value),
                generation: 0,
                prev: NIL,
                next: NIL,
                loc: Loc::Detached,
            });
            index
        };
        self.len += 1;
        index
    }

    /// Frees a detached entry and returns its value; every key issued for it goes stale.
    pub(super) fn remove(&mut self, index: u32) -> T {
        let entry = &mut self.entries[index as usize];
        debug_assert_eq!(entry.loc, Loc::Detached, "freeing a linked entry");
        let value = entry.value.take().expect("freeing a vacant entry");
        entry.generation = entry.generation.wrapping_add(1);
        entry.next = self.free;
        self.free = index;
        self.len -= 1;
        value
    }

    /// The key of an occupied entry.
    pub(super) fn key(&self, index: u32) -> Key {
        Key {
            index,
            generation: self.entries[index as usize].generation,
        }
    }

    /// The index `key` names, if its timer is still in the wheel.
    pub(super) fn index_of(&self, key: Key) -> Option<u32> {
        let entry = self.entries.get(key.index as usize)?;
        (entry.generation == key.generation && entry.value.is_some()).then_some(key.index)
    }

    pub(super) fn when(&self, index: u32) -> u64 {
        self.entries[index as usize].when
    }

    pub(super) fn set_when(&mut self, index: u32, when: u64) {
        self.entries[index as usize].when = when;
    }

    pub(super) fn loc(&self, index: u32) -> Loc {
        self.entries[index as usize].loc
    }

    /// The entry after `index` on its list.
    pub(super) fn next(&self, index: u32) -> Option<u32> {
        let next = self.entries[index as usize].next;
        (next != NIL).then_some(next)
    }

    /// Forgets the list of an entry whose whole list the wheel has taken apart (the slot it
    /// was in was emptied in one go), so that it can be placed again.
    pub(super) fn mark_detached(&mut self, index: u32) {
        self.entries[index as usize].loc = Loc::Detached;
    }

    /// Appends a detached entry to `list`, which `loc` names.
    pub(super) fn push_back(&mut self, list: &mut List, index: u32, loc: Loc) {
        let tail = list.tail;
        let entry = &mut self.entries[index as usize];
        debug_assert_eq!(entry.loc, Loc::Detached, "linking a linked entry");
        entry.prev = tail;
        entry.next = NIL;
        entry.loc = loc;
        match tail {
            NIL => list.head = index,
            tail => self.entries[tail as usize].next = index,
        }
        list.tail = index;
    }

    /// Prepends a detached entry to `list`, which `loc` names.
    pub(super) fn push_front(&mut self, list: &mut List, index: u32, loc: Loc) {
        let head = list.head;
        let entry = &mut self.entries[index as usize];
        debug_assert_eq!(entry.loc, Loc::Detached, "linking a linked entry");
        entry.prev = NIL;
        entry.next = head;
        entry.loc = loc;
        match head {
            NIL => list.tail = index,
            head => self.entries[head as usize].prev = index,
        }
        list.head = index;
    }

    /// Takes an entry off `list`, which must be the list its `Loc` names.
    pub(super) fn unlink(&mut self, list: &mut List, index: u32) {
        let entry = &mut self.entries[index as usize];
        let (prev, next) = (entry.prev, entry.next);
        entry.prev = NIL;
        entry.next = NIL;
        entry.loc = Loc::Detached;
        match prev {
            NIL => list.head = next,
            prev => self.entries[prev as usize].next = next,
        }
        match next {
            NIL => list.tail = prev,
            next => self.entries[next as usize].prev = prev,
        }
    }

    /// Takes the first entry off `list`.
    pub(super) fn pop_front(&mut self, list: &mut List) -> Option<u32> {
        let head = list.head()?;
        self.unlink(list, head);
        Some(head)
    }
}

#[cfg(any(test, fuzzing))]
impl<T> Slab<T> {
    /// Walks `list` and asserts its links are consistent and every entry on it is occupied
    /// and records `loc`; returns the entries in list order.
    pub(super) fn check_list(&self, list: &List, loc: Loc) -> Vec<u32> {
        let mut seen = Vec::new();
        let mut prev = NIL;
        let mut cursor = list.head;
        while cursor != NIL {
            assert!(seen.len() < self.entries.len(), "cycle in a list");
            let entry = &self.entries[cursor as usize];
            assert!(entry.value.is_some(), "vacant entry {cursor} on a list");
            assert_eq!(
                entry.loc, loc,
                "entry {cursor} is on another list than it records"
            );
            assert_eq!(entry.prev, prev, "broken back link at entry {cursor}");
            seen.push(cursor);
            prev = cursor;
            cursor = entry.next;
        }
        assert_eq!(list.tail, prev, "list tail is not its last entry");
        seen
    }

    /// Asserts the free list holds exactly the vacant entries, and `len` counts the rest.
    pub(super) fn check_free_list(&self) {
        let mut vacant = 0;
        let mut cursor = self.free;
        while cursor != NIL {
            assert!(vacant < self.entries.len(), "cycle in the free list");
            let entry = &self.entries[cursor as usize];
            assert!(
                entry.value.is_none(),
                "occupied entry {cursor} on the free list"
            );
            assert_eq!(entry.loc, Loc::Detached, "free entry {cursor} is on a list");
            vacant += 1;
            cursor = entry.next;
        }
        let occupied = self.entries.iter().filter(|e| e.value.is_some()).count();
        assert_eq!(
            occupied + vacant,
            self.entries.len(),
            "vacant entry off the free list"
        );
        assert_eq!(
            occupied, self.len,
            "len is not the number of occupied entries"
        );
    }
}
