//! `Builder`: configures and builds a [`Runtime`].

use super::{Handle, Kind, Runtime, UnhandledPanic};
use crate::blocking::{self, BlockingPool};
use crate::driver::Driver;
use crate::scheduler::{self, current_thread, multi_thread};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The most worker threads a runtime may have.
pub const MAX_WORKER_THREADS: usize = 4096;

/// Builds a runtime with custom settings.
///
/// ```
/// use arbor_runtime::runtime::Builder;
///
/// let rt = Builder::new_multi_thread().worker_threads(2).thread_name("app-worker").build()?;
/// assert_eq!(rt.block_on(async { arbor_runtime::spawn(async { 1 + 1 }).await.unwrap() }), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Bad settings are reported by [`build`](Builder::build), never by a hang:
///
/// ```
/// let err = arbor_runtime::runtime::Builder::new_multi_thread().worker_threads(0).build().unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    kind: Kind,
    worker_threads: Option<usize>,
    max_blocking_threads: usize,
    thread_name: Arc<str>,
    thread_stack_size: Option<usize>,
    keep_alive: Duration,
    start_paused: bool,
    slow_poll_threshold: Option<Duration>,
    dump_signal: Option<i32>,
    rng_seed: Option<u64>,
    unhandled_panic: UnhandledPanic,
}

/// The environment variable that turns on [`Builder::dump_on_signal`] for every runtime
/// built while it is set: a signal name (`USR1`, `SIGUSR1`) or number.
const DUMP_SIGNAL_ENV: &str = "ARBOR_DUMP_SIGNAL";

impl Builder {
    /// A work-stealing runtime with one worker per CPU unless told otherwise.
    pub fn new_multi_thread() -> Builder {
        Builder::new(Kind::MultiThread)
    }

