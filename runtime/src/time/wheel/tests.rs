//! Unit tests of the wheel's edge cases, and the proptests that drive [`check_ops`] (the model
//! check the fuzz target shares).

use super::level::{LEVELS, SLOT_BITS, SLOTS, level_for, slot_for, slot_start};
use super::model::{Op, When, check_ops, ops_from_bytes};
use super::{Expired, Wheel};
use proptest::collection::vec;
use proptest::prelude::*;

/// Ticks one slot of `level` spans: 64^level.
fn slot_span(level: usize) -> u64 {
    1 << (level as u32 * SLOT_BITS)
}

/// A small deterministic generator (64-bit LCG, high bits), for bulk tests.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 16
    }
}

/// Polls `wheel` at each `next_expiration()` up to `until`, checking invariants at each step;
/// returns every firing as `(now of the poll, expired)`.
fn poll_stepwise<T>(wheel: &mut Wheel<T>, until: u64) -> Vec<(u64, Expired<T>)> {
    let mut fired = Vec::new();
    while let Some(next) = wheel.next_expiration().filter(|&next| next <= until) {
        let now = next.max(wheel.elapsed());
        wheel.poll(now, |expired| fired.push((now, expired)));
        wheel.check_invariants();
    }
    wheel.poll(until, |expired| fired.push((until, expired)));
    wheel.check_invariants();
    fired
}

fn fired_deadlines<T>(fired: &[(u64, Expired<T>)]) -> Vec<u64> {
    fired.iter().map(|(_, expired)| expired.deadline).collect()
}

#[test]
fn levels_cover_every_u64_deadline() {
    assert_eq!(level_for(0, u64::MAX), LEVELS - 1);
    assert!(slot_for(LEVELS - 1, u64::MAX) < SLOTS);
    assert_eq!(slot_start(0, LEVELS - 1, 15), 15 << 60);
    assert_eq!(slot_start(u64::MAX - 1, 0, 63), u64::MAX);
}

#[test]
fn due_timers_fire_at_the_next_poll_even_one_behind() {
    let mut wheel = Wheel::new();
    wheel.poll(100, |_| panic!("empty wheel fired"));
    assert_eq!(wheel.elapsed(), 100);
    let at_100 = wheel.insert(100, "now");
    wheel.insert(0, "zero");
    wheel.insert(50, "past");
    assert_eq!(wheel.next_expiration(), Some(0));
    assert_eq!(wheel.deadline(at_100), Some(100));
    let mut fired = Vec::new();
    wheel.poll(10, |expired| fired.push((expired.deadline, expired.value)));
    assert_eq!(fired, [(0, "zero"), (50, "past"), (100, "now")]);
    assert_eq!(
        wheel.elapsed(),
        100,
        "a poll behind elapsed does not move time back"
    );
    assert_eq!(wheel.deadline(at_100), None);
    assert!(wheel.is_empty());
}

#[test]
fn cascade_points_are_reported_and_fire_nothing() {
    let mut wheel = Wheel::new();
    let when = slot_span(2) + 5;
    wheel.insert(when, ());
    assert_eq!(
        wheel.next_expiration(),
        Some(slot_span(2)),
        "level 2's slot start"
    );
    wheel.poll(slot_span(2), |_| panic!("fired at a cascade point"));
    assert_eq!(wheel.next_expiration(), Some(when), "now exact, in level 0");
    wheel.poll(when - 1, |_| panic!("fired early"));
    let mut fired = 0;
    wheel.poll(when, |expired| {
        assert_eq!(expired.deadline, when);
        fired += 1;
    });
    assert_eq!(fired, 1);
}

