//! The structured guarantee: when a group's scope future resolves *or is dropped*, every
//! child's future has already been dropped, including children being polled on another
//! worker at that moment, and grandchildren; nothing leaks at runtime shutdown.

mod support;
use arbor_runtime::runtime::Builder;
use arbor_taskgroup::{CancelScope, Cancelled, TaskGroup};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use support::*;

rt_test! {
    /// Dropping the scope future (a `select` losing branch, say) drops every child and
    /// grandchild before the drop returns.
    fn dropping_the_scope_drops_every_descendant_first(rt: &Runtime) {
        let children = Counters::new();
        let c = children.clone();
        rt.block_on(async move {
            let ready = Latch::new();
            let (r, c2) = (ready.clone(), c.clone());
            let mut scope = Box::pin(TaskGroup::<()>::scope(|tg| async move {
                for _ in 0..4 {
                    let (r, c3) = (r.clone(), c2.clone());
                    drop(tg.spawn(async move {
                        TaskGroup::<()>::scope(|inner| async move {
                            for _ in 0..4 {
                                let r = r.clone();
                                drop(inner.spawn(c3.wrap(async move {
                                    r.arrive();
                                    std::future::pending::<Result<(), ()>>().await
                                })));
                            }
                            Ok(())
                        })
                        .await
                        .map_err(|_| ())
                    }));
                }
                std::future::pending::<()>().await;
                Ok(())
            }));
            assert!(poll_once(&mut scope).await.is_none());
            ready.wait_for(16).await;
            drop(scope);
            assert_eq!(c.drops(), 16, "every grandchild was dropped before `drop` returned");
        });
        assert_eq!(children.drops(), 16);
    }
}

rt_test! {
    /// Dropped before its first poll, after the body's closure already spawned: the children
    /// are dropped too.
    fn dropping_an_unpolled_scope_drops_children_spawned_by_the_closure(rt: &Runtime) {
        let children = Counters::new();
        let c = children.clone();
        rt.block_on(async move {
            let scope = TaskGroup::<()>::scope(|tg| {
                for _ in 0..3 {
                    drop(tg.spawn(c.wrap(sleeper())));
                }
                async { Ok(()) }
            });
            drop(scope);
            assert_eq!(c.drops(), 3);
        });
    }
}

#[test]
fn a_child_mid_poll_on_another_worker_is_dropped_before_the_scope_drop_returns() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let polls_after_release = Arc::new(AtomicUsize::new(0));
    let (d, p) = (dropped.clone(), polls_after_release.clone());
    rt.block_on(async move {
        let inside = Arc::new(Barrier::new(2));
        let release = Arc::new(Barrier::new(2));
        let (i, r) = (inside.clone(), release.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let mut scope = Box::pin(TaskGroup::<()>::scope(|tg| async move {
            tx.send(tg.clone()).unwrap();
            drop(tg.spawn(async move {
                let _flag = OnDrop(move || d.store(true, SeqCst));
                // Hold a worker inside this poll until the test is dropping the scope.
                i.wait();
                r.wait();
                arbor_runtime::yield_now().await;
                p.fetch_add(1, SeqCst);
                Ok(())
            }));
            std::future::pending::<()>().await;
            Ok(())
        }));
        assert!(poll_once(&mut scope).await.is_none());
        let tg = rx.recv().unwrap();
        let dropped = dropped.clone();
        arbor_runtime::to_thread(move || {
            inside.wait(); // the child is mid-poll on a worker
            // Let the poll go on once the drop has begun cancelling the group.
            let release_later = std::thread::spawn(move || {
                while !tg.is_cancelled() {
                    std::thread::yield_now();
                }
                release.wait();
            });
            drop(scope); // blocks until the child's poll returned and its future is dropped
            assert!(
                dropped.load(SeqCst),
                "the child was dropped before `drop` returned"
            );
            release_later.join().unwrap();
        })
        .await;
    });
    assert_eq!(
        polls_after_release.load(SeqCst),
        0,
        "never polled again once cancelled"
    );
}

/// Dropping a group is not a cancellation: a child that enters a shielded scope in the very
/// poll during which the group's drop claims it (mid-poll on another worker) is dropped as
/// that poll returns, shield and all; the drop does not wait for the region (a destructor
/// cannot await it). Found by the `scope_tree` fuzz target; this is the documented behaviour
/// (`CancelScope::shielded`, `TaskGroup`).
#[test]
fn a_shield_entered_while_the_group_is_being_dropped_is_dropped_with_it() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let entered = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let region_dropped = Arc::new(AtomicBool::new(false));
    let (e, f, rd) = (entered.clone(), finished.clone(), region_dropped.clone());
    rt.block_on(async move {
        let inside = Arc::new(Barrier::new(2));
        let i = inside.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut scope = Box::pin(TaskGroup::<()>::scope(|tg| async move {
            tx.send(tg.clone()).unwrap();
            let tg2 = tg.clone();
            drop(tg.spawn(async move {
                // Hold a worker inside this poll until the drop has begun (the group is
                // cancelled by it), then enter a shield in the same poll.
                i.wait();
                while !tg2.is_cancelled() {
                    std::thread::yield_now();
                }
                CancelScope::shielded()
                    .run(async move {
                        let _flag = OnDrop(move || rd.store(true, SeqCst));
                        e.store(true, SeqCst);
                        arbor_runtime::yield_now().await;
                        f.store(true, SeqCst);
                    })
                    .await
                    .unwrap();
                Ok(())
            }));
            std::future::pending::<()>().await;
            Ok(())
        }));
        assert!(poll_once(&mut scope).await.is_none());
        let _tg = rx.recv().unwrap();
        arbor_runtime::to_thread(move || {
            inside.wait(); // the child is mid-poll on a worker
            drop(scope); // blocks until the child's poll returned and its future is dropped
        })
        .await;
    });
    assert!(
        entered.load(SeqCst),
        "the shield was entered during the drop"
    );
    assert!(
        region_dropped.load(SeqCst),
        "and dropped before the drop returned"
    );
    assert!(!finished.load(SeqCst), "without running to its end");
}

