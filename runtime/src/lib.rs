//! arbor's scheduler core: raw tasks, the work-stealing and current-thread schedulers, the
//! blocking pool, and the cancellation plumbing that structured concurrency builds on.
//!
//! Most users depend on the `arbor` facade, which re-exports what is here. The map of the
//! crate:
//!
//! | module | what |
//! |---|---|
//! | `task` | raw tasks (one allocation each), the state machine, [`Task`] handles |
//! | `scheduler` | the multi-thread (work-stealing) and current-thread schedulers |
//! | [`blocking`] | the blocking pool behind [`to_thread`] and [`task::spawn_blocking`] |
//! | [`runtime`] | [`Runtime`](runtime::Runtime), [`Builder`](runtime::Builder), [`Handle`](runtime::Handle) |
//! | [`cancel`] | cancellation: the cancel tree, shields, the scope poll protocol, deadline timers |
//! | [`sync`] | async locks, events, semaphores, barriers, queues and channels |
//! | `io` | the IO reactor (epoll on Linux, `polling` elsewhere): registrations, readiness, wake-ups |
//! | [`net`] | TCP, UDP and Unix sockets on the reactor |
//! | [`signal`] | Unix signals delivered through the reactor: `ctrl_c`, `Signals` |
//!
//! ```
//! let rt = arbor_runtime::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
//! let out = rt.block_on(async {
//!     let a = arbor_runtime::spawn(async { "a" });
//!     let b = arbor_runtime::spawn(async { "b" });
//!     (a.await.unwrap(), b.await.unwrap())
//! });
//! assert_eq!(out, ("a", "b"));
//! ```

pub mod blocking;
pub mod cancel;
mod context;
pub mod coop;
mod driver;
pub mod fs;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzz;
mod io;
mod loom;
#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(unix)]
pub mod net;
mod park;
#[cfg(target_os = "linux")]
pub mod process;
pub mod runtime;
mod scheduler;
#[cfg(unix)]
pub mod signal;
pub mod sync;
pub mod task;
pub mod testing;
pub mod time;
#[doc(hidden)]
pub mod wake;

pub use blocking::to_thread;
pub use task::{JoinError, Task, TaskId};
pub use task::{spawn, yield_now};
pub use time::{sleep, sleep_until};

use std::future::Future;

/// Runs `future` to completion on a new multi-thread runtime, then shuts the runtime down
/// (asyncio's `asyncio.run(main())`). The future need not be `Send`.
///
/// Every task still alive when `future` completes is cancelled, and the call returns once
/// their destructors have run and the workers have exited.
///
/// # Panics
/// Inside a running runtime: `.await` the future instead, or `spawn` it. Also if the
/// runtime cannot start its threads.
///
/// ```
/// let answer = arbor_runtime::run(async {
///     let task = arbor_runtime::spawn(async { 40 });
///     task.await.unwrap() + 2
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    if context::is_in_runtime() {
        panic!(
            "arbor::run called inside a running arbor runtime: `.await` the future instead, or \
             `arbor::spawn` it and await the `Task`"
        );
    }
    let rt = runtime::Builder::new_multi_thread()
        .build()
        .unwrap_or_else(|err| panic!("arbor::run: failed to start the runtime: {err}"));
    rt.block_on(future)
}
