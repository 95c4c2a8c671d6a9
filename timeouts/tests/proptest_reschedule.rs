//! A proptest of random reschedule sequences against a model: the timeout fires at the last
//! deadline set, never before, at most once (virtual time).
//!
//! The steps, the model and the runner live in `src/fuzz/reschedule.rs`, shared with the
//! `timeout_reschedule` fuzz target; this file only generates sequences.

// `reschedule.rs` takes this from `super`.
use arbor_timeouts::Timeout;

#[path = "../src/fuzz/reschedule.rs"]
mod reschedule;

use proptest::prelude::*;
use reschedule::{DEADLINE_SLOTS, GAP_SLOTS, Step};

/// The most steps one sequence has.
const MAX_STEPS: usize = 12;

fn step() -> impl Strategy<Value = Step> {
    (prop::option::weighted(0.8, 0..DEADLINE_SLOTS), 0..GAP_SLOTS)
        .prop_map(|(d, g)| Step::from_slots(d, g))
}

proptest! {
    #[test]
    fn reschedule_sequences_match_the_model(steps in prop::collection::vec(step(), 1..MAX_STEPS)) {
        if let Err(why) = reschedule::check_steps(&steps) {
            return Err(TestCaseError::fail(why));
        }
    }
}
