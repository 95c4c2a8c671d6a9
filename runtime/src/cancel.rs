//! The cancel-state tree that cancel scopes, task groups and timeouts are built on.
//!
//! Trio keeps cancel *origination* (the `CancelScope` a user holds) apart from cancel
//! *propagation* (the `CancelStatus` tree). This module is the propagation half; the
//! origination half (`CancelScope`, `TaskGroup`) lives in `arbor-taskgroup`.
//!
//! ## The tree
//! - A [`CancelNode`] is one scope's status. It is made *detached* (so a handle can cancel it
//!   before the scope is entered) and *attached* once, when its scope is first polled, below
//!   the node that is current on that thread ([`CancelNode::scope_parent`]).
//! - The current node is a thread-local: a scope installs its node around the poll of the
//!   future it wraps ([`CancelNode::enter`]); the task harness installs the task's node
//!   around every poll of a task.
//! - A task spawned into a group carries the group's node (`task::Builder::cancel_node`).
//!   The first time code in such a task opens a scope, the task gets its own *task node*
//!   below the group's node (kept in the task's trailer, installed by the harness from then
//!   on), so every scope of a task hangs below its task node, and every task below the
//!   group it was spawned into: cancellation reaches every descendant task at any depth.
//!
//! ## Flags (one atomic byte)
//! - `CANCELLED`: *effectively* cancelled, by this node's own `cancel` or by an unshielded
//!   ancestor's. Never cleared. Checking it is one `Acquire` load ([`CancelNode::is_cancelled`]).
//! - `CANCEL_CALLED`: this node's own `cancel` (or `expire`) was called (Trio's
//!   `cancel_called`). It tells "this scope was cancelled" apart from "an enclosing scope
//!   was" (scopes use it for deciding who catches).
//! - `EXPIRED`: the node's deadline is what cancelled it ([`CancelNode::expire`] found it
//!   not yet cancelled). Set in the same atomic step as `CANCELLED`, so whoever sees the node
//!   cancelled also sees whether its deadline did it (a timeout's `expired()`).
//!
//! ## Protocols
//! 1. **Cancel** ([`CancelNode::cancel`]): set `CANCEL_CALLED`; if `CANCELLED` was clear, set
//!    it and propagate: under each node's lock, read its children and set `CANCELLED` on
//!    each unshielded one that did not have it yet (those are propagated to in turn, with
//!    an explicit stack, not recursion); after the lock, wake the node's waker and call its
//!    [`CancelHook`] (a task group uses the hook to wake its children). Cost: O(nodes that
//!    become cancelled), plus the tasks their hooks wake.
//! 2. **Attach** ([`CancelNode::attach`]): under the parent's lock, push the child and read
//!    the parent's `CANCELLED`; an unshielded child of a cancelled parent starts cancelled.
//!    A concurrent cancel of the parent either finds the child in the list (its locked
//!    section came after ours), or set the flag before its locked section, which came before
//!    ours, so we read it.
//! 3. **Wakers**: `register_waker` stores the waker under the lock and then reads the flag, so
//!    a cancel racing a registration is never lost: either the cancel's locked section sees
//!    the waker, or the registration's flag read sees the cancel.
//! 4. **Shielded regions** ([`CancelNode::enter_shield`]): while a shielded scope is active,
//!    every ancestor's `shields` count includes it, across task boundaries. A cancelled
//!    scope drops the future it wraps only when its count is zero, so the outer drop waits
//!    for the shielded region to complete (DESIGN.md section 3, rule 4). Leaving the region
//!    walks the same chain down again and wakes every cancelled ancestor whose count reached
//!    zero, so its scope gets polled and drops. Cost: O(depth), on shield entry and exit only.
//! 5. **Who catches** ([`CancelNode::catches`]): when nested scopes are both cancelled the
//!    outermost one reports (rule 3). A node catches if its own cancel was called and its
//!    parent's cancellation does not reach it (the parent is not cancelled, or this node is
//!    shielded). Otherwise an enclosing scope of the same task, a group, or the task itself
//!    is cancelled too, and drops this scope with the rest.
//!
//! ## Deadlines
//! Timeouts (`arbor-timeouts`) are cancel scopes with a deadline. The node keeps the
//! deadline in one atomic word (`deadline`, written by `set_deadline` from any thread, read
//! by [`current_deadline`]); the timer that enforces it (`time::DeadlineTimer`) calls
//! [`CancelNode::expire`] when it passes, from the thread turning the time driver, so the
//! scope and every task below it are cancelled even while no task polls the timeout.
//! [`current_deadline`] is the minimum over the current node and its ancestors, up to and
//! including the first shielded one (outer deadlines do not reach past a shield): Trio's
//! `current_effective_deadline`. Cost: O(depth).

