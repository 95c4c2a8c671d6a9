//! `SeededOrder`: the pseudo-random choice among ready tasks that
//! `Builder::rng_seed` asks of the current-thread scheduler.
//!
//! The generator is SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
//! generators", OOPSLA 2014): one 64-bit state, any seed (zero included) gives a full-period
//! sequence, and the output is well mixed from the first draw, so nearby seeds (0, 1, 2...)
//! give unrelated orders. It is not cryptographic and need not be: it only has to be fixed
//! by the seed and spread choices evenly.

/// The state's increment: 2^64 divided by the golden ratio, odd.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// SplitMix64's two mixing multipliers (Stafford's "Mix13").
const MIX_1: u64 = 0xBF58_476D_1CE4_E5B9;
const MIX_2: u64 = 0x94D0_49BB_1331_11EB;

/// A deterministic sequence of choices fixed by a seed.
#[derive(Debug, Clone)]
pub(crate) struct SeededOrder {
    state: u64,
}

impl SeededOrder {
    pub(crate) fn new(seed: u64) -> SeededOrder {
        SeededOrder { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(MIX_1);
        z = (z ^ (z >> 27)).wrapping_mul(MIX_2);
        z ^ (z >> 31)
    }

    /// An index in `0..n`; `n` must not be zero. Lemire's multiply-shift: the bias, at most
    /// `n / 2^64`, is far below anything a test could observe.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0, "SeededOrder::below(0)");
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::SeededOrder;

    #[test]
    fn the_same_seed_gives_the_same_choices() {
        let draw = |seed| {
            let mut rng = SeededOrder::new(seed);
            (0..64).map(|_| rng.below(10)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        assert!(
            draw(0).iter().any(|&i| i != draw(0)[0]),
            "seed 0 is not stuck"
        );
    }

    #[test]
    fn choices_cover_the_range_evenly() {
        let mut rng = SeededOrder::new(42);
        let mut counts = [0u32; 8];
        for _ in 0..8000 {
            counts[rng.below(8)] += 1;
        }
        // 1000 expected per bucket; SplitMix64 stays well within 20%.
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }
}
