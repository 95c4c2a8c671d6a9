//! Timers on virtual time: a paused current-thread clock jumps to the next timer when every
//! task is idle, so these tests take no wall time whatever durations they use.

use arbor_runtime::runtime::{Builder, Runtime};
use arbor_runtime::time::{self, Instant, MissedTickBehavior, interval, sleep, sleep_until};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn paused() -> Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Ticks are 1 ms: a timer fires at its deadline rounded up to the next tick, never earlier.
fn assert_fired_at(elapsed: Duration, deadline: Duration) {
    assert!(
        elapsed >= deadline && elapsed < deadline + Duration::from_millis(1),
        "fired after {elapsed:?}, deadline {deadline:?}"
    );
}

#[test]
fn an_hour_long_sleep_takes_no_wall_time() {
    let wall = std::time::Instant::now();
    paused().block_on(async {
        let start = Instant::now();
        sleep(Duration::from_secs(3600)).await;
        assert_fired_at(start.elapsed(), Duration::from_secs(3600));
    });
    assert!(wall.elapsed() < Duration::from_secs(30));
}

#[test]
fn timers_fire_in_deadline_order() {
    paused().block_on(async {
        let order = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        // A permutation of 0..200 ms, spawned out of order.
        let tasks: Vec<_> = (0..200u64)
            .map(|i| (i * 73) % 200)
            .map(|ms| {
                let order = order.clone();
                arbor_runtime::spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    assert_fired_at(start.elapsed(), Duration::from_millis(ms));
                    order.lock().unwrap().push(ms);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        assert_eq!(order, (0..200).collect::<Vec<_>>());
    });
}

#[test]
fn a_deadline_in_the_past_completes_at_the_first_poll() {
    paused().block_on(async {
        let start = Instant::now();
        sleep_until(start - Duration::from_secs(1)).await;
        sleep(Duration::ZERO).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[test]
fn reset_later_fires_at_the_new_deadline() {
    paused().block_on(async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_millis(10));
        // Register it, then move it later twice.
        assert!(futures_poll_once(&mut s).await.is_pending());
        s.reset(start + Duration::from_millis(500));
        s.reset(start + Duration::from_millis(2000));
        s.await;
        assert_fired_at(start.elapsed(), Duration::from_millis(2000));
    });
}

#[test]
fn reset_earlier_fires_at_the_new_deadline() {
    paused().block_on(async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_secs(3600));
        assert!(futures_poll_once(&mut s).await.is_pending());
        s.reset(start + Duration::from_millis(30));
        s.await;
        assert_fired_at(start.elapsed(), Duration::from_millis(30));
    });
}

#[test]
fn reset_after_completion_waits_again() {
    paused().block_on(async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_millis(5));
        (&mut s).await;
        s.reset(start + Duration::from_millis(40));
        assert!(!s.is_elapsed());
        (&mut s).await;
        assert_fired_at(start.elapsed(), Duration::from_millis(40));
    });
}

#[test]
fn reset_from_another_task_while_it_waits() {
    paused().block_on(async {
        let start = Instant::now();
        let s = Arc::new(Mutex::new(sleep(Duration::from_secs(100))));
        let waiter = {
            let s = s.clone();
            arbor_runtime::spawn(async move {
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut *s.lock().unwrap()).poll(cx))
                    .await;
                start.elapsed()
            })
        };
        sleep(Duration::from_millis(10)).await;
        s.lock().unwrap().reset(start + Duration::from_millis(20));
        assert_fired_at(waiter.await.unwrap(), Duration::from_millis(20));
    });
}

#[test]
fn duration_max_never_fires_and_does_not_overflow() {
    paused().block_on(async {
        let forever = arbor_runtime::spawn(sleep(Duration::MAX));
        let start = Instant::now();
        sleep(Duration::from_secs(10 * 365 * 86_400)).await;
        assert!(start.elapsed() >= Duration::from_secs(10 * 365 * 86_400));
        assert!(!forever.is_finished());
        assert!(forever.cancel());
    });
}

#[test]
fn dropped_sleeps_do_not_fire_or_leak() {
    paused().block_on(async {
        let token = Arc::new(());
        for i in 0..1000u64 {
            let token = token.clone();
            let task = arbor_runtime::spawn(async move {
                let _token = token;
                sleep(Duration::from_millis(1 + i)).await;
                unreachable!("cancelled before its deadline");
            });
            arbor_runtime::yield_now().await;
            task.cancel();
        }
        sleep(Duration::from_secs(5)).await;
        assert_eq!(Arc::strong_count(&token), 1);
    });
}

