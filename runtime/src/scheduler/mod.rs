//! Schedulers: the work-stealing [`multi_thread`] one and the [`current_thread`] one, behind
//! one [`Handle`] enum so that spawning and entering look the same for both.

pub(crate) mod current_thread;
pub(crate) mod inject;
pub(crate) mod multi_thread;
mod rng;

use crate::blocking;
use crate::driver::Driver;
use crate::runtime::UnhandledPanic;
use crate::runtime::unhandled::Tripwire;
use crate::task::{RawTask, Task, TaskMeta};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Settings from `runtime::Builder` that the scheduler hands to every task it runs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Config {
    /// `Builder::slow_poll_threshold`: a poll longer than this is reported with a `tracing`
    /// warning. `None` (the default) skips the measurement altogether.
    pub(crate) slow_poll_threshold: Option<Duration>,
    /// `Builder::rng_seed`: the current-thread scheduler takes ready tasks in an order
    /// fixed by this seed instead of FIFO. Never set on a multi-thread runtime.
    pub(crate) rng_seed: Option<u64>,
    /// `Builder::unhandled_panic`.
    pub(crate) unhandled_panic: UnhandledPanic,
}

/// The message every `block_on` panics with under `UnhandledPanic::ShutdownRuntime`.
pub(crate) fn unhandled_panic_message(
    id: crate::task::TaskId,
    name: &str,
    message: &str,
) -> String {
    format!(
        "task {name} ({id}) panicked and its `Task` was dropped; the runtime's \
         `UnhandledPanic::ShutdownRuntime` policy ends every `block_on`: {message}"
    )
}

/// A handle to a running scheduler; cheap to clone.
#[derive(Clone)]
pub(crate) enum Handle {
    MultiThread(Arc<multi_thread::Handle>),
    CurrentThread(Arc<current_thread::Handle>),
}

/// The per-thread state of a thread that drives a scheduler.
pub(crate) enum Context {
    MultiThread(multi_thread::Context),
    CurrentThread(current_thread::Context),
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F, mut meta: TaskMeta) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // The spawning task, for `task::dump`: one TLS read per spawn.
        meta.parent = crate::task::try_id();
        match self {
            Handle::MultiThread(h) => multi_thread::Handle::spawn(h, future, meta),
            Handle::CurrentThread(h) => current_thread::Handle::spawn(h, future, meta),
        }
    }

    /// The runtime's driver: clock, timers, IO reactor.
    pub(crate) fn driver(&self) -> &Arc<Driver> {
        match self {
            Handle::MultiThread(h) => &h.shared.driver,
            Handle::CurrentThread(h) => &h.shared.driver,
        }
    }

    /// The runtime's settings for tasks.
    pub(crate) fn config(&self) -> &Config {
        match self {
            Handle::MultiThread(h) => &h.shared.config,
            Handle::CurrentThread(h) => &h.shared.config,
        }
    }

    /// Tripped by a detached task's panic under `UnhandledPanic::ShutdownRuntime`.
    pub(crate) fn tripwire(&self) -> &Tripwire {
        match self {
            Handle::MultiThread(h) => &h.shared.tripwire,
            Handle::CurrentThread(h) => &h.shared.tripwire,
        }
    }

    /// The blocking pool has no call left: with a paused clock, the current-thread
    /// scheduler may be parked waiting for exactly that before it jumps to the next timer.
    pub(crate) fn blocking_pool_idle(&self) {
        if let Handle::CurrentThread(h) = self {
            if h.shared.driver.clock.is_paused() {
                h.unpark();
            }
        }
    }

    pub(crate) fn blocking_spawner(&self) -> &blocking::Spawner {
        match self {
            Handle::MultiThread(h) => &h.blocking,
            Handle::CurrentThread(h) => &h.blocking,
        }
    }

    /// Calls `f` with every live task, one owned-list shard lock at a time; `f` runs under
    /// the lock, so it must only read the task's immutable fields.
    pub(crate) fn for_each_task(&self, f: impl FnMut(RawTask)) {
        match self {
            Handle::MultiThread(h) => h.shared.owned.for_each(f),
            Handle::CurrentThread(h) => h.shared.owned.for_each(f),
        }
    }

    /// How many tasks are alive (spawned and not yet complete).
    pub(crate) fn num_alive_tasks(&self) -> usize {
        match self {
            Handle::MultiThread(h) => h.shared.owned.len(),
            Handle::CurrentThread(h) => h.shared.owned.len(),
        }
    }

    /// How many workers are parked (0 on a current-thread runtime).
    pub(crate) fn num_parked_workers(&self) -> usize {
        match self {
            Handle::MultiThread(h) => h.num_parked_workers(),
            Handle::CurrentThread(_) => 0,
        }
    }
}
