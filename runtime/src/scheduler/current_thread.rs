//! The current-thread scheduler: every task runs on the thread that calls `block_on`.
//!
//! The core (local queue, tick, parker) is held by whichever thread is inside `block_on`;
//! a second thread calling `block_on` at the same time polls its own future and waits for
//! the core to come back. Wakes from other threads go through the lock-free [`Inject`]
//! queue and unpark the core's parker; wakes on the driving thread push to the local queue.
//!
//! ## The run loop and fairness
//! The driving thread polls the `block_on` future when it was woken, then runs queued tasks.
//! It counts polls (of tasks and of the `block_on` future alike) and services the driver
//! (timers and IO, without waiting) once [`MAINTENANCE_INTERVAL`] polls have gone by
//! without it, so a busy queue, and a `block_on` future that keeps waking itself with no
//! task queued (`while !done { yield_now().await }`), cannot starve the timer or socket
//! that would end the loop. Out of tasks and not woken, it parks, which turns the driver
//! too.
//!
//! ## Seeded order
//! With `Builder::rng_seed`, `next_task` moves the injector's tasks onto the local queue
//! and takes one at an index drawn from [`SeededOrder`]: the ready tasks run in an order
//! fixed by the seed. Without a seed the queue is FIFO, as above; the only cost is the
//! `Option` check in `next_task`. The `block_on` future is polled as without a seed,
//! whenever it was woken, between runs of tasks.
//!
//! ## Idle
//! When `park` finds nothing to run after a non-blocking driver turn, it wakes one caller
//! of `testing::wait_all_tasks_blocked` (if any) instead of sleeping or jumping a paused
//! clock: that moment is exactly "every other task is blocked".
//!
//! Virtual time: a paused clock jumps to the next timer when every task is idle (see
//! `Context::park`). A `block_on` future that spins through a whole interval while no task
//! runs counts as idle as well: nothing but a timer can change what it waits for, so the
//! clock jumps then too (Trio's autojump would wait forever).

use crate::blocking;
use crate::driver::{Driver, MAINTENANCE_INTERVAL};
use crate::park::{Parker, Unparker};
use crate::runtime::UnhandledPanic;
use crate::runtime::metrics::WorkerMetrics;
use crate::runtime::unhandled::Tripwire;
use crate::scheduler::Config;
use crate::scheduler::inject::Inject;
use crate::scheduler::rng::SeededOrder;
use crate::task::list::OwnedTasks;
use crate::task::{self, OwnedTask, Schedule, Task, TaskMeta};
use crate::testing::BlockedWaiters;
use crate::{context, coop, park, scheduler};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};
use std::time::Duration;

/// The local queue yields to the injector every this many ticks.
const GLOBAL_QUEUE_INTERVAL: u32 = 31;

type Notified = task::Notified<Arc<Handle>>;

pub(crate) struct Handle {
    pub(crate) shared: Shared,
    pub(crate) blocking: blocking::Spawner,
    /// The core, while no thread drives the scheduler.
    core: Mutex<Option<Box<Core>>>,
    /// Threads in `block_on` waiting for the core.
    core_waiters: Mutex<Vec<Waker>>,
}

pub(crate) struct Shared {
    /// Tasks scheduled from other threads.
    inject: Inject<Notified>,
    /// Every live task.
    pub(crate) owned: OwnedTasks<Arc<Handle>>,
    /// The `block_on` future was woken.
    woken: AtomicBool,
    /// Unparks the core's parker, whichever thread holds it.
    unpark: Unparker,
    /// Timers and IO, turned by the thread driving the scheduler when it runs out of tasks.
    pub(crate) driver: Arc<Driver>,
    /// The builder's settings for tasks. Immutable.
    pub(crate) config: Config,
    /// The driving thread's counters (`runtime/metrics.rs`), written by whichever thread
    /// holds the core.
    pub(crate) metrics: WorkerMetrics,
    /// Tripped by a detached task's panic under `UnhandledPanic::ShutdownRuntime`.
    pub(crate) tripwire: Tripwire,
    /// Callers of `testing::wait_all_tasks_blocked`, woken one per idle moment by `park`.
    pub(crate) blocked_waiters: Arc<BlockedWaiters>,
}

