//! Spawning and joining: outputs, ids, names, detaching, the LIFO/queue paths.

mod support;
use arbor_runtime::{spawn, task, yield_now};
use support::Counters;

rt_test! {
    fn output_is_returned_and_future_dropped_once(rt: &Runtime) {
        let counters = Counters::new();
        let fut = counters.wrap(async { 7 });
        let out = rt.block_on(async move { spawn(fut).await.unwrap() });
        assert_eq!(out, 7);
        assert_eq!(counters.polls(), 1);
        assert_eq!(counters.drops(), 1);
    }
}

rt_test! {
    fn many_tasks_complete(rt: &Runtime) {
        let total = rt.block_on(async {
            let tasks: Vec<_> = (0..1000u64).map(|i| spawn(async move { yield_now().await; i })).collect();
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total
        });
        assert_eq!(total, 999 * 1000 / 2);
    }
}

rt_test! {
    fn spawn_from_inside_a_task(rt: &Runtime) {
        let out = rt.block_on(async {
            spawn(async {
                let inner: Vec<_> = (0..100).map(|i| spawn(async move { i * 2 })).collect();
                let mut sum = 0;
                for t in inner {
                    sum += t.await.unwrap();
                }
                sum
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 9900);
    }
}

rt_test! {
    fn yield_now_polls_twice(rt: &Runtime) {
        let counters = Counters::new();
        let fut = counters.wrap(yield_now());
        rt.block_on(async move { spawn(fut).await.unwrap() });
        assert_eq!(counters.polls(), 2);
        assert_eq!(counters.drops(), 1);
    }
}

rt_test! {
    fn dropping_the_handle_detaches(rt: &Runtime) {
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        rt.block_on(async move {
            drop(spawn(async move {
                yield_now().await;
                flag.store(true, SeqCst);
            }));
            // The detached task keeps running while the caller does other work.
            for _ in 0..1_000_000 {
                if done.load(SeqCst) {
                    return;
                }
                yield_now().await;
            }
            panic!("the detached task never completed");
        });
    }
}

rt_test! {
    fn id_name_and_is_finished(rt: &Runtime) {
        rt.block_on(async {
            let a = task::Builder::new().name("alpha").spawn(async { task::try_id() });
            let b = spawn(async { 1 });
            assert_ne!(a.id(), b.id());
            assert_eq!(a.name(), Some("alpha"));
            assert_eq!(b.name(), None);
            let id = a.id();
            while !a.is_finished() {
                yield_now().await;
            }
            assert_eq!(a.await.unwrap(), Some(id));
        });
    }
}

rt_test! {
    fn spawn_on_a_handle_from_another_thread(rt: &Runtime) {
        let handle = rt.handle().clone();
        let task = std::thread::spawn(move || handle.spawn(async { 3 })).join().unwrap();
        assert_eq!(rt.block_on(task).unwrap(), 3);
    }
}

rt_test! {
    fn chained_spawns_complete(rt: &Runtime) {
        fn chain(n: u32) -> arbor_runtime::Task<u32> {
            spawn(async move { if n == 0 { 0 } else { chain(n - 1).await.unwrap() + 1 } })
        }
        assert_eq!(rt.block_on(async { chain(500).await.unwrap() }), 500);
    }
}

#[test]
fn block_on_future_need_not_be_send() {
    for (_, make) in support::flavours() {
        let rt = make();
        let local = std::rc::Rc::new(5);
        let out = rt.block_on(async move {
            yield_now().await;
            *local
        });
        assert_eq!(out, 5);
    }
}

#[test]
fn run_returns_the_output() {
    assert_eq!(
        arbor_runtime::run(async { spawn(async { 40 }).await.unwrap() + 2 }),
        42
    );
}
