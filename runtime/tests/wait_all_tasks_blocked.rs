//! `testing::wait_all_tasks_blocked`: resolves when every other task of a current-thread
//! runtime is blocked, and not before.

use arbor_runtime::runtime::Builder;
use arbor_runtime::sync::oneshot;
use arbor_runtime::testing::wait_all_tasks_blocked;
use arbor_runtime::time::{Instant, sleep};
use arbor_runtime::{spawn, to_thread, yield_now};
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

/// Runs `f` on a FIFO runtime and on seeded ones.
fn each_order(f: impl Fn(Builder)) {
    f(Builder::new_current_thread());
    for seed in [1, 2, 3] {
        f(Builder::new_current_thread().rng_seed(seed));
    }
}

#[test]
fn a_yielding_task_is_not_blocked_a_waiting_one_is() {
    each_order(|builder| {
        let rt = builder.build().unwrap();
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<()>();
            let waiting = spawn(async move { rx.await.is_ok() });
            let yields = Arc::new(AtomicUsize::new(0));
            let counter = yields.clone();
            let yielding = spawn(async move {
                for _ in 0..100 {
                    counter.fetch_add(1, SeqCst);
                    yield_now().await;
                }
            });
            wait_all_tasks_blocked().await;
            assert_eq!(yields.load(SeqCst), 100, "the yielding task ran to its end");
            assert!(yielding.is_finished());
            assert!(!waiting.is_finished(), "the receiver is still blocked");
            tx.send(()).unwrap();
            assert!(waiting.await.unwrap());
        });
    });
}

#[test]
fn tasks_sleeping_on_virtual_time_are_blocked() {
    each_order(|builder| {
        let rt = builder.start_paused(true).build().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let sleeper = spawn(async { sleep(Duration::from_secs(3600)).await });
            wait_all_tasks_blocked().await;
            assert_eq!(
                start.elapsed(),
                Duration::ZERO,
                "the clock did not jump first"
            );
            assert!(!sleeper.is_finished());
            sleeper.await.unwrap();
            assert_eq!(start.elapsed(), Duration::from_secs(3600));
        });
    });
}

#[test]
fn from_a_task_it_waits_for_the_block_on_future_too() {
    each_order(|builder| {
        let rt = builder.build().unwrap();
        rt.block_on(async {
            let spins = Arc::new(AtomicUsize::new(0));
            let seen = spins.clone();
            let waiter = spawn(async move {
                wait_all_tasks_blocked().await;
                seen.load(SeqCst)
            });
            for _ in 0..50 {
                spins.fetch_add(1, SeqCst);
                yield_now().await;
            }
            assert_eq!(waiter.await.unwrap(), 50);
        });
    });
}

#[test]
fn several_waiters_are_woken_one_at_a_time_in_order() {
    each_order(|builder| {
        let rt = builder.build().unwrap();
        rt.block_on(async {
            let woken = Arc::new(Mutex::new(Vec::new()));
            let (tx1, rx1) = oneshot::channel::<()>();
            let (tx2, rx2) = oneshot::channel::<()>();
            let w1 = {
                let woken = woken.clone();
                spawn(async move {
                    rx1.await.unwrap();
                    wait_all_tasks_blocked().await;
                    woken.lock().unwrap().push(1);
                })
            };
            let w2 = {
                let woken = woken.clone();
                spawn(async move {
                    rx2.await.unwrap();
                    wait_all_tasks_blocked().await;
                    woken.lock().unwrap().push(2);
                })
            };
            tx1.send(()).unwrap();
            // Waiters: this one, then w1 (which wakes after it).
            wait_all_tasks_blocked().await;
            assert!(
                woken.lock().unwrap().is_empty(),
                "one waiter woken per idle moment"
            );
            tx2.send(()).unwrap();
            // Waiters: w1, this one, then w2.
            wait_all_tasks_blocked().await;
            assert_eq!(*woken.lock().unwrap(), [1], "w1 first, w2 still waits");
            w1.await.unwrap();
            w2.await.unwrap();
            assert_eq!(*woken.lock().unwrap(), [1, 2]);
        });
    });
}

#[test]
fn a_dropped_wait_leaves_nothing_behind() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        {
            let mut wait = pin!(wait_all_tasks_blocked());
            let polled = poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx).is_pending())).await;
            assert!(polled, "the first poll registers and waits");
        }
        // The dropped wait is out of the queue: this one is woken at the next idle moment.
        wait_all_tasks_blocked().await;
        wait_all_tasks_blocked().await;
    });
}

#[test]
fn a_task_in_a_blocking_call_is_blocked() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let call = spawn(to_thread(move || wait.recv().unwrap()));
        wait_all_tasks_blocked().await;
        assert!(!call.is_finished());
        release.send(()).unwrap();
        call.await.unwrap();
    });
}

#[test]
fn it_needs_a_current_thread_runtime() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { drop(wait_all_tasks_blocked()) })
    }))
    .unwrap_err();
    let msg = message(&*err);
    assert!(msg.contains("needs a current-thread runtime"), "{msg}");
    let err = catch_unwind(|| drop(wait_all_tasks_blocked())).unwrap_err();
    let msg = message(&*err);
    assert!(msg.contains("outside of an arbor runtime"), "{msg}");
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
