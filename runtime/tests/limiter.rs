//! `blocking::Limiter`: never more than `n` calls at once under 1,000 calls with
//! cancellations, FIFO order, a run dropped while queued never runs, a run dropped while its
//! call runs frees its place only when the call ends, and `new(0)` is refused.

use arbor_runtime::blocking::Limiter;
use arbor_runtime::runtime::Builder;
use std::future::{Future, poll_fn};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::task::Poll;
use std::time::Duration;

/// Polls `fut` once; it must be pending.
async fn poll_once<F: Future + Unpin>(fut: &mut F) {
    poll_fn(|cx| {
        assert!(std::pin::Pin::new(&mut *fut).poll(cx).is_pending());
        Poll::Ready(())
    })
    .await;
}

/// Yields until `cond` holds (bounded).
async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if cond() {
            return;
        }
        arbor_runtime::sleep(Duration::from_micros(100)).await;
    }
    panic!("condition never held");
}

#[test]
fn never_more_than_n_at_once_under_a_thousand_calls_with_cancellations() {
    for workers in [None, Some(2)] {
        let rt = match workers {
            None => Builder::new_current_thread().build().unwrap(),
            Some(n) => Builder::new_multi_thread()
                .worker_threads(n)
                .build()
                .unwrap(),
        };
        rt.block_on(async {
            let limiter = Limiter::new(3);
            let now = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let ran = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for i in 0..1000 {
                let (limiter, now, most, ran) =
                    (limiter.clone(), now.clone(), most.clone(), ran.clone());
                tasks.push(arbor_runtime::spawn(async move {
                    limiter
                        .run(move || {
                            let n = now.fetch_add(1, SeqCst) + 1;
                            most.fetch_max(n, SeqCst);
                            std::thread::sleep(Duration::from_micros(50));
                            now.fetch_sub(1, SeqCst);
                            ran.fetch_add(1, SeqCst);
                            i
                        })
                        .await
                }));
            }
            // Cancel every third: some while queued, some while running.
            let mut cancelled = 0;
            for (i, task) in tasks.iter().enumerate() {
                if i % 3 == 0 && task.cancel() {
                    cancelled += 1;
                }
                if i % 50 == 0 {
                    arbor_runtime::yield_now().await;
                }
            }
            let mut finished = 0;
            for task in tasks {
                if let Ok(i) = task.await {
                    assert!(i < 1000);
                    finished += 1;
                }
            }
            assert!(cancelled > 0 && finished > 0);
            until(|| limiter.available() == 3).await;
            assert!(most.load(SeqCst) <= 3, "{} at once", most.load(SeqCst));
            assert!(
                ran.load(SeqCst) >= finished,
                "every finished run ran its call"
            );
            assert_eq!(now.load(SeqCst), 0);
        });
    }
}

#[test]
fn queued_calls_run_in_fifo_order() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let limiter = Limiter::new(1);
        let (release, hold) = mpsc::channel::<()>();
        let holder = {
            let limiter = limiter.clone();
            arbor_runtime::spawn(async move { limiter.run(move || hold.recv().unwrap()).await })
        };
        until(|| limiter.available() == 0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let (limiter, order) = (limiter.clone(), order.clone());
            tasks.push(arbor_runtime::spawn(async move {
                limiter.run(move || order.lock().unwrap().push(i)).await
            }));
            arbor_runtime::yield_now().await; // task i queues before task i + 1 is spawned
        }
        release.send(()).unwrap();
        holder.await.unwrap();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn a_run_dropped_while_queued_never_runs_and_passes_its_turn() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let limiter = Limiter::new(1);
        let (release, hold) = mpsc::channel::<()>();
        let l = limiter.clone();
        let holder = arbor_runtime::spawn(async move { l.run(move || hold.recv().unwrap()).await });
        until(|| limiter.available() == 0).await;
        let dropped_ran = Arc::new(AtomicBool::new(false));
        let flag = dropped_ran.clone();
        let mut queued = Box::pin(limiter.run(move || flag.store(true, SeqCst)));
        poll_once(&mut queued).await;
        drop(queued);
        let next = {
            let l = limiter.clone();
            arbor_runtime::spawn(async move { l.run(|| 7).await })
        };
        release.send(()).unwrap();
        holder.await.unwrap();
        assert_eq!(next.await.unwrap(), 7, "the next in line got the place");
        until(|| limiter.available() == 1).await;
        assert!(
            !dropped_ran.load(SeqCst),
            "a dropped queued run never runs its call"
        );
    });
}

#[test]
fn a_run_dropped_while_its_call_runs_frees_the_place_only_when_the_call_ends() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let limiter = Limiter::new(1);
        let (release, hold) = mpsc::channel::<()>();
        let started = Arc::new(AtomicBool::new(false));
        let s = started.clone();
        let mut running = Box::pin(limiter.run(move || {
            s.store(true, SeqCst);
            hold.recv().unwrap()
        }));
        poll_once(&mut running).await;
        until(|| started.load(SeqCst)).await;
        drop(running);
        arbor_runtime::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            limiter.available(),
            0,
            "the call still runs: its place is held"
        );
        release.send(()).unwrap();
        until(|| limiter.available() == 1).await;
        assert_eq!(limiter.run(|| 1).await, 1);
    });
}

#[test]
#[should_panic(expected = "at least one call must be allowed")]
fn a_limiter_of_zero_is_refused() {
    let _ = Limiter::new(0);
}
