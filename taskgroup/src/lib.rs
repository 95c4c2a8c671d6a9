//! arbor's structured concurrency: [`TaskGroup`], [`CancelScope`], [`shield`].
//!
//! Rust cancels a future by dropping it; this crate builds structure on that, on top of
//! the cancel-state tree in `arbor_runtime::cancel` (DESIGN.md section 3):
//!
//! - A [`CancelScope`] drops the future it wraps at its next poll once cancelled, and
//!   resolves to `Err(`[`Cancelled`]`)`. Scopes nest; when several are cancelled, the
//!   outermost reports. A [`shielded`](CancelScope::shielded) scope is not reached by outer
//!   cancellation, and outer scopes wait for it before dropping (async cleanup).
//! - A [`TaskGroup`] runs children in parallel and waits for all of them. The first failure
//!   cancels the rest; every error is reported, in order, in a [`GroupError`]; a child's panic
//!   resumes in the caller once every child is gone. Cancellation of an enclosing scope
//!   reaches the group's children and their own groups' children, at any depth.
//! - [`TaskGroup::start`] (Trio's `nursery.start`) spawns a child and waits until it reports
//!   that it is ready ([`StartStatus::started`]); [`TaskGroup::builder`] names children, for
//!   `task::dump()`, tracing spans and slow-poll warnings.
//! - **No child outlives its group**: when [`TaskGroup::scope`]'s future resolves *or is
//!   dropped*, every child's future has already been dropped.
//! - [`shield`] runs work as its own task that survives its awaiter (asyncio's `shield`).
//! - Checking for cancellation costs one atomic load per poll.
//!
//! ```
//! use arbor_taskgroup::{CancelScope, TaskGroup};
//!
//! arbor_runtime::run(async {
//!     let scope = CancelScope::new();
//!     let stop = scope.handle();
//!     let res = scope
//!         .run(TaskGroup::<()>::scope(|tg| async move {
//!             for _ in 0..3 {
//!                 // Children that would run forever...
//!                 tg.spawn(std::future::pending::<Result<(), ()>>());
//!             }
//!             stop.cancel(); // ...are cancelled with the enclosing scope.
//!             Ok(())
//!         }))
//!         .await;
//!     assert!(res.is_err()); // the scope reports the cancellation
//! });
//! ```

#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzz;
mod group;
mod loom;
#[cfg(all(test, loom))]
mod loom_tests;
mod scope;
mod shield;

pub use group::{
    ChildBuilder, GroupError, GroupScope, SpawnError, Start, StartError, StartStatus, TaskGroup,
};
pub use scope::{CancelHandle, CancelScope, Cancelled, Scoped};
pub use shield::{Shield, shield};
