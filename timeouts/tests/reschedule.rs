//! Rescheduling from the owning task, from another task and from another OS thread.

mod support;

use arbor_runtime::runtime::Builder;
use arbor_runtime::time::{Instant, sleep};
use arbor_timeouts::{TimedOut, Timeout};
use std::future::pending;
use std::time::Duration;
use support::{ms, virtual_time};

#[test]
fn reschedule_from_another_task() {
    virtual_time(async {
        let start = Instant::now();
        let t = Timeout::after(Duration::from_secs(3600));
        let h = t.handle();
        let h2 = h.clone();
        let mover = arbor_runtime::spawn(async move {
            sleep(ms(5)).await;
            h2.reschedule(Some(Instant::now() + ms(20))); // earlier
            sleep(ms(5)).await;
            h2.reschedule(Some(Instant::now() + ms(40))); // later: lazy
        });
        assert_eq!(t.run(pending::<()>()).await, Err(TimedOut));
        mover.await.unwrap();
        assert!(h.expired());
        assert_eq!(start.elapsed(), ms(50), "fired at the last deadline set");
    });
}

#[test]
fn reschedule_later_many_times_fires_once_at_the_last() {
    virtual_time(async {
        let start = Instant::now();
        let t = Timeout::after(ms(1));
        let h = t.handle();
        for i in 1..=10_000u64 {
            h.reschedule(Some(start + ms(1 + i / 100)));
        }
        assert_eq!(t.run(pending::<()>()).await, Err(TimedOut));
        assert_eq!(start.elapsed(), ms(101));
    });
}

#[test]
fn reschedule_to_never_from_another_task_disables_it() {
    virtual_time(async {
        let t = Timeout::after(ms(10));
        let h = t.handle();
        let h2 = h.clone();
        let mover = arbor_runtime::spawn(async move { h2.reschedule(None) });
        let res = t
            .run(async {
                sleep(ms(100)).await;
                1
            })
            .await;
        mover.await.unwrap();
        assert_eq!(res, Ok(1));
        assert!(!h.expired());
    });
}

#[test]
fn reschedule_from_another_os_thread_into_the_past_fires_promptly() {
    // Real clock, multi-thread runtime: the deadline is an hour away until another OS thread
    // moves it into the past; the scope is cancelled without waiting for the old deadline.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let t = Timeout::after(Duration::from_secs(3600));
        let h = t.handle();
        let h2 = h.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            ready_rx.recv().unwrap();
            h2.reschedule(Some(Instant::now()));
        });
        let res = t
            .run(async move {
                ready_tx.send(()).unwrap();
                pending::<()>().await
            })
            .await;
        thread.join().unwrap();
        assert_eq!(res, Err(TimedOut));
        assert!(h.expired());
    });
}

#[test]
fn reschedule_from_another_os_thread_earlier_registers_a_timer() {
    // Moved from an hour to 5 ms by another OS thread: fires after about 5 ms of real time.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let t = Timeout::after(Duration::from_secs(3600));
        let h = t.handle();
        let h2 = h.clone();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            rx.recv().unwrap();
            h2.reschedule(Some(Instant::now() + ms(5)));
        });
        let start = Instant::now();
        let res = t
            .run(async move {
                tx.send(()).unwrap();
                pending::<()>().await
            })
            .await;
        thread.join().unwrap();
        assert_eq!(res, Err(TimedOut));
        assert!(start.elapsed() >= ms(5), "never before the deadline");
        assert!(h.expired());
    });
}

#[test]
fn reschedule_from_many_threads_converges_on_the_last_value() {
    // Threads race to move the deadline; then one last reschedule sets the real deadline,
    // which is what fires (virtual time).
    virtual_time(async {
        let start = Instant::now();
        let t = Timeout::never();
        let h = t.handle();
        let threads: Vec<_> = (0..4u64)
            .map(|i| {
                let h = h.clone();
                std::thread::spawn(move || {
                    for j in 0..1000u64 {
                        h.reschedule(Some(start + ms(1000 + i * 1000 + j)));
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        h.reschedule(Some(start + ms(30)));
        assert_eq!(t.run(pending::<()>()).await, Err(TimedOut));
        assert_eq!(start.elapsed(), ms(30));
    });
}