#[test]
fn timers_fire_exactly_at_their_deadline_across_every_level_boundary() {
    for level in 1..LEVELS {
        let boundary = slot_span(level);
        let deadlines = [
            boundary - 1,
            boundary,
            boundary + 1,
            2 * boundary - 1,
            2 * boundary,
            boundary.saturating_mul(SLOTS as u64).saturating_sub(1),
        ];
        // From tick 0, and from the tick just before the boundary, so that the boundary
        // itself is one tick away but differs from `elapsed` in digit `level`.
        for start in [0, boundary - 1] {
            let mut wheel = Wheel::new();
            wheel.poll(start, |_| unreachable!());
            for when in deadlines {
                wheel.insert(when, when);
            }
            wheel.check_invariants();
            let fired = poll_stepwise(&mut wheel, u64::MAX);
            let mut expected = deadlines.to_vec();
            expected.sort_unstable();
            assert_eq!(
                fired_deadlines(&fired),
                expected,
                "level {level} from {start}"
            );
            for (now, expired) in &fired {
                assert_eq!(
                    *now, expired.deadline,
                    "fired late or early at level {level}"
                );
                assert_eq!(expired.value, expired.deadline);
            }
        }
    }
}

#[test]
fn slot_indexes_wrap_around_through_many_turns() {
    // Five full turns of level 1 (and 320 of level 0), a tick at a time, with a timer
    // inserted at every tick at a pseudo-random distance: each fires exactly at its deadline.
    let mut wheel = Wheel::new();
    let mut rng = Lcg(7);
    let turns = 5 * slot_span(2);
    let mut live = 0usize;
    for now in 1..=turns {
        let when = now + rng.next() % 300;
        wheel.insert(when, when);
        live += 1;
        wheel.poll(now, |expired| {
            assert_eq!(expired.deadline, now, "fired late or early");
            assert_eq!(expired.value, now);
            live -= 1;
        });
        assert_eq!(wheel.len(), live);
    }
    wheel.check_invariants();
    let fired = poll_stepwise(&mut wheel, u64::MAX);
    assert!(fired.iter().all(|(now, expired)| *now == expired.deadline));
    assert_eq!(fired.len(), live);
}

#[test]
fn hundred_thousand_timers_fire_in_order_and_once() {
    const TIMERS: usize = 100_000;
    let mut wheel = Wheel::new();
    let mut rng = Lcg(42);
    let mut keys = Vec::with_capacity(TIMERS);
    for id in 0..TIMERS {
        // Mostly within ~4.6 hours, some far out, some overdue by the first poll.
        let when = match rng.next() % 16 {
            0 => rng.next(),
            1 => rng.next() % 1000,
            _ => rng.next() % (1 << 24),
        };
        keys.push((wheel.insert(when, id), when));
    }
    // Remove every third timer.
    for (id, (key, when)) in keys.iter().enumerate().step_by(3) {
        assert_eq!(wheel.deadline(*key), Some(*when));
        assert_eq!(wheel.remove(*key), Some(id));
    }
    let removed = TIMERS.div_ceil(3);
    assert_eq!(wheel.len(), TIMERS - removed);
    wheel.check_invariants();

    let mut fired = vec![false; TIMERS];
    let mut last_deadline = 0;
    let mut previous_now = 0;
    let mut count = 0;
    let mut now = 1000;
    while !wheel.is_empty() {
        wheel.poll(now, |expired| {
            assert!(expired.deadline <= now, "fired early");
            assert!(expired.deadline >= last_deadline, "fired out of order");
            assert!(
                expired.deadline > previous_now || expired.deadline <= 1000,
                "fired late"
            );
            assert_eq!(keys[expired.value], (expired.key, expired.deadline));
            assert!(
                !std::mem::replace(&mut fired[expired.value], true),
                "fired twice"
            );
            last_deadline = expired.deadline;
            count += 1;
        });
        previous_now = now;
        now = now.saturating_add(rng.next() % 200_000);
        if now > 1 << 25 {
            now = u64::MAX;
        }
    }
    assert_eq!(count, TIMERS - removed);
    for (id, fired) in fired.iter().enumerate() {
        assert_eq!(*fired, id % 3 != 0, "timer {id}");
    }
    wheel.check_invariants();
}