pub(crate) struct Core {
    local: VecDeque<Notified>,
    tick: u32,
    /// `Builder::rng_seed`: the order among ready tasks; `None`: FIFO.
    seeded: Option<SeededOrder>,
    /// `None` only while parked (see `Context::park`).
    parker: Option<Parker>,
}

/// The driving thread's scheduler context.
pub(crate) struct Context {
    handle: Arc<Handle>,
    core: RefCell<Option<Box<Core>>>,
}

pub(crate) fn create(
    blocking: blocking::Spawner,
    driver: Arc<Driver>,
    config: Config,
) -> Arc<Handle> {
    let parker = Parker::new(driver.clone());
    let unpark = parker.unparker().clone();
    let core = Box::new(Core {
        local: VecDeque::new(),
        tick: 0,
        seeded: config.rng_seed.map(SeededOrder::new),
        parker: Some(parker),
    });
    Arc::new(Handle {
        shared: Shared {
            inject: Inject::new(),
            owned: OwnedTasks::new(1),
            woken: AtomicBool::new(false),
            unpark,
            driver,
            config,
            metrics: WorkerMetrics::default(),
            tripwire: Tripwire::default(),
            blocked_waiters: Arc::default(),
        },
        blocking,
        core: Mutex::new(Some(core)),
        core_waiters: Mutex::new(Vec::new()),
    })
}

impl Handle {
    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F, meta: TaskMeta) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified) = me.shared.owned.bind(future, me.clone(), meta);
        if let Some(notified) = notified {
            me.schedule(notified);
        }
        task
    }

    /// Wakes the thread driving the scheduler, if it is parked.
    pub(crate) fn unpark(&self) {
        self.shared.unpark.unpark();
    }

    fn take_core(&self) -> Option<Box<Core>> {
        self.core.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn return_core(&self, core: Box<Core>) {
        *self.core.lock().unwrap_or_else(|e| e.into_inner()) = Some(core);
        let waiters =
            std::mem::take(&mut *self.core_waiters.lock().unwrap_or_else(|e| e.into_inner()));
        waiters.into_iter().for_each(Waker::wake);
    }

    pub(crate) fn block_on<F: Future>(self: &Arc<Handle>, future: F) -> F::Output {
        let mut future = pin!(future);
        let parker = park::ParkThread::new();
        loop {
            if let Some(core) = self.take_core() {
                return self.drive(core, future.as_mut());
            }
            // Another thread drives the scheduler: wait for our future or for the core.
            let waker = parker.waker();
            {
                let _budget = coop::budget_guard();
                if let Poll::Ready(out) = future
                    .as_mut()
                    .poll(&mut std::task::Context::from_waker(&waker))
                {
                    return out;
                }
            }
            self.core_waiters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(waker);
            if let Some(core) = self.take_core() {
                return self.drive(core, future.as_mut());
            }
            parker.park();
        }
    }

    fn drive<F: Future>(
        self: &Arc<Handle>,
        core: Box<Core>,
        future: std::pin::Pin<&mut F>,
    ) -> F::Output {
        let cx = scheduler::Context::CurrentThread(Context {
            handle: self.clone(),
            core: RefCell::new(Some(core)),
        });
        /// Gives the core back even if the future or a destructor panics.
        struct ReturnCore<'a>(&'a scheduler::Context);
        impl Drop for ReturnCore<'_> {
            fn drop(&mut self) {
                let scheduler::Context::CurrentThread(cx) = self.0 else {
                    unreachable!()
                };
                if let Some(core) = cx.core.borrow_mut().take() {
                    cx.handle.return_core(core);
                }
            }
        }
        let _return = ReturnCore(&cx);
        context::set_scheduler(&cx, || {
            let scheduler::Context::CurrentThread(cx) = &cx else {
                unreachable!()
            };
            cx.run(future)
        })
    }

    pub(crate) fn injector_depth(&self) -> usize {
        self.shared.inject.len()
    }

    /// The local queue's length: read from the driving thread, or from the parked core
    /// when no thread drives; 0 while another thread drives.
    pub(crate) fn local_queue_depth(self: &Arc<Handle>) -> usize {
        let here = context::with_scheduler(|cx| match cx {
            Some(scheduler::Context::CurrentThread(cx)) if Arc::ptr_eq(&cx.handle, self) => cx
                .core
                .try_borrow()
                .ok()
                .and_then(|core| core.as_ref().map(|core| core.local.len())),
            _ => None,
        });
        here.unwrap_or_else(|| {
            self.core
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map_or(0, |core| core.local.len())
        })
    }

    /// Runtime drop: cancels every task on this thread, then drops what is queued.
    pub(crate) fn shutdown(self: &Arc<Handle>) {
        let Some(core) = self.take_core() else {
            // Another thread is inside `block_on` on a handle clone; it still holds the core.
            self.shared.owned.close_and_shutdown_all();
            self.shared.inject.close();
            return;
        };
        let cx = scheduler::Context::CurrentThread(Context {
            handle: self.clone(),
            core: RefCell::new(Some(core)),
        });
        context::set_scheduler(&cx, || {
            let scheduler::Context::CurrentThread(cx) = &cx else {
                unreachable!()
            };
            self.shared.owned.close_and_shutdown_all();
            loop {
                let task = cx
                    .core
                    .borrow_mut()
                    .as_mut()
                    .and_then(|core| core.local.pop_front());
                match task {
                    Some(task) => drop(task),
                    None => break,
                }
            }
            self.shared.inject.close();
        });
    }
}

