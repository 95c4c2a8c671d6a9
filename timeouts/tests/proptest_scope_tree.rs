//! Random trees of task groups, cancel scopes, shields and timeouts on virtual time, checked
//! against a reference model (proptest-generated).
//!
//! The tree description, the model and the runner live in `src/fuzz/scope_tree.rs`, shared
//! with the `scope_tree` fuzz target; this file only generates trees. See that file's header
//! for what a tree is and what each run checks.

// `scope_tree.rs` takes these from `super`.
use arbor_timeouts::{Timeout, TimeoutHandle};

#[path = "../src/fuzz/scope_tree.rs"]
mod scope_tree;

use proptest::prelude::*;
use scope_tree::{End, GroupSpec, Kind, Move, Op, SLOTS, ScopeSpec};

/// Cases per run: each builds a runtime and runs a tree of up to a few dozen futures.
const CASES: u32 = 256;

/// A time slot, `Some` with probability `p` (made a distinct time by `number`).
fn slot(p: f64) -> impl Strategy<Value = Option<u64>> {
    prop::option::weighted(p, 0..SLOTS)
}

fn work() -> impl Strategy<Value = Op> {
    (
        0..SLOTS,
        prop_oneof![3 => Just(End::Ok), 2 => Just(End::Fail(0)), 1 => Just(End::Panic)],
    )
        .prop_map(|(at, end)| Op::Work { at, end })
}

fn kind() -> impl Strategy<Value = Kind> {
    let moves = prop::collection::vec(
        (0..SLOTS, slot(0.8), any::<bool>()).prop_map(|(at, to, inside)| Move { at, to, inside }),
        0..=2,
    );
    prop_oneof![
        Just(Kind::Plain),
        Just(Kind::Shielded),
        (slot(0.7), moves).prop_map(|(deadline, moves)| Kind::Timeout { deadline, moves }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let leaf = prop_oneof![4 => work(), 1 => Just(Op::Forever)];
    leaf.prop_recursive(5, 40, 3, |inner| {
        let children = prop::collection::vec(inner.clone(), 0..=2);
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..=3).prop_map(Op::Seq),
            (kind(), slot(0.25), inner.clone()).prop_map(|(kind, cancel_at, body)| {
                Op::Scope(Box::new(ScopeSpec {
                    id: 0,
                    kind,
                    cancel_at,
                    body,
                }))
            }),
            (
                children.clone(),
                children,
                inner,
                (slot(0.25), slot(0.3), slot(0.2)),
            )
                .prop_map(
                    |(eager, children, body, (cancel_at, first_poll, drop_at))| {
                        Op::Group(Box::new(GroupSpec {
                            id: 0,
                            eager,
                            children,
                            body,
                            cancel_at,
                            first_poll,
                            drop_at,
                        }))
                    }
                ),
        ]
    })
}

fn tree() -> impl Strategy<Value = Op> {
    op().prop_map(|mut op| {
        scope_tree::number(&mut op);
        op
    })
    .prop_filter("a tree that never ends is not run", scope_tree::terminates)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Flavour 0 (most cases): paused current-thread runtime, the exact trace against the
    /// model; 1, 2: multi-thread runtimes on real microseconds, the invariants.
    #[test]
    fn scope_trees_match_the_model(
        op in tree(),
        flavour in prop_oneof![4 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
    ) {
        if let Err(why) = scope_tree::run_tree(&op, flavour) {
            return Err(TestCaseError::fail(why));
        }
    }
}
