//! Tasks as the leaves of the cancel tree (Trio's `CancelStatus` keeps its tasks the same
//! way): a task spawned under a node (`task::Builder::cancel_node`, a task group's children)
//! is listed in that node until it completes, so that cancelling the node wakes it, and a
//! group dropped before it finished can cancel it in place. The group keeps no list of its
//! own.
//!
//! ## The list
//! A vector of tasks under the node's lock, and beside it, outside the lock and on a cache
//! line of their own, two counts that never go down: `added` (tasks ever listed, a plain
//! store under the lock) and `left` (an RMW by each task that left); the tasks live are
//! `added - left`. The list holds one reference to each task it lists (one the task is born
//! with, `State::new_leaf`), so a walk under the lock may touch any listed task. A task
//! that completes *leaves* without the lock (it marks itself and counts itself in `left`); the list
//! drops it, and releases its reference, at the next *sweep*. Sweeping is where the cost
//! goes, not completing: a group whose children are spawned on one worker and complete on
//! another used to take the node's lock on both sides for every child (and free each
//! task's memory on the completing worker, which an allocator does through a slow, locked
//! path for a block made on another thread); that doubled `group_fanout`'s cost per child.
//!
//! ## Who touches it, step by step
//! 1. **Register** ([`CancelNode::add_leaf`], from `task::new_task`, before the task is
//!    listed with its runtime or submitted, so before it can run or complete): under the
//!    lock, push the task and count it in `added`. If the tasks that left are as many as
//!    [`SWEEP_MIN`] and as those live, sweep first: so a spawner sweeps in amortised O(1)
//!    per task, and the tasks are usually freed on the thread that made them.
//! 2. **Leave** ([`CancelNode::leave`], from the harness's `complete`, on every path that
//!    ends a task: completion, cancellation, runtime shutdown, in-place cancel; after the
//!    future is dropped and before anyone can see the task complete): store `LEFT` in the
//!    task's `Trailer::leaf_link` (`Release`), then count it in `left` (`AcqRel`) and read
//!    `added` (`Acquire`). The task whose count makes the two equal sweeps. Every leaver
//!    before it in `left`'s order stored `LEFT` before its RMW, and was spawned (counted in
//!    `added`) before it left; this RMW reads from theirs (one release sequence), so this
//!    leaver reads `added` at least as of those spawns and its sweep sees those marks. So
//!    the last task to leave while no other is live finds them all gone, and the sweep
//!    releases every reference the list held: a node with no live task holds nothing (a
//!    listed task holds its node, so nothing else could break that cycle). A spawn racing
//!    the count makes `added` larger: no sweep then, but that task's own leave comes later.
//!    A leaver also sweeps when the tasks that left
//!    are more than twice [`SWEEP_MIN`] and twice those live (no spawn came to sweep), so
//!    the list never holds more than about twice its live tasks: a long-lived group
//!    spawning millions of short children holds only those alive, give or take a sweep.
//! 3. **Sweep** (under the lock): drop from the vector every task whose `leaf_link` reads
//!    `LEFT` (`Acquire`), chaining them through `leaf_link` (the address of the next one's
//!    header, 0 at the end); shrink the vector when it is mostly empty. After the lock,
//!    walk the chain and release the list's references. Nobody else can reach a chained
//!    task through the list any more, so the links are the sweeper's alone.
//! 4. **Cancel** (`node.rs`, protocol 1): the propagation's locked section on a node wakes
//!    each listed task (by reference: the list's reference keeps it alive through the
//!    submit), unless the node's leaves are closed. A task that left and is not swept yet is
//!    running its completion or complete: the wake does nothing to it. A woken task reads
//!    the cancellation at its next poll: the wake is an RMW on the task's state word even
//!    when the task is queued already, so the poll that follows (whose start reads that
//!    word) sees the flag. A registration racing the cancel either comes first (the walk
//!    finds the task) or second (the cancel set `CANCELLED` before its locked section, so
//!    the task's first poll, which comes after its registration, reads it).
//! 5. **Close** ([`CancelNode::close_leaves`], a group's scope dropped before it finished):
//!    under the lock, set `LEAVES_CLOSED` and take a new reference to each listed task; the
//!    caller cancels them in place outside the lock (one that completed meanwhile is left
//!    alone by its in-place cancel). A spawn that registers later finds the flag set once
//!    its spawn returns ([`CancelNode::leaves_closed`]) and cancels its task in place itself
//!    (`task::spawn.rs`): the close's locked section came before the registration's. One
//!    that registered earlier is in the close's list. A task found both ways is cancelled in
//!    place twice; the second is a no-op.

