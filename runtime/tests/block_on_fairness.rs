//! Fairness towards timers and IO while the future given to `block_on` keeps waking itself:
//! a `while !done { yield_now().await }` loop must let a timer or a socket that sets `done`
//! make progress (DESIGN.md: a current-thread runtime services its timers and IO at least
//! every 61 polls). Each test runs on every flavour, under a watchdog, so a regression fails
//! with a message instead of hanging the suite.

mod support;

use arbor_runtime::runtime::{Builder, Runtime};
use arbor_runtime::time::{Instant, sleep};
use arbor_runtime::{spawn, yield_now};
use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::Poll;
use std::time::Duration;

/// Runs `body` on a fresh runtime from `make` under the suite's watchdog
/// ([`support::within`]).
fn watchdog(what: &str, make: fn() -> Runtime, body: fn(&Runtime)) {
    support::within(
        &format!(
            "{what}: the block_on future spinning on yield_now starves the timers or IO that \
             would end it"
        ),
        move || body(&make()),
    );
}

/// Runs `body` on every flavour (current-thread, one worker, four workers) under the
/// watchdog.
fn on_every_flavour(body: fn(&Runtime)) {
    for (name, make) in support::flavours() {
        watchdog(name, make, body);
    }
}

/// A flag that a spawned task sets after a 1 ms sleep.
fn set_after_a_sleep() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    // Detached: the flag is how the caller learns that it finished.
    drop(spawn(async move {
        sleep(Duration::from_millis(1)).await;
        set.store(true, SeqCst);
    }));
    flag
}

#[test]
fn a_yield_loop_lets_a_sleeping_task_finish() {
    on_every_flavour(|rt| {
        rt.block_on(async {
            let flag = set_after_a_sleep();
            while !flag.load(SeqCst) {
                yield_now().await;
            }
        });
    });
}

#[test]
fn a_yield_loop_on_is_finished_lets_a_sleeping_task_finish() {
    on_every_flavour(|rt| {
        rt.block_on(async {
            let task = spawn(sleep(Duration::from_millis(1)));
            while !task.is_finished() {
                yield_now().await;
            }
            task.await.unwrap();
        });
    });
}

#[test]
fn a_self_waking_poll_fn_lets_a_sleeping_task_finish() {
    on_every_flavour(|rt| {
        rt.block_on(async {
            let flag = set_after_a_sleep();
            poll_fn(|cx| {
                if flag.load(SeqCst) {
                    Poll::Ready(())
                } else {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
            .await;
        });
    });
}

#[cfg(unix)]
#[test]
fn a_yield_loop_lets_a_socket_read_complete() {
    use arbor_runtime::net::UdpSocket;
    on_every_flavour(|rt| {
        rt.block_on(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = socket.local_addr().unwrap();
            let waiting = Arc::new(AtomicBool::new(false));
            let started = waiting.clone();
            let reader = spawn(async move {
                started.store(true, SeqCst);
                let mut buf = [0; 16];
                socket.recv_from(&mut buf).await.unwrap().0
            });
            // The reader has polled its `recv_from` (and found nothing) once the flag is
            // set: the flag is set in the same poll, before it.
            while !waiting.load(SeqCst) {
                yield_now().await;
            }
            let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            sender.send_to(b"ping", addr).unwrap();
            while !reader.is_finished() {
                yield_now().await;
            }
            assert_eq!(reader.await.unwrap(), 4);
        });
    });
}

#[test]
fn a_yield_loop_on_virtual_time_jumps_the_clock_to_the_sleep() {
    watchdog(
        "current_thread, start_paused",
        || {
            Builder::new_current_thread()
                .start_paused(true)
                .build()
                .unwrap()
        },
        |rt| {
            rt.block_on(async {
                let start = Instant::now();
                let task = spawn(sleep(Duration::from_secs(3600)));
                while !task.is_finished() {
                    yield_now().await;
                }
                // The clock jumped to the timer, not past it.
                let elapsed = start.elapsed();
                assert!(
                    elapsed >= Duration::from_secs(3600)
                        && elapsed < Duration::from_secs(3600) + Duration::from_millis(1),
                    "the clock moved by {elapsed:?}"
                );
            });
        },
    );
}

#[test]
fn a_yield_loop_on_virtual_time_does_not_move_the_clock_while_tasks_run() {
    // Tasks that keep running are not idle: the clock stays put however long they spin.
    watchdog(
        "current_thread, start_paused",
        || {
            Builder::new_current_thread()
                .start_paused(true)
                .build()
                .unwrap()
        },
        |rt| {
            rt.block_on(async {
                let start = Instant::now();
                let _timer = spawn(sleep(Duration::from_secs(1)));
                let busy = spawn(async {
                    for _ in 0..10_000 {
                        yield_now().await;
                    }
                });
                while !busy.is_finished() {
                    yield_now().await;
                }
                assert_eq!(start.elapsed(), Duration::ZERO);
            });
        },
    );
}
