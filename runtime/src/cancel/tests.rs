//! Unit tests of the tree (the scope protocol is tested through the scopes' crates).

use super::node::{SWEEP_MIN, children_len};
use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Waker;

struct Flag(AtomicBool);

impl std::task::Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn flag() -> (Arc<Flag>, Waker) {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    (flag.clone(), Waker::from(flag))
}

#[test]
fn cancel_reaches_unshielded_descendants_only() {
    let root = CancelNode::new(None, false);
    let child = CancelNode::new(Some(&root), false);
    let grandchild = CancelNode::new(Some(&child), false);
    let shielded = CancelNode::new(Some(&child), true);
    let below_shield = CancelNode::new(Some(&shielded), false);
    assert!(root.cancel());
    assert!(!root.cancel(), "a second cancel changes nothing");
    assert!(child.is_cancelled() && grandchild.is_cancelled());
    assert!(!child.cancel_called(), "inherited, not called");
    assert!(!shielded.is_cancelled() && !below_shield.is_cancelled());
    assert!(shielded.cancel());
    assert!(below_shield.is_cancelled());
}

#[test]
fn a_node_opened_under_a_cancelled_parent_starts_cancelled() {
    let root = CancelNode::new(None, false);
    root.cancel();
    assert!(CancelNode::new(Some(&root), false).is_cancelled());
    assert!(!CancelNode::new(Some(&root), true).is_cancelled());
}

#[test]
fn a_detached_node_can_be_cancelled_before_it_is_attached() {
    let root = CancelNode::new(None, false);
    let node = CancelNode::new_detached(false);
    node.cancel();
    node.attach(Some(root.clone()));
    assert!(node.is_cancelled() && node.catches());
    assert!(!root.is_cancelled());
}

#[test]
#[should_panic(expected = "entered once")]
fn attaching_twice_panics() {
    let node = CancelNode::new_detached(false);
    node.attach(None);
    node.attach(None);
}

#[test]
fn the_outermost_cancelled_node_catches() {
    let outer = CancelNode::new(None, false);
    let middle = CancelNode::new(Some(&outer), false);
    let inner = CancelNode::new(Some(&middle), false);
    inner.cancel();
    assert!(inner.catches());
    middle.cancel();
    assert!(middle.catches() && !inner.catches());
    let shielded = CancelNode::new(Some(&middle), true);
    shielded.cancel();
    assert!(shielded.catches(), "a shield catches its own cancel");
}

#[test]
fn shield_regions_are_counted_by_every_ancestor_and_wake_on_exit() {
    let root = CancelNode::new(None, false);
    let mid = CancelNode::new(Some(&root), false);
    let shield = CancelNode::new(Some(&mid), true);
    let (flag, waker) = flag();
    root.register_waker(&waker);
    let region = shield.enter_shield();
    assert_eq!((root.shields(), mid.shields(), shield.shields()), (1, 1, 0));
    root.cancel();
    flag.0.store(false, Ordering::SeqCst);
    drop(region);
    assert_eq!((root.shields(), mid.shields()), (0, 0));
    assert!(
        flag.0.load(Ordering::SeqCst),
        "the cancelled root was woken"
    );
}

/// Defect 2 of issue 12: a region entered below a detached group node, which is attached
/// under a scope while the region runs, must leave exactly the nodes that count it. Before,
/// the exit walked the grown chain and decremented the scope's count, which it never
/// incremented (an underflow that wrapped in release builds, and made the scope ignore its
/// cancel forever).
#[test]
fn a_region_entered_before_its_group_was_attached_leaves_every_count_at_zero() {
    let outer = CancelNode::new(None, false);
    let group = CancelNode::new_detached_group();
    let task = CancelNode::new(Some(&group), false);
    let shield = CancelNode::new(Some(&task), true);
    let region = shield.enter_shield();
    assert_eq!((task.shields(), group.shields()), (1, 1));
    // The group's scope is first polled now, inside `outer`.
    group.attach(Some(outer.clone()));
    assert_eq!(
        outer.shields(),
        1,
        "the attach carries the active region up"
    );
    let (flag, waker) = flag();
    outer.register_waker(&waker);
    outer.cancel();
    drop(region);
    assert_eq!(
        (outer.shields(), group.shields(), task.shields()),
        (0, 0, 0)
    );
    assert!(
        flag.0.load(Ordering::SeqCst),
        "the cancelled scope that waited for the region was woken"
    );
}

#[test]
fn a_region_that_ends_before_the_attach_leaves_nothing_behind() {
    let outer = CancelNode::new(None, false);
    let group = CancelNode::new_detached(false);
    let shield = CancelNode::new(Some(&group), true);
    drop(shield.enter_shield());
    group.attach(Some(outer.clone()));
    assert_eq!((outer.shields(), group.shields()), (0, 0));
}

#[test]
fn nested_detached_attaches_carry_regions_through_every_level() {
    let root = CancelNode::new(None, false);
    let a = CancelNode::new_detached(false);
    let b = CancelNode::new_detached(false);
    let shield = CancelNode::new(Some(&b), true);
    let first = shield.enter_shield();
    b.attach(Some(a.clone()));
    let second = shield.enter_shield();
    a.attach(Some(root.clone()));
    assert_eq!((root.shields(), a.shields(), b.shields()), (2, 2, 2));
    drop(first);
    drop(second);
    assert_eq!((root.shields(), a.shields(), b.shields()), (0, 0, 0));
}

