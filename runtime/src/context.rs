//! The thread-local runtime context: which runtime this thread has entered, which scheduler
//! it is driving (if any), which task it is polling, and the task's cooperative budget.
//!
//! One `thread_local!` holds it all, so the hot paths (spawn, wake, poll) pay for one TLS
//! access. Every setter returns a guard that restores the previous value.

use crate::cancel::{CancelNode, LazyScope};
use crate::coop::Budget;
use crate::scheduler;
use crate::task::RawTask;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

struct Context {
    /// The runtime entered by `Runtime::enter`, `block_on`, or a runtime thread.
    handle: RefCell<Option<scheduler::Handle>>,
    /// Set while this thread drives a scheduler (a worker loop, or a current-thread
    /// `block_on`); `block_on` refuses to nest while it is set.
    scheduler: Cell<Option<NonNull<scheduler::Context>>>,
    /// The task being polled.
    task: Cell<Option<RawTask>>,
    /// The cancel node of the innermost scope being polled; kept alive by that scope.
    cancel_node: Cell<Option<NonNull<CancelNode>>>,
    /// The cooperative budget of the task being polled.
    budget: Cell<Budget>,
    /// The task being polled woke itself (its own waker, called on this thread during its
    /// poll: `yield_now`, an exhausted budget); reset when a poll starts.
    self_woken: Cell<bool>,
    /// Inside `block_on` or on a worker thread: starting another runtime here would block
    /// the thread that drives this one.
    in_runtime: Cell<bool>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            scheduler: Cell::new(None),
            task: Cell::new(None),
            cancel_node: Cell::new(None),
            budget: Cell::new(Budget::unconstrained()),
            self_woken: Cell::new(false),
            in_runtime: Cell::new(false),
        }
    };
}

/// Restores the previous runtime handle on drop.
pub(crate) struct SetHandleGuard {
    prev: Option<scheduler::Handle>,
}

/// Makes `handle` the current runtime until the guard drops.
pub(crate) fn set_handle(handle: scheduler::Handle) -> SetHandleGuard {
    let prev = CONTEXT.with(|cx| cx.handle.replace(Some(handle)));
    SetHandleGuard { prev }
}

impl Drop for SetHandleGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        // During thread teardown the context may be gone already; nothing to restore then.
        let _ = CONTEXT.try_with(|cx| *cx.handle.borrow_mut() = prev);
    }
}

/// Calls `f` with the current runtime handle, if any.
pub(crate) fn with_handle<R>(f: impl FnOnce(Option<&scheduler::Handle>) -> R) -> R {
    let mut f = Some(f);
    CONTEXT
        .try_with(|cx| (f.take().expect("called once"))(cx.handle.borrow().as_ref()))
        .unwrap_or_else(|_| (f.take().expect("called once"))(None))
}

/// Runs `f` while this thread drives the scheduler `sched`.
pub(crate) fn set_scheduler<R>(sched: &scheduler::Context, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<NonNull<scheduler::Context>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = CONTEXT.try_with(|cx| cx.scheduler.set(self.0));
        }
    }
    let prev = CONTEXT.with(|cx| cx.scheduler.replace(Some(NonNull::from(sched))));
    let _reset = Reset(prev);
    f()
}

/// Calls `f` with the scheduler this thread drives, if any.
pub(crate) fn with_scheduler<R>(f: impl FnOnce(Option<&scheduler::Context>) -> R) -> R {
    let ptr = CONTEXT.try_with(|cx| cx.scheduler.get()).ok().flatten();
    // SAFETY: the pointer is set by `set_scheduler` for exactly the duration of a borrow of
    // the scheduler context on this thread's stack, and reset before that borrow ends.
    f(ptr.map(|ptr| unsafe { ptr.as_ref() }))
}

/// Restores the previous task, cancel node and budget on drop.
pub(crate) struct TaskGuard {
    prev_task: Option<RawTask>,
    prev_node: Option<NonNull<CancelNode>>,
    prev_budget: Budget,
}

