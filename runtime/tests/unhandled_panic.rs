//! `runtime::Builder::unhandled_panic`: a panic in a task whose `Task` was dropped is logged
//! as a `tracing` error naming the task in every mode; `Ignore` keeps the runtime running;
//! `ShutdownRuntime` makes `block_on` panic naming the task. Every flavour.
//!
//! Workers are other threads, so the collecting subscriber is installed as the global
//! default (once per test binary); each test looks only at events naming its own tasks.

#[path = "support/events.rs"]
mod events;
mod support;

use arbor_runtime::runtime::{Builder, Runtime, UnhandledPanic};
use arbor_runtime::task::{self, UNHANDLED_PANIC_TARGET};
use events::Logged;
use std::panic::{AssertUnwindSafe, catch_unwind};
use tracing::Level;

fn install() {
    events::install(Level::ERROR);
    support::quiet_panics();
}

/// The unhandled-panic errors that name the task `name`.
fn errors_for(name: &str) -> Vec<Logged> {
    events::naming(name)
}

/// Yields until an error names `name` (bounded by the caller's `within`).
async fn logged(name: &str) -> Logged {
    loop {
        if let Some(e) = errors_for(name).pop() {
            return e;
        }
        task::yield_now().await;
    }
}

fn flavours(policy: UnhandledPanic) -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "current_thread",
            Builder::new_current_thread()
                .unhandled_panic(policy)
                .build()
                .unwrap(),
        ),
        (
            "multi_thread_1",
            Builder::new_multi_thread()
                .worker_threads(1)
                .unhandled_panic(policy)
                .build()
                .unwrap(),
        ),
        (
            "multi_thread_4",
            Builder::new_multi_thread()
                .worker_threads(4)
                .unhandled_panic(policy)
                .build()
                .unwrap(),
        ),
    ]
}

fn check_logged(e: &Logged, name: &str) {
    assert_eq!(e.target, UNHANDLED_PANIC_TARGET);
    assert_eq!(e.fields["panic"], format!("arbor-test: {name}"));
    assert!(e.fields.contains_key("task.id"));
    let message = &e.fields["message"];
    assert!(message.contains(name), "{message}");
}

#[test]
fn ignore_logs_a_detached_panic_and_keeps_running() {
    install();
    support::within("ignore", || {
        for (flavour, rt) in flavours(UnhandledPanic::Ignore) {
            // Detached before it panics: the runtime drops the output.
            let before = format!("ignore-before-{flavour}");
            // Detached after it panicked: the handle drops the output.
            let after = format!("ignore-after-{flavour}");
            // Awaited, or cancelled: nothing to report.
            let awaited = format!("ignore-awaited-{flavour}");
            let cancelled = format!("ignore-cancelled-{flavour}");
            let answer = rt.block_on(async {
                let msg = format!("arbor-test: {before}");
                drop(
                    task::Builder::new()
                        .name(&before)
                        .spawn(async move { panic!("{msg}") }),
                );
                check_logged(&logged(&before).await, &before);

                let msg = format!("arbor-test: {after}");
                let t = task::Builder::new()
                    .name(&after)
                    .spawn(async move { panic!("{msg}") });
                while !t.is_finished() {
                    task::yield_now().await;
                }
                assert!(
                    errors_for(&after).is_empty(),
                    "logged while the handle lived"
                );
                drop(t);
                check_logged(&errors_for(&after)[0], &after);

                let msg = format!("arbor-test: {awaited}");
                let t = task::Builder::new()
                    .name(&awaited)
                    .spawn(async move { panic!("{msg}") });
                assert!(t.await.unwrap_err().is_panic());
                let t = task::Builder::new()
                    .name(&cancelled)
                    .spawn(std::future::pending::<()>());
                t.cancel();
                while !t.is_finished() {
                    task::yield_now().await;
                }
                drop(t);
                // The runtime still runs tasks.
                arbor_runtime::spawn(async { 42 }).await.unwrap()
            });
            assert_eq!(answer, 42, "{flavour}");
            assert_eq!(errors_for(&before).len(), 1, "{flavour}");
            assert_eq!(errors_for(&after).len(), 1, "{flavour}");
            assert!(
                errors_for(&awaited).is_empty(),
                "{flavour}: an awaited panic"
            );
            assert!(
                errors_for(&cancelled).is_empty(),
                "{flavour}: a cancellation"
            );
        }
    });
}

#[test]
fn shutdown_runtime_ends_block_on_naming_the_task() {
    install();
    support::within("shutdown_runtime", || {
        for (flavour, rt) in flavours(UnhandledPanic::ShutdownRuntime) {
            let name = format!("shutdown-{flavour}");
            let n = name.clone();
            let res = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async move {
                    let msg = format!("arbor-test: {n}");
                    drop(
                        task::Builder::new()
                            .name(&n)
                            .spawn(async move { panic!("{msg}") }),
                    );
                    std::future::pending::<()>().await
                })
            }));
            let payload = res.expect_err("block_on returned");
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            assert!(message.contains(&name), "{flavour}: {message}");
            assert!(message.contains("ShutdownRuntime"), "{flavour}: {message}");
            check_logged(&errors_for(&name)[0], &name);
            // Every later `block_on` on the runtime ends the same way.
            let again = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { 1 })));
            assert!(again.is_err(), "{flavour}: a later block_on returned");
        }
    });
}

#[test]
fn shutdown_runtime_ends_a_block_on_waiting_on_another_thread() {
    install();
    support::within("shutdown_runtime_two", || {
        for (flavour, rt) in flavours(UnhandledPanic::ShutdownRuntime) {
            let name = format!("two-{flavour}");
            let rt = std::sync::Arc::new(rt);
            let (tx, rx) = std::sync::mpsc::channel();
            let other = {
                let rt = rt.clone();
                std::thread::spawn(move || {
                    catch_unwind(AssertUnwindSafe(|| {
                        rt.block_on(async move {
                            tx.send(()).unwrap();
                            std::future::pending::<()>().await
                        })
                    }))
                    .expect_err("the second block_on returned")
                })
            };
            rx.recv().unwrap();
            let n = name.clone();
            let res = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(async move {
                    let msg = format!("arbor-test: {n}");
                    drop(
                        task::Builder::new()
                            .name(&n)
                            .spawn(async move { panic!("{msg}") }),
                    );
                    std::future::pending::<()>().await
                })
            }));
            assert!(res.is_err(), "{flavour}");
            let payload = other.join().unwrap();
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            assert!(message.contains(&name), "{flavour}: {message}");
        }
    });
}