/// A task spawned under `node` that completes once it sees `node` cancelled at a poll, and
/// registers no waker of its own: only the node's leaf walk can wake it.
fn spawn_leaf(node: &Arc<CancelNode>, polls: &Arc<AtomicUsize>) -> crate::Task<()> {
    let (node2, polls) = (node.clone(), polls.clone());
    crate::task::Builder::new()
        .cancel_node(node.clone())
        .spawn(std::future::poll_fn(move |_| {
            polls.fetch_add(1, Ordering::SeqCst);
            if node2.is_cancelled() {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        }))
}

#[test]
fn cancel_wakes_leaf_tasks_and_a_completed_task_leaves_the_list() {
    let rt = crate::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let group = CancelNode::new(None, false);
        let below = CancelNode::new(Some(&group), false);
        let polls = Arc::new(AtomicUsize::new(0));
        let tasks = [spawn_leaf(&group, &polls), spawn_leaf(&below, &polls)];
        crate::yield_now().await;
        assert_eq!(polls.load(Ordering::SeqCst), 2, "each task polled once");
        assert_eq!((group.leaf_count(), below.leaf_count()), (1, 1));
        group.cancel();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            polls.load(Ordering::SeqCst),
            4,
            "the cancel woke both leaves"
        );
        assert_eq!((group.leaf_count(), below.leaf_count()), (0, 0));
    });
}

/// Tasks that complete leave the list without its lock and are swept later (`leaf.rs`):
/// while one task stays live, the list holds a bounded number of finished ones, and once
/// the last leaves, it holds none, and every task's memory is freed (each held the node:
/// a task left unswept would keep it alive through a cycle).
#[test]
fn finished_leaves_are_swept_and_freed() {
    let rt = crate::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let node = CancelNode::new(None, false);
        let polls = Arc::new(AtomicUsize::new(0));
        let stays = spawn_leaf(&node, &polls);
        let gate = Arc::new(crate::sync::Semaphore::new(0));
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let gate = gate.clone();
                crate::task::Builder::new()
                    .cancel_node(node.clone())
                    .spawn(async move {
                        gate.acquire().await.forget();
                    })
            })
            .collect();
        crate::yield_now().await;
        assert_eq!(node.leaf_count(), 1001);
        assert_eq!(node.leaves_listed(), 1001);
        gate.add_permits(1000);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(node.leaf_count(), 1, "the finished tasks left");
        let listed = node.leaves_listed();
        assert!(
            (1..=1 + 2 * 32).contains(&listed),
            "{listed} tasks listed with one live: finished ones were not swept"
        );
        node.cancel();
        stays.await.unwrap();
        assert_eq!((node.leaf_count(), node.leaves_listed()), (0, 0));
        assert_eq!(
            Arc::strong_count(&node),
            1,
            "a finished task was not freed (it holds its node)"
        );
    });
}

#[test]
fn closing_the_leaves_hands_over_the_tasks_and_later_spawns_cancel_themselves() {
    let rt = crate::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let node = CancelNode::new(None, false);
        let polls = Arc::new(AtomicUsize::new(0));
        let early = spawn_leaf(&node, &polls);
        let leaves = node.close_leaves();
        assert_eq!(leaves.len(), 1);
        for leaf in &leaves {
            leaf.cancel_in_place();
        }
        assert!(early.is_finished(), "cancelled in place, here and now");
        // Spawned after the close: its spawner cancels it in place before returning.
        let late = spawn_leaf(&node, &polls);
        assert!(late.is_finished());
        assert!(late.await.unwrap_err().is_cancelled());
        assert_eq!(
            polls.load(Ordering::SeqCst),
            0,
            "neither task was ever polled"
        );
        assert_eq!(node.leaf_count(), 0);
    });
}

#[test]
fn children_lists_are_swept_of_dropped_nodes() {
    let root = CancelNode::new(None, false);
    for _ in 0..1000 {
        drop(CancelNode::new(Some(&root), false));
    }
    assert!(children_len(&root) <= 2 * SWEEP_MIN);
}

#[test]
fn deep_trees_propagate_and_drop_without_recursion() {
    let root = CancelNode::new(None, false);
    let mut leaf = root.clone();
    for _ in 0..100_000 {
        leaf = CancelNode::new(Some(&leaf), false);
    }
    root.cancel();
    assert!(leaf.is_cancelled());
    drop(root);
    // The leaf holds the whole chain: dropping it unlinks 100k parents in a loop.
    drop(leaf);
}

#[test]
fn expiry_is_final_only_once_a_poll_saw_it() {
    let node = CancelNode::new(None, false);
    assert!(node.expire());
    assert!(!node.is_expired(), "the scope's future may still win");
    node.see_cancel();
    assert!(node.is_expired());
    assert!(!node.expire(), "a second expiry changes nothing");
    assert!(node.is_expired());
    let cancelled = CancelNode::new(None, false);
    cancelled.cancel();
    assert!(!cancelled.expire());
    cancelled.see_cancel();
    assert!(!cancelled.is_expired(), "a plain cancel is no expiry");
}

#[test]
fn enter_restores_the_current_node_on_unwind() {
    let node = CancelNode::new(None, false);
    assert!(CancelNode::current().is_none());
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        node.enter(|| {
            assert!(Arc::ptr_eq(&CancelNode::current().unwrap(), &node));
            panic!("boom");
        })
    }));
    assert!(res.is_err());
    assert!(CancelNode::current().is_none());
}