use crate::context;
use crate::task::GroupTag;
use crate::time::Instant;
use crate::time::instant::{NO_INSTANT, decode, encode};
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::Waker;

/// Effectively cancelled (by this node or an unshielded ancestor).
const CANCELLED: u8 = 0b01;
/// This node's own `cancel` was called.
const CANCEL_CALLED: u8 = 0b10;
/// This node's deadline is what cancelled it.
const EXPIRED: u8 = 0b100;

/// A node's children list is swept of dead entries when it reaches this length; after a
/// sweep the threshold doubles past the survivors, so attaching stays amortised O(1).
const CHILDREN_SWEEP_MIN: usize = 16;

/// Called when a node becomes cancelled (after its lock is released). A task group
/// implements it to wake its children.
pub trait CancelHook: Send + Sync {
    /// The node this hook is installed on became (effectively) cancelled.
    fn on_cancel(&self);
}

/// One scope's node in the cancel-state tree.
pub struct CancelNode {
    /// `CANCELLED | CANCEL_CALLED | EXPIRED`; bits are only ever set.
    flags: AtomicU8,
    /// The node's deadline (`time::instant::encode`); the timer that enforces it is the
    /// timeout's. `SeqCst`: `DeadlineTimer` orders it against its own state (see
    /// `time/deadline.rs`).
    deadline: AtomicU64,
    /// Stops propagation from the parent. Immutable.
    shielded: bool,
    /// Active shielded regions below this node, in any task (protocol 4).
    shields: AtomicUsize,
    /// Set once by `attach`: `None` for a root.
    parent: OnceLock<Option<Arc<CancelNode>>>,
    /// Children to propagate to, the waker of the task polling this scope, the hook.
    inner: Mutex<Inner>,
    /// Set for a task group's node (`new_detached_group`): what task dumps show. Immutable.
    group: Option<GroupTag>,
}

struct Inner {
    children: Vec<Weak<CancelNode>>,
    /// Length at which `children` is next swept of dropped nodes.
    sweep_at: usize,
    waker: Option<Waker>,
    hook: Option<Weak<dyn CancelHook>>,
}

impl CancelNode {
    /// A node that belongs to no tree yet: it can be cancelled, and is attached later with
    /// [`attach`](CancelNode::attach).
    pub fn new_detached(shielded: bool) -> Arc<CancelNode> {
        CancelNode::detached_with(shielded, None)
    }

    /// A detached, unshielded node for a task group: tagged with a fresh group id and the
    /// task that opens the group (the one being polled now), so that
    /// [`task::all`](crate::task::all) and [`task::dump`](crate::task::dump) can place
    /// the group and its children in the task tree.
    pub fn new_detached_group() -> Arc<CancelNode> {
        CancelNode::detached_with(false, Some(GroupTag::new()))
    }

    fn detached_with(shielded: bool, group: Option<GroupTag>) -> Arc<CancelNode> {
        Arc::new(CancelNode {
            flags: AtomicU8::new(0),
            deadline: AtomicU64::new(NO_INSTANT),
            shielded,
            shields: AtomicUsize::new(0),
            parent: OnceLock::new(),
            inner: Mutex::new(Inner {
                children: Vec::new(),
                sweep_at: CHILDREN_SWEEP_MIN,
                waker: None,
                hook: None,
            }),
            group,
        })
    }

    /// A node attached below `parent` (or a root). It starts cancelled if `parent` is
    /// effectively cancelled and `shielded` is false.
    pub fn new(parent: Option<&Arc<CancelNode>>, shielded: bool) -> Arc<CancelNode> {
        let node = CancelNode::new_detached(shielded);
        node.attach(parent.cloned());
        node
    }

    /// A node attached below [`scope_parent`](CancelNode::scope_parent).
    pub fn new_in_current(shielded: bool) -> Arc<CancelNode> {
        CancelNode::new(CancelNode::scope_parent().as_ref(), shielded)
    }

