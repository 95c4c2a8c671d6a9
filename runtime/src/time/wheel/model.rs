//! Model checking of the wheel, shared by the proptests and the fuzz target: [`check_ops`]
//! runs a sequence of [`Op`]s against a [`Wheel`] and against a reference model (a
//! `BTreeMap` ordered by deadline) and asserts after every operation that the two agree and
//! that the wheel's internal invariants hold.
//!
//! What is asserted:
//! - every poll fires exactly the model's timers with a deadline `<=` its `now` (none early,
//!   none lost, none twice), with the same keys and deadlines, in non-decreasing deadline
//!   order; a single [`Wheel::poll_expired`] returns one of the model's earliest timers;
//! - `remove`, `reset` and `deadline` answer as the model does, for live and stale keys;
//! - `len`, `is_empty` and `elapsed` match;
//! - `next_expiration` is `None` exactly when the model is empty, never later than the
//!   model's earliest deadline, after `elapsed` when nothing is due, and exact when the
//!   earliest deadline is in level 0;
//! - the wheel's lists, bitmaps and slab are consistent and every timer sits where the
//!   placement rule puts it ([`Wheel::check_invariants`]).
//!
//! At the end everything left is polled out at `u64::MAX`.

use super::level::level_for;
use super::{Key, Wheel};
use std::collections::BTreeMap;

/// A deadline for an insert or reset, relative to the wheel's `elapsed` at that moment.
#[derive(Clone, Copy, Debug)]
pub enum When {
    /// `elapsed - d`, saturating at 0: already passed.
    Before(u64),
    /// `elapsed + d`, saturating at `u64::MAX`.
    After(u64),
    /// An absolute tick.
    At(u64),
}

impl When {
    fn resolve(self, elapsed: u64) -> u64 {
        match self {
            When::Before(d) => elapsed.saturating_sub(d),
            When::After(d) => elapsed.saturating_add(d),
            When::At(tick) => tick,
        }
    }
}

/// One step of a model check.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// `insert` a timer.
    Insert(When),
    /// `remove` the timer of the `n % issued`-th key issued so far (live or stale).
    Remove(usize),
    /// `reset` the timer of the `n % issued`-th key issued so far (live or stale).
    Reset(usize, When),
    /// `poll` at `elapsed + d`, saturating.
    Advance(u64),
    /// `poll` at an absolute tick, possibly before `elapsed`.
    PollAt(u64),
    /// `poll` at `next_expiration()`, if any.
    PollNext,
    /// One `poll_expired` at `elapsed + d`, saturating.
    PollOne(u64),
}

/// Decodes arbitrary bytes (a fuzzer's input) into operations: each is a tag byte and, where
/// the operation needs numbers, numbers of a length byte (0 to 8, modulo 9) followed by that
/// many little-endian bytes. Missing bytes read as zero.
pub fn ops_from_bytes(mut bytes: &[u8]) -> Vec<Op> {
    fn byte(bytes: &mut &[u8]) -> u8 {
        let (&first, rest) = bytes.split_first().unwrap_or((&0, &[]));
        *bytes = rest;
        first
    }
    fn number(bytes: &mut &[u8]) -> u64 {
        let len = usize::from(byte(bytes) % 9);
        (0..len).fold(0, |n, i| n | u64::from(byte(bytes)) << (8 * i))
    }
    fn when(tag: u8, bytes: &mut &[u8]) -> When {
        match tag % 3 {
            0 => When::Before(number(bytes)),
            1 => When::After(number(bytes)),
            _ => When::At(number(bytes)),
        }
    }
    let mut ops = Vec::new();
    while !bytes.is_empty() {
        let tag = byte(&mut bytes);
        ops.push(match tag % 7 {
            0 => Op::Insert(when(tag / 7, &mut bytes)),
            1 => Op::Remove(number(&mut bytes) as usize),
            2 => Op::Reset(number(&mut bytes) as usize, when(tag / 7, &mut bytes)),
            3 => Op::Advance(number(&mut bytes)),
            4 => Op::PollAt(number(&mut bytes)),
            5 => Op::PollNext,
            _ => Op::PollOne(number(&mut bytes)),
        });
    }
    ops
}

/// Runs `ops` on a wheel and on the model and panics at the first disagreement; see the
/// module documentation for what is checked.
pub fn check_ops(ops: &[Op]) {
    let mut wheel = Wheel::new();
    let mut model = Model::default();
    for op in ops {
        model.apply(&mut wheel, *op);
        model.check(&wheel);
    }
    model.poll(&mut wheel, u64::MAX);
    model.check(&wheel);
    assert!(wheel.is_empty(), "timers left after polling at u64::MAX");
}

/// The reference: timers ordered by `(deadline, id)`, where a timer's id is the number of its
/// key and also the value it carries in the wheel.
#[derive(Default)]
struct Model {
    elapsed: u64,
    timers: BTreeMap<(u64, usize), Key>,
    /// Every key issued, by id.
    keys: Vec<Key>,
    /// The deadline of each id's timer while it is live.
    deadlines: Vec<Option<u64>>,
}

