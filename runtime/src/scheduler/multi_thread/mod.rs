//! The multi-thread, work-stealing scheduler.
//!
//! ## Queues
//! - Each worker owns a FIFO `crossbeam_deque::Worker` (its local queue) and a LIFO slot.
//!   A task woken by the task running on the same worker goes into the LIFO slot (message
//!   passing then runs warm in cache); the slot's previous occupant moves to the back of
//!   the local queue. `yield_now` always goes to the back, and so does any task that woke
//!   itself during its poll (an exhausted budget). A task woken by another thread or task
//!   *while it ran* goes to the injector instead, where the next look of any worker finds
//!   it: behind its worker's whole queue it would wait out every CPU-heavy poll there.
//! - A worker that queues work for itself wakes an idle peer only once its queue holds
//!   [`LOCAL_BACKLOG_TO_SHARE`] tasks: a lone queued task is run by its own worker at the
//!   next scheduling decision, and two tasks passing messages stay on one worker instead of
//!   paying a cross-thread wake per message. The cost: a task that blocks its worker thread
//!   (which it should not: `spawn_blocking` is for that; the slow-poll warning reports it)
//!   delays the task in the LIFO slot and at most one queued task until it returns; any
//!   longer backlog is stolen by a woken peer meanwhile.
//! - Spawns and wakes from threads that are not this runtime's workers go to the global
//!   [`Inject`] queue (lock-free).
//! - An idle worker steals a batch (about half) from a random victim's local queue, then
//!   from the injector. At most half the workers search at once (see `idle.rs`). A
//!   searcher that finds nothing watches the queues for up to 20 us more before it parks,
//!   yielding its CPU between looks (still counted as searching, so producers leave the
//!   wake-up to it): a message that arrives within that time costs no futex wait and wake
//!   (measured: `queue_workers` and `mpsc_pipeline`, where a thread outside the workers
//!   feeds them, gain the most).
//!
//! ## Fairness
//! - Every [`GLOBAL_QUEUE_INTERVAL`] ticks a worker takes from the injector first, so remote
//!   spawns are not starved by a busy local queue; when polls are long (a CPU-heavy
//!   neighbour), more often, down to every tick, so that a task woken from outside waits
//!   about 200 us of polling at most (tuned at each look from the time the last ticks
//!   took; see `worker.rs`). A busy worker also turns the driver at a look once 1 ms has
//!   passed since it last did.
//! - The LIFO slot runs at most [`MAX_LIFO_POLLS_PER_TICK`] times in a row; then its task
//!   goes to the back of the queue, so two tasks waking each other cannot starve the rest.
//! - Each task poll has a cooperative budget (`coop.rs`).
//!
//! ## Shutdown
//! `shutdown` raises a flag and unparks every worker; each drops what its queues hold (the
//! tasks stay in the owned list) and exits. The runtime then joins the workers, cancels every
//! task in the owned list, and closes the injector.

mod idle;
mod worker;

pub(crate) use worker::{Context, run as run_worker};

