//! `CancelScope`: Trio's cancel scope, Rust style. The scope owns one node of the cancel
//! tree (`arbor_runtime::cancel`); this module is the *origination* half.
//!
//! The scope's poll protocol is `arbor_runtime::cancel::ScopeState`'s (check-first: a
//! cancelled scope drops its future before polling it, unless a shielded region inside is
//! still running); this module only names its outcomes.

use arbor_runtime::cancel::{CancelNode, InScope, ScopePoll, ScopeState};
use pin_project_lite::pin_project;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A region of async code that can be cancelled as a unit (Trio's `CancelScope`).
///
/// Cancelling the scope (through a [`CancelHandle`], from any thread) drops the future it
/// wraps at its next poll, with every scope nested inside it and every task spawned by a
/// [`TaskGroup`](crate::TaskGroup) opened inside it, at any depth; [`run`](CancelScope::run)
/// then resolves to `Err(Cancelled)`. When nested scopes are both cancelled, the outermost
/// one reports it.
///
/// A [`shielded`](CancelScope::shielded) scope is not reached by cancellation from outer
/// scopes, and an outer scope waits for it to complete before dropping: that is how code
/// runs async cleanup. Its own cancel still applies.
///
/// ```
/// use arbor_taskgroup::{CancelScope, Cancelled};
///
/// arbor_runtime::run(async {
///     let scope = CancelScope::new();
///     let handle = scope.handle();
///     let res = scope
///         .run(async move {
///             handle.cancel(); // e.g. from another task
///             std::future::pending::<()>().await
///         })
///         .await;
///     assert_eq!(res, Err(Cancelled));
/// });
/// ```
pub struct CancelScope {
    node: Arc<CancelNode>,
}

impl CancelScope {
    /// A scope that outer cancellation reaches.
    pub fn new() -> CancelScope {
        CancelScope {
            node: CancelNode::new_detached(false),
        }
    }

    /// A scope that outer cancellation does not reach (Trio's `shield=True`); outer scopes
    /// wait for it to complete before they drop what they wrap.
    ///
    /// A shield defers cancellation that comes through the scope tree: enclosing cancel
    /// scopes, task groups (a group's child waits too) and timeouts. Dropping the future
    /// that contains it, `Task::cancel` of its task, and runtime shutdown still drop it at
    /// once: a destructor cannot run async code. Dropping a [`TaskGroup`](crate::TaskGroup)'s
    /// scope future is such a drop for every child of the group: their shields are dropped
    /// with them, also one a child enters in the poll during which the drop claims it.
    ///
    /// A group enters the scope tree at its first poll. Until then, a shield in one of its
    /// children (spawned by the closure given to [`TaskGroup::scope`](crate::TaskGroup::scope))
    /// holds up no enclosing scope: one that is cancelled drops the unpolled group like any
    /// future it wraps, and with it the children and their shields. Await the group where it
    /// is made to keep its children's shields in force.
    ///
    /// ```
    /// use arbor_taskgroup::CancelScope;
    ///
    /// arbor_runtime::run(async {
    ///     let outer = CancelScope::new();
    ///     let handle = outer.handle();
    ///     let res = outer
    ///         .run(async move {
    ///             handle.cancel();
    ///             // The cleanup runs to the end although `outer` is cancelled.
    ///             let cleaned = CancelScope::shielded().run(async { "cleaned up" }).await;
    ///             assert_eq!(cleaned, Ok("cleaned up"));
    ///             std::future::pending::<()>().await
    ///         })
    ///         .await;
    ///     assert!(res.is_err());
    /// });
    /// ```
    pub fn shielded() -> CancelScope {
        CancelScope {
            node: CancelNode::new_detached(true),
        }
    }

    /// A handle that cancels this scope, from any thread, before or while it runs.
    pub fn handle(&self) -> CancelHandle {
        CancelHandle {
            node: self.node.clone(),
        }
    }

    /// Cancels the scope (as [`CancelHandle::cancel`]); before `run`, the wrapped future is
    /// then never polled.
    pub fn cancel(&self) {
        self.node.cancel();
    }

    /// Whether the scope is shielded.
    pub fn is_shielded(&self) -> bool {
        self.node.is_shielded()
    }

    /// Runs `fut` inside the scope: `Ok` with its output, or `Err(Cancelled)` if the scope
    /// was cancelled first (the future is dropped then).
    pub fn run<F: Future>(self, fut: F) -> Scoped<F> {
        Scoped {
            inner: InScope::new(fut, ScopeState::new(self.node)),
        }
    }

    /// The scope's node in the cancel tree, for crates that build scopes of their own
    /// (timeouts: a deadline that cancels it; `CancelNode::cancel`'s return value and
    /// `cancel_called` tell whether it was this scope's own cancel).
    #[doc(hidden)]
    pub fn node(&self) -> &Arc<CancelNode> {
        &self.node
    }
}

impl Default for CancelScope {
    fn default() -> CancelScope {
        CancelScope::new()
    }
}

impl fmt::Debug for CancelScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelScope")
            .field("cancelled", &self.node.is_cancelled())
            .field("shielded", &self.node.is_shielded())
            .finish()
    }
}

/// Cancels a [`CancelScope`] from anywhere (`Clone + Send + Sync`).
///
/// ```
/// use arbor_taskgroup::CancelScope;
///
/// let scope = CancelScope::new();
/// let handle = scope.handle();
/// std::thread::spawn(move || handle.cancel()).join().unwrap();
/// assert!(scope.handle().is_cancelled());
/// ```
#[derive(Clone)]
pub struct CancelHandle {
    node: Arc<CancelNode>,
}

impl CancelHandle {
    /// Cancels the scope and everything inside it. Idempotent.
    pub fn cancel(&self) {
        self.node.cancel();
    }

    /// Whether the scope is cancelled: by this handle, or by an enclosing scope whose
    /// cancellation reaches it.
    pub fn is_cancelled(&self) -> bool {
        self.node.is_cancelled()
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("cancelled", &self.node.is_cancelled())
            .finish()
    }
}

/// A [`CancelScope`] was cancelled before the future it wrapped completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the cancel scope was cancelled")
    }
}

impl Error for Cancelled {}

pin_project! {
    /// The future of [`CancelScope::run`].
    #[must_use = "futures do nothing unless you `.await` them"]
    pub struct Scoped<F> {
        #[pin]
        inner: InScope<F>,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.poll_scope(cx, |_| {}) {
            ScopePoll::Ready(output) => Poll::Ready(Ok(output)),
            ScopePoll::Caught => Poll::Ready(Err(Cancelled)),
            ScopePoll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("scope", self.inner.state())
            .finish()
    }
}