#[test]
fn a_hundred_thousand_concurrent_timers() {
    paused().block_on(async {
        let start = Instant::now();
        let fired = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..100_000u64)
            .map(|i| {
                let fired = fired.clone();
                arbor_runtime::spawn(async move {
                    let d = Duration::from_millis(1 + i % 10_000);
                    sleep(d).await;
                    assert_fired_at(start.elapsed(), d);
                    fired.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(fired.load(std::sync::atomic::Ordering::Relaxed), 100_000);
        assert_fired_at(start.elapsed(), Duration::from_millis(10_000));
    });
}

#[test]
fn advance_moves_the_clock_and_fires_what_is_due() {
    Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            time::pause();
            let start = Instant::now();
            let sleeper = arbor_runtime::spawn(async move {
                sleep(Duration::from_millis(100)).await;
                start.elapsed()
            });
            arbor_runtime::yield_now().await;
            time::advance(Duration::from_millis(60)).await;
            assert!(!sleeper.is_finished());
            assert_eq!(start.elapsed(), Duration::from_millis(60));
            time::advance(Duration::from_millis(40)).await;
            assert!(sleeper.is_finished());
            assert_fired_at(sleeper.await.unwrap(), Duration::from_millis(100));
            time::resume();
        });
}

#[test]
fn the_clock_does_not_jump_while_a_blocking_call_runs() {
    paused().block_on(async {
        let start = Instant::now();
        let long = arbor_runtime::spawn(sleep(Duration::from_secs(3600)));
        arbor_runtime::to_thread(|| std::thread::sleep(Duration::from_millis(20))).await;
        // Every task was idle while the call ran, but the clock stayed put.
        assert!(start.elapsed() < Duration::from_secs(3600));
        assert!(!long.is_finished());
        long.await.unwrap();
        assert_fired_at(start.elapsed(), Duration::from_secs(3600));
    });
}

#[test]
fn interval_burst_catches_up_back_to_back() {
    paused().block_on(async {
        let start = Instant::now();
        let mut every = interval(Duration::from_millis(10));
        every.tick().await; // 0 ms
        time::advance(Duration::from_millis(35)).await;
        // 10, 20, 30 were missed: they fire at once, then 40 on schedule.
        for expect in [10, 20, 30] {
            assert_eq!(every.tick().await - start, Duration::from_millis(expect));
            assert_eq!(start.elapsed(), Duration::from_millis(35));
        }
        assert_eq!(every.tick().await - start, Duration::from_millis(40));
    });
}

#[test]
fn interval_skip_and_delay() {
    paused().block_on(async {
        let start = Instant::now();
        let mut skip = interval(Duration::from_millis(10));
        skip.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut delay = interval(Duration::from_millis(10));
        delay.set_missed_tick_behavior(MissedTickBehavior::Delay);
        skip.tick().await;
        delay.tick().await;
        time::advance(Duration::from_millis(35)).await;
        assert_eq!(skip.tick().await - start, Duration::from_millis(10));
        assert_eq!(delay.tick().await - start, Duration::from_millis(10));
        // Skip keeps the grid (next: 40); Delay restarts from now (35 + 10).
        assert_eq!(skip.tick().await - start, Duration::from_millis(40));
        assert_eq!(delay.tick().await - start, Duration::from_millis(45));
    });
}

#[test]
#[should_panic(expected = "current-thread")]
fn pause_on_a_multi_thread_runtime_panics() {
    Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap()
        .block_on(async { time::pause() });
}

#[test]
fn start_paused_on_a_multi_thread_runtime_is_invalid_input() {
    let err = Builder::new_multi_thread()
        .start_paused(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
#[should_panic(expected = "arbor::run")]
fn polling_a_sleep_outside_a_runtime_panics_with_guidance() {
    let mut s = sleep(Duration::from_millis(1));
    let waker = std::task::Waker::noop();
    let _ = std::pin::Pin::new(&mut s).poll(&mut std::task::Context::from_waker(waker));
}

/// Polls `f` once, inside the task, and reports what it returned.
async fn futures_poll_once<F: std::future::Future + Unpin>(
    f: &mut F,
) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut *f).poll(cx))).await
}

use std::future::Future;

/// The OS clock (read straight from the kernel) and virtual time (kept on std's instants)
/// agree on direction: pausing never moves time back, nor does resuming. Before the first
/// pause, std's clock is never behind a reading of ours taken before it (after it, virtual
/// time may run ahead of the OS clock: a pause starts on a whole tick, `advance` adds).
#[test]
fn pausing_and_resuming_never_move_time_back() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        for round in 0..200 {
            let running = Instant::now();
            let std_after = std::time::Instant::now();
            if round == 0 {
                assert!(running.into_std() <= std_after, "ours ran ahead of std's");
            }
            time::pause();
            let paused = Instant::now();
            assert!(
                paused >= running,
                "pausing moved time back: {running:?} -> {paused:?}"
            );
            time::advance(Duration::from_micros(10)).await;
            time::resume();
            let resumed = Instant::now();
            assert!(
                resumed >= paused,
                "resuming moved time back: {paused:?} -> {resumed:?}"
            );
        }
    });
}