    /// Attaches a detached node below `parent` (protocol 2).
    ///
    /// # Panics
    /// If the node is already attached: a scope is entered once.
    #[track_caller]
    pub fn attach(self: &Arc<CancelNode>, parent: Option<Arc<CancelNode>>) {
        let mut inherited = false;
        if let Some(parent) = &parent {
            let mut inner = parent.lock();
            if inner.children.len() >= inner.sweep_at {
                inner.children.retain(|c| c.strong_count() > 0);
                inner.sweep_at = CHILDREN_SWEEP_MIN.max(inner.children.len() * 2);
            }
            inner.children.push(Arc::downgrade(self));
            // Read under the lock (protocol 2).
            if !self.shielded && parent.is_cancelled() {
                inherited = self.flags.fetch_or(CANCELLED, Ordering::AcqRel) & CANCELLED == 0;
            }
        }
        if self.parent.set(parent).is_err() {
            panic!("a cancel scope is entered once: this CancelNode is already attached");
        }
        if inherited {
            // Whatever hangs below the node already (tasks a group spawned before its scope
            // was first polled) learns of it now.
            self.propagate();
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere; the data stays consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this node is effectively cancelled. One atomic load.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.flags.load(Ordering::Acquire) & CANCELLED != 0
    }

    /// Whether this node's own [`cancel`](CancelNode::cancel) was called.
    pub fn cancel_called(&self) -> bool {
        self.flags.load(Ordering::Acquire) & CANCEL_CALLED != 0
    }

    /// The group tag of a task group's node (see [`new_detached_group`](Self::new_detached_group)).
    pub(crate) fn group_tag(&self) -> Option<&GroupTag> {
        self.group.as_ref()
    }

    /// Whether this node is shielded from its parent.
    pub fn is_shielded(&self) -> bool {
        self.shielded
    }

    /// The parent node: `None` for a root, or while detached.
    pub fn parent(&self) -> Option<&Arc<CancelNode>> {
        self.parent.get().and_then(Option::as_ref)
    }

    /// Whether this scope is the one that reports its cancellation (protocol 5): its own
    /// cancel was called, and its parent's cancellation does not reach it.
    pub fn catches(&self) -> bool {
        self.cancel_called() && (self.shielded || self.parent().is_none_or(|p| !p.is_cancelled()))
    }

    /// Cancels this node and every unshielded descendant (protocol 1). Returns `true` if
    /// this call is what made the node cancelled (it was not effectively cancelled before).
    pub fn cancel(&self) -> bool {
        let prev = self
            .flags
            .fetch_or(CANCELLED | CANCEL_CALLED, Ordering::AcqRel);
        if prev & CANCELLED != 0 {
            return false;
        }
        self.propagate();
        true
    }

    /// Cancels this node because its deadline passed: as [`cancel`](CancelNode::cancel), but
    /// only if the node is not cancelled yet, and then marks it [`expired`]. Returns `true`
    /// if this call is what cancelled it.
    ///
    /// [`expired`]: CancelNode::is_expired
    pub fn expire(&self) -> bool {
        let mut cur = self.flags.load(Ordering::Acquire);
        loop {
            if cur & CANCELLED != 0 {
                return false;
            }
            match self.flags.compare_exchange_weak(
                cur,
                cur | CANCELLED | CANCEL_CALLED | EXPIRED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        self.propagate();
        true
    }

    /// Whether [`expire`](CancelNode::expire) is what cancelled this node.
    pub fn is_expired(&self) -> bool {
        self.flags.load(Ordering::Acquire) & EXPIRED != 0
    }

    /// The node's deadline, as last set by [`set_deadline`](CancelNode::set_deadline).
    pub fn deadline(&self) -> Option<Instant> {
        decode(self.deadline_raw())
    }

    /// Sets the deadline that [`current_deadline`] reports for this node. It enforces
    /// nothing by itself (see the module header).
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        self.deadline.store(encode(deadline), Ordering::SeqCst);
    }

    pub(crate) fn deadline_raw(&self) -> u64 {
        self.deadline.load(Ordering::SeqCst)
    }

    /// Propagation from a node that just became cancelled, with an explicit stack.
    fn propagate(&self) {
        let mut stack = Vec::new();
        self.notify_and_collect(&mut stack);
        while let Some(node) = stack.pop() {
            node.notify_and_collect(&mut stack);
        }
    }

    /// One step of propagation: marks the unshielded children cancelled (pushing the ones
    /// that were not yet), then wakes this node's waker and calls its hook.
    fn notify_and_collect(&self, stack: &mut Vec<Arc<CancelNode>>) {
        let (waker, hook) = {
            let inner = self.lock();
            for child in inner.children.iter().filter_map(Weak::upgrade) {
                if !child.shielded
                    && child.flags.fetch_or(CANCELLED, Ordering::AcqRel) & CANCELLED == 0
                {
                    stack.push(child);
                }
            }
            (
                inner.waker.clone(),
                inner.hook.as_ref().and_then(Weak::upgrade),
            )
        };
        if let Some(waker) = waker {
            // A panicking waker must not stop the propagation to the children.
            crate::wake::wake(waker);
        }
        if let Some(hook) = hook {
            hook.on_cancel();
        }
    }

    /// Stores the waker to wake when this node is cancelled, or when its last shielded
    /// region ends while it is cancelled. Returns `true` if the node is already cancelled.
    pub fn register_waker(&self, waker: &Waker) -> bool {
        let mut inner = self.lock();
        match &inner.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => inner.waker = Some(waker.clone()),
        }
        drop(inner);
        self.is_cancelled()
    }

    /// Forgets the registered waker (the scope is finished).
    pub fn clear_waker(&self) {
        let waker = self.lock().waker.take();
        drop(waker);
    }

    fn wake(&self) {
        let waker = self.lock().waker.clone();
        if let Some(waker) = waker {
            crate::wake::wake(waker);
        }
    }

    /// Installs the hook called each time this node becomes cancelled. Held weakly, so the
    /// hook's owner may own the node.
    pub fn set_hook(&self, hook: Weak<dyn CancelHook>) {
        self.lock().hook = Some(hook);
    }

    /// Active shielded regions below this node (protocol 4).
    pub fn shields(&self) -> usize {
        self.shields.load(Ordering::Acquire)
    }

    /// Marks this (shielded, attached) node's region active until the returned value drops:
    /// every ancestor counts it, so a cancelled ancestor waits for it before dropping.
    pub fn enter_shield(self: &Arc<CancelNode>) -> ShieldRegion {
        let mut next = self.parent();
        while let Some(node) = next {
            node.shields.fetch_add(1, Ordering::AcqRel);
            next = node.parent();
        }
        ShieldRegion { node: self.clone() }
    }

    /// The current node: the innermost scope being polled on this thread, or the node of the
    /// task being polled.
    pub fn current() -> Option<Arc<CancelNode>> {
        if let Some(node) = LazyScope::materialize_current() {
            return Some(node);
        }
        CancelNode::current_node()
    }

    /// [`current`](CancelNode::current), lazy scopes aside.
    fn current_node() -> Option<Arc<CancelNode>> {
        let ptr = context::cancel_node()?;
        // SAFETY: the pointer is installed by `enter` or by the task harness for the length of
        // a poll, during which the scope (or the task's trailer) holds an `Arc` to the node.
        unsafe {
            Arc::increment_strong_count(ptr.as_ptr());
            Some(Arc::from_raw(ptr.as_ptr()))
        }
    }

    /// The node a scope opened now on this thread attaches to: the current node. Inside a
    /// task spawned under a node (a group's child) that has not opened a scope yet, this first
    /// creates the task's own node below the group's and makes it current for the rest of
    /// the task's life (see the module header).
    pub fn scope_parent() -> Option<Arc<CancelNode>> {
        if let Some(node) = LazyScope::materialize_current() {
            return Some(node);
        }
        CancelNode::scope_parent_of_current_node()
    }

    /// [`scope_parent`](CancelNode::scope_parent), lazy scopes aside.
    fn scope_parent_of_current_node() -> Option<Arc<CancelNode>> {
        let current = context::cancel_node();
        if let Some(task) = context::current_task() {
            let trailer = task.trailer();
            if let Some(spawned_under) = &trailer.meta.cancel {
                if current == Some(NonNull::from(&**spawned_under)) {
                    let node = trailer
                        .task_node
                        .get_or_init(|| CancelNode::new(Some(spawned_under), false));
                    // For the rest of this poll; the harness installs it from now on.
                    context::replace_cancel_node(Some(NonNull::from(&**node)));
                    return Some(node.clone());
                }
            }
        }
        CancelNode::current_node()
    }

    /// Active shielded regions inside the task being polled on this thread (its task node's
    /// count; zero if it has none). A group's child consults it before dropping its future.
    pub fn current_task_shields() -> usize {
        context::current_task()
            .and_then(|task| task.trailer().task_node.get().map(|node| node.shields()))
            .unwrap_or(0)
    }

    /// Makes this node the current one until the guard drops (around a scope's poll).
    pub fn enter(self: &Arc<CancelNode>) -> EnterGuard<'_> {
        let prev = context::replace_cancel_node(Some(NonNull::from(&**self)));
        EnterGuard { prev, _node: self }
    }
}

