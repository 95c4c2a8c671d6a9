//! The blocking pool's threads and queue.
//!
//! All bookkeeping lives in one `Mutex<State>` with a `Condvar`: blocking calls are
//! expensive enough (a thread hand-off) that a lock per call is not the bottleneck, and one
//! lock keeps the idle/notify accounting simple to verify.
//!
//! ## Accounting
//! - `num_idle` counts threads waiting on the condvar and not yet claimed.
//! - `num_spinning` counts threads that just ran out of calls and watch the queue for
//!   [`SPIN_BEFORE_SLEEP`] before they wait on the condvar (a burst of calls then costs no
//!   wake-up per call). A spinner re-checks the queue under the lock when it stops.
//! - A spawn wakes a thread only if the queue holds more calls than the threads about to
//!   look at it (spinners, and claimed threads not yet awake): it claims an idle one
//!   (`num_idle -= 1; num_notify += 1; notify_one()`), or else starts one. Threads busy with
//!   a call do not count, since a call may block for long. A waiting thread that sees
//!   `num_notify > 0` consumes one and goes back to the queue; so a claimed thread never
//!   also times out and exits.
//! - A thread whose wait times out unclaimed leaves (`num_idle -= 1; num_threads -= 1`) and
//!   removes its own join handle.
//!
//! Why no call is stranded: every call is pushed under the lock, and at that moment the
//! queue holds no more calls than the threads about to look at it, counting one woken or
//! started for it if needed. A spinner leaves `num_spinning` under the lock and then pops
//! what is queued, so it takes every call that counted on it; a claimed thread does the
//! same when it wakes.

use crate::context;
use crate::scheduler;
use crate::task::{self, Notified, OwnedTask, Schedule, Task, TaskMeta};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an idle blocking thread waits for work before it exits.
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// How long a pool thread that ran out of calls watches the queue before it sleeps on the
/// condvar. A caller queuing a burst of calls (a loop of `spawn_blocking`) then finds the
/// thread still looking and wakes nobody: a wake-up is a futex syscall for the caller and a
/// context switch for the thread, far more than the calls a burst usually makes.
const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(20);

/// How many times a spinning thread looks at the queue between two clock reads.
const SPIN_CHECKS_PER_CLOCK_READ: u32 = 64;

/// The default cap on blocking threads (tokio's, too): generous, since they mostly wait.
pub(crate) const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

/// The runtime's owner of the pool: dropping the runtime shuts it down.
pub(crate) struct BlockingPool {
    spawner: Spawner,
}

/// Where blocking calls are sent; cloned into the scheduler handle.
#[derive(Clone)]
pub(crate) struct Spawner {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    condvar: Condvar,
    /// `state.queue.len()`, stored under the lock after every change, for spinners to
    /// watch without the lock (they re-check under it).
    queued: AtomicUsize,
    thread_name: Arc<str>,
    stack_size: Option<usize>,
    thread_cap: usize,
    keep_alive: Duration,
}

struct State {
    queue: VecDeque<Notified<BlockingSchedule>>,
    num_threads: usize,
    num_idle: usize,
    num_notify: usize,
    num_spinning: usize,
    shutdown: bool,
    /// Join handles of live threads, by a pool-local id.
    threads: HashMap<usize, JoinHandle<()>>,
    next_id: usize,
    /// The runtime, entered by each pool thread; dropped at shutdown (it would otherwise
    /// keep the scheduler alive in a cycle).
    handle: Option<scheduler::Handle>,
}

/// The scheduler hook of a blocking task. A blocking task runs once from the pool queue and
/// never returns `Pending`, so it is never rescheduled, and it is in no owned list.
pub(crate) struct BlockingSchedule;

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified<Self>) {
        debug_assert!(false, "a blocking task was rescheduled");
        drop(task);
    }

    fn release(&self, _task: &OwnedTask<Self>) -> Option<OwnedTask<Self>> {
        None
    }
}

