//! The blocking pool: threads for code that blocks (asyncio's `to_thread` /
//! `run_in_executor`).
//!
//! - Threads are created on demand, up to `max_blocking_threads`; a call that finds every
//!   thread busy and the cap reached waits in the queue.
//! - A thread idle for `keep_alive` exits.
//! - A thread that runs out of calls watches the queue for a few microseconds before it
//!   sleeps, and a call queued meanwhile wakes nobody; a burst of calls from a loop then
//!   costs no thread wake-up per call (see `pool.rs`).
//! - Each call is a task (the same raw task as async tasks, whose future runs the closure on
//!   its first poll), so `spawn_blocking` returns a `Task<R>` with the usual handle: await
//!   it, cancel it (a call cancelled before it starts never runs), drop it to detach.
//! - Shutdown cancels the calls that have not started and waits for the running ones.

mod limiter;
mod pool;

pub use limiter::Limiter;

pub(crate) use pool::{BlockingPool, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_BLOCKING_THREADS, Spawner};

use crate::context;
use crate::task::Task;

/// Runs a blocking function on the runtime's blocking pool.
///
/// The closure runs on a thread of its own, so it may block (file IO, a C library, a heavy
/// computation) without stalling the runtime's workers. A panic in `f` is caught and
/// reported by the returned task ([`JoinError::is_panic`](crate::JoinError::is_panic)).
///
/// # Panics
/// Outside a runtime (see [`spawn`](crate::spawn)).
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
/// let sum = rt.block_on(async {
///     arbor_runtime::task::spawn_blocking(|| (1..=10u64).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(sum, 55);
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> Task<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    context::with_handle(|handle| match handle {
        Some(handle) => handle.blocking_spawner().spawn(f),
        None => crate::runtime::panic_no_runtime("arbor::task::spawn_blocking"),
    })
}

/// Runs a blocking function on the blocking pool and awaits its result (asyncio's
/// `await asyncio.to_thread(f)`).
///
/// A panic in `f` resumes in the awaiting task, as if `f` had been called in place.
///
/// # Panics
/// Outside a runtime; or if the runtime shuts down before `f` ran.
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// let n = rt.block_on(arbor_runtime::to_thread(|| 6 * 7));
/// assert_eq!(n, 42);
/// ```
pub async fn to_thread<F, R>(f: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match spawn_blocking(f).await {
        Ok(out) => out,
        Err(err) => match err.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(err) => {
                panic!("arbor::to_thread: {err} (the runtime shut down before the call ran)")
            }
        },
    }
}
