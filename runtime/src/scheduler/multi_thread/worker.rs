//! A worker thread: its core (local queue, LIFO slot, tick, searching flag) and its loop.
//!
//! The core sits in a `RefCell` in the worker's [`Context`], which the thread-local context
//! points to while the loop runs; borrows are short and never held across a task poll, so a
//! task that spawns or wakes on this worker borrows it to push locally.

use super::{
    GLOBAL_QUEUE_INTERVAL, Handle, LOCAL_BACKLOG_TO_SHARE, MAX_LIFO_POLLS_PER_TICK, Notified,
};
use crate::driver::MAINTENANCE_INTERVAL;
use crate::park::Parker;
use crate::{context, scheduler};
use crossbeam_deque::{Steal, Worker};
use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a task queued in the injector (woken or spawned from outside the workers) may
/// wait, at most, while its worker is busy with long polls: the worker looks at the
/// injector at least this often. With short polls the look stays every
/// [`GLOBAL_QUEUE_INTERVAL`] ticks; with polls longer than this (a CPU-heavy neighbour),
/// every tick.
const GLOBAL_QUEUE_LATENCY: Duration = Duration::from_micros(200);

/// How long timers and IO may wait, at most, for a busy worker to turn the driver: besides
/// every [`MAINTENANCE_INTERVAL`] ticks, a worker turns it at a look at the injector once
/// this long has passed since the last time it did.
const MAINTENANCE_LATENCY: Duration = Duration::from_millis(1);

/// How long a searcher that found nothing keeps watching the queues before it parks.
const SEARCH_SPIN: Duration = Duration::from_micros(20);

/// The state only its worker thread touches.
pub(crate) struct Core {
    index: usize,
    /// FIFO run queue; other workers steal from its front.
    local: Worker<Notified>,
    /// The task to run next (see the module header of `multi_thread`).
    lifo_slot: Option<Notified>,
    /// Counts scheduling decisions, for the global-queue interval.
    tick: u32,
    /// Ticks between two looks at the injector: tuned at each look to the time the last
    /// ones took, so that a look comes every [`GLOBAL_QUEUE_LATENCY`] at most (between 1
    /// and [`GLOBAL_QUEUE_INTERVAL`]).
    global_interval: u32,
    /// The tick of the next look at the injector.
    next_global: u32,
    /// When the last look at the injector was.
    last_global: Instant,
    /// A moving average of the time per tick measured at the looks, in nanoseconds (each
    /// look weighs a quarter): one short tick between long polls must not stretch the gap
    /// to the next look.
    tick_ns_avg: u64,
    /// When this worker last turned the driver at a look.
    last_maintenance: Instant,
    /// Counted in `Idle`'s searching workers.
    is_searching: bool,
    /// Task polls not yet added to this worker's `WorkerMetrics` (published at the
    /// maintenance interval and before parking, so a poll costs no atomic write).
    unpublished_polls: u64,
    /// Picks steal victims.
    rand: FastRand,
    /// Taken out while parked, so that tasks woken by the driver during the park can be
    /// pushed onto this core's queues.
    parker: Option<Parker>,
}

/// A worker thread's scheduler context.
pub(crate) struct Context {
    handle: Arc<Handle>,
    index: usize,
    core: RefCell<Core>,
}

impl Core {
    pub(super) fn new(index: usize, local: Worker<Notified>, parker: Parker) -> Core {
        Core {
            index,
            local,
            lifo_slot: None,
            tick: 0,
            // From the first tick: the polls' length is not known yet (a fresh runtime may
            // start with long ones); short polls double it to its maximum within 63 ticks.
            global_interval: 1,
            next_global: 1,
            last_global: Instant::now(),
            tick_ns_avg: 0,
            last_maintenance: Instant::now(),
            is_searching: false,
            unpublished_polls: 0,
            rand: FastRand::new(index as u32),
            parker: Some(parker),
        }
    }
}

/// The worker thread's body.
pub(crate) fn run(handle: Arc<Handle>, core: Core) {
    let index = core.index;
    let cx = scheduler::Context::MultiThread(Context {
        handle: handle.clone(),
        index,
        core: RefCell::new(core),
    });
    let _handle = context::set_handle(scheduler::Handle::MultiThread(handle));
    let _runtime = context::enter_runtime();
    context::set_scheduler(&cx, || {
        let scheduler::Context::MultiThread(cx) = &cx else {
            unreachable!()
        };
        cx.run();
    });
}