impl Context {
    fn run<F: Future>(&self, mut future: std::pin::Pin<&mut F>) -> F::Output {
        let shared = &self.handle.shared;
        let waker = Waker::from(self.handle.clone());
        let mut task_cx = std::task::Context::from_waker(&waker);
        // `woken` is a flag beside the parker's own synchronisation: Release on set and
        // Acquire on read order the waker's writes before the next poll of the future.
        shared.woken.store(true, Ordering::Release);
        // Polls since the driver was last serviced, and how many of them were task polls
        // (none: only the `block_on` future has been spinning). See the module header.
        let mut polls = 0;
        let mut task_polls = 0;
        // How many of `task_polls` are in `shared.metrics` already (`RuntimeMetrics::polls`:
        // published at the interval's end and before each poll of the future, so a task
        // poll costs no atomic write).
        let mut published = 0;
        loop {
            if shared.woken.swap(false, Ordering::AcqRel) {
                // The task polls so far, published before the future can read them.
                shared.metrics.add_polls(task_polls - published);
                published = task_polls;
                let _budget = coop::budget_guard();
                if let Poll::Ready(out) = future.as_mut().poll(&mut task_cx) {
                    return out;
                }
                polls += 1;
            }
            let mut out_of_tasks = false;
            while polls < MAINTENANCE_INTERVAL {
                match self.next_task() {
                    Some(task) => {
                        task.run();
                        polls += 1;
                        task_polls += 1;
                    }
                    None => {
                        out_of_tasks = true;
                        break;
                    }
                }
            }
            shared.metrics.add_polls(task_polls - published);
            published = task_polls;
            if !out_of_tasks {
                // Busy, or spinning: service timers and IO without waiting.
                self.maintain(task_polls == 0);
            } else if !shared.woken.load(Ordering::Acquire) {
                self.park();
            } else {
                // Only the `block_on` future is ready: poll it again, still counting.
                continue;
            }
            polls = 0;
            task_polls = 0;
            published = 0;
        }
    }

