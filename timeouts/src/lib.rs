//! arbor's deadlines: [`Timeout`], [`TimeoutHandle`], [`timeout`], [`wait_for`],
//! [`move_on_after`], [`fail_after`] (asyncio's `timeout` and `wait_for`, Trio's
//! `move_on_after` and `fail_after`).
//!
//! A [`Timeout`] is a cancel scope with a deadline (DESIGN.md section 3):
//! - When the deadline passes, the scope is cancelled like a `CancelScope`: the future it
//!   wraps is dropped at its next poll, and so are the children of every `TaskGroup` opened
//!   inside it, at any depth, even while the task that owns the timeout is not polled (the
//!   time driver cancels the scope itself). [`run`](Timeout::run) resolves to
//!   `Err(`[`TimedOut`]`)`.
//! - The wrapped future is polled first: if it completes in the poll that sees the deadline
//!   pass, its result wins and [`expired`](TimeoutHandle::expired) stays `false`. A deadline
//!   already in the past fires at the first poll that does not complete.
//! - [`expired`](TimeoutHandle::expired) is `true` exactly when this timeout's deadline
//!   cancelled its scope (not an enclosing scope's, nor [`TimeoutHandle::cancel`]).
//! - Nested timeouts: the outermost expired one reports `TimedOut`; the inner ones are
//!   dropped with the rest.
//! - [`TimeoutHandle::reschedule`] moves the deadline earlier, later, or to never, from any
//!   task or OS thread, in O(1): moving it later costs one CAS and no timer operation until
//!   the old deadline passes.
//! - [`current_deadline`](arbor_runtime::time::current_deadline) reports the effective
//!   deadline of the running code, so libraries can pass deadlines down.
//!
//! ```
//! use arbor_timeouts::{Timeout, TimedOut};
//! use std::time::Duration;
//!
//! arbor_runtime::run(async {
//!     let t = Timeout::after(Duration::from_millis(5));
//!     let h = t.handle();
//!     let res = t.run(std::future::pending::<()>()).await;
//!     assert_eq!(res, Err(TimedOut));
//!     assert!(h.expired());
//! });
//! ```

#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzz;
mod timeout;

pub use timeout::{
    MoveOn, Timed, TimedOut, Timeout, TimeoutHandle, fail_after, fail_at, move_on_after,
    move_on_at, timeout, timeout_at, wait_for,
};
