//! [`ScopeState`]: the poll protocol of a cancel scope, written once. `CancelScope` and
//! `Timeout` drive it through [`InScope`]; a task group's scope drives its steps around its
//! body.
//!
//! ## A scope's poll, step by step
//! 0. *Lazy* scopes (a timeout no handle was taken of) have no node at their first poll: the
//!    future is polled inside [`lazy_scope`](super::lazy_scope), which makes the node only
//!    if something inside asks for it, or when the poll returns `Pending`.
//! 1. First poll: attach the node below the current one ([`CancelNode::scope_parent`]); a
//!    shielded node also enters its region ([`CancelNode::enter_shield`]), so every cancelled
//!    scope around it waits for it.
//! 2. *Check-first* scopes (`CancelScope`): if the node is cancelled and no shielded region
//!    is active inside ([`must_drop`](ScopeState::must_drop)), go to step 5 without polling.
//!    *Poll-first* scopes (timeouts) skip this: the wrapped future is polled first, so a
//!    future that completes in the poll that sees the deadline wins.
//! 3. Poll the wrapped future with the node current ([`CancelNode::enter`]). `Ready` wins:
//!    the scope finishes (its region ends, its waker is cleared) and resolves to it.
//! 4. `Pending`: the owner's hook runs (a timeout arms its timer there: a deadline already
//!    passed cancels the node at once); the task's waker is registered with the node if it
//!    changed (a cancel, or the end of the last shielded region inside, wakes it); the node
//!    learns that its cancellation, if any, took effect (`CancelNode::see_cancel`: a timeout's
//!    `expired()` becomes final). Not `must_drop`: stay pending.
//! 5. Drop the wrapped future in place. If the scope catches ([`CancelNode::catches`]: its
//!    own cancel, not reached by an enclosing one) it finishes and resolves to its cancelled
//!    outcome; otherwise it stays pending: the enclosing scope, group or task is cancelled
//!    too and drops this one with the rest (the outermost cancelled scope reports).

use super::{CancelNode, ShieldRegion, lazy_scope};
use crate::time::Instant;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A cancel scope's side of the protocol (see the module header).
pub struct ScopeState {
    /// `None` until a lazy scope's first poll made it (step 0).
    node: Option<Arc<CancelNode>>,
    /// The deadline a lazy scope's node gets.
    lazy_deadline: Option<Instant>,
    /// Step 2: check the node before polling.
    check_first: bool,
    attached: bool,
    /// The waker last registered with the node.
    registered: Option<Waker>,
    /// Held while a shielded scope runs (step 1).
    shield: Option<ShieldRegion>,
}

/// What one poll of a scope ([`InScope::poll_scope`]) came to.
#[derive(Debug, PartialEq, Eq)]
pub enum ScopePoll<T> {
    /// The wrapped future completed.
    Ready(T),
    /// The scope was cancelled and catches: resolve to the cancelled outcome.
    Caught,
    /// Still running, or dropped for an enclosing cancellation (which drops this scope).
    Pending,
}

impl ScopeState {
    /// The state of a check-first scope (a `CancelScope`) over `node`, a detached node.
    pub fn new(node: Arc<CancelNode>) -> ScopeState {
        ScopeState::with(Some(node), None, true)
    }

    /// The state of a poll-first scope (a timeout) over `node`, a detached node.
    pub fn poll_first(node: Arc<CancelNode>) -> ScopeState {
        ScopeState::with(Some(node), None, false)
    }

    /// A poll-first scope whose node, carrying `deadline`, is made lazily (step 0).
    pub fn lazy(deadline: Option<Instant>) -> ScopeState {
        ScopeState::with(None, deadline, false)
    }

    fn with(
        node: Option<Arc<CancelNode>>,
        lazy_deadline: Option<Instant>,
        check_first: bool,
    ) -> ScopeState {
        ScopeState {
            node,
            lazy_deadline,
            check_first,
            attached: false,
            registered: None,
            shield: None,
        }
    }

    /// The scope's node: `None` before a lazy scope's first `Pending`.
    pub fn node(&self) -> Option<&Arc<CancelNode>> {
        self.node.as_ref()
    }

    /// Step 1, once: attaches the node and, if it is shielded, enters its region. Returns
    /// the node.
    ///
    /// # Panics
    /// On a lazy scope before its node is made.
    pub fn attach(&mut self) -> &Arc<CancelNode> {
        let node = self
            .node
            .as_ref()
            .expect("a lazy scope's node is made at its first poll");
        if !self.attached {
            node.attach(CancelNode::scope_parent());
            if node.is_shielded() {
                self.shield = Some(node.enter_shield());
            }
            self.attached = true;
        }
        node
    }