/// The effective deadline of the code running now: the earliest deadline of the current
/// cancel node and its ancestors, up to and including the first shielded one (Trio's
/// `current_effective_deadline`). `None` if no enclosing scope has a deadline, or outside
/// any scope.
pub fn current_deadline() -> Option<Instant> {
    let mut min = NO_INSTANT;
    let mut consider = |node: &CancelNode| {
        let d = node.deadline_raw();
        if d != NO_INSTANT && (min == NO_INSTANT || d < min) {
            min = d;
        }
        !node.shielded
    };
    // SAFETY: as in `CancelNode::current`: the node is kept alive for the length of the
    // poll that installed it, and this call runs inside that poll.
    let current = context::cancel_node().map(|ptr| unsafe { ptr.as_ref() });
    let mut next = current;
    while let Some(node) = next {
        if !consider(node) {
            break;
        }
        next = node.parent().map(|p| &**p);
    }
    // Scopes whose nodes are not made yet are inside the current node.
    let mut earliest = decode(min);
    let mut lazy = context::lazy_scope();
    while let Some(ptr) = lazy {
        // SAFETY: a lazy scope is installed only for the length of its first poll, and
        // this call runs inside that poll (see `LazyScope`).
        let scope = unsafe { ptr.as_ref() };
        if let Some(d) = scope.deadline {
            earliest = Some(earliest.map_or(d, |e| e.min(d)));
        }
        lazy = scope.outer;
    }
    earliest
}