    fn next_task(&self) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        let core = core.as_mut().expect("core missing while driving");
        core.tick = core.tick.wrapping_add(1);
        let inject = &self.handle.shared.inject;
        if let Some(seeded) = &mut core.seeded {
            while let Some(task) = inject.pop() {
                core.local.push_back(task);
            }
            if core.local.is_empty() {
                return None;
            }
            let index = seeded.below(core.local.len());
            return core.local.swap_remove_back(index);
        }
        if core.tick % GLOBAL_QUEUE_INTERVAL == 0 {
            inject.pop().or_else(|| core.local.pop_front())
        } else {
            core.local.pop_front().or_else(|| inject.pop())
        }
    }

    /// An interval of polls went by: services timers and IO without waiting. `spinning`:
    /// no task ran in it, only the `block_on` future kept waking itself; with nothing
    /// queued after the turn either, a paused clock jumps to the next timer, as when idle.
    fn maintain(&self, spinning: bool) {
        let shared = &self.handle.shared;
        let Some(mut driver) = shared.driver.try_lock() else {
            // Another thread holds the driver (`advance`); it fires what is due.
            return;
        };
        let woken = shared
            .driver
            .turn(&mut driver, Some(Duration::ZERO), || false);
        if spinning
            && woken == 0
            && !self.has_queued_tasks()
            && shared.driver.clock.is_paused()
            && !self.handle.blocking.is_busy()
        {
            shared.driver.autojump(&mut driver);
        }
    }

    /// Out of tasks: services timers and IO, jumps a paused clock, or sleeps.
    fn park(&self) {
        let shared = &self.handle.shared;
        // A non-blocking turn first: due timers and ready IO may give us work.
        if let Some(mut driver) = shared.driver.try_lock() {
            let woken = shared
                .driver
                .turn(&mut driver, Some(Duration::ZERO), || false);
            if woken > 0 || self.has_work() {
                return;
            }
            // Every task is blocked: the moment `wait_all_tasks_blocked` waits for.
            if shared.blocked_waiters.wake_one() {
                return;
            }
            // Virtual time: every task is idle; with no blocking call running either,
            // nothing but a timer can make progress, so the clock jumps to it.
            if shared.driver.clock.is_paused()
                && !self.handle.blocking.is_busy()
                && shared.driver.autojump(&mut driver)
            {
                return;
            }
        }
        // Taken out while parked, so that tasks the driver wakes meanwhile can be pushed
        // onto the local queue.
        let parker = {
            let mut core = self.core.borrow_mut();
            let core = core.as_mut().expect("core missing while driving");
            core.parker.take().expect("parker")
        };
        // A wake after the check below leaves the parker notified, so `park` returns at once.
        if !self.has_work() {
            parker.park();
        }
        let mut core = self.core.borrow_mut();
        core.as_mut().expect("core missing while driving").parker = Some(parker);
    }

    fn has_work(&self) -> bool {
        self.has_queued_tasks() || self.handle.shared.woken.load(Ordering::Acquire)
    }

    fn has_queued_tasks(&self) -> bool {
        let core = self.core.borrow();
        let core = core.as_ref().expect("core missing while driving");
        !core.local.is_empty() || !self.handle.shared.inject.is_empty()
    }
}

/// The `block_on` future's waker.
impl Wake for Handle {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.woken.store(true, Ordering::Release);
        self.shared.unpark.unpark();
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified) {
        let remote = context::with_scheduler(|cx| {
            let Some(scheduler::Context::CurrentThread(cx)) = cx else {
                return Some(task);
            };
            if !Arc::ptr_eq(&cx.handle, self) {
                return Some(task);
            }
            match cx.core.try_borrow_mut() {
                Ok(mut core) => match core.as_mut() {
                    Some(core) => {
                        core.local.push_back(task);
                        None
                    }
                    None => Some(task),
                },
                Err(_) => Some(task),
            }
        });
        if let Some(task) = remote {
            self.shared.inject.push(task);
            self.shared.unpark.unpark();
        }
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
