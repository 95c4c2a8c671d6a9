//! Fuzz targets' logic, as library functions so that the seed corpus also runs as ordinary
//! tests (`cargo test -p arbor-taskgroup --lib fuzz`) and the fuzz crate stays thin.
//!
//! - [`group_tree`]: bytes decode to a random tree of task groups (the tree and its model
//!   live in `tree.rs`, shared with `tests/proptest_trees.rs`), run on a runtime of a chosen
//!   flavour and checked against the model: outcome, no child outliving its group, no leak.
//!
//! Decoding never fails: a missing byte reads as 0, every byte value means something, and
//! caps ([`MAX_CHILDREN`], `TREE_DEPTH`, `TREE_BRANCHING`, `MAX_YIELDS`) keep one input's
//! work to milliseconds.

// `tree.rs` takes these from `super` (see its header).
use crate::{CancelScope, GroupError, TaskGroup};

mod tree;

use tree::{Body, Child, MAX_YIELDS, Spec, TREE_BRANCHING, TREE_DEPTH};

/// The most children (leaves, spawned siblings and nested groups) one tree has in all.
const MAX_CHILDREN: usize = 64;

/// Reads the next byte, or 0 once the input is exhausted.
fn next(data: &mut &[u8]) -> u8 {
    match data.split_first() {
        Some((&b, rest)) => {
            *data = rest;
            b
        }
        None => 0,
    }
}

/// Decodes trees from bytes, counting the children made against [`MAX_CHILDREN`].
struct Decoder<'a> {
    data: &'a [u8],
    children: usize,
}

impl Decoder<'_> {
    fn byte(&mut self) -> u8 {
        next(&mut self.data)
    }

    fn yields(&mut self) -> u8 {
        self.byte() % MAX_YIELDS
    }

    /// A group: `[body, children, canceller]`, then its children.
    fn spec(&mut self, depth: u32) -> Spec {
        let body = match self.byte() % 3 {
            0 => Body::Ok,
            1 => Body::Fail(0),
            _ => Body::Sleep,
        };
        let count = self.byte() % (TREE_BRANCHING as u8 + 1);
        // One group in four has a canceller.
        let canceller = match self.byte() {
            b if b % 4 == 0 => Some((b / 4) % MAX_YIELDS),
            _ => None,
        };
        let mut children = Vec::new();
        for _ in 0..count {
            if self.children >= MAX_CHILDREN {
                break;
            }
            children.push(self.child(depth));
        }
        Spec {
            body,
            children,
            canceller,
        }
    }

    /// A child: a kind byte, then its parameters.
    fn child(&mut self, depth: u32) -> Child {
        self.children += 1;
        let nested = depth < TREE_DEPTH && self.children < MAX_CHILDREN;
        match self.byte() % 7 {
            5 if nested => Child::Spawn(Box::new(self.child(depth + 1))),
            6 if nested => Child::Group(Box::new(self.spec(depth + 1))),
            3 => Child::Sleep,
            4 => Child::Shielded(Box::new(self.finishing())),
            _ => self.finishing(),
        }
    }

    /// A leaf that finishes: succeeds, fails or panics after some yields.
    fn finishing(&mut self) -> Child {
        match self.byte() % 3 {
            0 => Child::Ok(self.yields()),
            1 => Child::Fail(0, self.yields()),
            _ => Child::Panic(self.yields()),
        }
    }
}

/// Runs the tree `data` describes (first byte: the runtime flavour); panics if the outcome
/// breaks the model, a scope returned with a child alive, or a future leaked.
pub fn group_tree(mut data: &[u8]) {
    let flavour = next(&mut data);
    let mut decoder = Decoder { data, children: 0 };
    let mut spec = decoder.spec(0);
    tree::number(&mut spec, &mut 0);
    if !spec.terminates(false) {
        // A sleeper nothing cancels would hang: a canceller on the root ends every tree.
        spec.canceller = Some(0);
    }
    debug_assert!(spec.terminates(false));
    let shown = spec.clone();
    if let Err(why) = tree::run_tree(spec, flavour) {
        panic!("{why}\n{shown:#?}");
    }
}

#[cfg(test)]
mod tests {
    include!("../../../fuzz/seed_corpus.rs");

    #[test]
    fn fuzz_seeds_group_tree() {
        for seed in corpus("group_tree") {
            super::group_tree(&seed);
        }
    }
}