/// A scope whose cancel node is made only if something inside it needs it.
///
/// A timeout around a future that completes at its first poll needs no node at all: nothing
/// inside could have been cancelled by it. So during its first poll, a scope installs a
/// `LazyScope` (on its stack) as the thread's current lazy scope instead of a node. Anything
/// that asks for the current node ([`CancelNode::current`], [`CancelNode::scope_parent`]:
/// a nested scope, a group, a child task's scope) makes the node then, attached where the
/// scope would have attached it, and makes it the current node; enclosing lazy scopes are
/// made first, outermost first. A scope that stays pending takes its node
/// with [`LazyGuard::node`] before its poll ends, made then if nothing made it.
///
/// Invariant: the thread's lazy scope is set only inside a scope's first poll (between
/// [`enter`](LazyScope::enter) and the guard's drop), which polls no other task.
pub struct LazyScope {
    /// The deadline the node gets, and `current_deadline` reports meanwhile.
    deadline: Option<Instant>,
    /// The lazy scope this one is inside, if its node was not made either.
    outer: Option<NonNull<LazyScope>>,
    /// The node, once made.
    node: std::cell::OnceCell<Arc<CancelNode>>,
    /// Set when this scope's node was made the current node: the current node to restore
    /// when the scope's poll ends.
    restore: std::cell::Cell<Option<Option<NonNull<CancelNode>>>>,
}

impl LazyScope {
    /// A lazy unshielded scope whose node will carry `deadline`.
    pub fn new(deadline: Option<Instant>) -> LazyScope {
        LazyScope {
            deadline,
            outer: None,
            node: std::cell::OnceCell::new(),
            restore: std::cell::Cell::new(None),
        }
    }