/// Before its first poll a group is not in the cancel tree: a shield its closure's children
/// entered then does not hold up the scope around it. When that scope is cancelled it drops
/// the unpolled group like any future it wraps, and the group's drop drops the children,
/// shields and all. Found by the `scope_tree` fuzz target; documented on
/// `CancelScope::shielded`. (The region never ends by itself: were it to hold up the scope,
/// the run would not return, which the watchdog reports.)
#[test]
fn a_cancelled_scope_drops_an_unpolled_group_and_the_shields_in_its_children() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = Builder::new_current_thread().build().unwrap();
        let entered = Arc::new(AtomicBool::new(false));
        let region_dropped = Arc::new(AtomicBool::new(false));
        let (e, rd) = (entered.clone(), region_dropped.clone());
        let res = rt.block_on(async move {
            let outer = CancelScope::new();
            let handle = outer.handle();
            outer
                .run(async move {
                    let e2 = e.clone();
                    let group = TaskGroup::<()>::scope(|tg| {
                        drop(tg.spawn(async move {
                            CancelScope::shielded()
                                .run(async move {
                                    let _flag = OnDrop(move || rd.store(true, SeqCst));
                                    e2.store(true, SeqCst);
                                    std::future::pending::<()>().await
                                })
                                .await
                                .unwrap();
                            Ok(())
                        }));
                        async { Ok(()) }
                    });
                    until(|| e.load(SeqCst)).await; // the child is inside its shield
                    handle.cancel();
                    arbor_runtime::yield_now().await; // the scope drops its future here
                    group.await
                })
                .await
        });
        let _ = done.send((res, entered.load(SeqCst), region_dropped.load(SeqCst)));
    });
    let (res, entered, region_dropped) = finished
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the cancelled scope waited for the shield in the unpolled group's child");
    assert_eq!(res, Err(Cancelled));
    assert!(entered);
    assert!(region_dropped, "the region was dropped with the group");
}

rt_test! {
    /// The scope resolves only after every child's future has been dropped, also when the
    /// children finish on their own.
    fn the_scope_resolves_after_every_child_is_dropped(rt: &Runtime) {
        let dropped = Arc::new(AtomicUsize::new(0));
        let d = dropped.clone();
        rt.block_on(async move {
            let seen = TaskGroup::<()>::scope(|tg| async move {
                for _ in 0..32 {
                    let d = d.clone();
                    drop(tg.spawn(async move {
                        let _count = OnDrop(move || {
                            d.fetch_add(1, SeqCst);
                        });
                        arbor_runtime::yield_now().await;
                        Ok(())
                    }));
                }
                Ok(())
            })
            .await;
            seen.unwrap();
        });
        assert_eq!(dropped.load(SeqCst), 32);
    }
}

/// Runtime shutdown with groups (nested) inside a detached task: every child's future is
/// dropped and freed, and shutdown does not hang.
#[test]
fn runtime_drop_with_live_groups_leaks_nothing() {
    for build in support_flavours() {
        let rt = build();
        let children = Counters::new();
        let c = children.clone();
        let task = rt.spawn(async move {
            TaskGroup::<()>::scope(|tg| async move {
                for _ in 0..8 {
                    let c = c.clone();
                    drop(tg.spawn(async move {
                        TaskGroup::<()>::scope(|inner| async move {
                            drop(inner.spawn(c.wrap(sleeper())));
                            Ok(())
                        })
                        .await
                        .map_err(|_| ())
                    }));
                }
                std::future::pending::<()>().await;
                Ok(())
            })
            .await
        });
        let c = children.clone();
        rt.block_on(until(move || c.polls() == 8));
        drop(task);
        drop(rt);
        assert_eq!(children.drops(), 8);
        assert_eq!(
            std::sync::Arc::strong_count(&children.drops),
            1,
            "every counting future was freed"
        );
    }
}

fn support_flavours() -> Vec<fn() -> arbor_runtime::runtime::Runtime> {
    vec![
        || Builder::new_current_thread().build().unwrap(),
        || {
            Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap()
        },
        || {
            Builder::new_multi_thread()
                .worker_threads(4)
                .build()
                .unwrap()
        },
    ]
}

rt_test! {
    /// Cancelling (`Task::cancel`) a task in which a group waits reaches the group's
    /// children: all are dropped before the task reports cancelled, and their `Task`s report
    /// cancelled too.
    fn task_cancel_reaches_the_children_of_groups_inside(rt: &Runtime) {
        rt.block_on(async {
            let ready = Latch::new();
            let r = ready.clone();
            let (tx, rx) = std::sync::mpsc::channel();
            let runner = arbor_runtime::spawn(async move {
                TaskGroup::<()>::scope(|tg| async move {
                    for _ in 0..3 {
                        let r = r.clone();
                        tx.send(tg.spawn(async move {
                            r.arrive();
                            std::future::pending::<Result<(), ()>>().await
                        }))
                        .unwrap();
                    }
                    Ok(())
                })
                .await
            });
            ready.wait_for(3).await;
            runner.cancel();
            assert!(runner.await.unwrap_err().is_cancelled());
            for child in rx.try_iter() {
                assert!(child.await.unwrap_err().is_cancelled());
            }
        });
    }
}
