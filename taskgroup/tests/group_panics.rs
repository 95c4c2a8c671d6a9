//! Panics: a child's panic cancels its siblings and resumes in the caller of `scope` only
//! once every child is gone, as `std::thread::scope` does (CPython `test_taskgroup_20`,
//! `_21a`: a `BaseException` in a child).

mod support;
use arbor_taskgroup::{CancelScope, TaskGroup};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use support::*;

/// A child that panics with `msg` at its first poll after a yield.
async fn panics<E>(msg: &'static str) -> Result<(), E> {
    arbor_runtime::yield_now().await;
    if !msg.is_empty() {
        panic!("{msg}");
    }
    Ok(())
}

rt_test! {
    /// CPython `test_taskgroup_20`: a child panics; the sleeping body and sibling are
    /// cancelled, and the panic resumes in the caller after the sibling's shielded cleanup
    /// has finished.
    fn test_taskgroup_20(rt: &Runtime) {
        quiet_panics();
        let sibling_done = Arc::new(AtomicBool::new(false));
        let body = Counters::new();
        let (s, b) = (sibling_done.clone(), body.clone());
        let res = rt.block_on(async move {
            catch_unwind(TaskGroup::<()>::scope(|tg| async move {
                let gate = Gate::new();
                let (tg2, g2) = (tg.clone(), gate.clone());
                // Outside the group: opens the sibling's cleanup once the group is cancelled.
                drop(arbor_runtime::spawn(async move {
                    until(|| tg2.is_cancelled()).await;
                    g2.set();
                }));
                let entered = Gate::new();
                let e = entered.clone();
                drop(tg.spawn(async move {
                    CancelScope::shielded()
                        .run(async move {
                            e.set();
                            gate.wait().await;
                            s.store(true, SeqCst);
                        })
                        .await
                        .unwrap();
                    Ok(())
                }));
                entered.wait().await;
                drop(tg.spawn(panics("arbor-test: KeyboardInterrupt")));
                b.wrap(std::future::pending::<()>()).await;
                Ok(())
            }))
            .await
        });
        let payload = res.expect_err("the child's panic resumes in the caller");
        assert_eq!(panic_message(&*payload), "arbor-test: KeyboardInterrupt");
        assert!(sibling_done.load(SeqCst), "resumed only after the sibling was gone");
        assert_eq!(body.drops(), 1, "the body was cancelled");
    }
}

rt_test! {
    /// The body panics: the children are cancelled and waited for, then the panic resumes.
    fn a_body_panic_resumes_after_the_children(rt: &Runtime) {
        quiet_panics();
        let children = Counters::new();
        let c = children.clone();
        let res = rt.block_on(catch_unwind(TaskGroup::<()>::scope(|tg| async move {
            for _ in 0..3 {
                drop(tg.spawn(c.wrap(sleeper())));
            }
            until(|| c.polls() == 3).await;
            panics::<()>("arbor-test: body").await
        })));
        let payload = res.expect_err("the body's panic resumes");
        assert_eq!(panic_message(&*payload), "arbor-test: body");
        assert_eq!(children.drops(), 3);
    }
}

rt_test! {
    /// A panicking child's own `Task` reports a panic, whose payload says where the original
    /// went.
    fn a_panicking_childs_task_reports_a_panic(rt: &Runtime) {
        quiet_panics();
        let err = rt.block_on(async {
            let mut task = None;
            let res = catch_unwind(TaskGroup::<()>::scope(|tg| {
                let task = &mut task;
                async move {
                    *task = Some(tg.spawn(panics("arbor-test: child")));
                    Ok::<(), ()>(())
                }
            }))
            .await;
            assert_eq!(panic_message(&*res.unwrap_err()), "arbor-test: child");
            task.unwrap().await.unwrap_err()
        });
        assert!(err.is_panic());
        assert!(panic_message(&*err.into_panic()).contains("TaskGroup::scope"));
    }
}

rt_test! {
    /// A child whose destructor panics while it is being cancelled: the panic resumes in the
    /// caller too.
    fn a_panic_in_a_cancelled_childs_drop_resumes(rt: &Runtime) {
        quiet_panics();
        let res = rt.block_on(catch_unwind(TaskGroup::<&str>::scope(|tg| async move {
            let started = Gate::new();
            let s = started.clone();
            drop(tg.spawn(async move {
                let _bomb = OnDrop(|| panic!("arbor-test: drop"));
                s.set();
                std::future::pending::<Result<(), &str>>().await
            }));
            started.wait().await;
            tg.cancel();
            Ok(())
        })));
        assert_eq!(panic_message(&*res.unwrap_err()), "arbor-test: drop");
    }
}

rt_test! {
    /// Two children panic: one payload resumes (the first recorded), never both, and the
    /// group still waits for everything.
    fn two_panics_resume_one(rt: &Runtime) {
        quiet_panics();
        let res = rt.block_on(catch_unwind(TaskGroup::<()>::scope(|tg| async move {
            drop(tg.spawn(panics("arbor-test: a")));
            drop(tg.spawn(panics("arbor-test: b")));
            Ok(())
        })));
        let msg = panic_message(&*res.unwrap_err());
        assert!(msg == "arbor-test: a" || msg == "arbor-test: b", "{msg}");
    }
}

rt_test! {
    /// A panic wins over errors: the group has both, and the panic resumes.
    fn a_panic_wins_over_errors(rt: &Runtime) {
        quiet_panics();
        let res = rt.block_on(catch_unwind(TaskGroup::<&str>::scope(|tg| async move {
            let entered = Gate::new();
            let e = entered.clone();
            drop(tg.spawn(async move {
                e.wait().await;
                Err::<(), _>("error")
            }));
            // The body is inside a shielded region when the child fails; it panics while
            // the group is being cancelled.
            let tg2 = tg.clone();
            CancelScope::shielded()
                .run(async move {
                    entered.set();
                    until(|| tg2.is_cancelled()).await;
                    panics::<&str>("arbor-test: late").await
                })
                .await
                .unwrap()
        })));
        assert_eq!(panic_message(&*res.unwrap_err()), "arbor-test: late");
    }
}

/// A child's panic handed to its group is not an unhandled panic, though the child's `Task`
/// was dropped: under `UnhandledPanic::ShutdownRuntime` it resumes from `scope` with its
/// own message, and the runtime keeps serving `block_on`.
#[test]
fn a_group_childs_panic_is_not_unhandled() {
    use arbor_runtime::runtime::{Builder, UnhandledPanic};
    quiet_panics();
    for rt in [
        Builder::new_current_thread(),
        Builder::new_multi_thread().worker_threads(1),
        Builder::new_multi_thread().worker_threads(4),
    ] {
        let rt = rt
            .unhandled_panic(UnhandledPanic::ShutdownRuntime)
            .build()
            .unwrap();
        let res = rt.block_on(async {
            catch_unwind(TaskGroup::<()>::scope(|tg| async move {
                drop(tg.spawn(panics("arbor-test: in the group")));
                Ok(())
            }))
            .await
        });
        let payload = res.expect_err("the child's panic resumes in the caller");
        assert_eq!(panic_message(&*payload), "arbor-test: in the group");
        // Not tripped: a later `block_on` runs to the end.
        assert_eq!(rt.block_on(async { 7 }), 7);
    }
}