impl Model {
    fn apply(&mut self, wheel: &mut Wheel<usize>, op: Op) {
        match op {
            Op::Insert(when) => {
                let when = when.resolve(self.elapsed);
                let id = self.keys.len();
                let key = wheel.insert(when, id);
                assert!(!self.keys.contains(&key), "insert reissued a key: {key:?}");
                self.keys.push(key);
                self.deadlines.push(Some(when));
                self.timers.insert((when, id), key);
            }
            Op::Remove(n) => {
                let Some(id) = n.checked_rem(self.keys.len()) else {
                    return;
                };
                let removed = wheel.remove(self.keys[id]);
                let expected = self.deadlines[id].take().map(|when| {
                    self.timers.remove(&(when, id));
                    id
                });
                assert_eq!(removed, expected, "remove of key {:?}", self.keys[id]);
            }
            Op::Reset(n, when) => {
                let Some(id) = n.checked_rem(self.keys.len()) else {
                    return;
                };
                let when = when.resolve(self.elapsed);
                let reset = wheel.reset(self.keys[id], when);
                let live = match self.deadlines[id] {
                    Some(old) => {
                        let key = self.timers.remove(&(old, id)).expect("model lost a timer");
                        self.timers.insert((when, id), key);
                        self.deadlines[id] = Some(when);
                        true
                    }
                    None => false,
                };
                assert_eq!(reset, live, "reset of key {:?}", self.keys[id]);
            }
            Op::Advance(d) => self.poll(wheel, self.elapsed.saturating_add(d)),
            Op::PollAt(now) => self.poll(wheel, now),
            Op::PollNext => {
                if let Some(next) = wheel.next_expiration() {
                    self.poll(wheel, next);
                }
            }
            Op::PollOne(d) => self.poll_one(wheel, self.elapsed.saturating_add(d)),
        }
    }

    /// `wheel.poll(now)`, checked.
    fn poll(&mut self, wheel: &mut Wheel<usize>, now: u64) {
        let mut fired = Vec::new();
        wheel.poll(now, |expired| {
            fired.push((expired.deadline, expired.value, expired.key))
        });
        let now = now.max(self.elapsed);
        assert!(
            fired.windows(2).all(|pair| pair[0].0 <= pair[1].0),
            "fired out of deadline order: {fired:?}"
        );
        let expected: Vec<(u64, usize, Key)> = self
            .timers
            .range(..=(now, usize::MAX))
            .map(|(&(when, id), &key)| (when, id, key))
            .collect();
        fired.sort_unstable_by_key(|&(when, id, _)| (when, id));
        assert_eq!(fired, expected, "timers fired by poll({now})");
        for (when, id, _) in expected {
            self.timers.remove(&(when, id));
            self.deadlines[id] = None;
        }
        self.elapsed = now;
    }

    /// One `wheel.poll_expired(now)`, checked.
    fn poll_one(&mut self, wheel: &mut Wheel<usize>, now: u64) {
        let expired = wheel.poll_expired(now);
        let now = now.max(self.elapsed);
        match self.timers.first_key_value() {
            Some((&(earliest, _), _)) if earliest <= now => {
                let expired = expired.expect("poll_expired missed a due timer");
                assert_eq!(expired.deadline, earliest, "poll_expired out of order");
                let key = self.timers.remove(&(expired.deadline, expired.value));
                assert_eq!(
                    key,
                    Some(expired.key),
                    "poll_expired fired an unknown timer"
                );
                self.deadlines[expired.value] = None;
                self.elapsed = self.elapsed.max(earliest);
            }
            _ => {
                assert!(expired.is_none(), "poll_expired fired early: {expired:?}");
                self.elapsed = now;
            }
        }
    }

    /// Compares everything the wheel reports with the model.
    fn check(&self, wheel: &Wheel<usize>) {
        wheel.check_invariants();
        assert_eq!(wheel.len(), self.timers.len(), "len");
        assert_eq!(wheel.is_empty(), self.timers.is_empty(), "is_empty");
        assert_eq!(wheel.elapsed(), self.elapsed, "elapsed");
        for (key, deadline) in self.keys.iter().zip(&self.deadlines) {
            assert_eq!(wheel.deadline(*key), *deadline, "deadline of {key:?}");
        }
        let next = wheel.next_expiration();
        let Some((&(earliest, _), _)) = self.timers.first_key_value() else {
            assert_eq!(next, None, "next_expiration of an empty wheel");
            return;
        };
        let next = next.expect("next_expiration of a non-empty wheel");
        assert!(
            next <= earliest,
            "next_expiration {next} after deadline {earliest}"
        );
        if earliest > self.elapsed {
            assert!(
                next > self.elapsed,
                "next_expiration {next}: nothing is due"
            );
            if level_for(self.elapsed, earliest) == 0 {
                assert_eq!(next, earliest, "next_expiration in level 0");
            }
        }
    }
}