use super::CancelNode;
use super::node::LEAVES_CLOSED;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::task::{RawTask, TaskRef};
use std::ptr::NonNull;

/// `Trailer::leaf_link` of a task that is listed and has not left (every task is born
/// with it: a task is listed once, at its spawn).
pub(crate) const LISTED: usize = usize::MAX;

/// `Trailer::leaf_link` of a task that left (step 2) and is not swept yet.
const LEFT: usize = usize::MAX - 1;

/// The end of a sweep's chain (step 3).
const CHAIN_END: usize = 0;

/// A sweep runs once at least this many listed tasks left (step 1; twice this for a
/// leaver's sweep, step 2).
const SWEEP_MIN: usize = 32;

/// A node's leaf counts, outside its lock (steps 1 and 2). The tasks live are
/// `added - left` (wrapping); neither count is ever decremented.
#[derive(Default)]
pub(super) struct LeafCounts {
    /// Tasks ever listed. Written (with a plain store, no RMW) only under the node's lock.
    added: AtomicUsize,
    /// Tasks that left: an RMW by each leaver, so the leavers form one release sequence.
    left: AtomicUsize,
    /// The list's length as of its last change: a leaver's hint.
    listed: AtomicUsize,
}

impl LeafCounts {
    /// Tasks listed that have not left.
    fn live(&self) -> usize {
        // `left` first: `added`, read after, is at least as large (every leaver was counted
        // in `added` before it left), so the difference never wraps. Acquire: a caller that
        // saw a task complete sees its leave (`leave` comes before the task completes).
        let left = self.left.load(Ordering::Acquire);
        self.added.load(Ordering::Acquire).wrapping_sub(left)
    }
}

/// A node's leaf tasks (see the module header). Lives under the node's lock.
#[derive(Default)]
pub(super) struct Leaves {
    /// Every task listed: live ones and ones that left and are not swept yet.
    tasks: Vec<RawTask>,
}

impl Leaves {
    /// The listed tasks.
    pub(super) fn iter(&self) -> impl Iterator<Item = RawTask> + '_ {
        self.tasks.iter().copied()
    }

    /// Step 3, under the lock: unlists the tasks that left and returns them as a chain,
    /// which releases their references when dropped (after the lock).
    fn sweep(&mut self) -> Swept {
        let mut chain = CHAIN_END;
        self.tasks.retain(|task| {
            let link = &task.trailer().leaf_link;
            if link.load(Ordering::Acquire) != LEFT {
                return true;
            }
            // Relaxed: the chain is read back by this thread (or one that takes the lock
            // after it), and no one else reads a swept task's link.
            link.store(chain, Ordering::Relaxed);
            chain = task.header_addr();
            false
        });
        if self.tasks.len() < self.tasks.capacity() / 4 {
            // Mostly empty after a burst: give the memory back (an empty list holds none).
            self.tasks.shrink_to(self.tasks.len() * 2);
        }
        Swept(chain)
    }
}

/// Tasks a sweep unlisted, chained through their `leaf_link`s: dropping it releases the
/// list's reference to each. Dropped after the node's lock is released.
struct Swept(usize);

