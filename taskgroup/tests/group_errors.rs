//! Failures: fail-fast, every error in the order it happened (the body's own among them),
//! cancelled children are not errors, cancelling one child is not a failure, nested groups
//! compose (CPython `test_taskgroups.py`).

mod support;
use arbor_taskgroup::{CancelScope, GroupError, TaskGroup};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use support::*;

/// Spawns a detached task that opens `gate` once `tg` is cancelled: it stands outside the
/// group, so it is not cancelled with it, and makes "after the failure" deterministic.
fn open_when_cancelled<E: Send + 'static>(tg: &TaskGroup<E>, gate: &Gate) {
    let (tg, gate) = (tg.clone(), gate.clone());
    drop(arbor_runtime::spawn(async move {
        until(|| tg.is_cancelled()).await;
        gate.set();
    }));
}

rt_test! {
    /// CPython `test_taskgroup_04`: one child fails; its sibling is cancelled (dropped, its
    /// `Task` reports cancelled), and the code after the group never runs.
    fn test_taskgroup_04(rt: &Runtime) {
        let sibling = Counters::new();
        let after_group = Arc::new(AtomicBool::new(false));
        let (s, a) = (sibling.clone(), after_group.clone());
        let (err, t2) = rt.block_on(async move {
            let mut t2 = None;
            let res = TaskGroup::scope(|tg| {
                let t2 = &mut t2;
                async move {
                    drop(tg.spawn(async {
                        arbor_runtime::yield_now().await;
                        Err::<(), _>("ZeroDivisionError")
                    }));
                    *t2 = Some(tg.spawn(s.wrap(sleeper())));
                    Ok(())
                }
            })
            .await;
            if res.is_ok() {
                a.store(true, SeqCst);
            }
            (res.unwrap_err(), t2.unwrap())
        });
        assert_eq!(err.errors(), &["ZeroDivisionError"]);
        assert!(!after_group.load(SeqCst));
        assert_eq!(sibling.drops(), 1);
        assert!(rt.block_on(t2).unwrap_err().is_cancelled());
    }
}

rt_test! {
    /// CPython `test_cancel_children_on_child_error`: three children fail, a fourth and the
    /// body sleep. The sleepers are cancelled; every error is a real one (how many of the
    /// three ran before the first cancelled the rest depends on scheduling, as in CPython).
    fn test_cancel_children_on_child_error(rt: &Runtime) {
        let sleepers = Counters::new();
        let s = sleepers.clone();
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                for _ in 0..3 {
                    drop(tg.spawn(async {
                        arbor_runtime::yield_now().await;
                        Err::<(), _>("ZeroDivisionError")
                    }));
                }
                drop(tg.spawn(s.wrap(sleeper())));
                s.wrap(std::future::pending::<()>()).await;
                Ok(())
            }))
            .unwrap_err();
        assert!((1..=3).contains(&err.errors().len()));
        assert!(err.errors().iter().all(|e| *e == "ZeroDivisionError"));
        assert_eq!(sleepers.drops(), 2, "the sleeping child and the body were cancelled");
    }
}

rt_test! {
    /// Errors are reported in the order they happened: a child fails, then another child
    /// finishing its shielded cleanup fails too.
    fn errors_in_the_order_they_happened(rt: &Runtime) {
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                let gate = Gate::new();
                open_when_cancelled(&tg, &gate);
                let entered = Gate::new();
                let e = entered.clone();
                drop(tg.spawn(async move {
                    CancelScope::shielded()
                        .run(async move {
                            e.set();
                            gate.wait().await;
                            Err::<(), _>("second")
                        })
                        .await
                        .unwrap()
                }));
                entered.wait().await;
                drop(tg.spawn(async { Err::<(), _>("first") }));
                Ok(())
            }))
            .unwrap_err();
        assert_eq!(err.into_errors(), vec!["first", "second"]);
    }
}

