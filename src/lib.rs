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
//! | `asyncio.Lock`, `Event`, `Condition`, `Semaphore`, `Barrier` | [`sync::Mutex`], [`sync::Event`], [`sync::Condvar`], [`sync::Semaphore`], [`sync::Barrier`] (+ [`sync::RwLock`]) |
//! | `asyncio.Queue`, `LifoQueue`, `PriorityQueue` | [`sync::Queue`], [`sync::LifoQueue`], [`sync::PriorityQueue`] |
//! | a `Future` resolved by another task; a channel | [`sync::oneshot`], [`sync::mpsc`] |
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

pub use arbor_runtime::{JoinError, Task, run, spawn, to_thread, yield_now};

/// Runtimes: [`Runtime`](runtime::Runtime), [`Builder`](runtime::Builder),
/// [`Handle`](runtime::Handle).
pub mod runtime {
    pub use arbor_runtime::runtime::{Builder, EnterGuard, Handle, MAX_WORKER_THREADS, Runtime};
}

/// Tasks: spawning with options, blocking calls, ids.
pub mod task {
    pub use arbor_runtime::task::{
        Builder, TaskId, YieldNow, spawn, spawn_blocking, try_id, yield_now,
    };
}

/// Async synchronisation primitives: asyncio's `Lock`, `Event`, `Condition`, `Semaphore`,
/// `Barrier` and queues, plus `mpsc` and `oneshot` channels.
///
/// | asyncio | arbor |
/// |---|---|
/// | `Lock` | [`Mutex<T>`](sync::Mutex) (owns the data it guards); also [`RwLock<T>`](sync::RwLock) |
/// | `Event` | [`Event`](sync::Event) |
/// | `Condition` | [`Condvar`](sync::Condvar), used with a `Mutex` |
/// | `Semaphore`, `BoundedSemaphore` | [`Semaphore`](sync::Semaphore) (a permit is given back by dropping it) |
/// | `Barrier` | [`Barrier`](sync::Barrier) |
/// | `Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`](sync::Queue), [`LifoQueue`](sync::LifoQueue), [`PriorityQueue`](sync::PriorityQueue): `put`, `get`, `put_nowait`, `get_nowait`, `task_done`, `join`, `shutdown` |
/// | `QueueFull`, `QueueEmpty`, `QueueShutDown` | [`TryPutError::Full`](sync::TryPutError::Full), [`TryGetError::Empty`](sync::TryGetError::Empty), [`QueueShutDown`](sync::QueueShutDown) |
/// | a `Future` another task resolves | [`oneshot::channel`](sync::oneshot::channel) |
/// | (none) | [`mpsc::channel(cap)`](sync::mpsc::channel), [`mpsc::unbounded_channel()`](sync::mpsc::unbounded_channel) |
///
/// Every primitive serves its waiters first come, first served, and is cancellation-safe:
/// a waiting future that is dropped, even just after it was granted a lock, a permit or an
/// item, passes the grant on. Nothing is lost.
///
/// ```
/// use arbor::sync::{Mutex, Queue};
/// use std::sync::Arc;
///
/// let total = arbor::run(async {
///     let jobs = Arc::new(Queue::new(8));
///     let total = Arc::new(Mutex::new(0));
///     let workers: Vec<_> = (0..3)
///         .map(|_| {
///             let (jobs, total) = (jobs.clone(), total.clone());
///             arbor::spawn(async move {
///                 while let Ok(n) = jobs.get().await {
///                     *total.lock().await += n;
///                     jobs.task_done();
///                 }
///             })
///         })
///         .collect();
///     for n in 1..=10 {
///         jobs.put(n).await.unwrap();
///     }
///     jobs.join().await;
///     jobs.shutdown(false);
///     for w in workers {
///         w.await.unwrap();
///     }
///     *total.lock().await
/// });
/// assert_eq!(total, 55);
/// ```
pub mod sync {
    pub use arbor_runtime::sync::*;
}
