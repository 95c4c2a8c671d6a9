//! Runtime shutdown: every live task's future is dropped, nothing leaks, running blocking
//! calls are waited for and queued ones cancelled.

mod support;
use arbor_runtime::runtime::{Builder, Runtime};
use arbor_runtime::{spawn, task, yield_now};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;
use support::Counters;

/// Awaits a task of a runtime that is gone, on a fresh one, expecting its error.
fn join_elsewhere<T: Send + 'static>(task: arbor_runtime::Task<T>) -> arbor_runtime::JoinError {
    match Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(task)
    {
        Ok(_) => panic!("a task of a shut-down runtime produced its output"),
        Err(err) => err,
    }
}

#[test]
fn dropping_the_runtime_drops_every_pending_task_once() {
    for (name, make) in support::flavours() {
        let rt = make();
        let counters = Counters::new();
        let token = Arc::new(());
        let handles: Vec<_> = rt.block_on(async {
            (0..100)
                .map(|_| {
                    let token = token.clone();
                    spawn(counters.wrap(async move {
                        let _token = token;
                        std::future::pending::<()>().await
                    }))
                })
                .collect()
        });
        // Detached and held handles alike.
        let (held, detached) = handles.split_at(50);
        let _ = detached;
        drop(rt);
        assert_eq!(counters.drops(), 100, "{name}");
        assert_eq!(Arc::strong_count(&token), 1, "{name}: a future leaked");
        for handle in held {
            assert!(handle.is_finished(), "{name}");
        }
    }
}

#[test]
fn a_cancelled_task_joins_with_a_cancelled_error_after_shutdown() {
    for (name, make) in support::flavours() {
        let rt = make();
        let task = rt.spawn(std::future::pending::<()>());
        drop(rt);
        let err = join_elsewhere(task);
        assert!(err.is_cancelled(), "{name}");
    }
}

#[test]
fn destructors_that_spawn_or_wake_during_shutdown_do_not_leak() {
    struct SpawnOnDrop(Arc<()>);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let token = self.0.clone();
            // The runtime is shutting down: the new task is cancelled before its first poll.
            let task = spawn(async move {
                let _token = token;
                panic!("must never run");
            });
            drop(task);
        }
    }
    for (name, make) in support::flavours() {
        let rt = make();
        let token = Arc::new(());
        rt.block_on(async {
            for _ in 0..10 {
                let guard = SpawnOnDrop(token.clone());
                drop(spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                }));
            }
            yield_now().await;
        });
        drop(rt);
        assert_eq!(Arc::strong_count(&token), 1, "{name}");
    }
}

#[test]
fn spawning_onto_a_dropped_runtime_cancels_the_task() {
    for (name, make) in support::flavours() {
        let rt = make();
        let handle = rt.handle().clone();
        drop(rt);
        let counters = Counters::new();
        let task = handle.spawn(counters.wrap(async { 1 }));
        assert!(task.is_finished(), "{name}");
        assert_eq!(counters.polls(), 0, "{name}");
        assert_eq!(counters.drops(), 1, "{name}");
        let err = join_elsewhere(task);
        assert!(err.is_cancelled(), "{name}");
    }
}

#[test]
fn shutdown_waits_for_running_blocking_calls_and_cancels_queued_ones() {
    for (name, make) in support::flavours() {
        let rt: Runtime = make();
        let finished = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        let (f, s) = (finished.clone(), started.clone());
        let _running = rt.spawn_blocking(move || {
            s.store(true, SeqCst);
            // Long enough that shutdown surely overlaps it; shutdown must wait for it.
            std::thread::sleep(Duration::from_millis(50));
            f.store(true, SeqCst);
        });
        while !started.load(SeqCst) {
            std::thread::yield_now();
        }
        drop(rt);
        assert!(
            finished.load(SeqCst),
            "{name}: shutdown returned before the blocking call"
        );
    }
}

#[test]
fn queued_blocking_calls_never_run_after_shutdown() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let gate = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let (g, s) = (gate.clone(), started.clone());
    let _first = rt.spawn_blocking(move || {
        s.store(true, SeqCst);
        while !g.load(SeqCst) {
            std::thread::yield_now();
        }
    });
    while !started.load(SeqCst) {
        std::thread::yield_now();
    }
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let queued = rt.spawn_blocking(move || r.store(true, SeqCst));
    // The first call is still blocked when shutdown takes the queue: the queued call is
    // cancelled, and `shutdown_timeout` returns without waiting for the stuck call.
    rt.shutdown_timeout(Duration::from_millis(1));
    gate.store(true, SeqCst);
    assert!(
        !ran.load(SeqCst),
        "a queued blocking call ran after shutdown began"
    );
    let err = join_elsewhere(queued);
    assert!(err.is_cancelled());
}

#[test]
fn run_cancels_leftover_tasks_when_main_returns() {
    let counters = Counters::new();
    let c = counters.clone();
    arbor_runtime::run(async move {
        for _ in 0..10 {
            drop(spawn(c.wrap(std::future::pending::<()>())));
        }
        let named = task::Builder::new()
            .name("left-behind")
            .spawn(std::future::pending::<()>());
        drop(named);
    });
    assert_eq!(counters.drops(), 10);
}

#[test]
fn shutdown_timeout_returns_while_a_blocking_call_still_runs() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let (r, s) = (release.clone(), started.clone());
    let _stuck = rt.spawn_blocking(move || {
        s.store(true, SeqCst);
        while !r.load(SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    while !started.load(SeqCst) {
        std::thread::yield_now();
    }
    rt.shutdown_timeout(Duration::from_millis(10));
    // We got here although the call is still blocked: shutdown_timeout did not wait for it.
    assert!(!release.load(SeqCst));
    release.store(true, SeqCst);
}