/// Pushes `task` onto the current worker's queues if this thread is one of `handle`'s
/// workers; otherwise hands it back.
pub(super) fn try_schedule_local(
    handle: &Arc<Handle>,
    task: Notified,
    is_yield: bool,
) -> Option<Notified> {
    context::with_scheduler(|cx| {
        let Some(scheduler::Context::MultiThread(cx)) = cx else {
            return Some(task);
        };
        if !Arc::ptr_eq(&cx.handle, handle) {
            return Some(task);
        }
        let Ok(mut core) = cx.core.try_borrow_mut() else {
            return Some(task);
        };
        let pushed_to_queue = if is_yield {
            core.local.push(task);
            true
        } else if let Some(prev) = core.lifo_slot.replace(task) {
            core.local.push(prev);
            true
        } else {
            false
        };
        // A backlog others could steal: wake an idle worker unless one is already searching.
        // A single queued task is left to this worker (see `LOCAL_BACKLOG_TO_SHARE`).
        if pushed_to_queue
            && core.local.len() >= LOCAL_BACKLOG_TO_SHARE
            && !core.is_searching
            && handle.shared.idle.worth_notifying_for_local_work()
        {
            drop(core);
            handle.notify_parked();
        }
        None
    })
}

impl Context {
    fn shared(&self) -> &super::Shared {
        &self.handle.shared
    }

    fn run(&self) {
        while !self.handle.is_shutdown() {
            let next = self.next_task().or_else(|| self.steal_work());
            match next {
                Some(task) => self.run_task(task),
                None => self.park(),
            }
        }
        // Drop the queued references; the tasks stay in the owned list for shutdown.
        let mut core = self.core.borrow_mut();
        self.publish_polls(&mut core);
        drop(core.lifo_slot.take());
        while let Some(task) = core.local.pop() {
            drop(task);
        }
    }

