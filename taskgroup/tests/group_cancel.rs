//! Cancellation and groups: `tg.cancel()`, cancellation reaching every descendant task,
//! `Task::cancel` of a task that runs a group, spawning into a cancelling or finished group
//! (CPython `test_taskgroups.py`, Trio `test_run.py`).

mod support;
use arbor_taskgroup::{CancelScope, Cancelled, TaskGroup};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use support::*;

/// Spawns a group whose children each open a group of `leaves` sleeping children, `depth`
/// levels deep; every leaf is wrapped by `leaves_counter`. `ready` counts leaves started.
fn tree(tg: &TaskGroup<()>, depth: usize, leaves: usize, counters: &Counters, ready: &Latch) {
    for _ in 0..leaves {
        if depth == 0 {
            let ready = ready.clone();
            drop(tg.spawn(counters.wrap(async move {
                ready.arrive();
                std::future::pending::<Result<(), ()>>().await
            })));
        } else {
            let (counters, ready) = (counters.clone(), ready.clone());
            drop(tg.spawn(async move {
                TaskGroup::<()>::scope(|inner| async move {
                    tree(&inner, depth - 1, leaves, &counters, &ready);
                    Ok(())
                })
                .await
                .map_err(|_| ())
            }));
        }
    }
}

rt_test! {
    /// Trio `test_cancel_inheritance`: cancelling a group reaches its children's own groups'
    /// children, at any depth; the group reports `is_cancelled()` with no errors.
    fn test_cancel_inheritance(rt: &Runtime) {
        let leaves = Counters::new();
        let l = leaves.clone();
        let err = rt
            .block_on(TaskGroup::<()>::scope(|tg| async move {
                let ready = Latch::new();
                tree(&tg, 2, 2, &l, &ready);
                ready.wait_for(8).await;
                tg.cancel();
                Ok(())
            }))
            .unwrap_err();
        assert!(err.is_cancelled() && err.errors().is_empty());
        assert_eq!(leaves.drops(), 8);
    }
}

rt_test! {
    /// An enclosing cancel scope reaches the grandchildren of a group opened inside it, and
    /// it is the scope (the outermost cancelled one) that reports.
    fn an_enclosing_scope_cancels_grandchildren_and_catches(rt: &Runtime) {
        let leaves = Counters::new();
        let l = leaves.clone();
        let scope = CancelScope::new();
        let handle = scope.handle();
        let res = rt.block_on(scope.run(async move {
            TaskGroup::<()>::scope(|tg| async move {
                let ready = Latch::new();
                tree(&tg, 3, 2, &l, &ready);
                ready.wait_for(16).await;
                handle.cancel();
                std::future::pending::<()>().await;
                Ok(())
            })
            .await
        }));
        assert_eq!(res.unwrap_err(), Cancelled, "the scope catches, not the group");
        assert_eq!(leaves.drops(), 16);
    }
}

rt_test! {
    /// A group cancelled by its own `cancel` inside an enclosing scope that is cancelled too:
    /// the outermost (the scope) reports.
    fn the_outermost_cancelled_scope_catches_over_a_group(rt: &Runtime) {
        let scope = CancelScope::new();
        let handle = scope.handle();
        let res = rt.block_on(scope.run(TaskGroup::<()>::scope(|tg| async move {
            drop(tg.spawn(sleeper()));
            tg.cancel();
            handle.cancel();
            Ok(())
        })));
        assert_eq!(res.unwrap_err(), Cancelled);
    }
}

rt_test! {
    /// `tg.cancel()` from inside a child cancels the body and every sibling.
    fn cancel_from_a_child(rt: &Runtime) {
        let others = Counters::new();
        let o = others.clone();
        let err = rt
            .block_on(TaskGroup::<()>::scope(|tg| async move {
                for _ in 0..3 {
                    drop(tg.spawn(o.wrap(sleeper())));
                }
                let tg2 = tg.clone();
                drop(tg.spawn(async move {
                    tg2.cancel();
                    Ok(())
                }));
                o.wrap(std::future::pending::<()>()).await;
                Ok(())
            }))
            .unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(others.drops(), 4, "three siblings and the body");
    }
}

