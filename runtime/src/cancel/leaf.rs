//! Tasks as the leaves of the cancel tree (Trio's `CancelStatus` keeps its tasks the same
//! way): a task spawned under a node (`task::Builder::cancel_node`, a task group's children)
//! is listed in that node until it completes, so that cancelling the node wakes it, and a
//! group dropped before it finished can cancel it in place. The group keeps no list of its
//! own.
//!
//! ## The list
//! A small slab under the node's lock: slots plus a free list. A task's slot index lives in
//! its trailer (`Trailer::leaf_slot`), read and written only under that lock. The list holds
//! one reference to each task it lists, so a walk under the lock may touch any listed task.
//!
//! ## Who touches it, step by step
//! 1. **Register** ([`CancelNode::add_leaf`], from `task::new_task`, before the task is
//!    listed with its runtime or submitted, so before it can run or complete): under the
//!    lock, take a slot and record it in the trailer.
//! 2. **Remove** ([`CancelNode::remove_leaf`], from the harness's `complete`, on every path
//!    that ends a task: completion, cancellation, runtime shutdown, in-place cancel): under
//!    the lock, free the slot; the list's reference is released with the runner's. So the
//!    list holds O(live children) entries: a long-lived group spawning millions of short
//!    children holds only those alive, and once the last one leaves its storage is freed.
//! 3. **Cancel** (`node.rs`, protocol 1): the propagation's locked section on a node wakes
//!    each listed task (by reference: the list's reference keeps it alive through the
//!    submit), unless the node's leaves are closed. A woken task reads the cancellation at
//!    its next poll: the wake is an RMW on the task's state word even when the task is
//!    queued already, so the poll that follows (whose start reads that word) sees the flag.
//!    A registration racing the cancel either comes first (the walk finds the task) or
//!    second (the cancel set `CANCELLED` before its locked section, so the task's first
//!    poll, which comes after its registration, reads it).
//! 4. **Close** ([`CancelNode::close_leaves`], a group's scope dropped before it finished):
//!    under the lock, set `LEAVES_CLOSED` and take a new reference to each listed task; the
//!    caller cancels them in place outside the lock. A spawn that registers later finds the
//!    flag set once its spawn returns ([`CancelNode::leaves_closed`]) and cancels its task in
//!    place itself (`task::spawn.rs`): the close's locked section came before the
//!    registration's. One that registered earlier is in the close's list. A task found both
//!    ways is cancelled in place twice; the second is a no-op.

use super::CancelNode;
use super::node::LEAVES_CLOSED;
use crate::loom::sync::atomic::Ordering;
use crate::task::{RawTask, TaskRef};

/// The slot index of a task that is in no leaf list.
pub(crate) const NO_LEAF: usize = usize::MAX;

/// A node's leaf tasks (see the module header). Lives under the node's lock.
#[derive(Default)]
pub(super) struct Leaves {
    slots: Vec<Option<RawTask>>,
    free: Vec<usize>,
    len: usize,
}

impl Leaves {
    /// The listed tasks.
    pub(super) fn iter(&self) -> impl Iterator<Item = RawTask> + '_ {
        self.slots.iter().flatten().copied()
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }
}

impl CancelNode {
    /// Lists `task` as a leaf of this node (step 1), taking over one reference to it, which
    /// [`remove_leaf`](Self::remove_leaf) gives back.
    pub(crate) fn add_leaf(&self, task: RawTask) {
        let mut inner = self.lock();
        let leaves = &mut inner.leaves;
        let index = match leaves.free.pop() {
            Some(index) => {
                leaves.slots[index] = Some(task);
                index
            }
            None => {
                leaves.slots.push(Some(task));
                leaves.slots.len() - 1
            }
        };
        leaves.len += 1;
        // Relaxed: only ever read or written under this node's lock.
        task.trailer()
            .leaf_slot
            .store(index, std::sync::atomic::Ordering::Relaxed);
    }

    /// Unlists a completing task (step 2). Returns whether it was listed: the caller then
    /// releases the list's reference.
    pub(crate) fn remove_leaf(&self, task: RawTask) -> bool {
        let mut inner = self.lock();
        let slot = &task.trailer().leaf_slot;
        let index = slot.load(std::sync::atomic::Ordering::Relaxed);
        if index == NO_LEAF {
            return false;
        }
        slot.store(NO_LEAF, std::sync::atomic::Ordering::Relaxed);
        let leaves = &mut inner.leaves;
        let taken = leaves.slots[index].take();
        debug_assert!(taken == Some(task), "a leaf slot held another task");
        leaves.len -= 1;
        if leaves.len == 0 {
            // The last leaf left: free the storage (a burst of children does not keep it).
            leaves.slots = Vec::new();
            leaves.free = Vec::new();
        } else {
            leaves.free.push(index);
        }
        true
    }

    /// Closes the leaf list (step 4) and returns a reference to each task listed now, for
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

    /// How many tasks are listed as leaves of this node (for tests: a long-lived group
    /// holds only its live children).
    #[doc(hidden)]
    pub fn leaf_count(&self) -> usize {
        self.lock().leaves.len()
    }
}
