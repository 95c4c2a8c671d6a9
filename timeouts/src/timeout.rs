//! [`Timeout`], its handle, and the free functions built on it.
//!
//! ## `Timed` (the future of `Timeout::run`)
//! A poll-first scope of `arbor_runtime::cancel::ScopeState`: the wrapped future is polled
//! before the deadline is looked at, so its result wins if it completes in the poll that
//! sees the deadline pass. What is the timeout's own:
//! - A timeout that never handed out a handle has no node until its first `Pending` (the
//!   protocol's lazy step 0): a future that completes at its first poll costs no allocation
//!   and no timer.
//! - At the first `Pending` the deadline timer is armed (`arbor_runtime::cancel::DeadlineTimer`,
//!   the protocol's step-4 hook): a deadline already passed expires the node at once, so the
//!   scope resolves in that same poll; a finite one registers a timer whose firing expires
//!   the node from the thread turning the time driver, cancelling the scope and every task
//!   below it. "Never" registers nothing.
//! - When the scope completes, catches, or is dropped, the timer is disarmed.

use arbor_runtime::cancel::{CancelNode, DeadlineTimer, InScope, ScopePoll, ScopeState};
use arbor_runtime::time::Instant;
use pin_project_lite::pin_project;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// What a timeout and its handles share.
struct Shared {
    /// The scope's deadline timer; it owns the scope's cancel node.
    timer: DeadlineTimer,
}

impl Shared {
    fn new(deadline: Option<Instant>) -> Arc<Shared> {
        let node = CancelNode::new_detached(false);
        node.set_deadline(deadline);
        Shared::with_node(node)
    }

    fn with_node(node: Arc<CancelNode>) -> Arc<Shared> {
        Arc::new(Shared {
            timer: DeadlineTimer::new(node),
        })
    }

    fn node(&self) -> &Arc<CancelNode> {
        self.timer.node()
    }
}

/// A cancel scope with a deadline (asyncio's `timeout`, Trio's `move_on_after` /
/// `fail_after` scope).
///
/// Create it with [`after`](Timeout::after), [`at`](Timeout::at) or
/// [`never`](Timeout::never); take [`handle`](Timeout::handle)s to move or inspect the
/// deadline from anywhere; then [`run`](Timeout::run) a future inside it.
///
/// ```
/// use arbor_timeouts::Timeout;
/// use arbor_runtime::time::Instant;
/// use std::time::Duration;
///
/// arbor_runtime::run(async {
///     // asyncio: `async with asyncio.timeout(None) as cm: ... cm.reschedule(...)`
///     let t = Timeout::never();
///     let h = t.handle();
///     let res = t
///         .run(async move {
///             h.reschedule(Some(Instant::now() + Duration::from_millis(10)));
///             std::future::pending::<()>().await
///         })
///         .await;
///     assert!(res.is_err());
/// });
/// ```
pub struct Timeout {
    /// The deadline until a handle is taken (the handle's shared state holds it then).
    deadline: Option<Instant>,
    /// Made by the first `handle()`; without one, `run` makes the node lazily (step 0).
    shared: std::sync::OnceLock<Arc<Shared>>,
}

impl Timeout {
    /// A timeout whose deadline is `duration` from now. `Duration::MAX` means never.
    pub fn after(duration: Duration) -> Timeout {
        Timeout::at(Instant::now() + duration)
    }

    /// A timeout whose deadline is `deadline`; one in the past fires at the first poll
    /// that does not complete.
    pub fn at(deadline: Instant) -> Timeout {
        Timeout {
            deadline: Some(deadline),
            shared: std::sync::OnceLock::new(),
        }
    }

    /// A timeout without a deadline, until a handle [`reschedule`](TimeoutHandle::reschedule)s
    /// it (asyncio's `timeout(None)`).
    pub fn never() -> Timeout {
        Timeout {
            deadline: None,
            shared: std::sync::OnceLock::new(),
        }
    }

    /// A handle that moves, inspects or cancels this timeout, from any task or thread.
    pub fn handle(&self) -> TimeoutHandle {
        TimeoutHandle {
            shared: self
                .shared
                .get_or_init(|| Shared::new(self.deadline))
                .clone(),
        }
    }

