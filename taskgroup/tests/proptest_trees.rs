//! Random trees of groups, checked against a small reference model (proptest-generated).
//!
//! The tree description, the model and the runner live in `src/fuzz/tree.rs`, shared with
//! the `group_tree` fuzz target; this file only generates trees. See that file's header for
//! what a tree is and what each run checks.

// `tree.rs` takes these from `super`.
use arbor_taskgroup::{CancelScope, GroupError, TaskGroup};

#[path = "../src/fuzz/tree.rs"]
mod tree;

use proptest::prelude::*;
use tree::{Body, Child, MAX_YIELDS, Spec, TREE_BRANCHING, TREE_DEPTH};

/// Cases per run: each builds a runtime and a tree of up to a few dozen tasks.
const CASES: u32 = 128;
/// The number of children a tree aims at (proptest's `desired_size`).
const TREE_SIZE: u32 = 64;

fn child() -> impl Strategy<Value = Child> {
    let finishing = prop_oneof![
        (0..MAX_YIELDS).prop_map(Child::Ok),
        (0..MAX_YIELDS).prop_map(|n| Child::Fail(0, n)),
        (0..MAX_YIELDS).prop_map(Child::Panic),
    ];
    let leaf = prop_oneof![
        3 => finishing.clone(),
        1 => Just(Child::Sleep),
        1 => finishing.prop_map(|c| Child::Shielded(Box::new(c))),
    ];
    leaf.prop_recursive(TREE_DEPTH, TREE_SIZE, TREE_BRANCHING, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| Child::Spawn(Box::new(c))),
            spec_with(inner).prop_map(|s| Child::Group(Box::new(s))),
        ]
    })
}

fn spec_with(child: impl Strategy<Value = Child>) -> impl Strategy<Value = Spec> {
    (
        prop_oneof![Just(Body::Ok), Just(Body::Fail(0)), Just(Body::Sleep)],
        prop::collection::vec(child, 0..=TREE_BRANCHING as usize),
        prop::option::weighted(0.3, 0..MAX_YIELDS),
    )
        .prop_map(|(body, children, canceller)| Spec {
            body,
            children,
            canceller,
        })
}

fn tree() -> impl Strategy<Value = Spec> {
    spec_with(child())
        .prop_map(|mut spec| {
            tree::number(&mut spec, &mut 0);
            spec
        })
        .prop_filter("a sleeper nothing cancels would hang", |spec| {
            spec.terminates(false)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_match_the_model(spec in tree(), flavour in any::<u8>()) {
        let shown = format!("{spec:#?}");
        if let Err(why) = tree::run_tree(spec, flavour) {
            return Err(TestCaseError::fail(format!("{why}\n{shown}")));
        }
    }
}
