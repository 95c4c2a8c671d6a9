//! The state a group's scope future, its `TaskGroup` handles and its children share.
//!
//! | field | what | synchronised by |
//! |---|---|---|
//! | `node` | the group's cancel node (children carry it) | `CancelNode` |
//! | `completion` | live children, `CLOSED`, the waiter | its own protocol (`completion.rs`) |
//! | `registry` | a `TaskRef` per child, to wake or cancel in place | its mutex |
//! | `outcome` | errors in the order they happened, the first panic | its mutex |
//!
//! ## Registering a child (`register`)
//! The child is spawned (and may run) before it is registered. Under the registry lock:
//! - if the group is being dropped, the child is cancelled in place at once instead;
//! - otherwise it is pushed, and the node's flag is read: if the group is cancelled already,
//!   the child is woken, because the cancel hook may have walked the registry before the
//!   push. A cancel whose hook runs after our locked section finds the child in the list.
//!
//! ## Registry size
//! Finished children are swept out when the registry reaches `sweep_at` entries; the
//! threshold then doubles past the survivors, so a long-lived group (a server's connection
//! handlers) holds O(live children) entries, at amortised O(1) per spawn.

use super::completion::Completion;
use arbor_runtime::cancel::{CancelHook, CancelNode};
use arbor_runtime::runtime::Handle;
use arbor_runtime::task::TaskRef;
use std::any::Any;
use std::cell::RefCell;
use std::mem;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

/// The registry is first swept of finished children when it holds this many.
const REGISTRY_SWEEP_MIN: usize = 64;

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
    registry: Mutex<Registry>,
    outcome: Mutex<Outcome<E>>,
}

struct Registry {
    children: Vec<TaskRef>,
    /// Length at which `children` is next swept.
    sweep_at: usize,
    /// Set once by the scope future's `Drop`: new children are cancelled in place.
    dropping: bool,
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
            registry: Mutex::new(Registry {
                children: Vec::new(),
                sweep_at: REGISTRY_SWEEP_MIN,
                dropping: false,
            }),
            outcome: Mutex::new(Outcome {
                errors: Vec::new(),
                panic: None,
            }),
        });
        shared.capture_runtime();
        let hook: Weak<dyn CancelHook> = Arc::downgrade(&shared) as Weak<dyn CancelHook>;
        shared.node.set_hook(hook);
        shared
    }
}

impl<E> Shared<E> {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A poisoned lock only means a panic elsewhere; the registry stays consistent.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

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

    /// The group is closed: the children's references are of no more use; free them now
    /// rather than when the last `TaskGroup` handle goes.
    pub(crate) fn release_children(&self) {
        let children = mem::take(&mut self.registry().children);
        drop(children);
    }

    /// Keeps a reference to a child just spawned (see the module header).
    pub(crate) fn register(&self, child: TaskRef) {
        let mut registry = self.registry();
        if registry.dropping {
            drop(registry);
            child.cancel_in_place();
            return;
        }
        if registry.children.len() >= registry.sweep_at {
            registry.children.retain(|c| !c.is_finished());
            registry.sweep_at = REGISTRY_SWEEP_MIN.max(registry.children.len() * 2);
        }
        let wake = self.node.is_cancelled().then(|| child.clone());
        registry.children.push(child);
        drop(registry);
        if let Some(child) = wake {
            child.wake();
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
    /// Idle children are claimed and dropped right here. A child being polled on another
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
        let children = {
            let mut registry = self.registry();
            registry.dropping = true;
            mem::take(&mut registry.children)
        };
        // Nested groups inside running children learn of it now and start cancelling their
        // own children in parallel; our own hook sees `dropping` and does nothing.
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

impl<E: Send + 'static> CancelHook for Shared<E> {
    /// The group became cancelled: wake every child, so each drops its future at its next
    /// poll (unless a shielded region inside it is active; see `child.rs`).
    fn on_cancel(&self) {
        let registry = self.registry();
        if registry.dropping {
            return;
        }
        for child in &registry.children {
            child.wake();
        }
    }
}
