//! Shielded regions: while a shielded scope runs, every cancelled scope around it waits.
//!
//! A shielded scope stops cancellation from outer scopes (Trio's `shield=True`), and an
//! outer scope that is cancelled must not drop the future it wraps while the shielded
//! region inside is still running (async cleanup). Each node counts the active regions
//! below it in `shields`; a scope drops only at zero, and the region's exit wakes every
//! cancelled node whose count it brings to zero.
//!
//! ## Invariant 3 (see the folder's header), and how each step keeps it
//! *For an attached node, every region counted at the node is counted at its parent once the
//! node's lock is released.* A region is counted at its shielded node's ancestors.
//! - **Enter** ([`CancelNode::enter_shield`]): from the shielded node's parent upward, at each
//!   node: lock, add one, read the parent, unlock, go on to the parent (none: stop).
//! - **Attach** (`CancelNode::attach`): under the node's lock, publish the parent, then add
//!   the node's current count to every ancestor ([`count_from`], the same walk). A region
//!   that reached the node before the attach is carried up by it; one that reaches the node
//!   after sees the parent and walks on itself. Nothing is counted twice or missed, because
//!   both the region's step at the node and the attach hold the node's lock.
//! - **Exit** ([`ShieldRegion`]'s drop): the enter walk with a subtraction, over the parents
//!   as they are now. By the invariant, they are exactly the nodes that count the region,
//!   whatever was attached between enter and exit. The walk of an attach that is carrying
//!   the region up finishes before the exit can take that node's lock.
//!
//! Walks take one lock at a time, a node before its parent, as `attach` does: no lock
//! cycle. Cost: O(depth) on entry, exit and an attach that carries regions; nothing on a
//! poll.

use super::CancelNode;
use crate::loom::sync::atomic::Ordering;
use std::fmt;
use std::sync::Arc;

impl CancelNode {
    /// Marks this (shielded, attached) node's region active until the returned value drops:
    /// every ancestor counts it, so a cancelled ancestor waits for it before dropping.
    pub fn enter_shield(self: &Arc<CancelNode>) -> ShieldRegion {
        if let Some(parent) = self.parent() {
            count_from(parent, 1);
        }
        ShieldRegion { node: self.clone() }
    }
}

/// Adds `regions` to `node` and every ancestor (the enter walk; see the module header).
pub(super) fn count_from(node: &CancelNode, regions: usize) {
    if regions == 0 {
        return;
    }
    let mut next = Some(node);
    while let Some(node) = next {
        let guard = node.lock();
        node.shields.fetch_add(regions, Ordering::AcqRel);
        next = node.parent();
        drop(guard);
    }
}

/// An active shielded region (see [`CancelNode::enter_shield`]). Holds its node, so the
/// chain it counted stays alive; leaking it (`mem::forget`) only leaves the counts up, so
/// the cancelled scopes around it keep waiting, as for a region that never ends.
pub struct ShieldRegion {
    node: Arc<CancelNode>,
}

impl Drop for ShieldRegion {
    fn drop(&mut self) {
        let mut next = self.node.parent();
        while let Some(node) = next {
            let (woken, parent) = {
                let inner = node.lock();
                let prev = node.shields.fetch_sub(1, Ordering::AcqRel);
                assert!(
                    prev > 0,
                    "shield count underflow: a region left a node it never reached"
                );
                // The last region below a cancelled scope: its scope was waiting for it.
                let woken = (prev == 1 && node.is_cancelled())
                    .then(|| inner.waker.clone())
                    .flatten();
                (woken, node.parent())
            };
            if let Some(waker) = woken {
                crate::wake::wake(waker);
            }
            next = parent;
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
