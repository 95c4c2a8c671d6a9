//! The blocking pool: results, panics, the thread cap, and `to_thread`.

mod support;
use arbor_runtime::runtime::Builder;
use arbor_runtime::{task, to_thread};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

rt_test! {
    fn spawn_blocking_returns_the_result(rt: &Runtime) {
        let out = rt.block_on(async { task::spawn_blocking(|| 21 * 2).await.unwrap() });
        assert_eq!(out, 42);
    }
}

rt_test! {
    fn a_panic_in_a_blocking_call_is_a_join_error(rt: &Runtime) {
        support::quiet_panics();
        let err = rt.block_on(async { task::spawn_blocking(|| panic!("arbor-test: blocking")).await.unwrap_err() });
        assert!(err.is_panic());
        assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "arbor-test: blocking");
    }
}

rt_test! {
    fn to_thread_resumes_a_panic_in_the_awaiting_task(rt: &Runtime) {
        support::quiet_panics();
        let err = rt.block_on(async {
            arbor_runtime::spawn(async { to_thread(|| panic!("arbor-test: to_thread")).await }).await.unwrap_err()
        });
        assert!(err.is_panic(), "the panic resumed in the task that awaited to_thread");
    }
}

rt_test! {
    fn many_blocking_calls_all_complete(rt: &Runtime) {
        let total = rt.block_on(async {
            let calls: Vec<_> = (0..200u64).map(|i| task::spawn_blocking(move || i)).collect();
            let mut total = 0;
            for c in calls {
                total += c.await.unwrap();
            }
            total
        });
        assert_eq!(total, 199 * 200 / 2);
    }
}

#[test]
fn the_pool_never_exceeds_max_blocking_threads() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(3)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let calls: Vec<_> = (0..30)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                task::spawn_blocking(move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    running.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        for c in calls {
            c.await.unwrap();
        }
    });
    let peak = peak.load(SeqCst);
    assert!((1..=3).contains(&peak), "peak concurrency {peak}");
}

#[test]
fn blocking_calls_see_the_runtime() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let out = rt.block_on(async {
        task::spawn_blocking(|| {
            // Spawning from a blocking thread reaches the same runtime.
            arbor_runtime::runtime::Handle::current().spawn(async { 9 })
        })
        .await
        .unwrap()
        .await
        .unwrap()
    });
    assert_eq!(out, 9);
}

#[test]
fn a_cancelled_blocking_call_that_has_not_started_never_runs() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let first = task::spawn_blocking(move || rx.recv().unwrap());
        let r = ran.clone();
        let second = task::spawn_blocking(move || {
            r.fetch_add(1, SeqCst);
        });
        assert!(second.cancel());
        tx.send(()).unwrap();
        first.await.unwrap();
        assert!(second.await.unwrap_err().is_cancelled());
    });
    assert_eq!(ran.load(SeqCst), 0);
}

/// A pool thread that just finished a call watches the queue for a moment before it
/// sleeps, and a call queued then wakes nobody: the watcher takes it. Here the watcher
/// takes a call that blocks until a second call has run, so the second must go to another
/// thread, never wait behind the first (a long call does not count as a thread about to
/// look at the queue). Many rounds, so that the second call often lands while the first
/// thread is still watching.
#[test]
fn a_call_never_waits_behind_a_blocked_one() {
    use std::sync::mpsc;
    use std::time::Duration;
    const ROUNDS: usize = 300;
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..ROUNDS {
            task::spawn_blocking(|| ()).await.unwrap();
            let (tx, rx) = mpsc::channel::<()>();
            let first = task::spawn_blocking(move || {
                rx.recv_timeout(Duration::from_secs(20))
                    .expect("the second call waited behind the first")
            });
            let second = task::spawn_blocking(move || tx.send(()).unwrap());
            second.await.unwrap();
            first.await.unwrap();
        }
    });
}

/// Live threads of this process whose name starts with `prefix` (Linux: `/proc`).
#[cfg(target_os = "linux")]
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

#[test]
#[cfg(target_os = "linux")]
fn an_idle_blocking_thread_exits_after_the_keep_alive() {
    use std::time::{Duration, Instant};
    // Thread names are truncated to 15 bytes by the kernel: keep the prefix short.
    let short = Builder::new_current_thread()
        .thread_name("kaA")
        .thread_keep_alive(Duration::from_millis(20))
        .build()
        .unwrap();
    let long = Builder::new_current_thread()
        .thread_name("kaB")
        .thread_keep_alive(Duration::from_secs(3600))
        .build()
        .unwrap();
    short.block_on(to_thread(|| ()));
    long.block_on(to_thread(|| ()));
    assert_eq!(threads_named("kaB-blocking"), 1);
    // The short keep-alive's thread leaves on its own; the bound is only against a hang.
    let give_up = Instant::now() + Duration::from_secs(30);
    while threads_named("kaA-blocking") > 0 {
        assert!(
            Instant::now() < give_up,
            "the idle blocking thread never exited"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The long keep-alive's thread is still there to be reused, and is.
    assert_eq!(threads_named("kaB-blocking"), 1);
    long.block_on(to_thread(|| ()));
    assert_eq!(threads_named("kaB-blocking"), 1);
}
