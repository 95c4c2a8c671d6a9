//! `Handle::metrics()`: each count matches a known workload, on every flavour.

mod support;

use arbor_runtime::runtime::Builder;
use arbor_runtime::sync::Event;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

/// Waits until `cond` holds: for counts another thread publishes (a worker's release of a
/// completed task, the driver's next turn). Each round sleeps a millisecond rather than
/// yielding: a timer an hour away does not wake a driver parked before it was submitted,
/// so only a near timer (this sleep's) makes the driver turn and take it in. With
/// yields alone, a multi-thread runtime whose driver parked early could wait forever (seen
/// once in CI: `timers_armed_while_ten_sleeps_pend::multi_thread_4`).
async fn until(mut cond: impl FnMut() -> bool) {
    // A bound, so that a count that never gets there fails instead of hanging.
    for _ in 0..20_000 {
        if cond() {
            return;
        }
        arbor_runtime::sleep(Duration::from_millis(1)).await;
    }
    panic!("the condition never held");
}

rt_test! {
    fn workers_match_the_builder(rt: &Runtime) {
        let m = rt.handle().metrics();
        let expected = rt.block_on(async { arbor_runtime::runtime::Handle::current().metrics().workers() });
        assert_eq!(m.workers(), expected);
        assert!([1, 4].contains(&m.workers()), "{m:?}");
    }
}

#[test]
fn workers_counts_the_threads() {
    let rt = Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.handle().metrics().workers(), 1);
    let rt = Builder::new_multi_thread()
        .worker_threads(3)
        .build()
        .unwrap();
    assert_eq!(rt.handle().metrics().workers(), 3);
}

#[test]
fn spawned_live_and_polls_follow_a_thousand_tasks() {
    support::within("thousand", || {
        for (flavour, make) in support::flavours() {
            let rt = make();
            let m = rt.handle().metrics();
            let (spawned, live, polls) = (m.spawned(), m.live_tasks(), m.polls());
            let m2 = m.clone();
            rt.block_on(async move {
                let go = Arc::new(Event::new());
                let tasks: Vec<_> = (0..1000)
                    .map(|_| {
                        let go = go.clone();
                        arbor_runtime::spawn(async move { go.wait().await })
                    })
                    .collect();
                assert_eq!(m2.spawned(), spawned + 1000, "{flavour}");
                assert_eq!(m2.live_tasks(), live + 1000, "{flavour}");
                go.set();
                for t in tasks {
                    t.await.unwrap();
                }
                // Each task was polled at least once; a busy worker publishes its count
                // in batches, an idle one at once.
                until(|| m2.polls() >= polls + 1000).await;
                // A worker leaves the list just after publishing the output.
                until(|| m2.live_tasks() == live).await;
            });
            assert_eq!(m.spawned(), spawned + 1000, "{flavour}");
            assert_eq!(m.live_tasks(), live, "{flavour}");
            assert!(m.polls() >= polls + 1000, "{flavour}: {m:?}");
        }
    });
}

rt_test! {
    fn timers_armed_while_ten_sleeps_pend(rt: &Runtime) {
        let m = rt.handle().metrics();
        let m2 = m.clone();
        let base = m.timers_armed();
        rt.block_on(async move {
            let sleeps: Vec<_> = (0..10)
                .map(|_| arbor_runtime::spawn(arbor_runtime::sleep(Duration::from_secs(3600))))
                .collect();
            // Exactly: the count is the wheel's length at the driver's last drain or fire,
            // so it may also hold `until`'s own 1 ms sleep for a moment (one that saw its
            // deadline pass before the driver fired it, and was dropped, stays in the wheel
            // until the next drain: CI once read 11 here).
            until(|| m2.timers_armed() == base + 10).await;
            for s in &sleeps {
                s.cancel();
            }
            for s in sleeps {
                assert!(s.await.unwrap_err().is_cancelled());
            }
            until(|| m2.timers_armed() == base).await;
        });
        assert_eq!(m.timers_armed(), base);
    }
}

rt_test! {
    fn io_registrations_count_an_open_listener(rt: &Runtime) {
        let m = rt.handle().metrics();
        let base = m.io_registrations();
        let listener = rt.block_on(arbor_runtime::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        assert_eq!(m.io_registrations(), base + 1);
        let second = rt.block_on(arbor_runtime::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        assert_eq!(m.io_registrations(), base + 2);
        drop(listener);
        drop(second);
        assert_eq!(m.io_registrations(), base);
    }
}

#[test]
fn blocking_threads_busy_while_a_to_thread_call_blocks() {
    support::within("blocking", || {
        for (flavour, make) in support::flavours() {
            let rt = make();
            let m = rt.handle().metrics();
            assert_eq!(m.blocking_threads_busy(), 0, "{flavour}");
            let m2 = m.clone();
            rt.block_on(async move {
                let started = Arc::new(AtomicBool::new(false));
                let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
                let s = started.clone();
                let call = arbor_runtime::spawn(arbor_runtime::to_thread(move || {
                    s.store(true, SeqCst);
                    release_rx.recv().unwrap();
                }));
                until(|| started.load(SeqCst)).await;
                assert_eq!(m2.blocking_threads_busy(), 1, "{flavour}: {m2:?}");
                release_tx.send(()).unwrap();
                call.await.unwrap();
                // The thread counts itself idle just after handing the result over.
                until(|| m2.blocking_threads_busy() == 0).await;
            });
            assert_eq!(m.blocking_threads_busy(), 0, "{flavour}");
            assert_eq!(m.blocking_threads_idle(), 1, "{flavour}: {m:?}");
        }
    });
}

#[test]
fn queue_depths_on_a_current_thread_runtime() {
    let rt = Builder::new_current_thread().build().unwrap();
    let m = rt.handle().metrics();
    assert_eq!((m.injector_depth(), m.local_queue_depth()), (0, 0));
    // Spawned from outside the runtime: the injection queue.
    let outside: Vec<_> = (0..5).map(|_| rt.spawn(async {})).collect();
    assert_eq!(m.injector_depth(), 5);
    assert_eq!(m.local_queue_depth(), 0);
    let m2 = m.clone();
    rt.block_on(async move {
        for t in outside {
            t.await.unwrap();
        }
        assert_eq!(m2.injector_depth(), 0);
        // Spawned on the driving thread: the local queue, read from that thread.
        let inside: Vec<_> = (0..7).map(|_| arbor_runtime::spawn(async {})).collect();
        assert_eq!(m2.local_queue_depth(), 7);
        for t in inside {
            t.await.unwrap();
        }
        assert_eq!(m2.local_queue_depth(), 0);
    });
    assert_eq!((m.injector_depth(), m.local_queue_depth()), (0, 0));
    assert_eq!(m.steals(), 0, "a current-thread runtime never steals");
}

#[test]
fn idle_workers_steal_a_busy_workers_backlog() {
    let rt = Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let m = rt.handle().metrics();
    assert_eq!(m.steals(), 0);
    let m2 = m.clone();
    support::within("steals", move || {
        rt.block_on(async move {
            // Spawned from a worker: its local queue, where the others can only steal.
            // Repeated until a steal happened (each round makes one almost certain).
            while m2.steals() == 0 {
                arbor_runtime::spawn(async {
                    let tasks: Vec<_> = (0..1000)
                        .map(|_| {
                            arbor_runtime::spawn(async {
                                let start = std::time::Instant::now();
                                while start.elapsed() < Duration::from_micros(20) {
                                    std::hint::spin_loop();
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
                .await
                .unwrap();
            }
            assert_eq!(m2.injector_depth(), 0);
        });
    });
}