rt_test! {
    /// CPython `test_taskgroup_10`: the body fails at once; its error is the group's, and
    /// both children are cancelled.
    fn test_taskgroup_10(rt: &Runtime) {
        let children = Counters::new();
        let c = children.clone();
        let (err, t1, t2) = rt.block_on(async move {
            let mut tasks = None;
            let err = TaskGroup::scope(|tg| {
                let tasks = &mut tasks;
                async move {
                    *tasks = Some((tg.spawn(c.wrap(sleeper())), tg.spawn(c.wrap(sleeper()))));
                    Err::<(), _>("ZeroDivisionError")
                }
            })
            .await
            .unwrap_err();
            let (t1, t2) = tasks.unwrap();
            (err, t1, t2)
        });
        assert_eq!(err.errors(), &["ZeroDivisionError"]);
        assert_eq!(children.drops(), 2);
        assert!(rt.block_on(t1).unwrap_err().is_cancelled());
        assert!(rt.block_on(t2).unwrap_err().is_cancelled());
    }
}

rt_test! {
    /// CPython `test_taskgroup_09`: as `_10`, but the body waits a while before failing.
    fn test_taskgroup_09(rt: &Runtime) {
        let children = Counters::new();
        let c = children.clone();
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                drop(tg.spawn(c.wrap(sleeper())));
                drop(tg.spawn(c.wrap(sleeper())));
                until(|| c.polls() == 2).await;
                Err::<(), _>("ZeroDivisionError")
            }))
            .unwrap_err();
        assert_eq!(err.errors(), &["ZeroDivisionError"]);
        assert_eq!(children.drops(), 2);
    }
}

rt_test! {
    /// CPython `test_taskgroup_19`: a child fails, then the body, cleaning up in a shielded
    /// scope, fails too: both errors, child's first.
    fn test_taskgroup_19(rt: &Runtime) {
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                let gate = Gate::new();
                open_when_cancelled(&tg, &gate);
                drop(tg.spawn(async {
                    arbor_runtime::yield_now().await;
                    Err::<(), _>("ZeroDivisionError")
                }));
                CancelScope::shielded().run(gate.wait()).await.unwrap();
                Err::<(), _>("MyExc")
            }))
            .unwrap_err();
        assert_eq!(err.into_errors(), vec!["ZeroDivisionError", "MyExc"]);
    }
}

rt_test! {
    /// CPython `test_taskgroup_03`: cancelling one child's `Task` is not a failure; the
    /// group goes on and returns normally.
    fn test_taskgroup_03(rt: &Runtime) {
        let (t1, t2) = rt.block_on(async {
            TaskGroup::<()>::scope(|tg| async move {
                let t1 = tg.spawn(sleeper::<()>());
                arbor_runtime::yield_now().await;
                assert!(t1.cancel());
                let t2 = tg.spawn(async { Ok(11) });
                Ok((t1, t2))
            })
            .await
            .unwrap()
        });
        assert!(rt.block_on(t1).unwrap_err().is_cancelled());
        assert_eq!(rt.block_on(t2).unwrap(), 11);
    }
}

rt_test! {
    /// Trio `test_cancel_scope_exceptiongroup_filtering`: children cancelled (here through
    /// their `Task`s) add nothing; only the real error is reported.
    fn test_cancel_scope_exceptiongroup_filtering(rt: &Runtime) {
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                for _ in 0..4 {
                    tg.spawn(sleeper()).cancel();
                }
                drop(tg.spawn(async { Err::<(), _>("KeyError") }));
                Ok(())
            }))
            .unwrap_err();
        assert_eq!(err.into_errors(), vec!["KeyError"]);
    }
}

/// The error type of the nested-group tests: a leaf error, or an inner group's failure.
#[derive(Debug, PartialEq)]
enum Nested {
    Value(u32),
    Group(Vec<Nested>),
}

impl From<GroupError<Nested>> for Nested {
    fn from(err: GroupError<Nested>) -> Nested {
        Nested::Group(err.into_errors())
    }
}

rt_test! {
    /// CPython `test_taskgroup_13`: the outer group's child fails first; the inner group
    /// (inside the body) is cancelled with the body, and only the outer error is reported.
    fn test_taskgroup_13(rt: &Runtime) {
        let err = rt
            .block_on(TaskGroup::<Nested>::scope(|g1| async move {
                drop(g1.spawn(async {
                    arbor_runtime::yield_now().await;
                    Err::<(), _>(Nested::Value(1))
                }));
                TaskGroup::scope(|g2| async move {
                    drop(g2.spawn(sleeper()));
                    Ok(())
                })
                .await?;
                Ok(())
            }))
            .unwrap_err();
        assert_eq!(err.into_errors(), vec![Nested::Value(1)]);
    }
}

