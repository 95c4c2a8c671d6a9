//! Fuzz targets' logic, as library functions so that the seed corpus also runs as ordinary
//! tests (`cargo test -p arbor-timeouts --lib fuzz`) and the fuzz crate stays thin.
//!
//! - [`timeout_reschedule`]: bytes decode to a sequence of reschedules and sleeps of the
//!   task that owns a [`Timeout`], checked against a model on a paused current-thread runtime
//!   (virtual time): the timeout fires at the last deadline set, never before, at most once.
//!   The steps and the model live in `reschedule.rs`, shared with
//!   `tests/proptest_reschedule.rs`.
//! - [`scope_tree`]: bytes decode to a random tree of task groups, cancel scopes, shielded
//!   scopes and timeouts (deadlines moved from inside and from other tasks; shields entered
//!   at any point, also in children before their group's first poll; cancels, failures,
//!   panics, groups dropped mid-flight), run on virtual time and checked against a model
//!   (`scope_tree.rs`, shared with `tests/proptest_scope_tree.rs`).

// `reschedule.rs` and `scope_tree.rs` take these from `super` (see their headers).
use crate::{Timeout, TimeoutHandle};

mod reschedule;
mod scope_tree;

use reschedule::Step;
use scope_tree::{End, GroupSpec, Kind, Move, Op, ScopeSpec};

/// The most steps one input runs (virtual time, so a step costs a few timer operations).
const MAX_STEPS: usize = 64;
/// Deadline bytes at or above this mean "never" (about one in five).
const NEVER_FROM: u8 = 205;

/// Runs the reschedule sequence `data` describes (two bytes a step: the deadline, then the
/// gap); panics if the timeout does not behave as the model says.
pub fn timeout_reschedule(data: &[u8]) {
    let steps: Vec<Step> = data
        .chunks(2)
        .take(MAX_STEPS)
        .map(|pair| {
            let deadline = (pair[0] < NEVER_FROM).then_some(u64::from(pair[0]));
            let gap = pair.get(1).copied().map_or(0, u64::from);
            Step::from_slots(deadline, gap)
        })
        .collect();
    if let Err(why) = reschedule::check_steps(&steps) {
        panic!("{why}\n{steps:?}");
    }
}

/// The most ops one tree has (work, sequences, scopes, groups).
const MAX_OPS: usize = 40;
/// Nesting levels of scopes, groups and sequences, at most.
const MAX_DEPTH: u32 = 5;

/// Decodes a tree from bytes: every byte value means something, a missing byte reads as 0.
struct TreeDecoder<'a> {
    data: &'a [u8],
    ops: usize,
}

impl TreeDecoder<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A time slot (made a distinct time by `scope_tree::number`), or `None` when the byte
    /// is below `none_below`.
    fn opt_slot(&mut self, none_below: u8) -> Option<u64> {
        let b = self.byte();
        (b >= none_below).then_some(u64::from(b / 16))
    }

    fn count(&mut self, max: u8) -> usize {
        usize::from(self.byte() % (max + 1))
    }

    fn work(&mut self) -> Op {
        let b = self.byte();
        let end = match b % 8 {
            0..=3 => End::Ok,
            4..=6 => End::Fail(0),
            _ => End::Panic,
        };
        Op::Work {
            at: u64::from(b / 8),
            end,
        }
    }

    fn ops(&mut self, n: usize, depth: u32) -> Vec<Op> {
        (0..n).map(|_| self.op(depth)).collect()
    }

    fn op(&mut self, depth: u32) -> Op {
        if self.ops >= MAX_OPS || depth >= MAX_DEPTH {
            return self.work();
        }
        self.ops += 1;
        match self.byte() % 9 {
            0 | 1 => self.work(),
            2 => Op::Forever,
            3 => {
                let n = 1 + self.count(2);
                Op::Seq(self.ops(n, depth + 1))
            }
            4..=6 => {
                let kind = match self.byte() % 3 {
                    0 => Kind::Plain,
                    1 => Kind::Shielded,
                    _ => {
                        let deadline = self.opt_slot(64);
                        let n = self.count(2);
                        let moves = (0..n)
                            .map(|_| {
                                let b = self.byte();
                                Move {
                                    at: u64::from(b / 2),
                                    to: self.opt_slot(48),
                                    inside: b % 2 == 0,
                                }
                            })
                            .collect();
                        Kind::Timeout { deadline, moves }
                    }
                };
                let cancel_at = self.opt_slot(192);
                Op::Scope(Box::new(ScopeSpec {
                    id: 0,
                    kind,
                    cancel_at,
                    body: self.op(depth + 1),
                }))
            }
            _ => {
                let cancel_at = self.opt_slot(192);
                let first_poll = self.opt_slot(160);
                let drop_at = self.opt_slot(208);
                let n = self.count(2);
                let eager = self.ops(n, depth + 1);
                let n = self.count(2);
                let children = self.ops(n, depth + 1);
                Op::Group(Box::new(GroupSpec {
                    id: 0,
                    eager,
                    children,
                    body: self.op(depth + 1),
                    cancel_at,
                    first_poll,
                    drop_at,
                }))
            }
        }
    }
}

/// Runs the tree `data` describes (first byte: the runtime flavour), if the model says it
/// ends; panics if the run differs from the model or breaks an invariant.
pub fn scope_tree(data: &[u8]) {
    let (flavour, data) = data.split_first().map_or((0, data), |(f, d)| (*f, d));
    let mut decoder = TreeDecoder { data, ops: 0 };
    let mut op = decoder.op(0);
    scope_tree::number(&mut op);
    if !scope_tree::terminates(&op) {
        return;
    }
    if let Err(why) = scope_tree::run_tree(&op, flavour) {
        panic!("{why}\n{op:#?}");
    }
}

#[cfg(test)]
mod tests {
    include!("../../../fuzz/seed_corpus.rs");

    #[test]
    fn fuzz_seeds_timeout_reschedule() {
        for seed in corpus("timeout_reschedule") {
            super::timeout_reschedule(&seed);
        }
    }

    #[test]
    fn fuzz_seeds_scope_tree() {
        for seed in corpus("scope_tree") {
            super::scope_tree(&seed);
        }
    }
}