    /// Step 4's registration: the node wakes `cx`'s waker when it is cancelled, or when its
    /// last shielded region ends while it is. Skipped if the same waker is registered.
    pub fn register(&mut self, cx: &Context<'_>) {
        let Some(node) = &self.node else { return };
        if !self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            node.register_waker(cx.waker());
            self.registered = Some(cx.waker().clone());
        }
    }

    /// Whether the scope must drop what it wraps now: cancelled, with no shielded region
    /// active inside (invariant 4). One or two atomic loads.
    pub fn must_drop(&self) -> bool {
        self.node
            .as_ref()
            .is_some_and(|n| n.is_cancelled() && n.shields() == 0)
    }

    /// Step 4's note: the scope saw its cancellation while its future stays pending (or is
    /// dropped for it).
    pub fn see_cancel(&self) {
        if let Some(node) = &self.node {
            if node.is_cancelled() {
                node.see_cancel();
            }
        }
    }

    /// Runs `f` with the scope's node current (step 3).
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.node {
            Some(node) => node.enter(f),
            None => f(),
        }
    }

    /// Step 5, after the wrapped future was dropped: whether this scope catches (it then
    /// finishes).
    pub fn catches(&mut self) -> bool {
        let catches = self.node.as_ref().is_some_and(|n| n.catches());
        if catches {
            self.finish();
        }
        catches
    }

    /// The scope is done (its future completed, or it caught): its region ends and its waker
    /// is cleared. Idempotent; dropping the state does it too.
    #[inline]
    pub fn finish(&mut self) {
        // The common case (a scope that never waited, or finished already) costs two loads.
        if self.shield.is_some() || self.registered.is_some() {
            self.finish_slow();
        }
    }

    #[cold]
    fn finish_slow(&mut self) {
        self.shield = None;
        if self.registered.take().is_some() {
            if let Some(node) = &self.node {
                node.clear_waker();
            }
        }
    }
}

impl Drop for ScopeState {
    #[inline]
    fn drop(&mut self) {
        self.finish();
    }
}

impl fmt::Debug for ScopeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeState")
            .field("node", &self.node)
            .field("attached", &self.attached)
            .finish_non_exhaustive()
    }
}

pin_project! {
    #[project = SlotProj]
    enum Slot<F> {
        Running { #[pin] fut: F },
        Gone,
    }
}

pin_project! {
    /// A future run inside a cancel scope: the wrapped future and the scope's state. Its
    /// drop drops the wrapped future first, then ends the scope's region: fields drop in
    /// declaration order, and `ScopeState`'s drop finishes the scope.
    pub struct InScope<F> {
        #[pin]
        slot: Slot<F>,
        state: ScopeState,
    }
}

impl<F> InScope<F> {
    /// The scope's state.
    pub fn state(&self) -> &ScopeState {
        &self.state
    }

    /// Whether the wrapped future is gone (completed, or dropped for a cancellation).
    pub fn is_done(&self) -> bool {
        matches!(self.slot, Slot::Gone)
    }
}

impl<F: Future> InScope<F> {
    /// `fut`, to run inside the scope of `state`.
    pub fn new(fut: F, state: ScopeState) -> InScope<F> {
        InScope {
            slot: Slot::Running { fut },
            state,
        }
    }

    /// One poll by the protocol of the module header; `on_pending` is step 4's hook, given
    /// the scope's node.
    #[inline]
    pub fn poll_scope(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        on_pending: impl FnOnce(&Arc<CancelNode>),
    ) -> ScopePoll<F::Output> {
        let mut this = self.project();
        let state = this.state;
        let SlotProj::Running { fut } = this.slot.as_mut().project() else {
            // Dropped without catching: an enclosing scope drops this future.
            return ScopePoll::Pending;
        };
        let polled = if state.node.is_none() {
            // Step 0.
            let (polled, node) = lazy_scope(state.lazy_deadline, || fut.poll(cx));
            if node.is_some() {
                state.node = node;
                state.attached = true;
            }
            polled
        } else {
            state.attach();
            if state.check_first {
                state.register(cx);
                if state.must_drop() {
                    return drop_cancelled(this.slot, state);
                }
            }
            state.enter(|| fut.poll(cx))
        };
        match polled {
            Poll::Ready(output) => {
                this.slot.set(Slot::Gone);
                state.finish();
                ScopePoll::Ready(output)
            }
            Poll::Pending => {
                on_pending(state.node.as_ref().expect("made by a pending first poll"));
                state.register(cx);
                state.see_cancel();
                if state.must_drop() {
                    drop_cancelled(this.slot, state)
                } else {
                    ScopePoll::Pending
                }
            }
        }
    }
}

/// Step 5.
fn drop_cancelled<F, T>(mut slot: Pin<&mut Slot<F>>, state: &mut ScopeState) -> ScopePoll<T> {
    slot.set(Slot::Gone);
    state.see_cancel();
    if state.catches() {
        ScopePoll::Caught
    } else {
        ScopePoll::Pending
    }
}

impl<F> fmt::Debug for InScope<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InScope")
            .field("state", &self.state)
            .field("done", &matches!(self.slot, Slot::Gone))
            .finish()
    }
}
