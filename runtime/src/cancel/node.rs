//! [`CancelNode`]: one scope's status in the cancel tree.
//!
//! ## Flags (one atomic byte; bits are only ever set)
//! - `CANCELLED`: *effectively* cancelled, by this node's own `cancel` or by an unshielded
//!   ancestor's. Checking it is one `Acquire` load ([`CancelNode::is_cancelled`]).
//! - `CANCEL_CALLED`: this node's own `cancel` (or `expire`) was called (Trio's
//!   `cancel_called`). It tells "this scope was cancelled" apart from "an enclosing scope
//!   was" (scopes use it for deciding who catches).
//! - `EXPIRED`: the node's deadline is what cancelled it ([`CancelNode::expire`] found it
//!   not yet cancelled). Set in the same atomic step as `CANCELLED`.
//! - `EXPIRY_SEEN`: the scope's own poll saw `EXPIRED` and its future did not complete in
//!   that poll, so the deadline took effect (a timeout's `expired()`; see
//!   [`CancelNode::is_expired`]).
//! - `ATTACHED`: [`attach`](CancelNode::attach) ran (a node is attached once).
//! - `LEAVES_CLOSED`: [`close_leaves`](CancelNode::close_leaves) ran: the node's leaf tasks
//!   are cancelled in place, by the closer or by their spawner (`leaf.rs`).
//!
//! ## Protocols
//! 1. **Cancel** ([`CancelNode::cancel`]): set `CANCEL_CALLED`; if `CANCELLED` was clear, set
//!    it and propagate: under each node's lock, read its children and set `CANCELLED` on
//!    each unshielded one that did not have it yet (those are propagated to in turn, with
//!    an explicit stack, not recursion) and wake each of its leaf tasks unless its leaves
//!    are closed (`leaf.rs`, step 3); after the lock, wake the node's waker. Cost: O(nodes
//!    that become cancelled + their leaf tasks).
//! 2. **Attach** ([`CancelNode::attach`]): under the node's own lock and then the parent's,
//!    publish the parent, push the child and read the parent's `CANCELLED`; an unshielded
//!    child of a cancelled parent starts cancelled. A concurrent cancel of the parent either
//!    finds the child in the list (its locked section came after ours), or set the flag
//!    before its locked section, which came before ours, so we read it. Still under the
//!    node's lock, the shielded regions already counted at the node are counted at the new
//!    ancestors (`shield.rs`, invariant 3).
//! 3. **Wakers**: `register_waker` stores the waker under the lock and then reads the flag, so
//!    a cancel racing a registration is never lost: either the cancel's locked section sees
//!    the waker, or the registration's flag read sees the cancel.
//! 4. **Who catches** ([`CancelNode::catches`]): when nested scopes are both cancelled the
//!    outermost one reports. A node catches if its own cancel was called and its parent's
//!    cancellation does not reach it (the parent is not cancelled, or this node is
//!    shielded). Otherwise an enclosing scope of the same task, a group, or the task itself
//!    is cancelled too, and drops this scope with the rest.
//!
//! ## Deadlines
//! The node keeps its deadline in one atomic word (`deadline`, written by `set_deadline`
//! from any thread, read by [`current_deadline`](super::current_deadline)); the timer that
//! enforces it (`DeadlineTimer`, `deadline.rs`) calls [`CancelNode::expire`] when it passes.

