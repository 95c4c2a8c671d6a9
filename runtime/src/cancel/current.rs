//! The thread's current node: what a scope opened now attaches to, and what
//! [`current_deadline`] reads.
//!
//! The current node lives in the runtime's thread-local context as a raw pointer, and only
//! closures set it: [`CancelNode::enter`] around a scope's poll, [`lazy_scope`] around a lazy
//! scope's first poll, the task harness around a task's poll. Each restores the previous
//! value when its closure returns or unwinds, with a guard of its own that no caller can
//! reach, so the pointer is valid exactly while the scope that installed it is borrowed on
//! this thread's stack. That is what makes the reads here sound under any call order and
//! any `mem::forget`.
//!
//! ## Lazy scopes
//! A timeout around a future that completes at its first poll needs no node at all: nothing
//! inside could have been cancelled by it. So during its first poll, a scope can install a
//! lazy scope ([`lazy_scope`]) instead of a node. Anything that asks for the current node
//! ([`CancelNode::current`], [`CancelNode::scope_parent`]: a nested scope, a group, a child
//! task's scope) makes the node then, attached where the scope would have attached it, and
//! makes it the current node; enclosing lazy scopes are made first, outermost first. A
//! scope that stays pending gets its node from `lazy_scope`, made then if nothing made it.

use super::CancelNode;
use crate::context;
use crate::time::Instant;
use crate::time::instant::{NO_INSTANT, decode};
use std::cell::{Cell, OnceCell};
use std::fmt;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::Poll;

impl CancelNode {
    /// Runs `f` with this node as the thread's current one (around a scope's poll): scopes
    /// and groups opened inside attach below it.
    pub fn enter<R>(self: &Arc<CancelNode>, f: impl FnOnce() -> R) -> R {
        let _restore = RestoreNode(context::replace_cancel_node(Some(NonNull::from(&**self))));
        f()
    }

    /// The current node: the innermost scope being polled on this thread, or the node of the
    /// task being polled.
    pub fn current() -> Option<Arc<CancelNode>> {
        if let Some(node) = LazyScope::materialize_current() {
            return Some(node);
        }
        current_node()
    }

    /// The node a scope opened now on this thread attaches to: the current node. Inside a
    /// task spawned under a node (a group's child) that has not opened a scope yet, this first
    /// creates the task's own node below the group's and makes it current for the rest of
    /// the task's life (see the folder's header).
    pub fn scope_parent() -> Option<Arc<CancelNode>> {
        if let Some(node) = LazyScope::materialize_current() {
            return Some(node);
        }
        scope_parent_of_current_node()
    }

    /// Active shielded regions inside the task being polled on this thread (its task node's
    /// count; zero if it has none). A group's child consults it before dropping its future.
    pub fn current_task_shields() -> usize {
        context::current_task()
            .and_then(|task| task.trailer().task_node.get().map(|node| node.shields()))
            .unwrap_or(0)
    }
}

/// Restores the current node when a closure that installed one returns or unwinds.
struct RestoreNode(Option<NonNull<CancelNode>>);

impl Drop for RestoreNode {
    fn drop(&mut self) {
        context::replace_cancel_node(self.0);
    }
}

/// The current node, lazy scopes aside.
fn current_node() -> Option<Arc<CancelNode>> {
    let ptr = context::cancel_node()?;
    // SAFETY: the pointer is installed only by closures that borrow an `Arc` to the node for
    // as long as it is installed (see the module header), and this call runs inside one.
    unsafe {
        Arc::increment_strong_count(ptr.as_ptr());
        Some(Arc::from_raw(ptr.as_ptr()))
    }
}

/// [`CancelNode::scope_parent`], lazy scopes aside.
fn scope_parent_of_current_node() -> Option<Arc<CancelNode>> {
    let current = context::cancel_node();
    if let Some(task) = context::current_task() {
        let trailer = task.trailer();
        if let Some(spawned_under) = &trailer.meta.cancel {
            if current == Some(NonNull::from(&**spawned_under)) {
                let node = trailer
                    .task_node
                    .get_or_init(|| CancelNode::new(Some(spawned_under), false));
                // For the rest of this poll (the closure that installed the group's node
                // restores it when it returns); the harness installs it from now on. The
                // trailer keeps the node alive for as long as the task.
                context::replace_cancel_node(Some(NonNull::from(&**node)));
                return Some(node.clone());
            }
        }
    }
    current_node()
}

