//! arbor: a work-stealing async runtime with structured concurrency and a facade that
//! reads like Python's asyncio.
//!
//! | asyncio | arbor |
//! |---|---|
//! | `asyncio.run(main())` | [`arbor::run(fut)`](run) |
//! | `loop.run_until_complete(fut)` | [`Runtime::block_on`](runtime::Runtime::block_on) |
//! | `asyncio.create_task(coro)` | [`arbor::spawn(fut)`](spawn) -> [`Task<T>`](Task) |
//! | `create_task(coro, name="x")` | [`task::Builder::new().name("x").spawn(fut)`](task::Builder) |
//! | `task.cancel()`, `task.done()`, `task.get_name()` | [`Task::cancel`], [`Task::is_finished`], [`Task::name`] |
//! | `await task` | `task.await` -> `Result<T, JoinError>` |
//! | `await asyncio.sleep(0)` | [`arbor::yield_now().await`](yield_now) |
//! | `await asyncio.to_thread(f)` | [`arbor::to_thread(f).await`](to_thread) |
//! | `loop.run_in_executor(None, f)` | [`arbor::task::spawn_blocking(f)`](task::spawn_blocking) |
//! | `async with TaskGroup() as tg: tg.create_task(c)` | [`TaskGroup::scope(\|tg\| async move { tg.spawn(c); Ok(v) }).await`](TaskGroup::scope) -> `Result<T, GroupError<E>>` |
//! | Trio `CancelScope`, `CancelScope(shield=True)` | [`CancelScope::new()`](CancelScope::new), [`CancelScope::shielded()`](CancelScope::shielded); [`scope.handle()`](CancelScope::handle) -> [`CancelHandle`]; [`scope.run(fut).await`](CancelScope::run) -> `Result<T, Cancelled>` |
//! | `asyncio.shield(aw)` | [`arbor::shield(fut).await`](shield) -> `Result<T, JoinError>` |
//!
//! ```
//! let answer = arbor::run(async {
//!     let tasks: Vec<_> = (1..=3).map(|i| arbor::spawn(async move { i * 10 })).collect();
//!     let mut sum = 0;
//!     for task in tasks {
//!         sum += task.await.unwrap();
//!     }
//!     sum + arbor::to_thread(|| 2).await
//! });
//! assert_eq!(answer, 62);
//! ```
//!
//! ## Structured concurrency
//!
//! A [`TaskGroup`] waits for every child it spawned; the first failure cancels the rest,
//! and every error comes back, in order, in a [`GroupError`]. A [`CancelScope`] cancels
//! everything inside it, children of groups at any depth included; a shielded scope lets
//! cleanup finish. When a group's scope returns, or is dropped, no child is left running.
//!
//! ```
//! use arbor::{CancelScope, TaskGroup};
//!
//! #[derive(Debug, PartialEq)]
//! struct Failed(&'static str);
//!
//! let err = arbor::run(async {
//!     TaskGroup::scope(|tg| async move {
//!         drop(tg.spawn(async { Ok(1) }));
//!         drop(tg.spawn(async { Err::<(), _>(Failed("fetch")) }));
//!         // The failure cancels the body and the other children.
//!         std::future::pending::<()>().await;
//!         Ok(())
//!     })
//!     .await
//!     .unwrap_err()
//! });
//! assert_eq!(err.into_errors(), vec![Failed("fetch")]);
//!
//! let cancelled = arbor::run(async {
//!     let scope = CancelScope::new();
//!     let handle = scope.handle();
//!     scope
//!         .run(TaskGroup::<()>::scope(|tg| async move {
//!             drop(tg.spawn(std::future::pending::<Result<(), ()>>()));
//!             handle.cancel(); // reaches the group and its children
//!             Ok(())
//!         }))
//!         .await
//! });
//! assert_eq!(cancelled, Err(arbor::Cancelled));
//! ```

pub use arbor_runtime::{JoinError, Task, run, spawn, to_thread, yield_now};
pub use arbor_taskgroup::{
    CancelHandle, CancelScope, Cancelled, GroupError, SpawnError, TaskGroup, shield,
};

/// Runtimes: [`Runtime`](runtime::Runtime), [`Builder`](runtime::Builder),
/// [`Handle`](runtime::Handle).
pub mod runtime {
    pub use arbor_runtime::runtime::{Builder, EnterGuard, Handle, MAX_WORKER_THREADS, Runtime};
}

/// Tasks: spawning with options, blocking calls, ids; the futures that task groups,
/// cancel scopes and `shield` return.
pub mod task {
    pub use arbor_runtime::task::{
        Builder, TaskId, YieldNow, spawn, spawn_blocking, try_id, yield_now,
    };
    pub use arbor_taskgroup::{GroupScope, Scoped, Shield};
}