#[test]
fn far_jumps_take_a_handful_of_cascades() {
    const HOUR: u64 = 3_600_000;
    let mut wheel = Wheel::<()>::new();
    wheel.poll(u64::MAX / 2, |_| unreachable!());
    assert_eq!(wheel.cascades, 0, "an empty wheel jumps in one step");

    let mut wheel = Wheel::new();
    wheel.insert(HOUR, "hour");
    wheel.insert(24 * HOUR, "day");
    wheel.insert(u64::MAX, "never");
    wheel.poll(HOUR - 1, |_| panic!("fired early"));
    assert!(
        wheel.cascades <= LEVELS as u64,
        "{} cascades",
        wheel.cascades
    );
    let mut fired = Vec::new();
    wheel.poll(HOUR, |expired| fired.push(expired.value));
    assert_eq!(fired, ["hour"]);
    wheel.poll(u64::MAX - 1, |expired| fired.push(expired.value));
    assert_eq!(fired, ["hour", "day"]);
    // Each timer moves down at most once per level, and each cascade moves one.
    assert!(
        wheel.cascades <= 3 * LEVELS as u64,
        "{} cascades",
        wheel.cascades
    );
    assert_eq!(wheel.len(), 1);
}

#[test]
fn u64_max_is_an_ordinary_deadline() {
    let mut wheel = Wheel::new();
    let never = wheel.insert(u64::MAX, 1);
    wheel.insert(u64::MAX - 1, 2);
    wheel.poll(u64::MAX - 2, |_| panic!("fired early"));
    assert_eq!(wheel.next_expiration(), Some(u64::MAX - 1));
    let mut fired = Vec::new();
    wheel.poll(u64::MAX - 1, |expired| fired.push(expired.value));
    assert_eq!(fired, [2]);
    assert_eq!(wheel.deadline(never), Some(u64::MAX));
    assert_eq!(wheel.next_expiration(), Some(u64::MAX));
    wheel.poll(u64::MAX, |expired| fired.push(expired.value));
    assert_eq!(fired, [2, 1]);
    assert_eq!(wheel.elapsed(), u64::MAX);
    // At the end of time every deadline is due.
    wheel.insert(u64::MAX, 3);
    wheel.insert(0, 4);
    assert_eq!(wheel.next_expiration(), Some(0));
    wheel.poll(u64::MAX, |expired| fired.push(expired.value));
    assert_eq!(fired, [2, 1, 4, 3]);
    wheel.check_invariants();
}

#[test]
fn stale_keys_find_nothing_even_after_reuse() {
    let mut wheel = Wheel::new();
    let first = wheel.insert(10, "first");
    assert_eq!(wheel.remove(first), Some("first"));
    assert_eq!(wheel.remove(first), None);
    assert_eq!(wheel.deadline(first), None);
    assert!(!wheel.reset(first, 20));
    let second = wheel.insert(10, "second");
    assert_ne!(second, first, "the reused entry has a new generation");
    assert_eq!(wheel.remove(first), None);
    assert!(!wheel.reset(first, 20));
    assert_eq!(wheel.deadline(second), Some(10));
    let mut fired = Vec::new();
    wheel.poll(10, |expired| fired.push((expired.key, expired.value)));
    assert_eq!(fired, [(second, "second")]);
    assert_eq!(wheel.remove(second), None, "a fired timer's key is stale");
    assert!(wheel.is_empty());
    wheel.check_invariants();
}

#[test]
fn reset_moves_a_timer_both_ways_and_keeps_its_key() {
    let mut wheel = Wheel::new();
    let key = wheel.insert(100_000, "a");
    assert!(wheel.reset(key, 10));
    assert_eq!(wheel.deadline(key), Some(10));
    assert_eq!(wheel.next_expiration(), Some(10));
    let other = wheel.insert(10, "b");
    assert!(wheel.reset(other, 5000));
    let mut fired = Vec::new();
    wheel.poll(4999, |expired| fired.push((expired.key, expired.deadline)));
    assert_eq!(fired, [(key, 10)]);
    // Into the past: due at once.
    assert!(wheel.reset(other, 3));
    assert_eq!(wheel.next_expiration(), Some(3));
    wheel.poll(4999, |expired| fired.push((expired.key, expired.deadline)));
    assert_eq!(fired, [(key, 10), (other, 3)]);
    wheel.check_invariants();
}