rt_test! {
    /// CPython `test_cancellation`: cancelling the task that runs a group (`Task::cancel`)
    /// cancels the group's children; each child's future is dropped before the task
    /// reports cancelled.
    fn test_cancellation(rt: &Runtime) {
        let children = Counters::new();
        let c = children.clone();
        rt.block_on(async move {
            let ready = Latch::new();
            let r = ready.clone();
            let c2 = c.clone();
            let runner = arbor_runtime::spawn(async move {
                TaskGroup::<()>::scope(|tg| async move {
                    for _ in 0..5 {
                        let r = r.clone();
                        drop(tg.spawn(c2.wrap(async move {
                            r.arrive();
                            std::future::pending::<Result<(), ()>>().await
                        })));
                    }
                    Ok(())
                })
                .await
            });
            ready.wait_for(5).await;
            assert!(!runner.is_finished());
            assert!(runner.cancel());
            assert!(runner.await.unwrap_err().is_cancelled());
            assert_eq!(c.drops(), 5, "every child dropped before the runner completed");
        });
        assert_eq!(children.drops(), 5);
    }
}

rt_test! {
    /// CPython `test_taskgroup_07`: as `test_cancellation`, with the body sleeping too.
    fn test_taskgroup_07(rt: &Runtime) {
        let dropped = Counters::new();
        let d = dropped.clone();
        rt.block_on(async move {
            let ready = Latch::new();
            let r = ready.clone();
            let d2 = d.clone();
            let runner = arbor_runtime::spawn(async move {
                TaskGroup::<()>::scope(|tg| async move {
                    for _ in 0..5 {
                        let r = r.clone();
                        drop(tg.spawn(d2.wrap(async move {
                            r.arrive();
                            std::future::pending::<Result<(), ()>>().await
                        })));
                    }
                    r.arrive();
                    d2.wrap(std::future::pending::<()>()).await;
                    Ok(())
                })
                .await
            });
            ready.wait_for(6).await;
            runner.cancel();
            assert!(runner.await.unwrap_err().is_cancelled());
            assert_eq!(d.drops(), 6);
        });
        assert_eq!(dropped.drops(), 6);
    }
}

rt_test! {
    /// CPython `test_taskgroup_12`: nested groups inside a task that is cancelled: the
    /// inner and outer groups' children all go.
    fn test_taskgroup_12(rt: &Runtime) {
        let children = Counters::new();
        let c = children.clone();
        rt.block_on(async move {
            let ready = Latch::new();
            let (r, c2) = (ready.clone(), c.clone());
            let runner = arbor_runtime::spawn(async move {
                TaskGroup::<()>::scope(|g1| async move {
                    let r1 = r.clone();
                    drop(g1.spawn(c2.wrap(async move {
                        r1.arrive();
                        std::future::pending::<Result<(), ()>>().await
                    })));
                    TaskGroup::<()>::scope(|g2| async move {
                        for _ in 0..5 {
                            let r = r.clone();
                            drop(g2.spawn(c2.wrap(async move {
                                r.arrive();
                                std::future::pending::<Result<(), ()>>().await
                            })));
                        }
                        std::future::pending::<()>().await;
                        Ok(())
                    })
                    .await
                    .map_err(|_| ())
                })
                .await
            });
            ready.wait_for(6).await;
            runner.cancel();
            assert!(runner.await.unwrap_err().is_cancelled());
            assert_eq!(c.drops(), 6);
        });
    }
}

rt_test! {
    /// CPython `test_taskgroup_no_create_task_after_failure`, arbor's rule: a child spawned
    /// into a group that is being cancelled is cancelled before its first poll.
    fn test_taskgroup_no_create_task_after_failure(rt: &Runtime) {
        let late = Counters::new();
        let l = late.clone();
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                let spawned = Gate::new();
                let entered = Gate::new();
                let (s, e) = (spawned.clone(), entered.clone());
                // Keeps the group open (in a shielded region) until the late spawn happened.
                drop(tg.spawn(async move {
                    CancelScope::shielded()
                        .run(async move {
                            e.set();
                            s.wait().await;
                        })
                        .await
                        .unwrap();
                    Ok(())
                }));
                entered.wait().await;
                drop(tg.spawn(async { Err::<(), _>("ZeroDivisionError") }));
                // Outside the group, so it runs on after the failure.
                drop(arbor_runtime::spawn(async move {
                    until(|| tg.is_cancelled()).await;
                    let task = tg.spawn(l.wrap(async { Ok(()) }));
                    spawned.set();
                    assert!(task.await.unwrap_err().is_cancelled());
                }));
                std::future::pending::<()>().await;
                Ok(())
            }))
            .unwrap_err();
        assert_eq!(err.errors(), &["ZeroDivisionError"]);
        assert_eq!((late.polls(), late.drops()), (0, 1), "cancelled before its first poll");
    }
}

rt_test! {
    /// Trio `test_precancelled_task`, arbor's rule: spawning into a group that was already
    /// cancelled creates a child that is cancelled before its first poll.
    fn test_precancelled_task(rt: &Runtime) {
        let child = Counters::new();
        let c = child.clone();
        let err = rt
            .block_on(TaskGroup::<()>::scope(|tg| async move {
                tg.cancel();
                let task = tg.spawn(c.wrap(async { Ok(()) }));
                assert!(task.await.unwrap_err().is_cancelled());
                Ok(())
            }))
            .unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!((child.polls(), child.drops()), (0, 1));
    }
}