    /// The deadline (`None`: never).
    pub fn when(&self) -> Option<Instant> {
        match self.shared.get() {
            Some(shared) => shared.node().deadline(),
            None => self.deadline,
        }
    }

    /// Runs `fut` inside the timeout: `Ok` with its output, or `Err(TimedOut)` if the
    /// deadline passed (or the scope was cancelled) first; `fut` is dropped then.
    pub fn run<F: Future>(self, fut: F) -> Timed<F> {
        Timed::new(fut, self.deadline, self.shared.into_inner())
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("when", &self.when())
            .finish()
    }
}

/// Moves, inspects or cancels a [`Timeout`] from any task or OS thread
/// (`Clone + Send + Sync`); asyncio's `Timeout` context object.
///
/// ```
/// use arbor_timeouts::Timeout;
/// use std::time::Duration;
///
/// arbor_runtime::run(async {
///     let t = Timeout::after(Duration::from_secs(3600));
///     let h = t.handle();
///     std::thread::spawn(move || h.reschedule(None)).join().unwrap();
///     assert_eq!(t.when(), None);
///     assert_eq!(t.run(async { 7 }).await, Ok(7));
/// });
/// ```
#[derive(Clone)]
pub struct TimeoutHandle {
    shared: Arc<Shared>,
}

impl TimeoutHandle {
    /// Moves the deadline to `when` (`None`: never), earlier or later. O(1); moving it
    /// later costs no timer operation until the old deadline passes. A deadline in the past
    /// fires now (or at the first poll, before `run` starts). Once the timeout has fired,
    /// moving the deadline changes only what [`when`](TimeoutHandle::when) reports.
    #[inline]
    pub fn reschedule(&self, when: Option<Instant>) {
        self.shared.timer.reschedule(when);
    }

    /// The deadline (`None`: never).
    pub fn when(&self) -> Option<Instant> {
        self.shared.node().deadline()
    }

    /// Whether this timeout's deadline cancelled its scope: it becomes `true` when the
    /// scope sees the deadline take effect, and never goes back (even if a shielded region
    /// inside then completes the work). `false` if the wrapped future completed in the poll
    /// that saw the deadline pass (its result won), and if the scope was cancelled otherwise
    /// (an enclosing scope, or [`cancel`](TimeoutHandle::cancel)).
    pub fn expired(&self) -> bool {
        self.shared.node().is_expired()
    }

    /// Cancels the scope now, as if its deadline had passed, except that
    /// [`expired`](TimeoutHandle::expired) stays `false` (Trio's `CancelScope.cancel`):
    /// `run` resolves to `Err(TimedOut)`.
    pub fn cancel(&self) {
        self.shared.node().cancel();
    }
}

impl fmt::Debug for TimeoutHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeoutHandle")
            .field("when", &self.when())
            .field("expired", &self.expired())
            .finish()
    }
}

/// The deadline of a [`Timeout`] passed (or it was cancelled) before the future it wrapped
/// completed (asyncio's `TimeoutError`, Trio's `TooSlowError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for TimedOut {}

pin_project! {
    /// The future of [`Timeout::run`], [`timeout`], [`timeout_at`], [`wait_for`],
    /// [`fail_after`] and [`fail_at`].
    #[must_use = "futures do nothing unless you `.await` them"]
    pub struct Timed<F> {
        #[pin]
        inner: InScope<F>,
        // `None` until a handle is taken or the first `Pending` made the node.
        shared: Option<Arc<Shared>>,
        armed: bool,
    }

    impl<F> PinnedDrop for Timed<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(shared) = this.project().shared {
                shared.timer.disarm();
            }
        }
    }
}

