//! An idle runtime burns no CPU: a runtime waiting on a 1 s sleep uses under 1% of a core.
//!
//! Its own test binary, so no other test's threads share the process; CPU time is read
//! from `/proc/self/task/*/schedstat` (nanoseconds on CPU, per thread), so Linux only.

#![cfg(target_os = "linux")]

use arbor_runtime::runtime::Builder;
use std::time::Duration;

/// Nanoseconds all of this process's live threads have spent on a CPU.
fn process_cpu_ns() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn a_runtime_idle_on_a_one_second_sleep_uses_under_one_percent_of_a_core() {
    for rt in [
        Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap(),
        Builder::new_current_thread().build().unwrap(),
    ] {
        let (cpu, wall) = rt.block_on(async {
            // Let the workers start and park first.
            arbor_runtime::time::sleep(Duration::from_millis(20)).await;
            let wall = std::time::Instant::now();
            let before = process_cpu_ns();
            arbor_runtime::spawn(arbor_runtime::time::sleep(Duration::from_secs(1)))
                .await
                .unwrap();
            (process_cpu_ns() - before, wall.elapsed())
        });
        assert!(wall >= Duration::from_secs(1));
        let share = cpu as f64 / wall.as_nanos() as f64;
        eprintln!(
            "idle: {cpu} ns of CPU over {wall:?} ({:.4}% of a core)",
            share * 100.0
        );
        assert!(
            share < 0.01,
            "idle runtime used {:.2}% of a core ({cpu} ns over {wall:?})",
            share * 100.0
        );
    }
}