/// The future of a blocking task: calls the closure on its first poll.
struct BlockingTask<F> {
    func: Option<F>,
}

// The closure is never pinned: it is moved out before it is called.
impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let func = self.func.take().expect("blocking task polled after it ran");
        Poll::Ready(func())
    }
}

impl BlockingPool {
    pub(crate) fn new(
        thread_name: Arc<str>,
        stack_size: Option<usize>,
        thread_cap: usize,
        keep_alive: Duration,
    ) -> BlockingPool {
        BlockingPool {
            spawner: Spawner {
                inner: Arc::new(Inner {
                    state: Mutex::new(State {
                        queue: VecDeque::new(),
                        num_threads: 0,
                        num_idle: 0,
                        num_notify: 0,
                        num_spinning: 0,
                        shutdown: false,
                        threads: HashMap::new(),
                        next_id: 0,
                        handle: None,
                    }),
                    condvar: Condvar::new(),
                    queued: AtomicUsize::new(0),
                    thread_name,
                    stack_size,
                    thread_cap,
                    keep_alive,
                }),
            },
        }
    }

    pub(crate) fn spawner(&self) -> &Spawner {
        &self.spawner
    }

    /// Gives the pool threads the runtime to enter.
    pub(crate) fn set_handle(&self, handle: scheduler::Handle) {
        self.spawner.inner.lock().handle = Some(handle);
    }

    /// Cancels the calls not yet started and waits for the running ones, for at most
    /// `timeout` (forever with `None`). Returns `false` if some were still running then.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let inner = &self.spawner.inner;
        let (queue, threads, handle) = {
            let mut state = inner.lock();
            state.shutdown = true;
            inner.queued.store(0, Relaxed);
            (
                std::mem::take(&mut state.queue),
                std::mem::take(&mut state.threads),
                state.handle.take(),
            )
        };
        inner.condvar.notify_all();
        drop(handle);
        for task in queue {
            task.shutdown();
        }
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        let me = std::thread::current().id();
        let mut all_joined = true;
        for (_, thread) in threads {
            if thread.thread().id() == me {
                continue;
            }
            match deadline {
                None => {
                    let _ = thread.join();
                }
                Some(deadline) => {
                    while !thread.is_finished() && std::time::Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    if thread.is_finished() {
                        let _ = thread.join();
                    } else {
                        all_joined = false;
                    }
                }
            }
        }
        all_joined
    }
}

impl Drop for BlockingPool {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Spawner {
    /// Whether a blocking call is queued or running (virtual time does not jump then).
    pub(crate) fn is_busy(&self) -> bool {
        let state = self.inner.lock();
        !state.queue.is_empty() || state.num_threads > state.num_idle
    }

    /// The pool's threads: `(busy, idle)`. Idle threads wait on the condvar or spin for a
    /// next call; the others run a call (or are claimed for one and about to).
    pub(crate) fn thread_counts(&self) -> (usize, usize) {
        let state = self.inner.lock();
        let idle = (state.num_idle + state.num_spinning).min(state.num_threads);
        (state.num_threads - idle, idle)
    }

    pub(crate) fn spawn<F, R>(&self, func: F) -> Task<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (owned, notified, join) = task::new_task(
            BlockingTask { func: Some(func) },
            BlockingSchedule,
            TaskMeta::default(),
        );
        // Blocking tasks are in no owned list: the queue entry stands for them until run.
        drop(owned);
        self.spawn_task(notified);
        join
    }

