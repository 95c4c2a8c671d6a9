//! `#[arbor::test]`'s seeded scheduling: `seed = N` is exactly `Builder::rng_seed(N)`,
//! `ARBOR_SEED` sets the seed of a test without one, and a failing test prints the seed
//! that replays its order.
//!
//! The printing is checked end to end: this test binary runs itself again, asking for
//! [`replayable_failure`] alone with [`FAIL_VAR`] set, so that the test fails there and
//! prints its trace and its seed.

use arbor::runtime::Builder;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// Set in the child process only: makes [`replayable_failure`] fail.
const FAIL_VAR: &str = "ARBOR_TEST_SEED_FAIL";

/// Which task ran in which order: 6 tasks, each recording its index then yielding, 5
/// times. Must be awaited inside an arbor runtime.
async fn trace() -> Vec<usize> {
    let order = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let order = order.clone();
            arbor::spawn(async move {
                for _ in 0..5 {
                    order.lock().unwrap().push(i);
                    arbor::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    order.lock().unwrap().clone()
}

/// `trace()` on a runtime built by hand with `rng_seed(seed)`, on a thread of its own (the
/// caller may be inside a runtime).
fn trace_with_seed(seed: u64) -> Vec<usize> {
    std::thread::spawn(move || {
        let rt = Builder::new_current_thread()
            .rng_seed(seed)
            .build()
            .unwrap();
        rt.block_on(trace())
    })
    .join()
    .unwrap()
}

#[arbor::test(seed = 7)]
async fn the_seed_option_is_exactly_rng_seed() {
    let here = trace().await;
    assert_eq!(here, trace_with_seed(7));
    assert_ne!(here, trace_with_seed(8), "another seed, another order");
}

#[arbor::test(seed = 7, start_paused = true)]
async fn the_seed_combines_with_paused_time() {
    let start = arbor::time::Instant::now();
    assert_eq!(trace().await, trace_with_seed(7));
    arbor::sleep(std::time::Duration::from_secs(60)).await;
    assert_eq!(start.elapsed(), std::time::Duration::from_secs(60));
}

/// Passes, except in the child process run by the tests below, where it prints its trace
/// and fails.
#[arbor::test]
async fn replayable_failure() {
    let order = trace().await;
    if std::env::var_os(FAIL_VAR).is_some() {
        println!("trace: {order:?}");
        panic!("failing on purpose");
    }
}

/// Runs [`replayable_failure`] alone in a child process, failing, with `ARBOR_SEED` set to
/// `seed` (or unset); returns its trace and the seed its failure report names.
fn run_failing(seed: Option<u64>) -> (String, u64) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "replayable_failure",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(FAIL_VAR, "1")
    .env_remove("ARBOR_SEED");
    if let Some(seed) = seed {
        cmd.env("ARBOR_SEED", seed.to_string());
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "the child test fails");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let trace = stdout
        .lines()
        .find_map(|l| l.split_once("trace: ").map(|(_, t)| t))
        .unwrap_or_else(|| panic!("no trace in {stdout}"))
        .to_string();
    let report = stderr
        .lines()
        .find(|l| l.starts_with("arbor: test failed with ARBOR_SEED="))
        .unwrap_or_else(|| panic!("no seed report in {stderr}"));
    let printed = report["arbor: test failed with ARBOR_SEED=".len()..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (trace, printed)
}

#[test]
fn a_failing_test_prints_the_seed_that_replays_it() {
    // No seed given: one is drawn, used, and printed.
    let (trace, seed) = run_failing(None);
    // Run again with that seed: the same order.
    let (replayed, same_seed) = run_failing(Some(seed));
    assert_eq!(same_seed, seed);
    assert_eq!(replayed, trace, "ARBOR_SEED={seed} replays the order");
    assert_eq!(
        trace,
        format!("{:?}", trace_with_seed(seed)),
        "the drawn seed is the runtime's seed"
    );
    // Each run without ARBOR_SEED draws its own.
    let (_, other) = run_failing(None);
    assert_ne!(other, seed);
}

#[test]
fn arbor_seed_sets_the_seed_of_a_test_without_one() {
    let (trace, printed) = run_failing(Some(12345));
    assert_eq!(printed, 12345);
    assert_eq!(trace, format!("{:?}", trace_with_seed(12345)));
}