use super::leaf::{LeafCounts, Leaves};
use crate::loom::sync::atomic::{AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::task::GroupTag;
use crate::time::Instant;
use crate::time::instant::{NO_INSTANT, decode, encode};
use crossbeam_utils::CachePadded;
use std::fmt;
use std::sync::{Arc, Weak};
use std::task::Waker;

/// Effectively cancelled (by this node or an unshielded ancestor).
const CANCELLED: u8 = 1 << 0;
/// This node's own `cancel` was called.
const CANCEL_CALLED: u8 = 1 << 1;
/// This node's deadline is what cancelled it.
const EXPIRED: u8 = 1 << 2;
/// The scope's poll saw `EXPIRED` take effect.
const EXPIRY_SEEN: u8 = 1 << 3;
/// `attach` ran.
const ATTACHED: u8 = 1 << 4;
/// `close_leaves` ran (`leaf.rs`).
pub(super) const LEAVES_CLOSED: u8 = 1 << 5;

/// A node's children list is swept of dead entries when it reaches this length; after a
/// sweep the threshold doubles past the survivors, so attaching stays amortised O(1).
const CHILDREN_SWEEP_MIN: usize = 16;

/// One scope's node in the cancel tree (see the module header).
pub struct CancelNode {
    /// `CANCELLED | CANCEL_CALLED | EXPIRED | EXPIRY_SEEN | ATTACHED | LEAVES_CLOSED`; bits
    /// are only set.
    pub(super) flags: AtomicU8,
    /// The node's deadline (`time::instant::encode`); the timer that enforces it is the
    /// timeout's. Written only by read-modify-writes (`AcqRel`): `DeadlineTimer` orders its
    /// arming against a reschedule through this word's modification order (`deadline.rs`).
    deadline: AtomicU64,
    /// Stops propagation from the parent. Immutable.
    shielded: bool,
    /// Active shielded regions below this node that reached it (invariant 3). Written
    /// under `inner`'s lock only (`shield.rs`); read with one load.
    pub(super) shields: AtomicUsize,
    /// The parent (`Arc::into_raw`), or null for a root or a detached node. Written once,
    /// by `attach` under `inner`'s lock; the node holds that strong reference until it
    /// drops. `Acquire` loads see the parent fully made.
    parent: AtomicPtr<CancelNode>,
    /// Child nodes and leaf tasks to propagate to, the waker of the task polling this scope.
    /// On a cache line of its own: a group's spawner takes the lock for every child, while
    /// the children read `flags` at every poll and count themselves in `leaf_counts`
    /// on other workers; sharing a line with those made each spawn wait for it.
    inner: CachePadded<Mutex<Inner>>,
    /// The leaf counts, written by completing tasks (`leaf.rs`, step 2); on their own line.
    pub(super) leaf_counts: CachePadded<LeafCounts>,
    /// Set for a task group's node (`new_detached_group`): what task dumps show. Immutable.
    group: Option<GroupTag>,
}

pub(super) struct Inner {
    children: Vec<Weak<CancelNode>>,
    /// Length at which `children` is next swept of dropped nodes.
    sweep_at: usize,
    pub(super) waker: Option<Waker>,
    /// The tasks spawned under this node that have not completed (`leaf.rs`).
    pub(super) leaves: Leaves,
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
            parent: AtomicPtr::new(std::ptr::null_mut()),
            inner: CachePadded::new(Mutex::new(Inner {
                children: Vec::new(),
                sweep_at: CHILDREN_SWEEP_MIN,
                waker: None,
                leaves: Leaves::default(),
            })),
            leaf_counts: CachePadded::new(LeafCounts::default()),
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

    /// Attaches a detached node below `parent` (protocol 2), or makes it a root.
    ///
    /// # Panics
    /// If the node is already attached: a scope is entered once.
    #[track_caller]
    pub fn attach(self: &Arc<CancelNode>, parent: Option<Arc<CancelNode>>) {
        if self.flags.fetch_or(ATTACHED, Ordering::AcqRel) & ATTACHED != 0 {
            panic!("a cancel scope is entered once: this CancelNode is already attached");
        }
        let Some(parent) = parent else {
            return;
        };
        let inherited = {
            // Lock order: a node before its parent (`shield.rs` walks take one at a time).
            let own = self.lock();
            let inherited = {
                let mut inner = parent.lock();
                if inner.children.len() >= inner.sweep_at {
                    inner.children.retain(|c| c.strong_count() > 0);
                    inner.sweep_at = CHILDREN_SWEEP_MIN.max(inner.children.len() * 2);
                }
                inner.children.push(Arc::downgrade(self));
                // Read under the parent's lock (protocol 2).
                !self.shielded
                    && parent.is_cancelled()
                    && self.flags.fetch_or(CANCELLED, Ordering::AcqRel) & CANCELLED == 0
            };
            let regions = self.shields.load(Ordering::Acquire);
            let parent_ptr = Arc::into_raw(parent).cast_mut();
            self.parent.store(parent_ptr, Ordering::Release);
            // Invariant 3: the regions counted here so far are counted above from now on,
            // before any of them can leave (leaving takes this lock first).
            // SAFETY: `parent_ptr` came from `Arc::into_raw` just above, and the strong
            // reference it carries is now owned by `self.parent`, which outlives this call.
            super::shield::count_from(unsafe { &*parent_ptr }, regions);
            drop(own);
            inherited
        };
        if inherited {
            // Whatever hangs below the node already (tasks a group spawned before its scope
            // was first polled) learns of it now.
            self.propagate();
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
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
    pub fn parent(&self) -> Option<&CancelNode> {
        let ptr = self.parent.load(Ordering::Acquire);
        // SAFETY: a non-null `parent` is an `Arc::into_raw` pointer whose strong reference
        // this node owns until it drops (it is written once and never replaced), so the
        // parent outlives the borrow of `self`.
        unsafe { ptr.as_ref() }
    }

    /// Whether this scope is the one that reports its cancellation (protocol 4): its own
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
    /// only if the node is not cancelled yet, and then marks it expired. Returns `true` if
    /// this call is what cancelled it.
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

    /// Whether the node's deadline cancelled its scope: [`expire`](CancelNode::expire) is
    /// what cancelled it, and the scope's poll then saw it take effect
    /// ([`ScopeState`](super::ScopeState) records that). It never goes back to `false`. A
    /// scope whose future completed in the poll that first saw the expiry reports `false`:
    /// its result won.
    pub fn is_expired(&self) -> bool {
        self.flags.load(Ordering::Acquire) & (EXPIRED | EXPIRY_SEEN) == EXPIRED | EXPIRY_SEEN
    }

    /// The scope's poll saw the node cancelled and its future did not complete: if the
    /// deadline is what cancelled it, that is now final (see [`is_expired`](Self::is_expired)).
    pub(super) fn see_cancel(&self) {
        let flags = self.flags.load(Ordering::Acquire);
        if flags & EXPIRED != 0 && flags & EXPIRY_SEEN == 0 {
            self.flags.fetch_or(EXPIRY_SEEN, Ordering::AcqRel);
        }
    }

    /// The node's deadline, as last set by [`set_deadline`](CancelNode::set_deadline).
    pub fn deadline(&self) -> Option<Instant> {
        decode(self.deadline_raw())
    }

    /// Sets the deadline that [`current_deadline`](super::current_deadline) reports for this
    /// node. It enforces nothing by itself (see `DeadlineTimer`).
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        // A swap, not a store: see `deadline`'s field.
        self.deadline.swap(encode(deadline), Ordering::AcqRel);
    }

    /// A read-modify-write of the deadline that changes nothing: `DeadlineTimer::arm`'s
    /// side of the ordering with `set_deadline` (`deadline.rs`, protocol step 4).
    pub(crate) fn touch_deadline(&self) {
        self.deadline.fetch_or(0, Ordering::AcqRel);
    }

    pub(crate) fn deadline_raw(&self) -> u64 {
        self.deadline.load(Ordering::Acquire)
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
    /// that were not yet), wakes the leaf tasks unless they are closed, then wakes this
    /// node's waker.
    fn notify_and_collect(&self, stack: &mut Vec<Arc<CancelNode>>) {
        let waker = {
            let inner = self.lock();
            for child in inner.children.iter().filter_map(Weak::upgrade) {
                if !child.shielded
                    && child.flags.fetch_or(CANCELLED, Ordering::AcqRel) & CANCELLED == 0
                {
                    stack.push(child);
                }
            }
            if !self.leaves_closed() {
                // Under the lock: the list's reference keeps each task alive through the
                // submit, and a task that completes meanwhile waits for the lock to leave
                // the list. Submitting takes no cancel-node lock (a task is only polled
                // later, by a worker), so this cannot deadlock.
                for task in inner.leaves.iter() {
                    task.wake_for_cancel();
                }
            }
            inner.waker.clone()
        };
        if let Some(waker) = waker {
            // A panicking waker must not stop the propagation to the children.
            crate::wake::wake(waker);
        }
    }

    /// Stores the waker to wake when this node is cancelled, or when its last shielded
    /// region ends while it is cancelled (protocol 3). Returns `true` if the node is already
    /// cancelled.
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

    /// Active shielded regions below this node (invariant 3).
    pub fn shields(&self) -> usize {
        self.shields.load(Ordering::Acquire)
    }
}

/// Dropping the last reference to a long chain of ancestors (a 10k-deep tree of groups)
/// would recurse once per level and overflow the stack; the chain is unlinked in a loop.
impl Drop for CancelNode {
    fn drop(&mut self) {
        let mut next = take_parent(self);
        while let Some(parent) = next {
            match Arc::into_inner(parent) {
                // The last reference: take its parent before it drops, so it drops flat.
                Some(mut node) => next = take_parent(&mut node),
                None => break,
            }
        }
    }
}

/// Takes the strong reference a node holds on its parent.
fn take_parent(node: &mut CancelNode) -> Option<Arc<CancelNode>> {
    let ptr = node.parent.swap(std::ptr::null_mut(), Ordering::Acquire);
    // SAFETY: a non-null `parent` came from `Arc::into_raw` and carries one strong
    // reference, which this swap takes out of the node (it is never read again).
    (!ptr.is_null()).then(|| unsafe { Arc::from_raw(ptr) })
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
pub(super) fn children_len(node: &CancelNode) -> usize {
    node.lock().children.len()
}

#[cfg(all(test, not(loom)))]
pub(super) const SWEEP_MIN: usize = CHILDREN_SWEEP_MIN;
