//! The seed of a `#[arbor::test]`: where it comes from, and the line that reports it when
//! the test fails.

use std::hash::{BuildHasher, Hasher};

/// The environment variable that sets the seed of every `#[arbor::test]` without a
/// `seed = N` option.
pub const SEED_VAR: &str = "ARBOR_SEED";

/// The seed one `#[arbor::test]` runs under; prints it if dropped during a panic (the
/// test failed), so that the failing order can be replayed.
#[derive(Debug)]
pub struct TestSeed {
    seed: u64,
    origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `#[arbor::test(seed = N)]`.
    Attribute,
    /// `ARBOR_SEED=N`.
    Env,
    /// Neither: drawn for this run.
    Drawn,
}

impl TestSeed {
    /// `explicit` (the attribute's `seed = N`), else `ARBOR_SEED`, else a seed drawn from
    /// the OS-seeded hasher keys std uses for `HashMap`.
    ///
    /// # Panics
    /// If `ARBOR_SEED` is set to something other than a `u64`.
    pub fn new(explicit: Option<u64>) -> TestSeed {
        if let Some(seed) = explicit {
            return TestSeed {
                seed,
                origin: Origin::Attribute,
            };
        }
        match std::env::var(SEED_VAR) {
            Ok(text) => {
                let seed = text.trim().parse::<u64>().unwrap_or_else(|_| {
                    panic!("{SEED_VAR}={text:?} is not a seed: give an integer from 0 to u64::MAX")
                });
                TestSeed {
                    seed,
                    origin: Origin::Env,
                }
            }
            Err(_) => TestSeed {
                seed: std::collections::hash_map::RandomState::new()
                    .build_hasher()
                    .finish(),
                origin: Origin::Drawn,
            },
        }
    }

    /// The seed, for `Builder::rng_seed`.
    pub fn get(&self) -> u64 {
        self.seed
    }

    /// The line printed when the test fails.
    fn report(&self) -> String {
        let seed = self.seed;
        match self.origin {
            Origin::Attribute => format!(
                "arbor: test failed with seed = {seed} (#[arbor::test(seed = {seed})]): the \
                 same seed replays the same scheduling order"
            ),
            Origin::Env | Origin::Drawn => format!(
                "arbor: test failed with {SEED_VAR}={seed}: rerun it with {SEED_VAR}={seed} \
                 (or #[arbor::test(seed = {seed})]) to replay its scheduling order"
            ),
        }
    }
}

impl Drop for TestSeed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.report());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attribute_wins_and_the_report_names_the_seed() {
        let seed = TestSeed::new(Some(42));
        assert_eq!(seed.get(), 42);
        assert!(seed.report().contains("seed = 42"), "{}", seed.report());
        let drawn = TestSeed {
            seed: 7,
            origin: Origin::Drawn,
        };
        assert!(
            drawn.report().contains("ARBOR_SEED=7"),
            "{}",
            drawn.report()
        );
    }
}