rt_test! {
    /// CPython `test_taskgroup_finished`: `spawn` into a finished group panics with a clear
    /// message.
    fn test_taskgroup_finished(rt: &Runtime) {
        quiet_panics();
        let tg = rt
            .block_on(TaskGroup::<()>::scope(|tg| async move { Ok(tg) }))
            .unwrap();
        let _enter = rt.enter();
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(tg.spawn(async { Ok(()) }));
        }))
        .unwrap_err();
        assert!(panic_message(&*payload).contains("finished group"));
    }
}

rt_test! {
    /// CPython `test_coro_closed_when_tg_closed`: `try_spawn` into a finished group returns
    /// `Err`, and the future is dropped unpolled.
    fn test_coro_closed_when_tg_closed(rt: &Runtime) {
        let fut = Counters::new();
        let tg = rt
            .block_on(TaskGroup::<()>::scope(|tg| async move { Ok(tg) }))
            .unwrap();
        assert!(tg.try_spawn(fut.wrap(async { Ok(()) })).is_err());
        assert_eq!((fut.polls(), fut.drops()), (0, 1));
    }
}

rt_test! {
    /// A group opened inside an already-cancelled scope never runs its body's children; the
    /// scope reports.
    fn a_group_opened_in_a_cancelled_scope(rt: &Runtime) {
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let scope = CancelScope::new();
        scope.cancel();
        let res = rt.block_on(scope.run(TaskGroup::<()>::scope(|_tg| async move {
            r.store(true, SeqCst);
            Ok(())
        })));
        assert_eq!(res.unwrap_err(), Cancelled);
        assert!(!ran.load(SeqCst));
    }
}

rt_test! {
    /// CPython `test_taskgroup_15`, with an enclosing cancel scope as the canceller: the
    /// body's async cleanup (in a shielded scope) runs to the end, and then the scope
    /// reports the cancellation. The child that would have crashed later was cancelled with
    /// the rest as soon as the scope was (Trio's rule), so it never crashes.
    fn test_taskgroup_15(rt: &Runtime) {
        let cleaned = Arc::new(AtomicUsize::new(0));
        let crashed = Arc::new(AtomicBool::new(false));
        let (c, k) = (cleaned.clone(), crashed.clone());
        let scope = CancelScope::new();
        let handle = scope.handle();
        let res = rt.block_on(scope.run(TaskGroup::<&str>::scope(|tg| async move {
            let entered = Gate::new();
            let e = entered.clone();
            drop(tg.spawn(async move {
                e.wait().await;
                k.store(true, SeqCst);
                Err::<(), _>("ZeroDivisionError")
            }));
            // The child waits on the gate; from now on it only runs again through a wake-up.
            until(|| entered.waiters() == 1).await;
            CancelScope::shielded()
                .run(async move {
                    handle.cancel();
                    entered.set();
                    for _ in 0..10 {
                        arbor_runtime::yield_now().await;
                    }
                    c.fetch_add(1, SeqCst);
                })
                .await
                .unwrap();
            std::future::pending::<()>().await;
            Ok(())
        })));
        assert_eq!(res.unwrap_err(), Cancelled);
        assert_eq!(cleaned.load(SeqCst), 1);
        assert!(!crashed.load(SeqCst));
    }
}

rt_test! {
    /// A child with a shielded cleanup, in a group that fails: the cleanup runs to the end
    /// before the child is dropped and before the group returns.
    fn a_childs_shield_defers_its_drop(rt: &Runtime) {
        let cleaned = Arc::new(AtomicUsize::new(0));
        let c = cleaned.clone();
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                let entered = Gate::new();
                let e = entered.clone();
                let tg2 = tg.clone();
                drop(tg.spawn(async move {
                    CancelScope::shielded()
                        .run(async move {
                            e.set();
                            until(|| tg2.is_cancelled()).await;
                            // Still polled although the group is cancelled.
                            arbor_runtime::yield_now().await;
                            c.fetch_add(1, SeqCst);
                        })
                        .await
                        .unwrap();
                    // Dropped at the first pending point after the region ends.
                    std::future::pending::<Result<(), &str>>().await
                }));
                entered.wait().await;
                drop(tg.spawn(async { Err::<(), _>("fail") }));
                Ok(())
            }))
            .unwrap_err();
        assert_eq!(err.errors(), &["fail"]);
        assert_eq!(cleaned.load(SeqCst), 1);
    }
}
