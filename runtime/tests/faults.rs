//! Fault injection: panics where user code runs inside the runtime (a task's poll, its
//! destructor during cancellation, a user waker, a blocking closure), a blocking call that
//! never returns at shutdown, and a task that never yields. After each fault the runtime
//! must keep working: the fault is reported where it belongs and nothing else is affected.
//!
//! Not covered here yet: the slow-poll warning for a task that never yields (it needs
//! `Builder::slow_poll_threshold`, which does not exist yet), and fd exhaustion on accept
//! (it needs `arbor::net`).

mod support;
use arbor_runtime::runtime::{Builder, Runtime};
use arbor_runtime::sync::Event;
use arbor_runtime::time::{Instant, sleep};
use arbor_runtime::{spawn, task, to_thread, yield_now};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// The runtime still runs work on every worker: many tasks, each yielding a few times so
/// that they spread over the workers, all complete.
fn assert_runtime_works(rt: &Runtime) {
    let total = rt.block_on(async {
        let tasks: Vec<_> = (0..64u64)
            .map(|i| {
                spawn(async move {
                    for _ in 0..4 {
                        yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    assert_eq!(total, 63 * 64 / 2);
}

/// A generous bound on steps that follow an observed event at once; only there so that a
/// bug fails the test instead of hanging it.
const LIVENESS_BOUND: Duration = Duration::from_secs(10);

/// Waits for `cond`, which another thread makes true right after something this test saw.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < LIVENESS_BOUND, "never happened: {what}");
        std::thread::yield_now();
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Panics in poll
// ---------------------------------------------------------------------------------------

rt_test! {
    fn a_panic_in_poll_fails_only_that_task(rt: &Runtime) {
        support::quiet_panics();
        let (bad, good) = rt.block_on(async {
            let good: Vec<_> = (0..16u32).map(|i| spawn(async move {
                yield_now().await;
                i
            })).collect();
            let bad = spawn(async {
                yield_now().await;
                panic!("arbor-test: poll");
            });
            let bad = bad.await;
            let mut sum = 0;
            for t in good {
                sum += t.await.unwrap();
            }
            (bad, sum)
        });
        assert_eq!(good, 15 * 16 / 2);
        let err = bad.unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled());
        assert_eq!(panic_message(&*err.into_panic()), "arbor-test: poll");
        assert_runtime_works(rt);
    }
}

rt_test! {
    fn a_panic_with_a_string_payload_keeps_its_payload(rt: &Runtime) {
        support::quiet_panics();
        let err = rt.block_on(async {
            spawn(async { std::panic::panic_any(format!("arbor-test: {}", 7)) }).await.unwrap_err()
        });
        assert!(err.to_string().contains("arbor-test: 7"), "{err}");
        assert_eq!(*err.into_panic().downcast::<String>().unwrap(), "arbor-test: 7");
    }
}

// ---------------------------------------------------------------------------------------
// Panics in Drop during cancellation
// ---------------------------------------------------------------------------------------

/// Pending forever; its destructor panics, after bumping `drops`.
struct PanicOnDrop {
    drops: Arc<AtomicUsize>,
    started: Arc<AtomicBool>,
}

impl Future for PanicOnDrop {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.started.store(true, SeqCst);
        Poll::Pending
    }
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        panic!("arbor-test: drop");
    }
}

rt_test! {
    fn a_panic_in_drop_during_cancellation_is_reported_by_the_handle(rt: &Runtime) {
        support::quiet_panics();
        let drops = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicBool::new(false));
        let fut = PanicOnDrop { drops: drops.clone(), started: started.clone() };
        let err = rt.block_on(async {
            let task = spawn(fut);
            while !started.load(SeqCst) {
                yield_now().await;
            }
            assert!(task.cancel(), "the task had not finished");
            task.await.unwrap_err()
        });
        assert_eq!(drops.load(SeqCst), 1, "the future was dropped exactly once");
        // The destructor's panic is what the handle reports: it is not lost behind the
        // cancellation.
        assert!(err.is_panic(), "{err}");
        assert_eq!(panic_message(&*err.into_panic()), "arbor-test: drop");
        assert_runtime_works(rt);
    }
}

rt_test! {
    fn a_panic_in_drop_of_a_task_cancelled_before_its_first_poll(rt: &Runtime) {
        support::quiet_panics();
        let drops = Arc::new(AtomicUsize::new(0));
        let fut = PanicOnDrop { drops: drops.clone(), started: Arc::new(AtomicBool::new(false)) };
        let err = rt.block_on(async {
            let task = spawn(fut);
            assert!(task.cancel());
            task.await.unwrap_err()
        });
        assert_eq!(drops.load(SeqCst), 1);
        assert!(err.is_panic(), "{err}");
        assert_runtime_works(rt);
    }
}

#[test]
fn panics_in_drop_at_shutdown_are_contained_and_reported() {
    support::quiet_panics();
    for (name, make) in support::flavours() {
        let rt = make();
        let drops = Arc::new(AtomicUsize::new(0));
        let held = rt.block_on(async {
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    spawn(PanicOnDrop {
                        drops: drops.clone(),
                        started: Arc::new(AtomicBool::new(false)),
                    })
                })
                .collect();
            yield_now().await;
            // Half detached, half held.
            tasks.into_iter().skip(4).collect::<Vec<_>>()
        });
        // Shutdown drops every future; the destructors' panics stay inside the runtime.
        drop(rt);
        assert_eq!(drops.load(SeqCst), 8, "{name}");
        let other = Builder::new_current_thread().build().unwrap();
        for task in held {
            let err = other.block_on(task).unwrap_err();
            assert!(err.is_panic(), "{name}: {err}");
            assert_eq!(panic_message(&*err.into_panic()), "arbor-test: drop");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Panics in a user waker
// ---------------------------------------------------------------------------------------

/// A user waker that counts its wakes, then panics.
struct PanickingWaker {
    wakes: AtomicUsize,
}

impl PanickingWaker {
    fn new() -> Arc<PanickingWaker> {
        Arc::new(PanickingWaker {
            wakes: AtomicUsize::new(0),
        })
    }
}

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        panic!("arbor-test: waker");
    }
}

/// Polls `fut` once with `waker` instead of the task's own.
fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

rt_test! {
    fn a_panicking_join_waker_does_not_take_a_worker_down(rt: &Runtime) {
        support::quiet_panics();
        let user = PanickingWaker::new();
        let waker = Waker::from(user.clone());
        let gate = Arc::new(Event::new());
        let out = rt.block_on(async {
            let g = gate.clone();
            let mut inner = spawn(async move {
                g.wait().await;
                5
            });
            // The handle's waker is the user's: completing the task wakes it on a worker.
            assert!(poll_with(&mut inner, &waker).is_pending());
            gate.set();
            while user.wakes.load(SeqCst) == 0 {
                yield_now().await;
            }
            // The output is still there for the handle.
            inner.await
        });
        assert_eq!(out.unwrap(), 5);
        assert_eq!(user.wakes.load(SeqCst), 1);
        assert_runtime_works(rt);
        drop(waker);
        // The task drops its clone of the waker just after waking it.
        eventually("the runtime dropped its clone of the user's waker", || Arc::strong_count(&user) == 1);
    }
}

rt_test! {
    fn a_panicking_waker_on_a_timer_does_not_take_a_worker_down(rt: &Runtime) {
        support::quiet_panics();
        let user = PanickingWaker::new();
        let waker = Waker::from(user.clone());
        rt.block_on(async {
            // A timer registered with the user's waker; on a slow machine (valgrind) a short
            // one may be due before its first poll, so lengthen it until it is pending.
            let mut d = Duration::from_millis(5);
            let mut s = loop {
                let mut s = Box::pin(sleep(d));
                if s.as_mut().poll(&mut Context::from_waker(&waker)).is_pending() {
                    break s;
                }
                d *= 4;
            };
            // The timer fires in the driver, on whichever thread turns it, and wakes the
            // user's waker there.
            while user.wakes.load(SeqCst) == 0 {
                sleep(Duration::from_millis(1)).await;
            }
            assert!(s.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready());
        });
        assert_runtime_works(rt);
        // Timers still fire afterwards.
        rt.block_on(async {
            let start = Instant::now();
            sleep(Duration::from_millis(2)).await;
            assert!(start.elapsed() >= Duration::from_millis(2));
        });
        drop(waker);
        // The driver's clone is dropped as the panic unwinds, just after `wakes` counts.
        eventually("the driver dropped its clone of the user's waker", || Arc::strong_count(&user) == 1);
    }
}

#[test]
fn a_panicking_join_waker_of_a_blocking_call_does_not_take_the_pool_down() {
    support::quiet_panics();
    for builder in [Builder::new_current_thread(), Builder::new_multi_thread()] {
        // One blocking thread: if the waker's panic killed it, the next call would hang.
        let rt = builder.max_blocking_threads(1).build().unwrap();
        let user = PanickingWaker::new();
        let waker = Waker::from(user.clone());
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let mut call = rt.spawn_blocking(move || rx.recv().map(|()| 9).unwrap());
        assert!(poll_with(&mut call, &waker).is_pending());
        // The call completes on the blocking thread, which wakes the user's waker.
        tx.send(()).unwrap();
        eventually("the blocking call woke the user's waker", || {
            user.wakes.load(SeqCst) == 1
        });
        assert_eq!(rt.block_on(call).unwrap(), 9);
        assert_eq!(user.wakes.load(SeqCst), 1);
        assert_eq!(rt.block_on(rt.spawn_blocking(|| 10)).unwrap(), 10);
    }
}

#[test]
fn a_panicking_waker_on_a_timer_pending_at_shutdown_is_contained() {
    support::quiet_panics();
    for (name, make) in support::flavours() {
        let rt = make();
        let user = PanickingWaker::new();
        let waker = Waker::from(user.clone());
        let mut s = {
            let _enter = rt.enter();
            Box::pin(sleep(Duration::from_secs(3600)))
        };
        rt.block_on(async {
            assert!(
                s.as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
        });
        // Shutdown wakes every pending timer's waker; this one panics.
        drop(rt);
        assert_eq!(user.wakes.load(SeqCst), 1, "{name}");
        drop(s);
        drop(waker);
        assert_eq!(Arc::strong_count(&user), 1, "{name}");
    }
}

/// Counts in `pending` the first time its future returns `Pending` (it is queued then).
struct NotePending<F> {
    inner: Pin<Box<F>>,
    pending: Option<Arc<AtomicUsize>>,
}

impl<F> NotePending<F> {
    fn new(inner: F, pending: Arc<AtomicUsize>) -> NotePending<F> {
        NotePending {
            inner: Box::pin(inner),
            pending: Some(pending),
        }
    }
}

impl<F: Future> Future for NotePending<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let poll = self.inner.as_mut().poll(cx);
        if poll.is_pending() {
            if let Some(pending) = self.pending.take() {
                pending.fetch_add(1, SeqCst);
            }
        }
        poll
    }
}

rt_test! {
    fn a_panicking_waker_on_a_sync_primitive_stops_neither_the_setter_nor_other_waiters(rt: &Runtime) {
        support::quiet_panics();
        let user = PanickingWaker::new();
        let waker = Waker::from(user.clone());
        let event = Arc::new(Event::new());
        let woken = rt.block_on(async {
            // The user's waker is first in the wait list ...
            let mut wait = Box::pin(event.wait());
            assert!(poll_with(&mut wait, &waker).is_pending());
            // ... and innocent waiters queue behind it.
            let queued = Arc::new(AtomicUsize::new(0));
            let others: Vec<_> = (0..4)
                .map(|_| {
                    let (e, q) = (event.clone(), queued.clone());
                    spawn(async move { NotePending::new(e.wait(), q).await })
                })
                .collect();
            while queued.load(SeqCst) < 4 {
                yield_now().await;
            }
            // `set` wakes the whole batch; the user's waker panics in the middle of it.
            let e = event.clone();
            spawn(async move { e.set() }).await.expect("the panic reached the setter");
            let mut woken = 0;
            for t in others {
                t.await.unwrap();
                woken += 1;
            }
            assert!(poll_with(&mut wait, Waker::noop()).is_ready());
            woken
        });
        assert_eq!(user.wakes.load(SeqCst), 1);
        assert_eq!(woken, 4);
        assert_runtime_works(rt);
        drop(waker);
        assert_eq!(Arc::strong_count(&user), 1);
    }
}

// ---------------------------------------------------------------------------------------
// Panics in blocking closures
// ---------------------------------------------------------------------------------------

#[test]
fn a_panic_in_spawn_blocking_is_a_join_error_and_the_pool_survives() {
    support::quiet_panics();
    for builder in [Builder::new_current_thread(), Builder::new_multi_thread()] {
        // One blocking thread: if the panic killed it without the pool noticing, the next
        // call would wait forever.
        let rt = builder
            .worker_threads(2)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        for round in 0..3 {
            let err = rt.block_on(async {
                task::spawn_blocking(|| panic!("arbor-test: blocking"))
                    .await
                    .unwrap_err()
            });
            assert!(err.is_panic(), "round {round}");
            assert_eq!(panic_message(&*err.into_panic()), "arbor-test: blocking");
            let out = rt.block_on(rt.spawn_blocking(move || round)).unwrap();
            assert_eq!(out, round);
        }
    }
}

rt_test! {
    fn a_panic_in_to_thread_resumes_in_the_awaiting_task(rt: &Runtime) {
        support::quiet_panics();
        let err = rt.block_on(async {
            spawn(async {
                to_thread(|| std::panic::panic_any(String::from("arbor-test: to_thread"))).await
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic());
        // The payload is the closure's own, unwrapped.
        assert_eq!(*err.into_panic().downcast::<String>().unwrap(), "arbor-test: to_thread");
        assert_eq!(rt.block_on(to_thread(|| 3)), 3);
    }
}

// ---------------------------------------------------------------------------------------
// A blocking call that never returns
// ---------------------------------------------------------------------------------------

/// The generous bound on `shutdown_timeout(100 ms)`: it must return, not wait forever.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(5);

#[test]
fn shutdown_timeout_returns_while_a_blocking_call_never_returns() {
    for (name, make) in support::flavours() {
        let rt = make();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        // Nobody ever sends or drops the sender: the call blocks for the process's life.
        std::mem::forget(tx);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let stuck = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            let _ = rx.recv();
            unreachable!("the channel is never sent to");
        });
        started_rx.recv().unwrap();
        let counters = support::Counters::new();
        let pending = rt.spawn(counters.wrap(std::future::pending::<()>()));
        let start = std::time::Instant::now();
        rt.shutdown_timeout(Duration::from_millis(100));
        let elapsed = start.elapsed();
        assert!(
            elapsed < SHUTDOWN_BOUND,
            "{name}: shutdown_timeout took {elapsed:?}"
        );
        // Tasks were cancelled as on drop; the stuck call is left running (its thread is
        // detached and does not keep the process alive).
        assert_eq!(counters.drops(), 1, "{name}");
        assert!(pending.is_finished(), "{name}");
        assert!(!stuck.is_finished(), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// A task that never yields
// ---------------------------------------------------------------------------------------

#[test]
fn a_task_that_never_yields_holds_one_worker_only() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let spinning = Arc::new(AtomicBool::new(false));
    let (st, sp) = (stop.clone(), spinning.clone());
    let hog = rt.spawn(async move {
        sp.store(true, SeqCst);
        // Never yields until told to.
        while !st.load(SeqCst) {
            std::hint::spin_loop();
        }
    });
    while !spinning.load(SeqCst) {
        std::thread::yield_now();
    }
    // The other worker runs everything else: tasks that yield, spawn and sleep.
    let total = rt.block_on(async {
        let tasks: Vec<_> = (0..32u64)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    let child = spawn(async move { i });
                    sleep(Duration::from_millis(1)).await;
                    child.await.unwrap()
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        total
    });
    assert_eq!(total, 31 * 32 / 2);
    assert!(!hog.is_finished());
    stop.store(true, SeqCst);
    rt.block_on(hog).unwrap();
}
