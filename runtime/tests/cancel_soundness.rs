//! The cancel tree's public API is sound under any call order and any `mem::forget`
//! (issue 12, defect 10). Before, `CancelNode::enter()` returned a guard: forgetting it and
//! dropping the node left a dangling pointer in a thread-local, which `CancelNode::current()`
//! then read (valgrind: invalid read). The current node is now set only by closures that
//! restore it on return and unwind; these tests try the orders that could leave it behind.
//! `.ci/memcheck` runs this binary under valgrind.

use arbor_runtime::cancel::{CancelNode, InScope, ScopePoll, ScopeState, lazy_scope};
use arbor_runtime::time::{Instant, current_deadline};
use std::any::Any;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// `mem::forget` that valgrind does not count as a leak: the value's destructor never runs
/// either, but it stays reachable from this static.
fn forget<T: Send + 'static>(value: T) {
    static FORGOTTEN: Mutex<Vec<Box<dyn Any + Send>>> = Mutex::new(Vec::new());
    FORGOTTEN.lock().unwrap().push(Box::new(value));
}

fn nothing_is_current() {
    assert!(
        CancelNode::current().is_none(),
        "a current node outlived its scope"
    );
    assert_eq!(current_deadline(), None, "a deadline outlived its scope");
}

#[test]
fn enter_leaves_nothing_behind_on_return_unwind_or_a_dropped_node() {
    let node = CancelNode::new(None, false);
    node.set_deadline(Some(Instant::now()));
    let seen = node.enter(|| CancelNode::current().map(|n| Arc::ptr_eq(&n, &node)));
    assert_eq!(seen, Some(true));
    drop(node);
    nothing_is_current();

    let node = CancelNode::new(None, false);
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        node.enter(|| panic!("unwinds through enter"))
    }));
    assert!(res.is_err());
    drop(node);
    nothing_is_current();
}

#[test]
fn nested_enters_restore_in_order_whatever_the_inner_one_does() {
    let outer = CancelNode::new(None, false);
    let inner = CancelNode::new(Some(&outer), false);
    outer.enter(|| {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.enter(|| panic!("inner unwinds"))
        }));
        assert!(Arc::ptr_eq(&CancelNode::current().unwrap(), &outer));
    });
    drop(inner);
    drop(outer);
    nothing_is_current();
}

#[test]
fn a_forgotten_shield_region_keeps_its_nodes_alive_and_counted() {
    let root = CancelNode::new(None, false);
    let shield = CancelNode::new(Some(&root), true);
    forget(shield.enter_shield());
    let weak = Arc::downgrade(&root);
    drop(shield);
    // The leaked region still holds the chain: the count is still readable, and a
    // cancelled root keeps waiting, as for a region that never ends.
    assert_eq!(root.shields(), 1);
    root.cancel();
    assert_eq!(root.shields(), 1);
    drop(root);
    assert!(
        weak.upgrade().is_some(),
        "leaked with the region, never freed under it"
    );
    nothing_is_current();
}

#[test]
fn a_lazy_scope_made_and_abandoned_mid_poll_leaves_nothing_behind() {
    let deadline = Instant::now() + Duration::from_secs(60);
    // Something inside asks for the node (a nested scope would), then the poll unwinds.
    let res = std::panic::catch_unwind(|| {
        lazy_scope::<()>(Some(deadline), || {
            assert_eq!(current_deadline(), Some(deadline));
            let node = CancelNode::current().expect("made on demand");
            assert_eq!(node.deadline(), Some(deadline));
            panic!("unwinds out of the lazy scope")
        })
    });
    assert!(res.is_err());
    nothing_is_current();
    // Nested lazy scopes, the inner one made (which makes the outer first), then pending.
    let (polled, outer) = lazy_scope::<()>(None, || {
        let (polled, inner) = lazy_scope::<()>(Some(deadline), || {
            let inner = CancelNode::current().unwrap();
            assert!(
                inner.parent().is_some(),
                "the outer lazy scope was made first"
            );
            Poll::Pending
        });
        assert!(polled.is_pending());
        let inner = inner.unwrap();
        let parent: *const CancelNode = inner.parent().unwrap();
        assert!(std::ptr::eq(parent, &*CancelNode::current().unwrap()));
        Poll::Pending
    });
    assert!(polled.is_pending());
    assert!(outer.is_some());
    drop(outer);
    nothing_is_current();
}

#[test]
fn a_scope_future_forgotten_mid_flight_leaves_nothing_behind() {
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    let node = CancelNode::new_detached(false);
    node.set_deadline(Some(Instant::now()));
    let mut fut = Box::pin(InScope::new(
        std::future::pending::<()>(),
        ScopeState::new(node),
    ));
    assert_eq!(fut.as_mut().poll_scope(&mut cx, |_| {}), ScopePoll::Pending);
    forget(fut);
    // Never dropped: its node, waker registration and region leak, nothing dangles.
    nothing_is_current();
    // A scope that is cancelled between polls and then forgotten, too.
    let node = CancelNode::new_detached(true);
    let handle = node.clone();
    let mut fut = Box::pin(InScope::new(
        std::future::pending::<()>(),
        ScopeState::new(node),
    ));
    assert_eq!(fut.as_mut().poll_scope(&mut cx, |_| {}), ScopePoll::Pending);
    handle.cancel();
    assert_eq!(fut.as_mut().poll_scope(&mut cx, |_| {}), ScopePoll::Caught);
    forget(fut);
    nothing_is_current();
}

#[test]
fn polling_a_scope_from_a_foreign_executor_on_another_thread_is_sound() {
    // The scope's future moves between threads between polls; each poll installs and
    // removes its node on the polling thread only.
    let node = CancelNode::new_detached(false);
    let handle = node.clone();
    let mut fut = Box::pin(InScope::new(
        std::future::poll_fn(|_| {
            assert!(CancelNode::current().is_some());
            Poll::<()>::Pending
        }),
        ScopeState::new(node),
    ));
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(fut.as_mut().poll_scope(&mut cx, |_| {}), ScopePoll::Pending);
    let fut = std::thread::spawn(move || {
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(fut.as_mut().poll_scope(&mut cx, |_| {}), ScopePoll::Pending);
        nothing_is_current();
        fut
    })
    .join()
    .unwrap();
    handle.cancel();
    drop(fut);
    nothing_is_current();
}
