//! Ports of Trio's deadline tests (`trio/_tests/test_timeouts.py`, and the deadline cases of
//! `trio/_core/_tests/test_run.py`), plus CPython's `test_waitfor.py` cases, each named
//! after the case it ports, on virtual time.

mod support;

use arbor_runtime::time::{Instant, current_deadline, sleep};
use arbor_taskgroup::{CancelScope, TaskGroup};
use arbor_timeouts::{
    TimedOut, Timeout, fail_after, fail_at, move_on_after, move_on_at, timeout, wait_for,
};
use std::future::{pending, ready};
use std::time::Duration;
use support::{Counters, ms, virtual_time};

#[test]
fn test_move_on_after() {
    virtual_time(async {
        let start = Instant::now();
        assert_eq!(move_on_after(ms(10), pending::<()>()).await, None);
        assert_eq!(start.elapsed(), ms(10));
        assert_eq!(move_on_after(ms(10), ready(1)).await, Some(1));
        assert_eq!(
            move_on_at(Instant::now() + ms(5), sleep(ms(50))).await,
            None
        );
    });
}

#[test]
fn test_fail() {
    virtual_time(async {
        assert_eq!(fail_after(ms(10), pending::<()>()).await, Err(TimedOut));
        assert_eq!(fail_at(Instant::now() + ms(10), ready(3)).await, Ok(3));
    });
}

#[test]
fn test_fail_after_fails_even_if_shielded() {
    // A shield inside the timeout defers the drop until the shielded region completes; the
    // timeout then reports.
    virtual_time(async {
        let start = Instant::now();
        let res = fail_after(ms(10), async {
            let cleanup = CancelScope::shielded().run(sleep(ms(30))).await;
            assert_eq!(cleanup, Ok(()), "the shielded region ran to the end");
            pending::<()>().await
        })
        .await;
        assert_eq!(res, Err(TimedOut));
        assert_eq!(start.elapsed(), ms(30));
    });
}

#[test]
fn test_cancel_scope_deadline() {
    // Trio's `test_cancel_scope_deadline`: reading and moving the deadline, before and
    // while the scope runs; a deadline moved into the past fires at once.
    virtual_time(async {
        let start = Instant::now();
        let t = Timeout::after(Duration::from_secs(1));
        let h = t.handle();
        assert_eq!(h.when(), Some(start + Duration::from_secs(1)));
        h.reschedule(Some(start + ms(100)));
        let h2 = h.clone();
        let res = t
            .run(async move {
                sleep(ms(10)).await;
                h2.reschedule(Some(Instant::now() - ms(1)));
                pending::<()>().await
            })
            .await;
        assert_eq!(res, Err(TimedOut));
        assert!(h.expired());
        assert_eq!(
            start.elapsed(),
            ms(10),
            "fired as soon as it was moved into the past"
        );
    });
}

#[test]
fn test_current_effective_deadline() {
    virtual_time(async {
        assert_eq!(current_deadline(), None);
        let start = Instant::now();
        let outer = start + ms(100);
        let res = Timeout::at(outer)
            .run(async move {
                assert_eq!(current_deadline(), Some(outer));
                // A later inner deadline does not move the effective one.
                let later = timeout(ms(500), async { current_deadline() }).await;
                assert_eq!(later, Ok(Some(outer)));
                // An earlier one does.
                let earlier = timeout(ms(50), async { current_deadline() }).await;
                assert_eq!(earlier, Ok(Some(start + ms(50))));
                // A shield hides the outer deadline; its own nested ones still count.
                let shielded = CancelScope::shielded()
                    .run(async { current_deadline() })
                    .await;
                assert_eq!(shielded, Ok(None));
                // Rescheduling shows at once.
                let t = Timeout::never();
                let h = t.handle();
                t.run(async move {
                    assert_eq!(current_deadline(), Some(outer));
                    h.reschedule(Some(start + ms(20)));
                    assert_eq!(current_deadline(), Some(start + ms(20)));
                })
                .await
                .unwrap();
                // Children of a group opened inside see the deadline too.
                TaskGroup::<()>::scope(|tg| async move {
                    let child = tg.spawn(async { Ok(current_deadline()) });
                    assert_eq!(child.await.unwrap(), Some(outer));
                    Ok(())
                })
                .await
                .unwrap();
            })
            .await;
        assert_eq!(res, Ok(()));
        assert_eq!(current_deadline(), None);
    });
}

