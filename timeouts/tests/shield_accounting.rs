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
use support::{ms, virtual_time, within};

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

/// The group is first polled inside `timeout(50 ms)`, so it is attached below the timeout
/// while its child's early region is active; the region ends at `release_at`. Returns when
/// the timeout resolved, on the virtual clock.
fn timeout_around_an_early_shield(release_at: u64) -> std::time::Duration {
    within("the enclosing timeout never fired", move || {
        virtual_time(async move {
            let release = Arc::new(Event::new());
            let (group, entered) = group_with_early_shield(release.clone());
            // The child runs, and enters its shield, before the group's first poll.
            entered.wait().await;
            let start = Instant::now();
            let releaser = arbor_runtime::spawn(async move {
                sleep(ms(release_at)).await;
                release.set();
            });
            assert_eq!(timeout(ms(50), group).await.map(|_| ()), Err(TimedOut));
            let elapsed = start.elapsed();
            releaser.await.unwrap();
            // The task's later scopes are not affected either.
            assert_eq!(timeout(ms(10), pending::<()>()).await, Err(TimedOut));
            elapsed
        })
    })
}

#[test]
fn a_shield_left_before_the_deadline_does_not_blind_the_timeout() {
    // The region ends at 20 ms: the deadline fires at 50 ms as usual.
    assert_eq!(timeout_around_an_early_shield(20), ms(50));
}

#[test]
fn a_timeout_waits_for_a_shield_entered_before_its_group_was_attached() {
    // The deadline passes at 50 ms with the region active: the timeout waits for it (async
    // cleanup), and drops the group once it ends at 100 ms.
    assert_eq!(timeout_around_an_early_shield(100), ms(100));
}

#[test]
fn an_outer_cancel_scope_still_cancels_after_an_early_shield_ends() {
    within("the outer scope never caught its cancel", || {
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
