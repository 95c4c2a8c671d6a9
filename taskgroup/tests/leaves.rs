//! A group's children are the leaf tasks of its cancel node (the runtime's `cancel/leaf.rs`):
//! the node lists only live children, cancelling it reaches tasks at any depth that keep no
//! waker of their own, and spawns racing a cancel or a drop of the group never leak a child.

mod support;
use arbor_runtime::cancel::CancelNode;
use arbor_taskgroup::TaskGroup;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use support::*;

/// The group node's live leaves, read from the group's body (polled with the node current).
fn leaves_of_current_group() -> usize {
    CancelNode::current()
        .expect("a group's body runs with its node current")
        .leaf_count()
}

rt_test! {
    /// A long-lived group spawning 200k short children in waves lists only the live ones:
    /// never more than a wave, and none once a wave is done.
    fn a_long_lived_group_lists_only_its_live_children(rt: &Runtime) {
        const WAVES: usize = 200;
        const WAVE: usize = 1000;
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            let mut most = 0;
            for _ in 0..WAVES {
                let tasks: Vec<_> = (0..WAVE)
                    .map(|_| {
                        let d = d.clone();
                        tg.spawn(async move {
                            d.fetch_add(1, SeqCst);
                            Ok(())
                        })
                    })
                    .collect();
                most = most.max(leaves_of_current_group());
                for task in tasks {
                    task.await.unwrap();
                }
                assert_eq!(leaves_of_current_group(), 0, "finished children stay listed");
            }
            assert!(most <= WAVE, "{most} leaves listed for waves of {WAVE}");
            Ok(())
        }))
        .unwrap();
        assert_eq!(done.load(SeqCst), WAVES * WAVE);
    }
}

/// One child per level, each opening a group, `depth` levels below `tg`; the deepest task
/// waits on `std::future::pending` (it keeps no waker: only the cancel tree can wake it).
fn chain(tg: &TaskGroup<()>, depth: usize, leaf: &Counters, ready: &Latch) {
    let (leaf, ready) = (leaf.clone(), ready.clone());
    if depth == 0 {
        drop(tg.spawn(leaf.wrap(async move {
            ready.arrive();
            std::future::pending::<Result<(), ()>>().await
        })));
        return;
    }
    drop(tg.spawn(async move {
        TaskGroup::<()>::scope(|inner| async move {
            chain(&inner, depth - 1, &leaf, &ready);
            Ok(())
        })
        .await
        .map_err(|_| ())
    }));
}

rt_test! {
    /// Cancelling a group reaches a grandchild 24 groups down, a task that keeps no waker of
    /// its own: the cancel walk wakes it through the leaf lists.
    fn cancel_reaches_a_task_24_groups_down(rt: &Runtime) {
        let leaf = Counters::new();
        let l = leaf.clone();
        let err = rt
            .block_on(TaskGroup::<()>::scope(|tg| async move {
                let ready = Latch::new();
                chain(&tg, 24, &l, &ready);
                ready.wait_for(1).await;
                tg.cancel();
                Ok(())
            }))
            .unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!((leaf.polls(), leaf.drops()), (1, 1));
    }
}

rt_test! {
    /// A child spawned after the group was cancelled, by a sibling still running on another
    /// worker, is cancelled before its first poll; so is one spawned from the body.
    fn children_spawned_after_the_cancel_are_cancelled(rt: &Runtime) {
        let late = Counters::new();
        let made = Arc::new(AtomicUsize::new(0));
        let (l, m) = (late.clone(), made.clone());
        let err = rt
            .block_on(TaskGroup::<()>::scope(|tg| async move {
                let cancelled = Gate::new();
                let (tg2, c2, l2, m2) = (tg.clone(), cancelled.clone(), l.clone(), m.clone());
                let sibling = tg.spawn(async move {
                    // Waits past the cancel (a child is dropped only at its next poll).
                    c2.wait().await;
                    m2.fetch_add(1, SeqCst);
                    Ok(tg2.spawn(l2.wrap(async { Ok(()) })))
                });
                tg.cancel();
                cancelled.set();
                m.fetch_add(1, SeqCst);
                let from_body = tg.spawn(l.wrap(async { Ok(()) }));
                assert!(from_body.await.unwrap_err().is_cancelled());
                // The sibling itself is cancelled before it gets to spawn, or spawns a child
                // that is cancelled.
                if let Ok(task) = sibling.await {
                    assert!(task.await.unwrap_err().is_cancelled());
                }
                Ok(())
            }))
            .unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(late.polls(), 0, "a child spawned after the cancel was polled");
        assert_eq!(late.drops(), made.load(SeqCst));
    }
}

rt_test! {
    /// The task running a group is cancelled (its scope future is dropped) while children
    /// on other workers keep spawning siblings: every child's future, including those
    /// spawned during the drop, is gone when the task reports cancelled.
    fn spawns_racing_the_groups_drop_leak_nothing(rt: &Runtime) {
        for _ in 0..50 {
            let spawned = Arc::new(AtomicUsize::new(0));
            let dropped = Arc::new(AtomicUsize::new(0));
            let started = Arc::new(AtomicBool::new(false));
            let (s, d, st) = (spawned.clone(), dropped.clone(), started.clone());
            rt.block_on(async move {
                let task = arbor_runtime::spawn(TaskGroup::<()>::scope(|tg| async move {
                    for _ in 0..4 {
                        spawn_siblings(tg.clone(), s.clone(), d.clone());
                    }
                    st.store(true, SeqCst);
                    std::future::pending::<()>().await;
                    Ok(())
                }));
                until(|| started.load(SeqCst)).await;
                arbor_runtime::yield_now().await;
                task.cancel();
                assert!(task.await.unwrap_err().is_cancelled());
            });
            assert_eq!(
                dropped.load(SeqCst),
                spawned.load(SeqCst),
                "a child outlived its dropped group"
            );
        }
    }
}

/// At most this many children per round of `spawns_racing_the_groups_drop_leak_nothing`.
const MAX_SPAWNERS: usize = 2000;

/// A child that spawns a sibling (itself a spawner) at each of its first polls, while the
/// group accepts children and fewer than `MAX_SPAWNERS` were spawned, and counts its spawn
/// and its drop.
fn spawn_siblings(tg: TaskGroup<()>, spawned: Arc<AtomicUsize>, dropped: Arc<AtomicUsize>) {
    if spawned.fetch_add(1, SeqCst) >= MAX_SPAWNERS {
        spawned.fetch_sub(1, SeqCst);
        return;
    }
    let (tg2, s2, d2) = (tg.clone(), spawned.clone(), dropped.clone());
    // Made outside the future and moved into it: counted even if it is never polled.
    let d3 = d2.clone();
    let count = OnDrop(move || {
        d3.fetch_add(1, SeqCst);
    });
    let accepted = tg.try_spawn(async move {
        let _count = count;
        for _ in 0..8 {
            spawn_siblings(tg2.clone(), s2.clone(), d2.clone());
            arbor_runtime::yield_now().await;
        }
        std::future::pending::<Result<(), ()>>().await
    });
    if accepted.is_err() {
        spawned.fetch_sub(1, SeqCst);
    }
}