#[test]
fn test_deadline_cancels_nested_taskgroup_children_at_any_depth() {
    // The deadline reaches a grandchild in a nested group while the owning task waits.
    virtual_time(async {
        let counts = Counters::default();
        let c = counts.clone();
        let res = timeout(
            ms(10),
            TaskGroup::<()>::scope(|tg| async move {
                drop(tg.spawn(async move {
                    TaskGroup::<()>::scope(|inner| async move {
                        drop(inner.spawn(async move {
                            c.pending().await;
                            Ok(())
                        }));
                        Ok(())
                    })
                    .await
                    .map_err(|_| ())
                }));
                Ok(())
            }),
        )
        .await;
        assert!(res.is_err());
        assert_eq!(counts.drops(), 1);
    });
}

#[test]
fn test_duration_max_never_overflows() {
    virtual_time(async {
        let t = Timeout::after(Duration::MAX);
        let h = t.handle();
        assert!(h.when().is_some());
        assert_eq!(t.run(sleep(Duration::from_secs(86_400))).await, Ok(()));
        assert_eq!(timeout(Duration::MAX, ready(1)).await, Ok(1));
        assert!(!h.expired());
    });
}

#[test]
fn test_wait_for_timeout_less_then_0_or_0_future_done() {
    virtual_time(async {
        assert_eq!(wait_for(Duration::ZERO, ready("done")).await, Ok("done"));
    });
}

#[test]
fn test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started() {
    // A zero timeout around a future that does not complete at once: polled once (the
    // inner future is polled first), then dropped.
    virtual_time(async {
        let counts = Counters::default();
        assert_eq!(
            wait_for(Duration::ZERO, counts.pending()).await,
            Err(TimedOut)
        );
        assert_eq!((counts.polls(), counts.drops()), (1, 1));
    });
}

#[test]
fn test_wait_for() {
    virtual_time(async {
        let start = Instant::now();
        let res = wait_for(ms(100), async {
            sleep(Duration::from_secs(10)).await;
            "done"
        })
        .await;
        assert_eq!(res, Err(TimedOut));
        assert_eq!(start.elapsed(), ms(100));
    });
}

#[test]
fn test_wait_for_race_condition() {
    // The inner future becomes ready at the very tick the deadline passes: polled first,
    // its result wins.
    virtual_time(async {
        let t = Timeout::after(ms(10));
        let h = t.handle();
        assert_eq!(
            t.run(async {
                sleep(ms(10)).await;
                7
            })
            .await,
            Ok(7)
        );
        assert!(!h.expired());
    });
}

#[test]
fn test_cancel_wait_for() {
    // Cancelling the task that waits drops the inner future.
    virtual_time(async {
        let counts = Counters::default();
        let c = counts.clone();
        let task =
            arbor_runtime::spawn(
                async move { wait_for(Duration::from_secs(10), c.pending()).await },
            );
        sleep(ms(1)).await;
        assert!(task.cancel());
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(counts.drops(), 1);
    });
}

#[test]
fn test_timeout_handle_cancel_reports_without_expiring() {
    virtual_time(async {
        let t = Timeout::after(Duration::from_secs(10));
        let h = t.handle();
        let h2 = h.clone();
        let res = t
            .run(async move {
                h2.cancel();
                pending::<()>().await
            })
            .await;
        assert_eq!(res, Err(TimedOut));
        assert!(!h.expired());
    });
}
