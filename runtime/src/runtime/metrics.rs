//! `Handle::metrics()`: what the runtime is doing, as integers.
//!
//! ## Cost
//! Counters that change on the hot path live per worker ([`WorkerMetrics`], one cache line
//! each, written only by its worker with a Relaxed load and store: no read-modify-write,
//! no line shared with another writer) and are summed on read. Polls are counted in the
//! worker's own state first and published in batches: a multi-thread worker publishes at
//! its maintenance interval and before it parks, the current-thread loop at the end of each
//! run of tasks and before it polls the `block_on` future. So `polls()` can trail a busy
//! worker by up to one interval (61 polls), and is exact once the workers are idle. Everything else is read
//! from state the runtime keeps anyway: the owned-task list's shards (live and spawned
//! tasks, counted under the lock `spawn` takes), the queues' lengths, the blocking pool's
//! accounting, the reactor's registration count, and the timer wheel's length (published
//! by the driver after a turn, only when it changed). Nothing is computed until a method
//! is called.

use crate::scheduler;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The counters one worker writes (the current-thread scheduler has one).
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct WorkerMetrics {
    /// Task polls started.
    polls: AtomicU64,
    /// Successful steals from another worker's queue (each takes a batch).
    steals: AtomicU64,
}

/// Adds `n` to a counter only one thread writes.
#[inline]
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

impl WorkerMetrics {
    /// Counts polls; called only by the worker owning these counters (for the
    /// current-thread scheduler: by the thread holding the core).
    #[inline]
    pub(crate) fn add_polls(&self, n: u64) {
        if n != 0 {
            bump(&self.polls, n);
        }
    }

    /// Counts a successful steal; same caller rule as `add_polls`.
    #[inline]
    pub(crate) fn add_steal(&self) {
        bump(&self.steals, 1);
    }

    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Relaxed)
    }

    pub(crate) fn steals(&self) -> u64 {
        self.steals.load(Relaxed)
    }
}

/// A view of a runtime's counters, from [`Handle::metrics`](super::Handle::metrics).
///
/// Each method reads the runtime when called: counters (`spawned`, `polls`, `steals`) only
/// grow; the others (`live_tasks`, the depths, the thread and timer counts) are snapshots.
/// Reading costs a few locks and loads; not reading costs nothing.
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// let metrics = rt.handle().metrics();
/// let before = metrics.spawned();
/// rt.block_on(async { arbor_runtime::spawn(async {}).await.unwrap() });
/// assert_eq!(metrics.spawned(), before + 1);
/// assert!(metrics.polls() >= 1);
/// assert_eq!(metrics.workers(), 1);
/// ```
#[derive(Clone)]
pub struct RuntimeMetrics {
    pub(crate) inner: scheduler::Handle,
}

impl RuntimeMetrics {
    /// How many worker threads run tasks: the configured count on a multi-thread runtime,
    /// 1 on a current-thread one (the thread in `block_on`).
    pub fn workers(&self) -> usize {
        match &self.inner {
            scheduler::Handle::MultiThread(h) => h.num_workers(),
            scheduler::Handle::CurrentThread(_) => 1,
        }
    }

    /// How many tasks are alive: spawned and not yet complete (blocking calls excluded).
    pub fn live_tasks(&self) -> usize {
        self.inner.num_alive_tasks()
    }

    /// How many tasks were spawned since the runtime was built (blocking calls excluded).
    pub fn spawned(&self) -> u64 {
        match &self.inner {
            scheduler::Handle::MultiThread(h) => h.shared.owned.spawned(),
            scheduler::Handle::CurrentThread(h) => h.shared.owned.spawned(),
        }
    }

    /// How many task polls the workers have made, summed over the workers; it may trail a
    /// busy worker by up to 61 polls (workers publish their counts in batches) and is
    /// exact once the workers are idle.
    pub fn polls(&self) -> u64 {
        self.workers_sum(WorkerMetrics::polls)
    }

    /// How many times a worker stole a batch of tasks from another's queue (always 0 on a
    /// current-thread runtime).
    pub fn steals(&self) -> u64 {
        self.workers_sum(WorkerMetrics::steals)
    }

    /// How many tasks wait in the injection queue (scheduled from outside the workers).
    pub fn injector_depth(&self) -> usize {
        match &self.inner {
            scheduler::Handle::MultiThread(h) => h.injector_depth(),
            scheduler::Handle::CurrentThread(h) => h.injector_depth(),
        }
    }

    /// How many tasks wait in the workers' local queues, summed (a multi-thread worker's
    /// LIFO slot not included). On a current-thread runtime the queue is read when no
    /// thread drives the runtime or from the driving thread itself, and counts 0 while
    /// another thread drives it.
    pub fn local_queue_depth(&self) -> usize {
        match &self.inner {
            scheduler::Handle::MultiThread(h) => h.local_queue_depth(),
            scheduler::Handle::CurrentThread(h) => h.local_queue_depth(),
        }
    }

    /// How many blocking-pool threads run a call (or are about to).
    pub fn blocking_threads_busy(&self) -> usize {
        self.inner.blocking_spawner().thread_counts().0
    }

    /// How many blocking-pool threads wait for a call.
    pub fn blocking_threads_idle(&self) -> usize {
        self.inner.blocking_spawner().thread_counts().1
    }

    /// How many timers the timer wheel holds, as of the driver's last turn (a timer is
    /// armed once its `Sleep` was first polled and the driver took it in).
    pub fn timers_armed(&self) -> usize {
        self.inner.driver().time.num_armed()
    }

    /// How many IO resources (sockets, pipes, the signal pipe once signals are used) are
    /// registered with the runtime's reactor.
    pub fn io_registrations(&self) -> usize {
        self.inner.driver().io.num_registrations()
    }

    fn workers_sum(&self, f: impl Fn(&WorkerMetrics) -> u64) -> u64 {
        match &self.inner {
            scheduler::Handle::MultiThread(h) => h.worker_metrics().iter().map(f).sum(),
            scheduler::Handle::CurrentThread(h) => f(&h.shared.metrics),
        }
    }
}

impl fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("workers", &self.workers())
            .field("live_tasks", &self.live_tasks())
            .field("spawned", &self.spawned())
            .field("polls", &self.polls())
            .field("steals", &self.steals())
            .field("injector_depth", &self.injector_depth())
            .field("local_queue_depth", &self.local_queue_depth())
            .field("blocking_threads_busy", &self.blocking_threads_busy())
            .field("blocking_threads_idle", &self.blocking_threads_idle())
            .field("timers_armed", &self.timers_armed())
            .field("io_registrations", &self.io_registrations())
            .finish()
    }
}
