//! Cancellation: the one model behind tasks, cancel scopes, task groups and timeouts.
//!
//! Trio keeps cancel *origination* (the `CancelScope` a user holds) apart from cancel
//! *propagation* (the `CancelStatus` tree). This folder is all of the propagation half and
//! the poll protocol every scope drives; the origination types (`CancelScope`, `TaskGroup`,
//! `Timeout`) live in `arbor-taskgroup` and `arbor-timeouts` and hold nothing but a
//! [`ScopeState`] and what is their own (a group's children, a timeout's handle).
//!
//! | file | what |
//! |---|---|
//! | `node.rs` | [`CancelNode`]: the tree, its flags, attach, cancel and propagation, wakers, the deadline word |
//! | `leaf.rs` | tasks as the tree's leaves: the list of live tasks spawned under a node, closing it |
//! | `shield.rs` | shielded regions: the counts that make a cancelled scope wait ([`ShieldRegion`]) |
//! | `current.rs` | the thread's current node, entered only through closures; lazy scopes; [`current_deadline`] |
//! | `scope.rs` | [`ScopeState`]: the scope poll protocol, written once |
//! | `deadline.rs` | [`DeadlineTimer`]: the timer that expires a node when its deadline passes |
//!
//! ## The tree
//! - A [`CancelNode`] is one scope's status. It is made *detached* (so a handle can cancel
//!   it before the scope is entered) and *attached* once, when its scope is first polled,
//!   below the node current on that thread ([`CancelNode::scope_parent`]). A node's parent
//!   never changes once set; a node keeps its parent alive, never the other way round.
//! - Tasks are the tree's leaves (Trio's `CancelStatus` keeps its tasks so): a task spawned
//!   into a group carries the group's node (`task::Builder::cancel_node`) and is listed in
//!   that node's leaf list from before it can run until it completes (`leaf.rs`).
//!   Cancelling the node wakes it directly; a group dropped before it finished closes the
//!   list and cancels each listed task in place. A group keeps no list of its own.
//! - The first time code in such a task opens a scope, the task gets its own *task node*
//!   below the group's (kept in the task's trailer), so every scope of a task hangs below
//!   its task node, and every task below the group it was spawned into: cancellation
//!   reaches every descendant task at any depth (group node -> leaf task, and group node ->
//!   task node -> nested group node -> its leaf tasks).
//! - The current node is thread-local state that only closures install
//!   ([`CancelNode::enter`], the lazy scopes of `current.rs`, the task harness around a poll),
//!   and the installer restores it on return and on unwind alike: no guard a caller could
//!   `mem::forget` ever leaves a pointer behind.
//!
//! ## Invariants
//! 1. Flag bits are only ever set, never cleared (`node.rs` lists them).
//! 2. `CANCELLED` on a node implies `CANCELLED` on every unshielded child attached to it,
//!    once the cancel that set it has finished propagating (protocols 1 and 2 of `node.rs`).
//! 3. A node's `shields` counts the active shielded regions below it that have reached it;
//!    for an attached node, every region counted at the node is counted at its parent once
//!    the node's lock is released (`shield.rs`). So a region leaves exactly the nodes it
//!    reached, however the tree grew meanwhile.
//! 4. A scope drops the future it wraps only when its node is cancelled and its `shields`
//!    is zero ([`ScopeState::must_drop`]); the exit of the last region wakes it.
//! 5. A node's leaf list holds exactly the tasks spawned under it whose future may still
//!    exist: a task is listed before it can run and unlisted (in `Harness::complete`) after
//!    its future is dropped and before anyone can see it complete. A task listed when the
//!    node is cancelled is woken by the cancel or reads the flag at its first poll; a task
//!    listed when the leaves are closed is cancelled in place by the closer or its spawner
//!    (`leaf.rs` gives the protocol step by step).
//!
//! ## Who may touch what
//! - `flags`, `deadline`: any thread, atomically (`node.rs`).
//! - `shields` and `parent`: written only under the node's own lock (`shield.rs`,
//!   `CancelNode::attach`); read without it (one load).
//! - The children list, the leaf list, the waker: under the node's lock. The leaf list is
//!   written by spawning (`task::new_task`) and by sweeps, read by the cancel walk and
//!   [`CancelNode::close_leaves`]; a completing task leaves it without the lock, through
//!   its own `Trailer::leaf_link` and the node's `live` count (`leaf.rs`, step 2).
//!   `LEAVES_CLOSED` is set under the lock and read without it.
//! - The thread's current node and lazy scope: only `current.rs` and the task harness.

mod current;
mod deadline;
mod leaf;
mod node;
mod scope;
mod shield;

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

pub(crate) use current::LazyScope;
pub use current::{current_deadline, lazy_scope};
pub use deadline::DeadlineTimer;
pub(crate) use leaf::LISTED;
pub use node::CancelNode;
pub use scope::{InScope, ScopePoll, ScopeState};
pub use shield::ShieldRegion;
