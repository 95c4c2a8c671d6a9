//! The runtime: a scheduler, its blocking pool, and (for multi-thread) its worker threads.
//!
//! ```
//! use arbor_runtime::runtime::Builder;
//!
//! let rt = Builder::new_multi_thread().worker_threads(4).build().unwrap();
//! let total = rt.block_on(async {
//!     let tasks: Vec<_> = (0..10u64).map(|i| arbor_runtime::spawn(async move { i * i })).collect();
//!     let mut total = 0;
//!     for task in tasks {
//!         total += task.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 285);
//! ```

mod builder;
pub(crate) mod metrics;
pub(crate) mod unhandled;

pub use builder::{Builder, MAX_WORKER_THREADS};
pub use metrics::RuntimeMetrics;
pub use unhandled::UnhandledPanic;

use crate::blocking::BlockingPool;
use crate::task::{Task, TaskMeta};
use crate::{context, park, scheduler};
use std::fmt;
use std::future::Future;
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    MultiThread,
    CurrentThread,
}

/// An arbor runtime: `asyncio`'s event loop.
///
/// Dropping it shuts it down: every task still alive is cancelled (its future dropped, its
/// destructors run), the workers are joined, and the blocking pool waits for the calls
/// already running. Nothing leaks.
pub struct Runtime {
    handle: Handle,
    blocking_pool: BlockingPool,
    workers: Vec<JoinHandle<()>>,
    kind: Kind,
}

/// A cloneable handle to a runtime, to spawn onto it from anywhere.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
}

/// Leaves the runtime context entered by [`Runtime::enter`] / [`Handle::enter`] on drop.
pub struct EnterGuard<'a> {
    _guard: context::SetHandleGuard,
    _handle: std::marker::PhantomData<&'a Handle>,
}

impl Runtime {
    /// Runs `future` to completion on the current thread, driving the runtime meanwhile
    /// (asyncio's `loop.run_until_complete`). The future need not be `Send`.
    ///
    /// # Panics
    /// Inside another runtime's `block_on` or task (it would block a thread the other
    /// runtime needs): `.await` the future instead. Under
    /// [`UnhandledPanic::ShutdownRuntime`], once a detached task panics, naming the task.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _runtime = context::enter_runtime();
        let _handle = context::set_handle(self.handle.inner.clone());
        if self.handle.inner.config().unhandled_panic == UnhandledPanic::ShutdownRuntime {
            /// Stops watching the tripwire when `block_on` ends, by return or unwind.
            struct Unwatch<'a>(&'a unhandled::Tripwire, Option<u64>);
            impl Drop for Unwatch<'_> {
                fn drop(&mut self) {
                    self.0.unwatch(self.1);
                }
            }
            let tripwire = self.handle.inner.tripwire();
            let mut watch = Unwatch(tripwire, None);
            let mut future = std::pin::pin!(future);
            let watched = std::future::poll_fn(|cx| {
                tripwire.check(cx, &mut watch.1);
                future.as_mut().poll(cx)
            });
            return self.drive(watched);
        }
        self.drive(future)
    }

    fn drive<F: Future>(&self, future: F) -> F::Output {
        match &self.handle.inner {
            scheduler::Handle::CurrentThread(h) => h.block_on(future),
            scheduler::Handle::MultiThread(_) => park::ParkThread::new().block_on(future),
        }
    }

    /// Spawns a task onto this runtime (from any thread).
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking function on this runtime's blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> Task<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the current one for `arbor::spawn` until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts the runtime down, waiting at most `timeout` for blocking calls that are still
    /// running (they are left to finish on their own). Tasks are cancelled as on drop.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    fn shutdown(&mut self, blocking_timeout: Option<Duration>) {
        let _handle = context::set_handle(self.handle.inner.clone());
        match &self.handle.inner {
            scheduler::Handle::MultiThread(h) => {
                h.shutdown();
                let me = std::thread::current().id();
                for worker in self.workers.drain(..) {
                    if worker.thread().id() != me {
                        let _ = worker.join();
                    }
                }
                h.shutdown_tasks();
            }
            scheduler::Handle::CurrentThread(h) => h.shutdown(),
        }
        // After every task's future is gone: wake whoever still waits on a timer.
        self.handle.inner.driver().shutdown();
        self.blocking_pool.shutdown(blocking_timeout);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("kind", &self.kind)
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl Handle {
    /// The runtime this thread is inside.
    ///
    /// # Panics
    /// Outside a runtime; see [`Handle::try_current`].
    #[track_caller]
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|| panic_no_runtime("arbor::runtime::Handle::current"))
    }

    /// The runtime this thread is inside, if any.
    pub fn try_current() -> Option<Handle> {
        context::with_handle(|h| h.cloned()).map(|inner| Handle { inner })
    }

    /// Spawns a task onto this runtime (from any thread).
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future, TaskMeta::default())
    }

    /// Runs a blocking function on this runtime's blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> Task<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.blocking_spawner().spawn(f)
    }

    /// Makes this runtime the current one until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _guard: context::set_handle(self.inner.clone()),
            _handle: std::marker::PhantomData,
        }
    }

    /// The runtime's counters: workers, tasks, polls, steals, queue depths, blocking
    /// threads, timers, IO registrations. See [`RuntimeMetrics`].
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            inner: self.inner.clone(),
        }
    }

    /// How many tasks are alive: spawned and not yet complete.
    pub fn num_alive_tasks(&self) -> usize {
        self.inner.num_alive_tasks()
    }

    /// How many times the runtime's IO poller has returned from a wait: a test hook, to
    /// check that an idle runtime sleeps instead of spinning. Not a stable API.
    #[doc(hidden)]
    pub fn io_poll_count(&self) -> usize {
        self.inner.driver().io.poll_count()
    }

    /// How many timer entries wait on the time driver's submission queue right now (timers
    /// registered, moved or dropped that the driver has not taken in yet): a test hook, to
    /// check that dropped timers are reclaimed promptly. Not a stable API.
    #[doc(hidden)]
    pub fn num_queued_timers(&self) -> usize {
        self.inner.driver().time.num_queued()
    }

    /// How many worker threads are parked right now (always 0 on a current-thread
    /// runtime): a test hook, to start a scheduling test from a known state. Not a stable
    /// API.
    #[doc(hidden)]
    pub fn num_parked_workers(&self) -> usize {
        self.inner.num_parked_workers()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// The panic for arbor calls made outside a runtime.
#[track_caller]
pub(crate) fn panic_no_runtime(what: &str) -> ! {
    panic!(
        "{what} called outside of an arbor runtime: call it from inside `arbor::run(...)`, a \
         `#[arbor::main]` or `#[arbor::test]` function, or `Runtime::block_on`, or enter a \
         runtime with `Runtime::enter`"
    )
}
