//! `TaskRef` (doc-hidden, for task groups): waking, and cancelling in place, which drops an
//! idle task's future on the calling thread before it returns and leaves a running task to
//! its runner.

mod support;
use arbor_runtime::runtime::Builder;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use support::Counters;

#[test]
fn cancel_in_place_drops_a_task_that_never_ran_here_and_now() {
    let rt = Builder::new_current_thread().build().unwrap();
    let counters = Counters::new();
    let c = counters.clone();
    rt.block_on(async move {
        let task = arbor_runtime::spawn(c.wrap(async { 1 }));
        task.task_ref().cancel_in_place();
        assert_eq!(
            (c.polls(), c.drops()),
            (0, 1),
            "dropped in place, never polled"
        );
        assert!(task.is_finished());
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert_eq!(counters.drops(), 1);
}

#[test]
fn cancel_in_place_drops_an_idle_task_on_the_calling_thread() {
    // On a current-thread runtime every spawned task is idle while `block_on`'s future runs.
    let rt = Builder::new_current_thread().build().unwrap();
    let counters = Counters::new();
    let c = counters.clone();
    rt.block_on(async move {
        struct Probe(Arc<std::sync::Mutex<Option<std::thread::ThreadId>>>);
        impl Drop for Probe {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = Some(std::thread::current().id());
            }
        }
        let dropped_on = Arc::new(std::sync::Mutex::new(None));
        let probe = Probe(dropped_on.clone());
        let task = arbor_runtime::spawn(c.wrap(async move {
            let _probe = probe;
            std::future::pending::<()>().await
        }));
        while c.polls() == 0 {
            arbor_runtime::yield_now().await;
        }
        task.task_ref().cancel_in_place();
        assert_eq!(c.drops(), 1, "dropped before the call returned");
        assert_eq!(
            *dropped_on.lock().unwrap(),
            Some(std::thread::current().id())
        );
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert_eq!((counters.polls(), counters.drops()), (1, 1));
}

#[test]
fn cancel_in_place_leaves_a_running_task_to_its_runner() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let counters = Counters::new();
    let c = counters.clone();
    let polls_after = Arc::new(AtomicUsize::new(0));
    let p = polls_after.clone();
    rt.block_on(async move {
        let inside = Arc::new(Barrier::new(2));
        let release = Arc::new(Barrier::new(2));
        let (i, r) = (inside.clone(), release.clone());
        let task = arbor_runtime::spawn(c.wrap(async move {
            // Block this poll until the test has cancelled us in place.
            i.wait();
            r.wait();
            arbor_runtime::yield_now().await;
            p.fetch_add(1, SeqCst);
        }));
        let (i, r) = (inside.clone(), release.clone());
        let task_ref = task.task_ref();
        arbor_runtime::to_thread(move || {
            i.wait();
            task_ref.cancel_in_place();
            r.wait();
        })
        .await;
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert_eq!(counters.polls(), 1, "never polled again once cancelled");
    assert_eq!(counters.drops(), 1);
    assert_eq!(polls_after.load(SeqCst), 0);
}

#[test]
fn wake_schedules_an_idle_task() {
    for (_, build) in support::flavours() {
        let rt = build();
        let counters = Counters::new();
        let c = counters.clone();
        rt.block_on(async move {
            let task = arbor_runtime::spawn(
                c.wrap(std::future::poll_fn(|_| std::task::Poll::<()>::Pending)),
            );
            while c.polls() == 0 {
                arbor_runtime::yield_now().await;
            }
            task.task_ref().wake();
            while c.polls() < 2 {
                arbor_runtime::yield_now().await;
            }
            assert!(task.cancel());
        });
        assert_eq!(counters.polls(), 2);
    }
}