/// Marks `task` as the one being polled, with its cancel node as the current one (its own
/// task node once it has one, else the node it was spawned under) and a fresh cooperative
/// budget (one TLS access for all three: this runs on every poll).
pub(crate) fn enter_task(task: RawTask) -> TaskGuard {
    let trailer = task.trailer();
    let node = trailer
        .task_node
        .get()
        .or(trailer.meta.cancel.as_ref())
        .map(|node| NonNull::from(&**node));
    CONTEXT.with(|cx| {
        cx.self_woken.set(false);
        TaskGuard {
            prev_task: cx.task.replace(Some(task)),
            prev_node: cx.cancel_node.replace(node),
            prev_budget: cx.budget.replace(Budget::initial()),
        }
    })
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|cx| {
            cx.task.set(self.prev_task);
            cx.cancel_node.set(self.prev_node);
            cx.budget.set(self.prev_budget);
        });
    }
}

/// A wake found `task` running: if this thread is polling it, the task woke itself, which
/// [`take_self_woken`] tells its runner.
pub(crate) fn note_wake_while_running(task: RawTask) {
    let _ = CONTEXT.try_with(|cx| {
        if cx.task.get() == Some(task) {
            cx.self_woken.set(true);
        }
    });
}

/// Whether the task this thread polled last woke itself during that poll (see
/// [`note_wake_while_running`]); clears it.
pub(crate) fn take_self_woken() -> bool {
    CONTEXT
        .try_with(|cx| cx.self_woken.replace(false))
        .unwrap_or(true)
}

/// The task being polled on this thread.
pub(crate) fn current_task() -> Option<RawTask> {
    CONTEXT.try_with(|cx| cx.task.get()).ok().flatten()
}

/// Makes `node` the current cancel node until the returned value is restored.
pub(crate) fn replace_cancel_node(
    node: Option<NonNull<CancelNode>>,
) -> Option<NonNull<CancelNode>> {
    CONTEXT.with(|cx| cx.cancel_node.replace(node))
}

thread_local! {
    /// A scope inside the current cancel node whose node is not made yet
    /// (`cancel::LazyScope`); kept alive by the scope's first poll, the only time it is set.
    /// A thread-local of its own, with no destructor: entering and leaving a lazy scope
    /// (every timeout's first poll) is then a plain load and store.
    static LAZY_SCOPE: Cell<Option<NonNull<LazyScope>>> = const { Cell::new(None) };
}

/// Makes `scope` the current lazy scope; returns the previous one.
#[inline]
pub(crate) fn replace_lazy_scope(scope: Option<NonNull<LazyScope>>) -> Option<NonNull<LazyScope>> {
    LAZY_SCOPE.with(|cell| cell.replace(scope))
}

/// The current lazy scope, if a scope's node is still to be made.
pub(crate) fn lazy_scope() -> Option<NonNull<LazyScope>> {
    LAZY_SCOPE.with(Cell::get)
}

/// The current cancel node.
pub(crate) fn cancel_node() -> Option<NonNull<CancelNode>> {
    CONTEXT.try_with(|cx| cx.cancel_node.get()).ok().flatten()
}

pub(crate) fn budget() -> Budget {
    CONTEXT
        .try_with(|cx| cx.budget.get())
        .unwrap_or(Budget::unconstrained())
}

pub(crate) fn set_budget(budget: Budget) -> Budget {
    CONTEXT
        .try_with(|cx| cx.budget.replace(budget))
        .unwrap_or(Budget::unconstrained())
}

/// Leaves the "inside a runtime" state on drop.
pub(crate) struct EnterRuntimeGuard(());

/// Marks this thread as driving or blocking on a runtime.
///
/// # Panics
/// If it already is: nesting `block_on` / `arbor::run` would block a thread that the outer
/// runtime needs.
#[track_caller]
pub(crate) fn enter_runtime() -> EnterRuntimeGuard {
    let nested = CONTEXT.with(|cx| cx.in_runtime.replace(true));
    if nested {
        panic!(
            "cannot start or block on an arbor runtime from inside a running one (this thread \
             is already driving a runtime, in `arbor::run`, `#[arbor::main]` or \
             `Runtime::block_on`); `.await` the future instead, or `arbor::spawn` it and await \
             the `Task`; for blocking code use `arbor::to_thread`"
        );
    }
    EnterRuntimeGuard(())
}

impl Drop for EnterRuntimeGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|cx| cx.in_runtime.set(false));
    }
}

/// Whether this thread is inside a runtime (see [`enter_runtime`]).
pub(crate) fn is_in_runtime() -> bool {
    CONTEXT.try_with(|cx| cx.in_runtime.get()).unwrap_or(false)
}
