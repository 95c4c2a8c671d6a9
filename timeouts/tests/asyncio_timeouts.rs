//! Ports of CPython's `Lib/test/test_asyncio/test_timeouts.py`, each named after the case
//! it ports, on virtual time.

mod support;

use arbor_runtime::time::{Instant, sleep};
use arbor_taskgroup::{CancelScope, TaskGroup};
use arbor_timeouts::{TimedOut, Timeout, timeout, timeout_at};
use std::future::{pending, ready};
use std::time::Duration;
use support::{Counters, ms, virtual_time};

#[test]
fn test_timeout_basic() {
    virtual_time(async {
        let start = Instant::now();
        let t = Timeout::after(ms(10));
        let h = t.handle();
        assert_eq!(t.run(sleep(Duration::from_secs(10))).await, Err(TimedOut));
        assert!(h.expired());
        assert_eq!(
            start.elapsed(),
            ms(10),
            "fired at the deadline, not before or after"
        );
    });
}

#[test]
fn test_timeout_at_basic() {
    virtual_time(async {
        let deadline = Instant::now() + ms(10);
        let t = Timeout::at(deadline);
        let h = t.handle();
        assert_eq!(h.when(), Some(deadline));
        assert_eq!(t.run(sleep(Duration::from_secs(10))).await, Err(TimedOut));
        assert!(h.expired());
        assert_eq!(Instant::now(), deadline);
    });
}

#[test]
fn test_timeout_zero() {
    virtual_time(async {
        let t = Timeout::after(Duration::ZERO);
        let h = t.handle();
        assert_eq!(t.run(sleep(Duration::from_secs(10))).await, Err(TimedOut));
        assert!(h.expired());
    });
}

#[test]
fn test_timeout_zero_sleep_zero() {
    // A deadline in the past does not stop a future that completes at its first poll.
    virtual_time(async {
        let t = Timeout::after(Duration::ZERO);
        let h = t.handle();
        assert_eq!(t.run(sleep(Duration::ZERO)).await, Ok(()));
        assert!(!h.expired());
    });
}

#[test]
fn test_timeout_in_the_past_sleep_zero() {
    virtual_time(async {
        arbor_runtime::time::advance(ms(100)).await;
        let t = Timeout::at(Instant::now() - ms(50));
        let h = t.handle();
        assert_eq!(t.run(ready(42)).await, Ok(42));
        assert!(!h.expired());
        assert_eq!(
            timeout_at(Instant::now() - ms(50), pending::<()>()).await,
            Err(TimedOut)
        );
    });
}

#[test]
fn test_timeout_not_triggered() {
    virtual_time(async {
        let t = Timeout::after(ms(10));
        let h = t.handle();
        assert_eq!(
            t.run(async {
                sleep(ms(5)).await;
                1
            })
            .await,
            Ok(1)
        );
        assert!(!h.expired());
        // The disarmed timer never fires later.
        sleep(ms(50)).await;
        assert!(!h.expired());
    });
}

#[test]
fn test_timeout_disabled() {
    virtual_time(async {
        let start = Instant::now();
        let t = Timeout::never();
        let h = t.handle();
        assert_eq!(
            t.run(async {
                sleep(ms(100)).await;
                2
            })
            .await,
            Ok(2)
        );
        assert!(!h.expired());
        assert_eq!(h.when(), None);
        assert_eq!(start.elapsed(), ms(100));
    });
}

#[test]
fn test_timeout_at_disabled() {
    virtual_time(async {
        let t = Timeout::after(Duration::MAX);
        let h = t.handle();
        assert_eq!(
            t.run(async {
                sleep(Duration::from_secs(3600)).await;
                3
            })
            .await,
            Ok(3)
        );
        assert!(!h.expired());
    });
}

#[test]
fn test_foreign_cancel_doesnt_timeout_if_not_expired() {
    // An enclosing scope's cancellation is not this timeout's: it does not report TimedOut,
    // and `expired` stays false.
    virtual_time(async {
        let outer = CancelScope::new();
        let stop = outer.handle();
        let t = Timeout::after(Duration::from_secs(10));
        let h = t.handle();
        let res = outer
            .run(async move {
                stop.cancel();
                t.run(pending::<()>()).await
            })
            .await;
        assert_eq!(res, Err(arbor_taskgroup::Cancelled));
        assert!(!h.expired());
    });
}

#[test]
fn test_outer_task_is_not_cancelled() {
    virtual_time(async {
        let task = arbor_runtime::spawn(async {
            let r = timeout(ms(10), pending::<()>()).await;
            sleep(ms(5)).await; // the task goes on after its timeout
            r
        });
        assert_eq!(task.await.unwrap(), Err(TimedOut));
    });
}

