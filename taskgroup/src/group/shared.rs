//! The state a group's scope future, its `TaskGroup` handles and its children share.
//!
//! | field | what | synchronised by |
//! |---|---|---|
//! | `node` | the group's cancel node: children are its leaf tasks | `CancelNode` |
//! | `completion` | live children, `CLOSED`, the waiter | its own protocol (`completion.rs`) |
//! | `outcome` | errors in the order they happened, the first panic | its mutex |
//!
//! ## The children
//! The group keeps no list of its children: each is spawned with the group's node
//! (`task::Builder::cancel_node`), which lists it as a leaf from before it can run until it
//! completes (the runtime's `cancel/leaf.rs`). Cancelling the node wakes every child, which
//! drops its future at its next poll (`child.rs`); a child spawned after the cancel reads
//! the flag at its first poll. A scope dropped before it finished closes the node's leaves
//! and cancels each child in place ([`Shared::drop_children`]); a child spawned after that
//! is cancelled in place by its spawner. The node holds only live children, so a
//! long-lived group (a server's connection handlers) costs O(live children).

use super::completion::Completion;
use arbor_runtime::cancel::CancelNode;
use arbor_runtime::runtime::Handle;
use arbor_runtime::task::TaskRef;
use std::any::Any;
use std::cell::RefCell;
use std::mem;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// How many group drops may nest on one thread's stack (a group dropped in place drops its
/// children in place, whose groups drop theirs, ...). Past this depth the drop hands its
/// children to the outermost group drop on the thread, which finishes them in a loop: a
/// 10k-deep chain of groups is dropped without 10k nested frames.
const MAX_NESTED_DROPS: usize = 16;

/// What deep group drops on this thread handed to the outermost one (see
/// [`Shared::drop_children`]).
#[derive(Default)]
struct DropWork {
    /// Group drops in progress on this thread's stack.
    depth: usize,
    /// Children still to cancel in place.
    deferred: Vec<TaskRef>,
    /// Groups whose children the outermost drop must also wait for.
    waits: Vec<Arc<Completion>>,
}

thread_local! {
    static DROP_WORK: RefCell<DropWork> = RefCell::new(DropWork::default());
}

/// Leaves one level of [`DropWork::depth`], on return and on unwind alike.
struct DropDepth;

impl DropDepth {
    fn enter() -> (DropDepth, usize) {
        let depth = DROP_WORK.with(|w| {
            let mut w = w.borrow_mut();
            w.depth += 1;
            w.depth
        });
        (DropDepth, depth)
    }
}

impl Drop for DropDepth {
    fn drop(&mut self) {
        let _ = DROP_WORK.try_with(|w| w.borrow_mut().depth -= 1);
    }
}

/// A panic payload, as `catch_unwind` returns it.
pub(crate) type Panic = Box<dyn Any + Send + 'static>;

pub(crate) struct Shared<E> {
    pub(crate) node: Arc<CancelNode>,
    /// The runtime children are spawned on: the one current where the group was made, or
    /// else where it was first polled. Unset, `spawn` uses the current runtime (or panics
    /// naming how to get one). Set once.
    pub(crate) handle: OnceLock<Handle>,
    /// Shared with deep group drops that hand their wait to the outermost one.
    pub(crate) completion: Arc<Completion>,
    outcome: Mutex<Outcome<E>>,
}

/// What the group's scope reports once every child is gone.
pub(crate) struct Outcome<E> {
    pub(crate) errors: Vec<E>,
    pub(crate) panic: Option<Panic>,
}

impl<E: Send + 'static> Shared<E> {
    pub(crate) fn new() -> Arc<Shared<E>> {
        let shared = Arc::new(Shared {
            // Tagged, so that `task::dump` shows the group and nests its children.
            node: CancelNode::new_detached_group(),
            handle: OnceLock::new(),
            completion: Arc::new(Completion::new()),
            outcome: Mutex::new(Outcome {
                errors: Vec::new(),
                panic: None,
            }),
        });
        shared.capture_runtime();
        shared
    }
}