use crate::blocking;
use crate::driver::Driver;
use crate::park::{Parker, Unparker};
use crate::runtime::UnhandledPanic;
use crate::runtime::metrics::WorkerMetrics;
use crate::runtime::unhandled::Tripwire;
use crate::scheduler::inject::Inject;
use crate::scheduler::{self, Config};
use crate::task::list::OwnedTasks;
use crate::task::{self, OwnedTask, Schedule, Task, TaskMeta};
use crossbeam_deque::Stealer;
pub(crate) use idle::Idle;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A worker checks the injector first every this many ticks (prime, as tokio and Go do, to
/// avoid lining up with other periodic work).
pub(crate) const GLOBAL_QUEUE_INTERVAL: u32 = 31;

/// How many tasks in a row may run from the LIFO slot before it yields to the queue.
pub(crate) const MAX_LIFO_POLLS_PER_TICK: usize = 3;

/// A worker that queues a task for itself wakes an idle peer only once its local queue
/// holds this many tasks. A lone queued task is one the worker reaches at its next
/// scheduling decision; waking a peer for it costs a futex wake and usually splits two
/// tasks that pass messages (a spawned pair, a request and its reply) across workers,
/// where every message then becomes a cross-thread wake.
pub(crate) const LOCAL_BACKLOG_TO_SHARE: usize = 2;

type Notified = task::Notified<Arc<Handle>>;

/// The shared half of the scheduler; tasks hold an `Arc` of it as their scheduler hook.
pub(crate) struct Handle {
    pub(crate) shared: Shared,
    pub(crate) blocking: blocking::Spawner,
}

pub(crate) struct Shared {
    /// One per worker: where others steal from and how to wake it. Immutable.
    remotes: Box<[Remote]>,
    /// Tasks scheduled from outside the workers.
    inject: Inject<Notified>,
    /// Parked and searching workers.
    idle: Idle,
    /// Every live task.
    pub(crate) owned: OwnedTasks<Arc<Handle>>,
    /// Set once by `shutdown`.
    shutdown: AtomicBool,
    /// Timers and IO; turned by one worker at a time (see `driver.rs`).
    pub(crate) driver: Arc<Driver>,
    /// The builder's settings for tasks. Immutable.
    pub(crate) config: Config,
    /// One per worker, indexed like `remotes`: its counters (`runtime/metrics.rs`).
    pub(crate) metrics: Box<[WorkerMetrics]>,
    /// Tripped by a detached task's panic under `UnhandledPanic::ShutdownRuntime`.
    pub(crate) tripwire: Tripwire,
}

struct Remote {
    steal: Stealer<Notified>,
    unpark: Unparker,
}

/// Creates the scheduler and the per-worker cores to launch threads with.
pub(crate) fn create(
    num_workers: usize,
    blocking: blocking::Spawner,
    driver: Arc<Driver>,
    config: Config,
) -> (Arc<Handle>, Vec<worker::Core>) {
    let mut cores = Vec::with_capacity(num_workers);
    let mut remotes = Vec::with_capacity(num_workers);
    for index in 0..num_workers {
        let local = crossbeam_deque::Worker::new_fifo();
        let parker = Parker::new(driver.clone());
        remotes.push(Remote {
            steal: local.stealer(),
            unpark: parker.unparker().clone(),
        });
        cores.push(worker::Core::new(index, local, parker));
    }
    let handle = Arc::new(Handle {
        shared: Shared {
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(num_workers),
            owned: OwnedTasks::new(num_workers),
            shutdown: AtomicBool::new(false),
            driver,
            config,
            metrics: (0..num_workers).map(|_| WorkerMetrics::default()).collect(),
            tripwire: Tripwire::default(),
        },
        blocking,
    });
    (handle, cores)
}

impl Handle {
    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F, meta: TaskMeta) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified) = me.shared.owned.bind(future, me.clone(), meta);
        if let Some(notified) = notified {
            me.schedule_task(notified, false);
        }
        task
    }

    fn schedule_task(self: &Arc<Handle>, task: Notified, is_yield: bool) {
        let task = worker::try_schedule_local(self, task, is_yield);
        if let Some(task) = task {
            self.push_remote(task);
        }
    }

    /// Pushes `task` onto the injector and wakes a parked worker if nobody is searching.
    fn push_remote(&self, task: Notified) {
        // The push ends with a `SeqCst` fence, which orders it before the idle state's load.
        self.shared.inject.push(task);
        if let Some(index) = self.shared.idle.worker_to_notify_after_fence() {
            self.shared.remotes[index].unpark.unpark();
        }
    }

    /// Wakes a parked worker if nobody is searching (see `idle.rs`).
    fn notify_parked(&self) {
        if let Some(index) = self.shared.idle.worker_to_notify() {
            self.shared.remotes[index].unpark.unpark();
        }
    }

    /// How many workers are parked (a snapshot).
    pub(crate) fn num_parked_workers(&self) -> usize {
        self.shared.idle.num_parked()
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.shared.remotes.len()
    }

    pub(crate) fn worker_metrics(&self) -> &[WorkerMetrics] {
        &self.shared.metrics
    }

    pub(crate) fn injector_depth(&self) -> usize {
        self.shared.inject.len()
    }

    /// The local queues' lengths, summed (snapshots, read through the stealers).
    pub(crate) fn local_queue_depth(&self) -> usize {
        self.shared.remotes.iter().map(|r| r.steal.len()).sum()
    }

    /// Whether the injector or a worker's queue (other than `besides`'s) holds a task.
    fn has_pending_work(&self, besides: Option<usize>) -> bool {
        !self.shared.inject.is_empty()
            || (self.shared.remotes.iter().enumerate())
                .any(|(i, r)| Some(i) != besides && !r.steal.is_empty())
    }

    /// Acquire pairs with the AcqRel swap in `shutdown`: a worker that sees the flag also
    /// sees everything done before shutdown began.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shared.shutdown.load(Ordering::Acquire)
    }

    /// Tells every worker to exit.
    pub(crate) fn shutdown(&self) {
        if self.shared.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        for remote in self.shared.remotes.iter() {
            remote.unpark.unpark();
        }
    }

    /// After the workers exited: cancels every task and drops what is left queued.
    pub(crate) fn shutdown_tasks(&self) {
        self.shared.owned.close_and_shutdown_all();
        self.shared.inject.close();
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified) {
        self.schedule_task(task, true);
    }

    /// Woken by another thread or task while it ran: the injector, where the next look of
    /// any worker finds it (every tick while polls are long), instead of the back of this
    /// worker's queue behind every task there (a relay woken from outside while it relayed
    /// waited for its worker's whole queue: `latency`'s tail).
    fn woken_while_running(&self, task: Notified) {
        self.push_remote(task);
    }

    fn release(&self, task: &OwnedTask<Self>) -> Option<OwnedTask<Self>> {
        self.shared.owned.remove(task)
    }

    fn slow_poll_threshold(&self) -> Option<Duration> {
        self.shared.config.slow_poll_threshold
    }

    fn unhandled_panic(&self, id: task::TaskId, name: &str, message: &str) {
        if self.shared.config.unhandled_panic == UnhandledPanic::ShutdownRuntime {
            self.shared
                .tripwire
                .trip(scheduler::unhandled_panic_message(id, name, message));
        }
    }
}
