//! The cancel-state tree that cancel scopes, task groups and timeouts are built on.
//!
//! Trio keeps cancel *origination* (the `CancelScope` a user holds) apart from cancel
//! *propagation* (the `CancelStatus` tree). This module is the propagation half:
//!
//! - A [`CancelNode`] is one scope's status. Nodes form a tree: a scope opened inside
//!   another gets its node as parent; a task spawned into a group carries the group's node
//!   (in its trailer), and the harness makes it the current node around every poll, so
//!   scopes opened inside the child hang below the group's scope.
//! - `cancel()` marks the node and every unshielded descendant *effectively cancelled*, and
//!   wakes the task polling each of them. Propagation costs O(affected nodes).
//! - Checking is one atomic load: [`CancelNode::is_cancelled`] reads the node's own flag,
//!   which propagation has already set from any cancelled ancestor.
//! - A node created below an effectively cancelled, unshielded parent starts cancelled.
//!
//! Protocol (ordering): `cancel` sets the flag (Release) before taking the node's lock to
//! read its children and waker; `register_waker` stores the waker under the same lock and
//! re-checks the flag after, so a cancel racing a registration is never lost.

use crate::context;
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;

/// One scope's node in the cancel-state tree.
pub struct CancelNode {
    /// Effectively cancelled: by its own `cancel`, or by an unshielded ancestor's.
    cancelled: AtomicBool,
    /// Stops propagation from the parent.
    shielded: bool,
    /// Children to propagate to, and the waker of the task polling this scope.
    inner: Mutex<Inner>,
    /// Keeps the chain alive for `walk`-style queries (deadlines).
    parent: Option<Arc<CancelNode>>,
}

#[derive(Default)]
struct Inner {
    children: Vec<Weak<CancelNode>>,
    waker: Option<Waker>,
}

impl CancelNode {
    /// A node below `parent` (or a root). It starts cancelled if `parent` is effectively
    /// cancelled and `shielded` is false.
    pub fn new(parent: Option<&Arc<CancelNode>>, shielded: bool) -> Arc<CancelNode> {
        let node = Arc::new(CancelNode {
            cancelled: AtomicBool::new(false),
            shielded,
            inner: Mutex::new(Inner::default()),
            parent: parent.cloned(),
        });
        if let Some(parent) = parent {
            let mut inner = parent.lock();
            inner.children.retain(|c| c.strong_count() > 0);
            inner.children.push(Arc::downgrade(&node));
            // Read under the lock: a concurrent `cancel` of the parent either saw this child
            // in the list, or set the flag before we read it.
            if !shielded && parent.cancelled.load(Ordering::Acquire) {
                node.cancelled.store(true, Ordering::Release);
            }
        }
        node
    }

    /// A node below the current one (the innermost scope being polled on this thread).
    pub fn new_in_current(shielded: bool) -> Arc<CancelNode> {
        let parent = CancelNode::current();
        CancelNode::new(parent.as_ref(), shielded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this node is effectively cancelled. One atomic load.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Whether this node is shielded from its parent.
    pub fn is_shielded(&self) -> bool {
        self.shielded
    }

    /// The parent node, if any.
    pub fn parent(&self) -> Option<&Arc<CancelNode>> {
        self.parent.as_ref()
    }

    /// Cancels this node and every unshielded descendant, waking the tasks polling them.
    pub fn cancel(&self) {
        if self.cancelled.swap(true, Ordering::AcqRel) {
            return;
        }
        self.propagate();
    }

    fn propagate(&self) {
        let (waker, children) = {
            let mut inner = self.lock();
            let children: Vec<Arc<CancelNode>> =
                inner.children.iter().filter_map(Weak::upgrade).collect();
            (inner.waker.take(), children)
        };
        if let Some(waker) = waker {
            // A panicking waker must not stop the propagation to the children.
            crate::wake::wake(waker);
        }
        for child in children {
            if !child.shielded && !child.cancelled.swap(true, Ordering::AcqRel) {
                child.propagate();
            }
        }
    }

    /// Stores the waker to wake when this node is cancelled. Returns `true` if the node is
    /// already cancelled (the caller should act on it now rather than wait).
    pub fn register_waker(&self, waker: &Waker) -> bool {
        let mut inner = self.lock();
        match &inner.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => inner.waker = Some(waker.clone()),
        }
        drop(inner);
        self.is_cancelled()
    }

    /// The current node: the innermost scope being polled on this thread, or the node the
    /// current task was spawned under.
    pub fn current() -> Option<Arc<CancelNode>> {
        let ptr = context::cancel_node()?;
        // SAFETY: the pointer is installed by `enter` or by the task harness for the length of
        // a poll, during which the scope (or the task's trailer) holds an `Arc` to the node.
        unsafe {
            Arc::increment_strong_count(ptr.as_ptr());
            Some(Arc::from_raw(ptr.as_ptr()))
        }
    }

    /// Makes this node the current one until the guard drops (around a scope's poll).
    pub fn enter(self: &Arc<CancelNode>) -> EnterGuard<'_> {
        let prev = context::replace_cancel_node(Some(NonNull::from(&**self)));
        EnterGuard { prev, _node: self }
    }
}

/// Restores the previous current node.
pub struct EnterGuard<'a> {
    prev: Option<NonNull<CancelNode>>,
    _node: &'a Arc<CancelNode>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        context::replace_cancel_node(self.prev);
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for CancelNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelNode")
            .field("cancelled", &self.is_cancelled())
            .field("shielded", &self.shielded)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn cancel_reaches_unshielded_descendants_only() {
        let root = CancelNode::new(None, false);
        let child = CancelNode::new(Some(&root), false);
        let grandchild = CancelNode::new(Some(&child), false);
        let shielded = CancelNode::new(Some(&child), true);
        let below_shield = CancelNode::new(Some(&shielded), false);
        root.cancel();
        assert!(child.is_cancelled() && grandchild.is_cancelled());
        assert!(!shielded.is_cancelled() && !below_shield.is_cancelled());
        shielded.cancel();
        assert!(below_shield.is_cancelled());
    }

    #[test]
    fn a_node_opened_under_a_cancelled_parent_starts_cancelled() {
        let root = CancelNode::new(None, false);
        root.cancel();
        assert!(CancelNode::new(Some(&root), false).is_cancelled());
        assert!(!CancelNode::new(Some(&root), true).is_cancelled());
    }
}