#[test]
fn overdue_timers_inserted_out_of_order_fire_sorted() {
    let mut wheel = Wheel::new();
    wheel.poll(1000, |_| unreachable!());
    let inserted = [500, 100, 900, 100, 700, 1000, 0, 300];
    let keys: Vec<_> = inserted
        .iter()
        .map(|&when| wheel.insert(when, when))
        .collect();
    wheel.check_invariants();
    assert_eq!(wheel.next_expiration(), Some(0));
    assert_eq!(wheel.remove(keys[6]), Some(0));
    let next = wheel.next_expiration().unwrap();
    assert!(
        next <= 100,
        "next_expiration {next} after the earliest due deadline"
    );
    let mut fired = Vec::new();
    wheel.poll(1000, |expired| fired.push(expired.deadline));
    assert_eq!(fired, [100, 100, 300, 500, 700, 900, 1000]);
    wheel.check_invariants();
}

#[test]
fn poll_expired_sees_timers_inserted_between_calls() {
    let mut wheel = Wheel::new();
    wheel.insert(10, 'a');
    wheel.insert(30, 'c');
    let first = wheel.poll_expired(50).unwrap();
    assert_eq!((first.deadline, first.value), (10, 'a'));
    assert_eq!(wheel.elapsed(), 10, "elapsed stops at the fired deadline");
    wheel.insert(20, 'b');
    wheel.insert(10, 'x');
    let order: Vec<_> = std::iter::from_fn(|| wheel.poll_expired(50))
        .map(|expired| (expired.deadline, expired.value))
        .collect();
    assert_eq!(order, [(10, 'x'), (20, 'b'), (30, 'c')]);
    assert_eq!(wheel.elapsed(), 50);
}

#[test]
fn decoder_reads_tags_and_numbers() {
    let ops = ops_from_bytes(&[0, 1, 5, 3, 2, 0x34, 0x12, 5, 6]);
    let ops: Vec<String> = ops.iter().map(|op| format!("{op:?}")).collect();
    assert_eq!(
        ops,
        [
            "Insert(Before(5))",
            "Advance(4660)",
            "PollNext",
            "PollOne(0)"
        ]
    );
}

/// Distances: mostly near (same slot, same level, a few levels up), some far or extreme.
fn distance() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0..4u64,
        4 => 0..(2 * SLOTS as u64),
        3 => 0..10_000u64,
        2 => 0..(1u64 << 40),
        1 => any::<u64>(),
        1 => Just(u64::MAX),
    ]
}

/// Absolute ticks: 0, the end of time, any, and ticks just before a level boundary.
fn tick() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(u64::MAX),
        any::<u64>(),
        (1..LEVELS, 0..3u64).prop_map(|(level, back)| slot_span(level) - 1 - back),
    ]
}

fn when() -> impl Strategy<Value = When> {
    prop_oneof![
        1 => distance().prop_map(When::Before),
        6 => distance().prop_map(When::After),
        1 => tick().prop_map(When::At),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => when().prop_map(Op::Insert),
        2 => any::<usize>().prop_map(Op::Remove),
        2 => (any::<usize>(), when()).prop_map(|(n, when)| Op::Reset(n, when)),
        3 => distance().prop_map(Op::Advance),
        1 => tick().prop_map(Op::PollAt),
        3 => Just(Op::PollNext),
        2 => distance().prop_map(Op::PollOne),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn wheel_matches_the_btreemap_model(ops in vec(op(), 1..200)) {
        check_ops(&ops);
    }

    #[test]
    fn wheel_matches_the_model_on_decoded_bytes(bytes in vec(any::<u8>(), 0..600)) {
        check_ops(&ops_from_bytes(&bytes));
    }
}
