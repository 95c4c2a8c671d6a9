//! Shield accounting is tied to the nodes it counted, whatever the tree does meanwhile
//! (issue 12, defect 2): a group's child that enters a shielded scope before the group's
//! scope is first polled, and leaves it after the group was attached under a timeout, must
//! leave every count as it found it, and the timeout must wait for the region while it
//! runs and fire as usual once it is gone.

mod support;

use arbor_runtime::sync::Event;
use arbor_runtime::time::{Instant, sleep};
use arbor_taskgroup::{CancelScope, TaskGroup};
use arbor_timeouts::{TimedOut, timeout};
use std::future::{Future, pending};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use support::{ms, virtual_time};

/// Runs `f` on a thread and fails the test if it does not finish within 20 s of wall time
/// (the runs below take none: they are on virtual time); a regression hangs, and this
/// turns the hang into a failure.
fn within_20s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("hung: the enclosing timeout never fired")
}

/// A group whose one child enters a shielded region at once and leaves it when `release`
/// is set; its body waits forever. Returns the scope future (not yet polled) and the event
/// the child sets once inside its shield.
fn group_with_early_shield(
    release: Arc<Event>,
) -> (
    impl Future<Output = Result<(), arbor_taskgroup::GroupError<()>>>,
    Arc<Event>,
) {
    let entered = Arc::new(Event::new());
    let e = entered.clone();
    let group = TaskGroup::<()>::scope(move |tg| {
        let _child = tg.spawn(async move {
            CancelScope::shielded()
                .run(async move {
                    e.set();
                    release.wait().await;
                })
                .await
                .expect("a shielded scope is not cancelled from outside");
            Ok(())
        });
        async { pending::<Result<(), ()>>().await }
    });
    (group, entered)
}

#[test]
fn a_shield_left_before_the_deadline_does_not_blind_the_timeout() {
    within_20s(|| {
        virtual_time(async {
            let release = Arc::new(Event::new());
            let (group, entered) = group_with_early_shield(release.clone());
            // The child runs, and enters its shield, before the group's first poll.
            entered.wait().await;
            let start = Instant::now();
            let releaser = arbor_runtime::spawn(async move {
                sleep(ms(20)).await;
                release.set();
            });
            // The group is first polled inside the timeout, so it is attached below it
            // while the region is active; the region ends at 20 ms, the deadline is 50 ms.
            assert_eq!(timeout(ms(50), group).await.map(|_| ()), Err(TimedOut));
            assert_eq!(start.elapsed(), ms(50));
            releaser.await.unwrap();
            // The task's later scopes are not affected either.
            assert_eq!(timeout(ms(10), pending::<()>()).await, Err(TimedOut));
        })
    });
}

#[test]
fn a_timeout_waits_for_a_shield_entered_before_its_group_was_attached() {
    within_20s(|| {
        virtual_time(async {
            let release = Arc::new(Event::new());
            let (group, entered) = group_with_early_shield(release.clone());
            entered.wait().await;
            let start = Instant::now();
            let releaser = arbor_runtime::spawn(async move {
                sleep(ms(100)).await;
                release.set();
            });
            // The deadline passes at 50 ms with the region active: the timeout waits for
            // it (async cleanup), and drops the group once it ends at 100 ms.
            assert_eq!(timeout(ms(50), group).await.map(|_| ()), Err(TimedOut));
            assert_eq!(start.elapsed(), ms(100));
            releaser.await.unwrap();
            assert_eq!(timeout(ms(10), pending::<()>()).await, Err(TimedOut));
        })
    });
}

#[test]
fn an_outer_cancel_scope_still_cancels_after_an_early_shield_ends() {
    within_20s(|| {
        virtual_time(async {
            let release = Arc::new(Event::new());
            let (group, entered) = group_with_early_shield(release.clone());
            entered.wait().await;
            let outer = CancelScope::new();
            let handle = outer.handle();
            let canceller = arbor_runtime::spawn(async move {
                sleep(ms(10)).await;
                release.set();
                sleep(ms(10)).await;
                handle.cancel();
            });
            let res = outer.run(group).await;
            assert!(res.is_err(), "the outer scope caught its cancel");
            canceller.await.unwrap();
        })
    });
}