    fn next_task(&self) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        core.tick = core.tick.wrapping_add(1);
        if core.tick % MAINTENANCE_INTERVAL == 0 {
            self.publish_polls(&mut core);
            // Timers and IO, while this worker is busy (tasks woken land on our queues).
            drop(core);
            self.shared().driver.maintain();
            core = self.core.borrow_mut();
        }
        if core.tick == core.next_global {
            // A look at the injector; first, tune the interval to the polls' length.
            let now = Instant::now();
            let per_tick = now.saturating_duration_since(core.last_global) / core.global_interval;
            core.last_global = now;
            // Shrink at once (on this window's time per tick or the average, whichever is
            // longer), grow at most twofold per look: a look after a few short polls must
            // not open a long gap before the next look while long polls go on. With long
            // polls the window is one tick, so one short tick (a task woken from outside,
            // run between two CPU-heavy polls) would double the gap: the average, still
            // long, keeps it (it made `latency`'s p99 about two polls instead of one).
            let per_tick_ns = u64::try_from(per_tick.as_nanos()).unwrap_or(u64::MAX);
            core.tick_ns_avg = core.tick_ns_avg - core.tick_ns_avg / 4 + per_tick_ns / 4;
            let tuned = match (GLOBAL_QUEUE_LATENCY.as_nanos() as u64)
                .checked_div(per_tick_ns.max(core.tick_ns_avg))
            {
                Some(n) => n.clamp(1, u64::from(GLOBAL_QUEUE_INTERVAL)) as u32,
                None => GLOBAL_QUEUE_INTERVAL, // polls too short to measure
            };
            core.global_interval = tuned.min(core.global_interval.saturating_mul(2));
            core.next_global = core.tick.wrapping_add(core.global_interval);
            if now.saturating_duration_since(core.last_maintenance) >= MAINTENANCE_LATENCY {
                core.last_maintenance = now;
                drop(core);
                self.shared().driver.maintain();
                core = self.core.borrow_mut();
            }
            if let Some(task) = self.shared().inject.pop() {
                return Some(task);
            }
        }
        if let Some(task) = core.lifo_slot.take() {
            return Some(task);
        }
        if let Some(task) = core.local.pop() {
            return Some(task);
        }
        self.shared().inject.pop_batch_into(&core.local)
    }

    /// Adds the polls counted in the core to the worker's metrics.
    fn publish_polls(&self, core: &mut Core) {
        if core.unpublished_polls > 0 {
            self.shared().metrics[self.index].add_polls(core.unpublished_polls);
            core.unpublished_polls = 0;
        }
    }

    fn steal_work(&self) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        if !core.is_searching {
            if !self.shared().idle.transition_worker_to_searching() {
                return None;
            }
            core.is_searching = true;
        }
        let remotes = &self.shared().remotes;
        let n = remotes.len();
        let start = core.rand.below(n as u32) as usize;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            loop {
                match remotes[victim].steal.steal_batch_and_pop(&core.local) {
                    Steal::Success(task) => {
                        self.shared().metrics[self.index].add_steal();
                        return Some(task);
                    }
                    Steal::Empty => break,
                    Steal::Retry => std::hint::spin_loop(),
                }
            }
        }
        self.shared().inject.pop_batch_into(&core.local)
    }

    fn run_task(&self, task: Notified) {
        {
            let mut core = self.core.borrow_mut();
            core.unpublished_polls += 1;
            if core.is_searching {
                core.is_searching = false;
                if self.shared().idle.transition_worker_from_searching()
                    && self.handle.has_pending_work(Some(self.index))
                {
                    // The last searcher found work and sees more queued elsewhere: wake
                    // another worker for it. Seeing none, it wakes nobody (a woken worker
                    // would find nothing and park again: two context switches for nothing);
                    // a producer that pushes after the decrement above sees no searcher and
                    // wakes one itself (`idle.rs`, step 3).
                    drop(core);
                    self.handle.notify_parked();
                }
            }
        }
        task.run();
        for _ in 0..MAX_LIFO_POLLS_PER_TICK {
            let next = {
                let mut core = self.core.borrow_mut();
                let next = core.lifo_slot.take();
                core.unpublished_polls += u64::from(next.is_some());
                next
            };
            match next {
                Some(task) => task.run(),
                None => return,
            }
        }
        let mut core = self.core.borrow_mut();
        if let Some(task) = core.lifo_slot.take() {
            core.local.push(task);
        }
    }

    /// A searcher that found nothing watches the queues a little longer before it parks
    /// (still counted as searching, so producers leave the wake-up to it): work that
    /// arrives within [`SEARCH_SPIN`] costs no futex wait and wake. Between two looks it
    /// yields its CPU (`sched_yield`), so that on a busy machine a thread that wants the
    /// CPU (another process, a load generator, the blocking pool) gets it: spinning with
    /// `spin_loop` hints instead took CPU from `http_hello`'s load generator on 2 cores.
    /// `true` if work arrived.
    fn spin_for_work(&self) -> bool {
        let start = Instant::now();
        loop {
            std::thread::yield_now();
            if self.handle.has_pending_work(None) || self.handle.is_shutdown() {
                return true;
            }
            if start.elapsed() >= SEARCH_SPIN {
                return false;
            }
        }
    }

    fn park(&self) {
        {
            let mut core = self.core.borrow_mut();
            self.publish_polls(&mut core);
            if core.lifo_slot.is_some() || !core.local.is_empty() {
                return;
            }
            if core.is_searching {
                drop(core);
                if self.spin_for_work() {
                    return;
                }
                core = self.core.borrow_mut();
            }
            let was_last_searcher = self
                .shared()
                .idle
                .transition_worker_to_parked(self.index, core.is_searching);
            core.is_searching = false;
            if was_last_searcher && self.handle.has_pending_work(None) {
                drop(core);
                self.handle.notify_parked();
            }
        }
        let parker = self.core.borrow_mut().parker.take().expect("parker");
        loop {
            parker.park();
            if self.handle.is_shutdown() {
                break;
            }
            if !self.shared().idle.is_parked(self.index) {
                // Woken by a producer, which counted this worker as searching.
                self.core.borrow_mut().is_searching = true;
                break;
            }
            let has_local_work = {
                let core = self.core.borrow();
                core.lifo_slot.is_some() || !core.local.is_empty()
            };
            // The driver woke tasks onto our queues: leave the sleepers to run them.
            if has_local_work {
                if !self.shared().idle.unpark_worker_by_id(self.index) {
                    // A producer popped us meanwhile and counted us as searching.
                    self.core.borrow_mut().is_searching = true;
                }
                break;
            }
        }
        self.core.borrow_mut().parker = Some(parker);
    }
}

/// A small xorshift generator for picking steal victims.
struct FastRand(u32);

impl FastRand {
    fn new(seed: u32) -> FastRand {
        FastRand(seed.wrapping_mul(0x9E37_79B9) | 1)
    }

    fn below(&mut self, n: u32) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        ((u64::from(x) * u64::from(n)) >> 32) as u32
    }
}