impl<E> Shared<E> {
    fn outcome(&self) -> MutexGuard<'_, Outcome<E>> {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers the current runtime as the one to spawn children on, unless one is set.
    pub(crate) fn capture_runtime(&self) {
        if self.handle.get().is_none() {
            if let Some(handle) = Handle::try_current() {
                let _ = self.handle.set(handle);
            }
        }
    }

    /// A child or the body failed: record the error, then cancel the group (fail-fast).
    pub(crate) fn record_error(&self, error: E) {
        self.outcome().errors.push(error);
        self.node.cancel();
    }

    /// A child or the body panicked: keep the first payload, cancel the group.
    pub(crate) fn record_panic(&self, payload: Panic) {
        let later = {
            let mut outcome = self.outcome();
            match outcome.panic {
                None => {
                    outcome.panic = Some(payload);
                    None
                }
                Some(_) => Some(payload),
            }
        };
        // Dropped outside the lock: a payload's destructor is user code.
        drop(later);
        self.node.cancel();
    }

    /// Everything recorded so far.
    pub(crate) fn take_outcome(&self) -> Outcome<E> {
        let mut outcome = self.outcome();
        Outcome {
            errors: mem::take(&mut outcome.errors),
            panic: outcome.panic.take(),
        }
    }
}

impl<E> Shared<E> {
    /// The scope future is dropped before its group finished: cancel every child and return
    /// only once each child's future has been dropped.
    ///
    /// The children are the group node's leaf tasks: closing the leaves hands this call a
    /// reference to each, and makes every later spawn into the group cancel its child in
    /// place itself (the runtime's `cancel/leaf.rs`, step 4). Idle children are claimed and
    /// dropped right here. A child being polled on another
    /// worker is marked cancelled; its runner drops the future as soon as that poll returns,
    /// and this thread blocks until then. The wait cannot deadlock: a poll that started
    /// does not need this thread to finish (it runs on its own worker; tasks in this
    /// thread's queues are not needed, since grandchildren are cancelled in place the same
    /// way), and spawns into the group from then on are cancelled in place by the spawner.
    /// On a current-thread runtime no child can be mid-poll while the parent is dropped, so
    /// the wait never blocks there. (A child that owns its own group's scope future and drops
    /// it from its own poll would wait for itself; nothing in the API hands a child its
    /// group's scope future.)
    ///
    /// Dropping idle children in place nests: their own groups drop their children in place
    /// from inside this call. Past [`MAX_NESTED_DROPS`] nested group drops on this thread,
    /// a drop hands its children (and its wait) to the outermost group drop on the thread,
    /// which cancels them in a loop and waits for every such group before it returns. So
    /// the guarantee holds for the outermost drop (every future below it is gone when it
    /// returns), and the stack stays bounded however deep the tree.
    pub(crate) fn drop_children(&self) {
        let children = self.node.close_leaves();
        // Nested groups inside running children learn of it now and start cancelling their
        // own children in parallel; our own leaves are closed, so the cancel does not wake
        // (submit) the children this call is about to cancel in place.
        self.node.cancel();
        let (_depth, depth) = DropDepth::enter();
        if depth > MAX_NESTED_DROPS {
            DROP_WORK.with(|w| {
                let mut w = w.borrow_mut();
                w.deferred.extend(children);
                w.waits.push(self.completion.clone());
            });
            return;
        }
        for child in &children {
            child.cancel_in_place();
        }
        drop(children);
        if depth == 1 {
            // The outermost group drop on this thread: finish what deeper ones handed over.
            while let Some(child) = DROP_WORK.with(|w| w.borrow_mut().deferred.pop()) {
                child.cancel_in_place();
            }
            let waits = DROP_WORK.with(|w| mem::take(&mut w.borrow_mut().waits));
            for group in waits.iter().rev() {
                group.wait_closed_blocking();
            }
        }
        self.completion.wait_closed_blocking();
    }
}