rt_test! {
    /// CPython `test_taskgroup_14`: the inner group fails first; its `GroupError` is a value
    /// the outer body returns, so the outer error holds the inner group's errors.
    fn test_taskgroup_14(rt: &Runtime) {
        let err = rt
            .block_on(TaskGroup::<Nested>::scope(|g1| async move {
                drop(g1.spawn(sleeper()));
                TaskGroup::scope(|g2| async move {
                    drop(g2.spawn(async {
                        arbor_runtime::yield_now().await;
                        Err::<(), _>(Nested::Value(2))
                    }));
                    Ok(())
                })
                .await?;
                Ok(())
            }))
            .unwrap_err();
        assert_eq!(err.into_errors(), vec![Nested::Group(vec![Nested::Value(2)])]);
    }
}

rt_test! {
    /// CPython `test_taskgroup_18`: the group is cancelled while the body sleeps; the body,
    /// cleaning up in a shielded scope, then fails. The real error wins over the
    /// cancellation: `is_cancelled()` is false.
    fn test_taskgroup_18(rt: &Runtime) {
        let cleaned = Arc::new(AtomicUsize::new(0));
        let c = cleaned.clone();
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                let tg2 = tg.clone();
                CancelScope::shielded()
                    .run(async move {
                        tg2.cancel();
                        arbor_runtime::yield_now().await;
                        c.fetch_add(10, SeqCst);
                    })
                    .await
                    .unwrap();
                Err::<(), _>("MyExc")
            }))
            .unwrap_err();
        assert!(!err.is_cancelled());
        assert_eq!(err.errors(), &["MyExc"]);
        assert_eq!(cleaned.load(SeqCst), 10);
    }
}

rt_test! {
    /// `tg.cancel()` after a child's failure: the error wins.
    fn real_errors_win_over_cancel(rt: &Runtime) {
        let err = rt
            .block_on(TaskGroup::scope(|tg| async move {
                let tg2 = tg.clone();
                drop(tg.spawn(async { Err::<(), _>("real") }));
                CancelScope::shielded()
                    .run(async move {
                        until(|| tg2.is_cancelled()).await;
                        tg2.cancel();
                    })
                    .await
                    .unwrap();
                Ok(())
            }))
            .unwrap_err();
        assert!(!err.is_cancelled());
        assert_eq!(err.errors(), &["real"]);
    }
}

rt_test! {
    /// A failing child's own `Task` reports cancelled: its error went to the group.
    fn a_failed_childs_task_reports_cancelled(rt: &Runtime) {
        let failed = Arc::new(AtomicUsize::new(0));
        let f = failed.clone();
        rt.block_on(async move {
            let mut task = None;
            let res = TaskGroup::scope(|tg| {
                let task = &mut task;
                async move {
                    *task = Some(tg.spawn(async { Err::<(), _>(7) }));
                    Ok(())
                }
            })
            .await;
            f.store(res.unwrap_err().errors()[0], SeqCst);
            assert!(task.unwrap().await.unwrap_err().is_cancelled());
        });
        assert_eq!(failed.load(SeqCst), 7);
    }
}

#[test]
fn group_error_is_an_error_with_the_first_as_source() {
    use std::error::Error;
    let rt = arbor_runtime::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = rt
        .block_on(TaskGroup::scope(|tg| async move {
            drop(tg.spawn(async { Err::<(), _>(std::io::Error::other("disk full")) }));
            Ok(())
        }))
        .unwrap_err();
    assert_eq!(err.to_string(), "a task group failed: disk full");
    assert_eq!(err.source().unwrap().to_string(), "disk full");
    let cancelled = rt
        .block_on(TaskGroup::<&str>::scope(|tg| async move {
            tg.cancel();
            Ok(())
        }))
        .unwrap_err();
    assert!(cancelled.is_cancelled() && cancelled.errors().is_empty());
    assert_eq!(cancelled.to_string(), "the task group was cancelled");
    assert_eq!(format!("{cancelled:?}"), "GroupError::Cancelled");
}
