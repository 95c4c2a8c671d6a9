//! Fuzz targets' logic, as library functions so that the seed corpus also runs as ordinary
//! tests (`cargo test -p arbor-timeouts --lib fuzz`) and the fuzz crate stays thin.
//!
//! - [`timeout_reschedule`]: bytes decode to a sequence of reschedules and sleeps of the
//!   task that owns a [`Timeout`], checked against a model on a paused current-thread runtime
//!   (virtual time): the timeout fires at the last deadline set, never before, at most once.
//!   The steps and the model live in `reschedule.rs`, shared with
//!   `tests/proptest_reschedule.rs`.

// `reschedule.rs` takes this from `super` (see its header).
use crate::Timeout;

mod reschedule;

use reschedule::Step;

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

#[cfg(test)]
mod tests {
    include!("../../../fuzz/seed_corpus.rs");

    #[test]
    fn fuzz_seeds_timeout_reschedule() {
        for seed in corpus("timeout_reschedule") {
            super::timeout_reschedule(&seed);
        }
    }
}