    /// A runtime whose tasks all run on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::new(Kind::CurrentThread)
    }

    fn new(kind: Kind) -> Builder {
        Builder {
            kind,
            worker_threads: None,
            max_blocking_threads: blocking::DEFAULT_MAX_BLOCKING_THREADS,
            thread_name: Arc::from("arbor-worker"),
            thread_stack_size: None,
            keep_alive: blocking::DEFAULT_KEEP_ALIVE,
            start_paused: false,
            slow_poll_threshold: None,
            dump_signal: None,
            rng_seed: None,
            unhandled_panic: UnhandledPanic::Ignore,
        }
    }

    /// How many worker threads a multi-thread runtime runs (default: the number of CPUs).
    /// Ignored by the current-thread runtime. `0` makes [`build`](Builder::build) fail.
    pub fn worker_threads(mut self, n: usize) -> Builder {
        self.worker_threads = Some(n);
        self
    }

    /// The most threads the blocking pool starts (default 512). `0` makes `build` fail.
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.max_blocking_threads = n;
        self
    }

    /// The name of the runtime's threads (default `arbor-worker`; blocking threads get
    /// the same name with `-blocking` appended).
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = Arc::from(name.into());
        self
    }

    /// The stack size of the runtime's threads.
    pub fn thread_stack_size(mut self, size: usize) -> Builder {
        self.thread_stack_size = Some(size);
        self
    }

    /// How long an idle blocking thread waits for work before it exits (default 10 s).
    pub fn thread_keep_alive(mut self, duration: Duration) -> Builder {
        self.keep_alive = duration;
        self
    }

    /// Starts the runtime's clock paused (virtual time; see
    /// [`time::pause`](crate::time::pause)). Current-thread runtimes only: `build` fails
    /// with `InvalidInput` on a multi-thread one.
    ///
    /// ```
    /// use arbor_runtime::runtime::Builder;
    /// use arbor_runtime::time::{sleep, Instant};
    /// use std::time::Duration;
    ///
    /// let rt = Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(24 * 3600)).await; // a virtual day, no wall time
    ///     assert_eq!(start.elapsed(), Duration::from_secs(24 * 3600));
    /// });
    /// ```
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.start_paused = paused;
        self
    }

    /// Reports every single poll of a task that takes longer than `threshold` (asyncio's
    /// debug-mode slow-callback warning): a `tracing` warning with target
    /// [`SLOW_POLL_TARGET`](crate::task::SLOW_POLL_TARGET) names the task (fields `task.id`,
    /// `task.name`) and gives the poll's duration (`poll_duration`). A slow poll blocks its
    /// worker, and every task queued behind it: move blocking work to
    /// [`to_thread`](crate::to_thread).
    ///
    /// Off by default; when off, polls are not timed at all. When on, each poll reads the
    /// monotonic clock twice.
    ///
    /// ```
    /// use arbor_runtime::runtime::Builder;
    /// use std::time::Duration;
    ///
    /// let rt = Builder::new_current_thread()
    ///     .slow_poll_threshold(Duration::from_millis(10))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     // With a `tracing` subscriber installed, this logs a warning naming "busy".
    ///     let task = arbor_runtime::task::Builder::new()
    ///         .name("busy")
    ///         .spawn(async { std::thread::sleep(Duration::from_millis(20)) });
    ///     task.await.unwrap();
    /// });
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.slow_poll_threshold = Some(threshold);
        self
    }

    /// Prints the runtime's task tree ([`task::dump`](crate::task::dump)) to stderr each
    /// time `signal` arrives: `kill -USR1 <pid>` shows what a running service is doing
    /// (asyncio 3.14's `python -m asyncio pstree PID`), without a debugger or a restart.
    ///
    /// The dump is printed by the thread that services the runtime's IO (no task is
    /// spawned for it), headed by a line naming the signal and the process id. Setting the
    /// environment variable `ARBOR_DUMP_SIGNAL` to a signal name
    /// (`USR1`, `SIGUSR1`) or number does the same for every runtime built without this
    /// call. Like any signal listener, this keeps `signal`'s default action from happening
    /// (see [`signal`](crate::signal)). Unix only.
    ///
    /// `build` fails with `InvalidInput` for a signal that cannot be listened for (SIGKILL,
    /// SIGSTOP, SIGSEGV, SIGILL, SIGFPE, SIGBUS, or no signal at all), and for an
    /// `ARBOR_DUMP_SIGNAL` that names no signal.
    ///
    /// ```no_run
    /// use arbor_runtime::runtime::Builder;
    /// use arbor_runtime::signal::SIGUSR1;
    ///
    /// let rt = Builder::new_multi_thread().dump_on_signal(SIGUSR1).build().unwrap();
    /// // `kill -USR1 <pid>` now prints the task tree to stderr.
    /// # drop(rt);
    /// ```
    pub fn dump_on_signal(mut self, signal: i32) -> Builder {
        self.dump_signal = Some(signal);
        self
    }

    /// The dump signal: the builder's, else `ARBOR_DUMP_SIGNAL`'s (with `true`).
    fn dump_signal(&self) -> io::Result<Option<(i32, bool)>> {
        if let Some(signal) = self.dump_signal {
            return Ok(Some((signal, false)));
        }
        let Some(value) = std::env::var_os(DUMP_SIGNAL_ENV) else {
            return Ok(None);
        };
        let value = value.to_string_lossy();
        if value.trim().is_empty() {
            return Ok(None);
        }
        #[cfg(unix)]
        if let Some(signal) = crate::signal::parse(&value) {
            return Ok(Some((signal, true)));
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{DUMP_SIGNAL_ENV}={value:?} names no signal: use a name such as USR1 or \
                 SIGUSR1, or a number (unset it to turn the task dump off)"
            ),
        ))
    }

    /// Seeded scheduling (for tests): among the tasks ready to run, the scheduler takes the
    /// next one in a pseudo-random order fixed by `seed`, instead of first-in first-out.
    /// The same seed gives the same interleaving of the same program, run after run;
    /// different seeds give different ones, so a test run under many seeds tries many
    /// orders, and the seed of a failing one replays it (see
    /// [`arbor_runtime::testing`](crate::testing)). Current-thread runtimes only: `build`
    /// fails with `InvalidInput` on a multi-thread one, whose order depends on its threads.
    ///
    /// The order is fixed as far as the program itself is: what wakes a task from outside
    /// the runtime's thread (a blocking-pool call ending, a socket becoming readable, a
    /// timer on real time) happens when it happens; on virtual time
    /// ([`start_paused`](Builder::start_paused)) timers are deterministic too. The `block_on`
    /// future is polled whenever it was woken, as without a seed.
    ///
    /// Without `rng_seed` the order is FIFO. The runtime does not read the `ARBOR_SEED`
    /// variable: only `#[arbor::test]` does, so that a program's scheduling never changes
    /// with its environment.
    ///
    /// ```
    /// use arbor_runtime::runtime::Builder;
    /// use std::sync::{Arc, Mutex};
    ///
    /// let trace = |seed| {
    ///     let rt = Builder::new_current_thread().rng_seed(seed).build().unwrap();
    ///     let order = Arc::new(Mutex::new(Vec::new()));
    ///     rt.block_on(async {
    ///         let tasks: Vec<_> = (0..8)
    ///             .map(|i| {
    ///                 let order = order.clone();
    ///                 arbor_runtime::spawn(async move { order.lock().unwrap().push(i) })
    ///             })
    ///             .collect();
    ///         for task in tasks {
    ///             task.await.unwrap();
    ///         }
    ///     });
    ///     Arc::try_unwrap(order).unwrap().into_inner().unwrap()
    /// };
    /// assert_eq!(trace(42), trace(42));
    /// ```
    pub fn rng_seed(mut self, seed: u64) -> Builder {
        self.rng_seed = Some(seed);
        self
    }

    /// What a panic in a detached task (one whose [`Task`](crate::Task) was dropped) does:
    /// [`UnhandledPanic::Ignore`] (the default) keeps the runtime running;
    /// [`UnhandledPanic::ShutdownRuntime`] makes every `block_on` on the runtime panic,
    /// naming the task. In every mode the panic is logged as a `tracing` error (target
    /// [`UNHANDLED_PANIC_TARGET`](crate::task::UNHANDLED_PANIC_TARGET)) naming the task:
    /// asyncio's "exception was never retrieved".
    ///
    /// ```should_panic
    /// use arbor_runtime::runtime::{Builder, UnhandledPanic};
    ///
    /// let rt = Builder::new_current_thread()
    ///     .unhandled_panic(UnhandledPanic::ShutdownRuntime)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     drop(arbor_runtime::spawn(async { panic!("boom") }));
    ///     // Never returns: the panic above ends `block_on`.
    ///     std::future::pending::<()>().await
    /// });
    /// ```
    pub fn unhandled_panic(mut self, policy: UnhandledPanic) -> Builder {
        self.unhandled_panic = policy;
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    /// `InvalidInput` for `worker_threads(0)`, more than [`MAX_WORKER_THREADS`] workers,
    /// `max_blocking_threads(0)`, `start_paused(true)` or `rng_seed` on a multi-thread
    /// runtime, or a bad [`dump_on_signal`](Builder::dump_on_signal) (or
    /// `ARBOR_DUMP_SIGNAL`); the OS error if a thread cannot be started.
    pub fn build(&self) -> io::Result<Runtime> {
        let invalid = |msg: &str| io::Error::new(io::ErrorKind::InvalidInput, msg.to_string());
        let workers = match self.worker_threads {
            Some(0) => return Err(invalid("worker_threads must be at least 1")),
            Some(n) if n > MAX_WORKER_THREADS => {
                return Err(invalid(
                    "worker_threads must be at most MAX_WORKER_THREADS (4096)",
                ));
            }
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        if self.max_blocking_threads == 0 {
            return Err(invalid("max_blocking_threads must be at least 1"));
        }
        let current_thread = self.kind == Kind::CurrentThread;
        if self.start_paused && !current_thread {
            return Err(invalid(
                "start_paused needs a current-thread runtime (Builder::new_current_thread)",
            ));
        }
        let dump_signal = self.dump_signal()?;
        if self.rng_seed.is_some() && !current_thread {
            return Err(invalid(
                "rng_seed needs a current-thread runtime (Builder::new_current_thread): the \
                 order of a multi-thread runtime depends on its threads",
            ));
        }
        let driver = Driver::new(current_thread, self.start_paused)?;
        if let Some((signal, from_env)) = dump_signal {
            #[cfg(unix)]
            driver.enable_dump(signal).map_err(|e| {
                if from_env {
                    io::Error::new(e.kind(), format!("{DUMP_SIGNAL_ENV}: {e}"))
                } else {
                    e
                }
            })?;
            #[cfg(not(unix))]
            {
                let _ = from_env;
                return Err(invalid(&format!(
                    "dump_on_signal({signal}): signals are Unix only"
                )));
            }
        }
        let blocking_name: Arc<str> = Arc::from(format!("{}-blocking", self.thread_name));
        let pool = BlockingPool::new(
            blocking_name,
            self.thread_stack_size,
            self.max_blocking_threads,
            self.keep_alive,
        );
        let spawner = pool.spawner().clone();
        let config = scheduler::Config {
            slow_poll_threshold: self.slow_poll_threshold,
            rng_seed: self.rng_seed,
            unhandled_panic: self.unhandled_panic,
        };
        match self.kind {
            Kind::CurrentThread => {
                let handle = scheduler::Handle::CurrentThread(current_thread::create(
                    spawner, driver, config,
                ));
                pool.set_handle(handle.clone());
                Ok(Runtime {
                    handle: Handle { inner: handle },
                    blocking_pool: pool,
                    workers: Vec::new(),
                    kind: Kind::CurrentThread,
                })
            }
            Kind::MultiThread => {
                let (sched, cores) = multi_thread::create(workers, spawner, driver, config);
                let handle = scheduler::Handle::MultiThread(sched.clone());
                pool.set_handle(handle.clone());
                let mut rt = Runtime {
                    handle: Handle { inner: handle },
                    blocking_pool: pool,
                    workers: Vec::new(),
                    kind: Kind::MultiThread,
                };
                for (index, core) in cores.into_iter().enumerate() {
                    let mut builder =
                        std::thread::Builder::new().name(format!("{}-{index}", self.thread_name));
                    if let Some(size) = self.thread_stack_size {
                        builder = builder.stack_size(size);
                    }
                    let sched = sched.clone();
                    // On error `rt` drops here, shutting down the workers already started.
                    let thread = builder.spawn(move || multi_thread::run_worker(sched, core))?;
                    rt.workers.push(thread);
                }
                Ok(rt)
            }
        }
    }
}