#[test]
fn test_nested_timeouts() {
    // Equal deadlines: only the outermost reports; the inner one is dropped with the rest.
    virtual_time(async {
        let deadline = Instant::now() + ms(10);
        let counts = Counters::default();
        let (inner_counts, t1) = (counts.clone(), Timeout::at(deadline));
        let h1 = t1.handle();
        let res = t1
            .run(async move {
                let r = timeout_at(deadline, inner_counts.pending()).await;
                unreachable!("the inner timeout does not report: {r:?}")
            })
            .await;
        assert_eq!(res, Err::<(), _>(TimedOut));
        assert!(h1.expired());
        assert_eq!(counts.drops(), 1);
    });
}

#[test]
fn test_nested_timeouts_concurrent() {
    // The outer deadline is later: the inner one reports, the outer goes on.
    virtual_time(async {
        let outer = Timeout::after(ms(20));
        let h = outer.handle();
        let res = outer
            .run(async {
                let inner = timeout(ms(10), sleep(Duration::from_secs(1))).await;
                assert_eq!(inner, Err(TimedOut));
                sleep(Duration::from_secs(1)).await;
            })
            .await;
        assert_eq!(res, Err(TimedOut));
        assert!(h.expired());
    });
}

#[test]
fn test_nested_timeouts_loop_busy() {
    // The inner deadline passes while its body is busy (the clock is advanced without the
    // timer getting a turn): the inner timeout reports; then the outer one passes during
    // more busy work and reports too.
    virtual_time(async {
        let start = Instant::now();
        let res = timeout(ms(100), async {
            let inner = timeout(ms(10), async {
                arbor_runtime::time::advance(ms(50)).await;
                pending::<()>().await
            })
            .await;
            assert_eq!(inner, Err(TimedOut));
            arbor_runtime::time::advance(ms(100)).await;
            pending::<()>().await
        })
        .await;
        assert_eq!(res, Err(TimedOut));
        assert_eq!(start.elapsed(), ms(150));
    });
}

#[test]
fn test_reschedule() {
    virtual_time(async {
        let start = Instant::now();
        let t = Timeout::never();
        let h = t.handle();
        let h2 = h.clone();
        let res = t
            .run(async move {
                sleep(ms(5)).await;
                h2.reschedule(Some(Instant::now() + ms(10)));
                pending::<()>().await
            })
            .await;
        assert_eq!(res, Err(TimedOut));
        assert!(h.expired());
        assert_eq!(start.elapsed(), ms(15));
        assert_eq!(h.when(), Some(start + ms(15)));
    });
}

#[test]
fn test_timeout_taskgroup() {
    // The deadline cancels the group's children, which run in tasks of their own.
    virtual_time(async {
        let counts = Counters::default();
        let c = counts.clone();
        let res = timeout(
            ms(10),
            TaskGroup::<()>::scope(|tg| async move {
                for _ in 0..3 {
                    let p = c.pending();
                    drop(tg.spawn(async move {
                        p.await;
                        Ok(())
                    }));
                }
                Ok(())
            }),
        )
        .await;
        assert_eq!(res.map(|r| r.is_ok()), Err(TimedOut));
        assert_eq!(counts.drops(), 3, "every child was dropped");
    });
}

#[test]
fn test_timeout_exception_cause() {
    // The error says what happened.
    assert_eq!(TimedOut.to_string(), "deadline has elapsed");
    let e: Box<dyn std::error::Error> = Box::new(TimedOut);
    assert!(e.source().is_none());
}

#[test]
fn test_foreign_exception_passed() {
    // A failing future inside a timeout reports its own error.
    virtual_time(async {
        let res = timeout(ms(10), async { Err::<(), _>("boom") }).await;
        assert_eq!(res, Ok(Err("boom")));
    });
}

#[test]
fn test_expired_never_flips_back_after_a_shielded_region_completes() {
    // Issue 12, defect 11: the deadline cancels the scope at 10 ms while a shielded region
    // inside runs to 30 ms and returns 42. `expired()` is true from the moment the scope
    // saw the deadline, and stays true once the work finished (asyncio keeps it, too).
    virtual_time(async {
        let t = Timeout::after(ms(10));
        let h = t.handle();
        let h2 = h.clone();
        let watcher = arbor_runtime::spawn(async move {
            sleep(ms(20)).await;
            h2.expired()
        });
        let res = t
            .run(CancelScope::shielded().run(async {
                sleep(ms(30)).await;
                42
            }))
            .await;
        assert_eq!(res, Ok(Ok(42)), "the shielded work's result is kept");
        assert!(watcher.await.unwrap(), "expired at 20 ms, mid-region");
        assert!(h.expired(), "and still expired once the region completed");
    });
}