impl Drop for Swept {
    fn drop(&mut self) {
        let mut next = self.0;
        while let Some(ptr) = NonNull::new(next as *mut _) {
            // SAFETY: a chain link is the header address of a task the sweep unlisted,
            // whose list reference the chain holds until the `drop_reference` below.
            let task = unsafe { RawTask::from_raw(ptr) };
            // Relaxed: written by the sweep under the lock, which this thread took (or
            // synchronised with) before.
            next = task.trailer().leaf_link.load(Ordering::Relaxed);
            task.drop_reference();
        }
    }
}

impl CancelNode {
    /// Lists `task` as a leaf of this node (step 1), taking over one reference to it, which
    /// a sweep gives back after the task [left](Self::leave).
    pub(crate) fn add_leaf(&self, task: RawTask) {
        let mut inner = self.lock();
        let leaves = &mut inner.leaves;
        let counts = &self.leaf_counts;
        // Relaxed: `added` is only written under this lock; `left` is read only to decide
        // whether to sweep (the sweep itself reads each task's mark).
        let added = counts.added.load(Ordering::Relaxed);
        let live = added.wrapping_sub(counts.left.load(Ordering::Relaxed));
        let left = leaves.tasks.len().saturating_sub(live);
        let swept = (left >= SWEEP_MIN && left >= live).then(|| leaves.sweep());
        // The task's `leaf_link` reads `LISTED` from its birth (`Cell::new`).
        leaves.tasks.push(task);
        // Release: a leaver that reads this count reads the task listed (step 2).
        counts.added.store(added.wrapping_add(1), Ordering::Release);
        counts.listed.store(leaves.tasks.len(), Ordering::Relaxed);
        drop(inner);
        drop(swept);
    }

    /// A completing task leaves the list (step 2). The list's reference is released by a
    /// sweep, maybe this one.
    pub(crate) fn leave(&self, task: RawTask) {
        let counts = &self.leaf_counts;
        task.trailer().leaf_link.store(LEFT, Ordering::Release);
        // AcqRel: this leaver synchronises with every earlier one, so it reads `added` at
        // least as of their spawns, and the sweep below sees their marks.
        let left = counts.left.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
        let live = counts.added.load(Ordering::Acquire).wrapping_sub(left);
        let must_sweep = live == 0 || {
            // Relaxed: a hint; a stale read only delays the sweep to another leaver.
            let left = counts.listed.load(Ordering::Relaxed).saturating_sub(live);
            left >= 2 * SWEEP_MIN && left >= 2 * live
        };
        if must_sweep {
            let mut inner = self.lock();
            let swept = inner.leaves.sweep();
            self.leaf_counts
                .listed
                .store(inner.leaves.tasks.len(), Ordering::Relaxed);
            drop(inner);
            drop(swept);
        }
    }

    /// Closes the leaf list (step 5) and returns a reference to each task listed now, for
    /// the caller to cancel in place. Tasks that register from now on are cancelled in place
    /// by their spawner.
    #[doc(hidden)]
    pub fn close_leaves(&self) -> Vec<TaskRef> {
        let inner = self.lock();
        self.flags.fetch_or(LEAVES_CLOSED, Ordering::AcqRel);
        inner.leaves.iter().map(TaskRef::new).collect()
    }

    /// Whether [`close_leaves`](Self::close_leaves) ran: a task registered as a leaf before
    /// this returns `true` was in the list it returned.
    pub(crate) fn leaves_closed(&self) -> bool {
        self.flags.load(Ordering::Acquire) & LEAVES_CLOSED != 0
    }

    /// How many tasks listed as leaves of this node have not left (for tests: a long-lived
    /// group holds only its live children).
    #[doc(hidden)]
    pub fn leaf_count(&self) -> usize {
        self.leaf_counts.live()
    }

    /// How many tasks the leaf list holds: live ones and ones that left and are not swept
    /// yet (for tests: at most about twice the live ones, and none once none is live).
    #[doc(hidden)]
    pub fn leaves_listed(&self) -> usize {
        self.lock().leaves.tasks.len()
    }
}