impl<F: Future> Timed<F> {
    fn new(fut: F, deadline: Option<Instant>, shared: Option<Arc<Shared>>) -> Timed<F> {
        let state = match &shared {
            Some(shared) => ScopeState::poll_first(shared.node().clone()),
            None => ScopeState::lazy(deadline),
        };
        Timed {
            inner: InScope::new(fut, state),
            shared,
            armed: false,
        }
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = Result<F::Output, TimedOut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let shared = this.shared;
        let armed = this.armed;
        let polled = this.inner.as_mut().poll_scope(cx, |node| {
            let shared = shared.get_or_insert_with(|| Shared::with_node(node.clone()));
            if !*armed {
                shared.timer.arm();
                *armed = true;
            }
        });
        let out = match polled {
            ScopePoll::Ready(output) => Poll::Ready(Ok(output)),
            ScopePoll::Caught => Poll::Ready(Err(TimedOut)),
            ScopePoll::Pending if this.inner.is_done() => Poll::Pending,
            ScopePoll::Pending => return Poll::Pending,
        };
        // Done, or dropped for an enclosing cancellation: the deadline enforces nothing more.
        if let Some(shared) = shared {
            shared.timer.disarm();
        }
        out
    }
}

impl<F> fmt::Debug for Timed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timed")
            .field("scope", self.inner.state())
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of [`move_on_after`] and [`move_on_at`].
    #[must_use = "futures do nothing unless you `.await` them"]
    pub struct MoveOn<F> {
        #[pin]
        timed: Timed<F>,
    }
}

impl<F: Future> Future for MoveOn<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().timed.poll(cx).map(Result::ok)
    }
}

impl<F> fmt::Debug for MoveOn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MoveOn")
            .field("timed", &self.timed)
            .finish()
    }
}

/// Runs `fut` with a deadline `duration` from now (asyncio's `async with timeout(d)`,
/// tokio's `timeout`): `Err(TimedOut)` if it passes first. `Duration::MAX` means never.
///
/// ```
/// use arbor_timeouts::{timeout, TimedOut};
/// use std::time::Duration;
///
/// arbor_runtime::run(async {
///     assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await, Ok(5));
///     let slow = arbor_runtime::time::sleep(Duration::from_secs(60));
///     assert_eq!(timeout(Duration::from_millis(1), slow).await, Err(TimedOut));
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, fut: F) -> Timed<F> {
    timeout_at(Instant::now() + duration, fut)
}

/// Runs `fut` with the deadline `deadline` (asyncio's `timeout_at`).
pub fn timeout_at<F: Future>(deadline: Instant, fut: F) -> Timed<F> {
    // No handle can exist: straight to the lazy path (step 0).
    Timed::new(fut, Some(deadline), None)
}

/// asyncio's `wait_for(aw, timeout)`: the same as [`timeout`], arguments in arbor's order.
///
/// ```
/// use arbor_timeouts::wait_for;
/// use std::time::Duration;
///
/// arbor_runtime::run(async {
///     let eternity = arbor_runtime::time::sleep(Duration::from_secs(3600));
///     if wait_for(Duration::from_millis(1), eternity).await.is_err() {
///         println!("timeout!");
///     }
/// });
/// ```
pub fn wait_for<F: Future>(duration: Duration, fut: F) -> Timed<F> {
    timeout(duration, fut)
}

/// Trio's `fail_after`: the same as [`timeout`].
pub fn fail_after<F: Future>(duration: Duration, fut: F) -> Timed<F> {
    timeout(duration, fut)
}

/// Trio's `fail_at`: the same as [`timeout_at`].
pub fn fail_at<F: Future>(deadline: Instant, fut: F) -> Timed<F> {
    timeout_at(deadline, fut)
}

/// Trio's `move_on_after`: `Some` with `fut`'s output, or `None` if `duration` passes
/// first.
///
/// ```
/// use arbor_timeouts::move_on_after;
/// use std::time::Duration;
///
/// arbor_runtime::run(async {
///     let slow = arbor_runtime::time::sleep(Duration::from_secs(60));
///     assert_eq!(move_on_after(Duration::from_millis(1), slow).await, None);
/// });
/// ```
pub fn move_on_after<F: Future>(duration: Duration, fut: F) -> MoveOn<F> {
    MoveOn {
        timed: timeout(duration, fut),
    }
}

/// Trio's `move_on_at`: as [`move_on_after`], with an absolute deadline.
pub fn move_on_at<F: Future>(deadline: Instant, fut: F) -> MoveOn<F> {
    MoveOn {
        timed: timeout_at(deadline, fut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_futures_are_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<TimeoutHandle>();
        check::<Timeout>();
        check::<Timed<std::future::Ready<()>>>();
    }
}
