//! Placeholder wheel with the real wheel's API (a `BTreeMap`), until the hierarchical wheel
//! lands.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key(u64);

impl Key {
    pub(crate) fn into_raw(self) -> u64 {
        self.0
    }

    pub(crate) fn from_raw(raw: u64) -> Key {
        Key(raw)
    }
}

pub(crate) struct Wheel<T> {
    elapsed: u64,
    next_seq: u64,
    entries: BTreeMap<(u64, u64), T>,
    by_seq: std::collections::HashMap<u64, u64>,
}

impl<T> Wheel<T> {
    pub(crate) fn new() -> Wheel<T> {
        Wheel {
            elapsed: 0,
            next_seq: 0,
            entries: BTreeMap::new(),
            by_seq: Default::default(),
        }
    }

    pub(crate) fn insert(&mut self, when: u64, value: T) -> Key {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.insert((when, seq), value);
        self.by_seq.insert(seq, when);
        Key(seq)
    }

    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let when = self.by_seq.remove(&key.0)?;
        self.entries.remove(&(when, key.0))
    }

    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.entries
            .keys()
            .next()
            .map(|&(when, _)| when.max(self.elapsed))
    }

    pub(crate) fn poll(&mut self, now: u64, out: &mut impl FnMut(Key, u64, T)) {
        self.elapsed = self.elapsed.max(now);
        while let Some(entry) = self.entries.first_entry() {
            let (when, seq) = *entry.key();
            if when > now {
                break;
            }
            let value = entry.remove();
            self.by_seq.remove(&seq);
            out(Key(seq), when, value);
        }
    }
}
