//! A group's scope waits for every child: children spawned at once, late, by other
//! children, or from outside through a clone of the handle (CPython `test_taskgroups.py`).

mod support;
use arbor_taskgroup::TaskGroup;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use support::*;

rt_test! {
    /// CPython `test_taskgroup_01`: the scope returns once both children are done, and
    /// their `Task`s hold their results.
    fn test_taskgroup_01(rt: &Runtime) {
        let counters = Counters::new();
        let c = counters.clone();
        let (t1, t2) = rt.block_on(async move {
            let cc = c.clone();
            let gate = Gate::new();
            let (g1, g2) = (gate.clone(), gate.clone());
            let tasks = TaskGroup::<()>::scope(|tg| async move {
                let t1 = tg.spawn(c.wrap(async move {
                    g1.wait().await;
                    Ok(42)
                }));
                let t2 = tg.spawn(c.wrap(async move {
                    g2.wait().await;
                    Ok(11)
                }));
                gate.set();
                Ok((t1, t2))
            })
            .await
            .unwrap();
            assert_eq!(cc.drops(), 2, "both children are gone when the scope returns");
            tasks
        });
        assert_eq!(counters.drops(), 2);
        rt.block_on(async move {
            assert_eq!(t1.await.unwrap(), 42);
            assert_eq!(t2.await.unwrap(), 11);
        });
    }
}

rt_test! {
    /// CPython `test_taskgroup_02`: a child spawned after the body awaited something is
    /// awaited too.
    fn test_taskgroup_02(rt: &Runtime) {
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        let out = rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            let d1 = d.clone();
            let t1 = tg.spawn(async move {
                d1.fetch_add(1, SeqCst);
                Ok(42)
            });
            let first = t1.await.unwrap();
            arbor_runtime::yield_now().await;
            let gate = Gate::new();
            let g = gate.clone();
            drop(tg.spawn(async move {
                g.wait().await;
                d.fetch_add(1, SeqCst);
                Ok(())
            }));
            gate.set();
            Ok(first)
        }));
        assert_eq!(out.unwrap(), 42);
        assert_eq!(done.load(SeqCst), 2);
    }
}

rt_test! {
    /// CPython `test_taskgroup_24`: a child spawns siblings through a clone of the handle;
    /// the scope waits for them although the body finished long before.
    fn test_taskgroup_24(rt: &Runtime) {
        let counters = Counters::new();
        let c = counters.clone();
        rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            let tg2 = tg.clone();
            let c2 = c.clone();
            drop(tg.spawn(c.wrap(async move {
                arbor_runtime::yield_now().await;
                for _ in 0..2 {
                    drop(tg2.spawn(c2.wrap(async {
                        arbor_runtime::yield_now().await;
                        Ok(())
                    })));
                }
                Ok(())
            })));
            Ok(())
        }))
        .unwrap();
        assert_eq!(counters.drops(), 3, "the root child and both siblings were awaited");
    }
}

rt_test! {
    /// CPython `test_taskgroup_25`: children keep spawning siblings ("hydras") until another
    /// child fails; the failure stops them all and is the group's only error.
    fn test_taskgroup_25(rt: &Runtime) {
        fn hydra(tg: TaskGroup<&'static str>, heads: Arc<AtomicUsize>) {
            let (tg2, heads2) = (tg.clone(), heads.clone());
            drop(tg.spawn(async move {
                heads2.fetch_add(1, SeqCst);
                arbor_runtime::yield_now().await;
                hydra(tg2.clone(), heads2.clone());
                hydra(tg2, heads2);
                Ok(())
            }));
        }
        let heads = Arc::new(AtomicUsize::new(0));
        let h = heads.clone();
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                hydra(tg.clone(), h.clone());
                drop(tg.spawn(async move {
                    until(|| h.load(SeqCst) >= 10).await;
                    Err::<(), _>("hercules")
                }));
                Ok(())
            }))
            .unwrap_err();
        assert_eq!(err.into_errors(), vec!["hercules"]);
        assert!(heads.load(SeqCst) >= 10);
    }
}

rt_test! {
    /// CPython `test_taskgroup_23`: many children spawned one after another, each gone
    /// before the next; the group's bookkeeping does not grow with the total.
    fn test_taskgroup_23(rt: &Runtime) {
        const CHILDREN: usize = 1000;
        let counters = Counters::new();
        let c = counters.clone();
        rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            for _ in 0..CHILDREN {
                tg.spawn(c.wrap(async { Ok(()) })).await.unwrap();
            }
            Ok(())
        }))
        .unwrap();
        assert_eq!(counters.drops(), CHILDREN);
    }
}

rt_test! {
    /// A clone of the handle held by a task outside the group spawns into it while the scope
    /// waits: the late child is awaited.
    fn late_spawn_from_outside_the_group_is_awaited(rt: &Runtime) {
        let counters = Counters::new();
        let c = counters.clone();
        rt.block_on(async move {
            let (tx, rx) = std::sync::mpsc::channel::<TaskGroup<()>>();
            let keep_open = Gate::new();
            let k = keep_open.clone();
            let outsider = arbor_runtime::spawn(async move {
                let tg = arbor_runtime::to_thread(move || rx.recv().unwrap()).await;
                drop(tg.spawn(c.wrap(async { Ok(()) })));
                k.set();
            });
            TaskGroup::<()>::scope(|tg| async move {
                tx.send(tg.clone()).unwrap();
                let k = keep_open.clone();
                // This child keeps the group open until the outsider has spawned.
                drop(tg.spawn(async move {
                    k.wait().await;
                    Ok(())
                }));
                Ok(())
            })
            .await
            .unwrap();
            outsider.await.unwrap();
        });
        assert_eq!(counters.drops(), 1);
    }
}

rt_test! {
    /// Children run in parallel with the body: the body can wait for a child's signal.
    fn children_run_while_the_body_waits(rt: &Runtime) {
        let out = rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            let latch = Latch::new();
            for _ in 0..8 {
                let l = latch.clone();
                drop(tg.spawn(async move {
                    l.arrive();
                    Ok(())
                }));
            }
            latch.wait_for(8).await;
            Ok(latch.count())
        }));
        assert_eq!(out.unwrap(), 8);
    }
}

rt_test! {
    /// `TaskGroup` is `Clone + Send + Sync`: a plain thread spawns into the group (onto the
    /// runtime the group was first polled on) and the scope waits for that child too.
    fn spawn_from_a_plain_thread(rt: &Runtime) {
        fn assert_send_sync<T: Clone + Send + Sync>(_: &T) {}
        let counters = Counters::new();
        let c = counters.clone();
        rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            assert_send_sync(&tg);
            let gate = Gate::new();
            let g = gate.clone();
            // Keeps the group open until the thread has spawned.
            drop(tg.spawn(async move {
                g.wait().await;
                Ok(())
            }));
            let tg2 = tg.clone();
            std::thread::spawn(move || {
                drop(tg2.spawn(c.wrap(async { Ok(()) })));
                gate.set();
            });
            Ok(())
        }))
        .unwrap();
        assert_eq!(counters.drops(), 1);
    }
}
