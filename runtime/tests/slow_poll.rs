//! `runtime::Builder::slow_poll_threshold`: a poll longer than the threshold emits a
//! `tracing` warning naming the task; shorter polls, and runtimes without a threshold,
//! emit nothing.
//!
//! Workers are other threads, so the collecting subscriber (`support/events.rs`) is
//! installed as the global default (once per test binary); each test looks only at events
//! naming its own tasks.

#[path = "support/events.rs"]
mod events;

use arbor_runtime::runtime::{Builder, Runtime};
use arbor_runtime::task::{self, SLOW_POLL_TARGET};
use events::Logged;
use std::time::Duration;
use tracing::Level;

/// How long the slow task blocks its worker.
const BLOCK: Duration = Duration::from_millis(30);
/// A threshold well below `BLOCK`.
const LOW: Duration = Duration::from_millis(5);
/// A threshold no poll in these tests comes near.
const HIGH: Duration = Duration::from_secs(3600);

fn install() {
    events::install(Level::WARN);
}

/// The slow-poll warnings that name the task `name`.
fn warnings_for(name: &str) -> Vec<Logged> {
    events::naming(name)
        .into_iter()
        .filter(|w| w.target == SLOW_POLL_TARGET)
        .collect()
}

/// The flavours, each with the threshold applied (or not).
fn runtimes(threshold: Option<Duration>) -> Vec<(&'static str, Runtime)> {
    let with = |b: Builder| match threshold {
        Some(t) => b.slow_poll_threshold(t),
        None => b,
    };
    vec![
        ("current_thread", with(Builder::new_current_thread())),
        (
            "multi_thread_1",
            with(Builder::new_multi_thread().worker_threads(1)),
        ),
        (
            "multi_thread_4",
            with(Builder::new_multi_thread().worker_threads(4)),
        ),
    ]
    .into_iter()
    .map(|(flavour, b)| (flavour, b.build().unwrap()))
    .collect()
}

/// Spawns a task named `name` that is polled once, and blocks for `BLOCK` in that poll;
/// returns its id.
fn run_blocking_task(rt: &Runtime, name: &str) -> u64 {
    rt.block_on(async {
        let task = task::Builder::new()
            .name(name)
            .spawn(async { std::thread::sleep(BLOCK) });
        let id = task.id().as_u64();
        task.await.unwrap();
        id
    })
}

#[test]
fn a_slow_poll_is_reported_with_the_task_and_duration() {
    install();
    for (flavour, rt) in runtimes(Some(LOW)) {
        let name = format!("slow-{flavour}");
        let id = run_blocking_task(&rt, &name);
        let warnings = warnings_for(&name);
        assert_eq!(
            warnings.len(),
            1,
            "{flavour}: one slow poll, one warning: {warnings:?}"
        );
        let fields = &warnings[0].fields;
        assert_eq!(fields["task.id"], id.to_string(), "{flavour}");
        let message = &fields["message"];
        assert!(
            message.contains(&name) && message.contains(&id.to_string()),
            "{flavour}: the message names the task: {message}"
        );
        assert!(fields.contains_key("poll_duration"), "{flavour}");
    }
}

#[test]
fn an_unnamed_slow_task_is_reported_by_id() {
    install();
    for (flavour, rt) in runtimes(Some(LOW)) {
        let id = rt.block_on(async {
            let task = arbor_runtime::spawn(async { std::thread::sleep(BLOCK) });
            let id = task.id().as_u64();
            task.await.unwrap();
            id
        });
        let reported = warnings_for("<unnamed>")
            .iter()
            .any(|w| w.fields["task.id"] == id.to_string());
        assert!(reported, "{flavour}: the unnamed task {id} is reported");
    }
}

#[test]
fn polls_under_the_threshold_are_not_reported() {
    install();
    for (flavour, rt) in runtimes(Some(HIGH)) {
        let name = format!("under-threshold-{flavour}");
        run_blocking_task(&rt, &name);
        assert!(warnings_for(&name).is_empty(), "{flavour}");
    }
}

#[test]
fn without_a_threshold_nothing_is_reported() {
    install();
    for (flavour, rt) in runtimes(None) {
        let name = format!("no-threshold-{flavour}");
        run_blocking_task(&rt, &name);
        assert!(warnings_for(&name).is_empty(), "{flavour}");
    }
}
