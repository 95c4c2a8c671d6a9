//! Timers on the OS clock, on every flavour: never early, all of them fire, wakes from the
//! timer reach tasks whichever worker holds the driver. (Lower bounds only: the machine may
//! be slow, but a timer may never be early.)

mod support;

use arbor_runtime::time::{Instant, sleep};
use std::time::Duration;

rt_test! {
    fn sleeps_are_never_early(rt: &Runtime) {
        rt.block_on(async {
            let tasks: Vec<_> = (1..=20u64)
                .map(|ms| {
                    arbor_runtime::spawn(async move {
                        let start = Instant::now();
                        sleep(Duration::from_millis(ms)).await;
                        assert!(start.elapsed() >= Duration::from_millis(ms));
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    }
}

rt_test! {
    fn many_short_timers_all_fire(rt: &Runtime) {
        rt.block_on(async {
            let tasks: Vec<_> = (0..2000u64)
                .map(|i| arbor_runtime::spawn(sleep(Duration::from_millis(1 + i % 10))))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    }
}

rt_test! {
    fn a_sleep_in_block_on_itself(rt: &Runtime) {
        let start = std::time::Instant::now();
        rt.block_on(sleep(Duration::from_millis(15)));
        assert!(start.elapsed() >= Duration::from_millis(15));
    }
}

rt_test! {
    fn timers_fire_while_every_worker_is_busy(rt: &Runtime) {
        rt.block_on(async {
            // Busy tasks that yield (so maintenance runs) until the timer has fired.
            let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let busy: Vec<_> = (0..4)
                .map(|_| {
                    let done = done.clone();
                    arbor_runtime::spawn(async move {
                        while !done.load(std::sync::atomic::Ordering::Acquire) {
                            arbor_runtime::yield_now().await;
                        }
                    })
                })
                .collect();
            sleep(Duration::from_millis(5)).await;
            done.store(true, std::sync::atomic::Ordering::Release);
            for t in busy {
                t.await.unwrap();
            }
        });
    }
}

rt_test! {
    fn an_earlier_timer_interrupts_a_longer_wait(rt: &Runtime) {
        rt.block_on(async {
            // A worker waits in the poller until the 10 s timer; a new 5 ms timer from
            // another thread's spawn must cut that wait short.
            let long = arbor_runtime::spawn(sleep(Duration::from_secs(10)));
            let start = Instant::now();
            sleep(Duration::from_millis(5)).await;
            assert!(start.elapsed() < Duration::from_secs(10));
            long.cancel();
        });
    }
}

#[test]
fn sleeps_on_a_dropped_runtime_are_cancelled_with_their_tasks() {
    let rt = arbor_runtime::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let token = std::sync::Arc::new(());
    for _ in 0..100 {
        let token = token.clone();
        drop(rt.spawn(async move {
            let _token = token;
            sleep(Duration::from_secs(3600)).await;
        }));
    }
    drop(rt);
    assert_eq!(std::sync::Arc::strong_count(&token), 1);
}