    fn spawn_task(&self, task: Notified<BlockingSchedule>) {
        let inner = &self.inner;
        let mut state = inner.lock();
        if state.shutdown {
            drop(state);
            task.shutdown();
            return;
        }
        state.queue.push_back(task);
        inner.queued.store(state.queue.len(), Relaxed);
        if state.queue.len() <= state.num_spinning + state.num_notify {
            // A thread about to look at the queue takes it (see "Accounting").
            return;
        }
        if state.num_idle > 0 {
            state.num_idle -= 1;
            state.num_notify += 1;
            inner.condvar.notify_one();
        } else if state.num_threads < inner.thread_cap {
            // Reserve the thread under the lock, start it outside: starting a thread takes
            // tens of microseconds, during which the lock would stall every other spawn
            // and every pool thread looking for its next call.
            let id = state.next_id;
            state.next_id += 1;
            state.num_threads += 1;
            let handle = state.handle.clone();
            drop(state);
            self.start_thread(id, handle);
        }
    }

    fn start_thread(&self, id: usize, handle: Option<scheduler::Handle>) {
        let inner = &self.inner;
        let mut builder = std::thread::Builder::new().name(inner.thread_name.to_string());
        if let Some(size) = inner.stack_size {
            builder = builder.stack_size(size);
        }
        let pool = inner.clone();
        let started = builder.spawn(move || pool.run(id, handle));
        let mut state = inner.lock();
        match started {
            Ok(thread) if state.shutdown => {
                // Shutdown took the thread list meanwhile: the thread sees the flag and
                // exits at once; wait for it here instead.
                drop(state);
                let _ = thread.join();
            }
            Ok(thread) => {
                // A thread that already exited (keep-alive) found no entry to remove; its
                // handle is joined (at once) at shutdown.
                state.threads.insert(id, thread);
            }
            Err(err) => {
                state.num_threads -= 1;
                // The call stays queued; a busy thread will pick it up. With no thread at
                // all it would wait forever, so report it instead.
                if state.num_threads == 0 {
                    let task = state.queue.pop_back();
                    inner.queued.store(state.queue.len(), Relaxed);
                    drop(state);
                    tracing::error!(%err, "arbor: failed to start a blocking thread");
                    if let Some(task) = task {
                        task.shutdown();
                    }
                }
            }
        }
    }
}

impl Inner {
    fn run(self: Arc<Inner>, id: usize, handle: Option<scheduler::Handle>) {
        let runtime = handle.clone();
        let _enter = handle.map(context::set_handle);
        let mut state = self.lock();
        'work: loop {
            while let Some(task) = state.queue.pop_front() {
                self.queued.store(state.queue.len(), Relaxed);
                drop(state);
                task.run();
                state = self.lock();
            }
            if state.shutdown {
                break;
            }
            state.num_spinning += 1;
            drop(state);
            self.spin();
            state = self.lock();
            state.num_spinning -= 1;
            if !state.queue.is_empty() {
                continue 'work;
            }
            if state.shutdown {
                break;
            }
            state.num_idle += 1;
            if state.num_idle == state.num_threads {
                // The pool just went idle: a paused clock may jump now (virtual time waits
                // while blocking calls run), so the scheduler must look again.
                if let Some(runtime) = &runtime {
                    runtime.blocking_pool_idle();
                }
            }
            loop {
                let (guard, wait) = self
                    .condvar
                    .wait_timeout(state, self.keep_alive)
                    .unwrap_or_else(|e| e.into_inner());
                state = guard;
                if state.num_notify > 0 {
                    state.num_notify -= 1;
                    continue 'work;
                }
                if state.shutdown {
                    state.num_idle -= 1;
                    break 'work;
                }
                if wait.timed_out() {
                    // Idle for `keep_alive`: leave, detaching our own handle.
                    state.num_idle -= 1;
                    state.num_threads -= 1;
                    state.threads.remove(&id);
                    return;
                }
            }
        }
        state.num_threads -= 1;
    }

    /// Watches the queue for at most [`SPIN_BEFORE_SLEEP`]; returns early once a call is
    /// queued (the caller takes it under the lock).
    fn spin(&self) {
        let start = Instant::now();
        loop {
            for _ in 0..SPIN_CHECKS_PER_CLOCK_READ {
                if self.queued.load(Relaxed) > 0 {
                    return;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= SPIN_BEFORE_SLEEP {
                return;
            }
        }
    }
}