    /// Makes this the thread's current lazy scope until the guard drops.
    pub fn enter(&mut self) -> LazyGuard<'_> {
        let prev_lazy = context::replace_lazy_scope(Some(NonNull::from(&*self)));
        self.outer = prev_lazy;
        LazyGuard {
            scope: self,
            prev_lazy,
        }
    }

    /// Makes the current lazy scope's node (and those of the lazy scopes around it), makes
    /// it the current node, and returns it; `None` if no lazy scope is current.
    fn materialize_current() -> Option<Arc<CancelNode>> {
        let ptr = context::lazy_scope()?;
        context::replace_lazy_scope(None);
        // SAFETY: see the type's invariant: the scope outlives its installation.
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
        let parent = match self.outer {
            // SAFETY: an outer lazy scope outlives this one's installation.
            Some(outer) => Some(unsafe { outer.as_ref() }.materialize()),
            None => CancelNode::scope_parent_of_current_node(),
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

/// Restores the thread's lazy scope (and its current node, if the scope's node was made
/// current meanwhile) when a lazy scope's poll ends.
pub struct LazyGuard<'a> {
    scope: &'a LazyScope,
    prev_lazy: Option<NonNull<LazyScope>>,
}

impl LazyGuard<'_> {
    /// The scope's node: the one made while the scope was entered, or one made now,
    /// attached where the scope is (for a scope that stays pending).
    pub fn node(&self) -> Arc<CancelNode> {
        self.scope.materialize()
    }
}

impl Drop for LazyGuard<'_> {
    fn drop(&mut self) {
        context::replace_lazy_scope(self.prev_lazy);
        if let Some(prev) = self.scope.restore.take() {
            context::replace_cancel_node(prev);
        }
    }
}

impl fmt::Debug for LazyGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyGuard").finish_non_exhaustive()
    }
}

/// An active shielded region (see [`CancelNode::enter_shield`]).
pub struct ShieldRegion {
    node: Arc<CancelNode>,
}

impl Drop for ShieldRegion {
    fn drop(&mut self) {
        let mut next = self.node.parent();
        while let Some(node) = next {
            let prev = node.shields.fetch_sub(1, Ordering::AcqRel);
            debug_assert!(prev > 0, "shield count underflow");
            if prev == 1 && node.is_cancelled() {
                // Its scope was waiting for this region: let it drop now.
                node.wake();
            }
            next = node.parent();
        }
    }
}

impl fmt::Debug for ShieldRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShieldRegion")
            .field("node", &self.node)
            .finish()
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

/// Dropping the last reference to a long chain of ancestors (a 10k-deep tree of groups)
/// would recurse once per level and overflow the stack; the chain is unlinked in a loop.
impl Drop for CancelNode {
    fn drop(&mut self) {
        let mut next = self.parent.take().flatten();
        while let Some(parent) = next {
            match Arc::into_inner(parent) {
                // The last reference: take its parent before it drops, so it drops flat.
                Some(mut node) => next = node.parent.take().flatten(),
                None => break,
            }
        }
    }
}

impl fmt::Debug for CancelNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelNode")
            .field("cancelled", &self.is_cancelled())
            .field("cancel_called", &self.cancel_called())
            .field("expired", &self.is_expired())
            .field("deadline", &self.deadline())
            .field("shielded", &self.shielded)
            .field("shields", &self.shields())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

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
        struct Flag(AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let root = CancelNode::new(None, false);
        let mid = CancelNode::new(Some(&root), false);
        let shield = CancelNode::new(Some(&mid), true);
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        root.register_waker(&Waker::from(flag.clone()));
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

    #[test]
    fn hooks_run_on_propagation_and_are_held_weakly() {
        struct Count(AtomicUsize);
        impl CancelHook for Count {
            fn on_cancel(&self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let root = CancelNode::new(None, false);
        let group = CancelNode::new(Some(&root), false);
        let hook = Arc::new(Count(AtomicUsize::new(0)));
        let weak: Weak<dyn CancelHook> = Arc::downgrade(&hook) as Weak<dyn CancelHook>;
        group.set_hook(weak);
        root.cancel();
        assert_eq!(hook.0.load(Ordering::SeqCst), 1);
        assert_eq!(Arc::strong_count(&hook), 1);
    }

    #[test]
    fn children_lists_are_swept_of_dropped_nodes() {
        let root = CancelNode::new(None, false);
        for _ in 0..1000 {
            drop(CancelNode::new(Some(&root), false));
        }
        assert!(root.lock().children.len() <= 2 * CHILDREN_SWEEP_MIN);
    }

    #[test]
    fn deep_trees_propagate_without_recursion() {
        let root = CancelNode::new(None, false);
        let mut chain = vec![root.clone()];
        for _ in 0..100_000 {
            let next = CancelNode::new(chain.last(), false);
            chain.push(next);
        }
        root.cancel();
        assert!(chain.last().unwrap().is_cancelled());
        // Drop from the leaf up, so the drop of `root` does not recurse down 100k Arcs.
        while chain.pop().is_some() {}
    }
}
