//! Timers made and dropped by a thread that does not turn the driver are reclaimed promptly,
//! not held until the driver's next turn, which on an idle runtime is the earliest
//! deadline: the `block_on` thread of a multi-thread runtime (the body of `arbor::run`), or
//! a busy worker while another waits in the driver. Each dropped timer's entry waits on the
//! driver's submission queue until the driver takes it in; these tests count that queue
//! (`Handle::num_queued_timers`), which must drain without any timer coming due.

mod support;

use support::{WATCHDOG, wait_for_timer_queue};

use arbor_runtime::runtime::{Builder, Runtime};
use arbor_runtime::spawn;
use arbor_runtime::time::sleep;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::Duration;

/// How many timers each test makes and drops: far more than the backlog the driver may
/// leave on its queue.
const ROUNDS: usize = 20_000;

/// The most entries the queue may hold once it settled (the runtime drains it whenever it
/// holds a thousand or so, and only dropped timers are on it here).
const SETTLED_BOUND: usize = 2048;

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// Registers a timer far earlier than any the test makes (so none of them needs to wake the
/// driver for its deadline) and waits until every worker parked, the one in the driver
/// waiting for that timer. Returns the timer, to keep it alive.
fn idle_with_an_early_timer(rt: &Runtime, workers: usize) -> impl Future<Output = ()> {
    let mut anchor = Box::pin(sleep(Duration::from_secs(600)));
    rt.block_on(async {
        std::future::poll_fn(|cx| {
            assert!(anchor.as_mut().poll(cx).is_pending());
            std::task::Poll::Ready(())
        })
        .await;
    });
    let handle = rt.handle();
    let start = std::time::Instant::now();
    while handle.num_parked_workers() < workers || handle.num_queued_timers() > 0 {
        assert!(start.elapsed() < WATCHDOG, "the workers did not go idle");
        std::thread::sleep(Duration::from_millis(1));
    }
    anchor
}

/// Makes `ROUNDS` one-hour sleeps, polls each once (registering it) and drops it.
fn make_and_drop_sleeps() {
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..ROUNDS {
        let s = pin!(sleep(Duration::from_secs(3600)));
        assert!(s.poll(&mut cx).is_pending());
    }
}

#[test]
fn dropped_sleeps_of_the_block_on_thread_are_reclaimed() {
    for workers in [1, 4] {
        let rt = multi_thread(workers);
        let _anchor = idle_with_an_early_timer(&rt, workers);
        rt.block_on(async { make_and_drop_sleeps() });
        wait_for_timer_queue(rt.handle(), &format!("{workers} workers"), |queued| {
            queued <= SETTLED_BOUND
        });
    }
}

#[test]
fn dropped_sleeps_of_a_worker_are_reclaimed_while_another_waits_in_the_driver() {
    let rt = multi_thread(4);
    let _anchor = idle_with_an_early_timer(&rt, 4);
    rt.block_on(async { spawn(async { make_and_drop_sleeps() }).await.unwrap() });
    wait_for_timer_queue(rt.handle(), "a busy worker", |queued| {
        queued <= SETTLED_BOUND
    });
}

#[test]
fn sleeps_dropped_after_the_driver_took_them_in_are_reclaimed() {
    // Removals alone (no registration among them) must also be drained.
    let rt = multi_thread(1);
    let _anchor = idle_with_an_early_timer(&rt, 1);
    let mut cx = Context::from_waker(Waker::noop());
    let sleeps: Vec<_> = rt.block_on(async {
        (0..ROUNDS)
            .map(|_| {
                let mut s = Box::pin(sleep(Duration::from_secs(3600)));
                assert!(s.as_mut().poll(&mut cx).is_pending());
                s
            })
            .collect()
    });
    wait_for_timer_queue(rt.handle(), "registered", |queued| queued <= SETTLED_BOUND);
    drop(sleeps);
    wait_for_timer_queue(rt.handle(), "dropped", |queued| queued <= SETTLED_BOUND);
}

#[test]
fn the_queue_hook_counts_what_the_driver_has_not_taken_in() {
    // The hook the tests above rely on counts: a timer registered on a runtime whose driver
    // nobody turns (current-thread, outside `block_on`) stays on the queue.
    let rt = Builder::new_current_thread().build().unwrap();
    let _enter = rt.enter();
    let mut cx = Context::from_waker(Waker::noop());
    let mut s = pin!(sleep(Duration::from_secs(3600)));
    assert_eq!(rt.handle().num_queued_timers(), 0);
    assert!(s.as_mut().poll(&mut cx).is_pending());
    assert_eq!(rt.handle().num_queued_timers(), 1);
}