/// The effective deadline of the code running now: the earliest deadline of the current
/// cancel node and its ancestors, up to and including the first shielded one (Trio's
/// `current_effective_deadline`). `None` if no enclosing scope has a deadline, or outside
/// any scope. Cost: O(depth).
pub fn current_deadline() -> Option<Instant> {
    let mut min = NO_INSTANT;
    // SAFETY: as in `current_node`: the node is kept alive while it is installed, and this
    // call runs while it is.
    let mut next = context::cancel_node().map(|ptr| unsafe { ptr.as_ref() });
    while let Some(node) = next {
        let d = node.deadline_raw();
        if d != NO_INSTANT && (min == NO_INSTANT || d < min) {
            min = d;
        }
        if node.is_shielded() {
            break;
        }
        next = node.parent();
    }
    // Scopes whose nodes are not made yet are inside the current node.
    let mut earliest = decode(min);
    let mut lazy = context::lazy_scope();
    while let Some(ptr) = lazy {
        // SAFETY: a lazy scope is installed only while `lazy_scope` borrows it on its stack,
        // and this call runs inside that (see `LazyScope`).
        let scope = unsafe { ptr.as_ref() };
        if let Some(d) = scope.deadline {
            earliest = Some(earliest.map_or(d, |e| e.min(d)));
        }
        lazy = scope.outer.get();
    }
    earliest
}

/// Runs `poll` (a scope's first poll) inside a lazy unshielded scope whose node will carry
/// `deadline`, and makes the node only if something inside asks for it (see the module
/// header). Returns what `poll` returned and, if it is `Pending`, the scope's node: made
/// now if nothing made it, attached where the scope is.
#[inline]
pub fn lazy_scope<T>(
    deadline: Option<Instant>,
    poll: impl FnOnce() -> Poll<T>,
) -> (Poll<T>, Option<Arc<CancelNode>>) {
    let scope = LazyScope {
        deadline,
        outer: Cell::new(None),
        node: OnceCell::new(),
        restore: Cell::new(None),
    };
    let polled = {
        let _installed = LazyInstalled::new(&scope);
        poll()
    };
    match polled {
        Poll::Ready(v) => (Poll::Ready(v), None),
        Poll::Pending => (Poll::Pending, Some(scope.materialize())),
    }
}

/// A scope whose cancel node is made only if something inside it needs it.
///
/// Invariant: the thread's lazy scope points to one only while [`lazy_scope`] borrows it
/// (between `LazyInstalled::new` and its drop), and the scopes in its `outer` chain are
/// borrowed by enclosing `lazy_scope` calls on the same stack.
pub(crate) struct LazyScope {
    /// The deadline the node gets, and `current_deadline` reports meanwhile.
    deadline: Option<Instant>,
    /// The lazy scope this one is inside, if its node was not made either (set when it is
    /// installed).
    outer: Cell<Option<NonNull<LazyScope>>>,
    /// The node, once made.
    node: OnceCell<Arc<CancelNode>>,
    /// Set when this scope's node was made the current node: the current node to restore
    /// when the scope's poll ends.
    restore: Cell<Option<Option<NonNull<CancelNode>>>>,
}

impl LazyScope {
    /// Makes the current lazy scope's node (and those of the lazy scopes around it), makes
    /// it the current node, and returns it; `None` if no lazy scope is current.
    fn materialize_current() -> Option<Arc<CancelNode>> {
        let ptr = context::lazy_scope()?;
        context::replace_lazy_scope(None);
        // SAFETY: see the type's invariant: the scope is borrowed while installed.
        let scope = unsafe { ptr.as_ref() };
        let node = scope.materialize();
        let prev = context::replace_cancel_node(Some(NonNull::from(&*node)));
        if scope.restore.get().is_none() {
            scope.restore.set(Some(prev));
        }
        Some(node)
    }

    fn materialize(&self) -> Arc<CancelNode> {
        if let Some(node) = self.node.get() {
            return node.clone();
        }
        let parent = match self.outer.get() {
            // SAFETY: an outer lazy scope is borrowed by an enclosing `lazy_scope` call for
            // longer than this one (the type's invariant).
            Some(outer) => Some(unsafe { outer.as_ref() }.materialize()),
            None => scope_parent_of_current_node(),
        };
        let node = CancelNode::new_detached(false);
        node.set_deadline(self.deadline);
        node.attach(parent);
        self.node.get_or_init(|| node).clone()
    }
}

impl fmt::Debug for LazyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyScope")
            .field("made", &self.node.get().is_some())
            .finish_non_exhaustive()
    }
}

/// Installs a lazy scope for the length of `lazy_scope`'s closure; its drop restores the
/// thread's lazy scope, and the current node if the scope's node was made current.
struct LazyInstalled<'a> {
    scope: &'a LazyScope,
    prev_lazy: Option<NonNull<LazyScope>>,
}

impl<'a> LazyInstalled<'a> {
    #[inline]
    fn new(scope: &'a LazyScope) -> LazyInstalled<'a> {
        let prev_lazy = context::replace_lazy_scope(Some(NonNull::from(scope)));
        scope.outer.set(prev_lazy);
        LazyInstalled { scope, prev_lazy }
    }
}

impl Drop for LazyInstalled<'_> {
    #[inline]
    fn drop(&mut self) {
        context::replace_lazy_scope(self.prev_lazy);
        if let Some(prev) = self.scope.restore.take() {
            context::replace_cancel_node(prev);
        }
    }
}
