//! The runtime's driver: the IO reactor and the time wheel, turned by one thread at a time.
//!
//! ## Who turns it
//! The driver is behind a lock that is only ever *tried*:
//! - A worker with nothing to do parks *in the driver* if the lock is free: it waits in the
//!   poller with the next timer's deadline as timeout, then fires due timers and dispatches
//!   IO readiness. Other idle workers park on their own parkers (see `park.rs`).
//! - A busy worker turns the driver without waiting every [`MAINTENANCE_INTERVAL`] ticks,
//!   so timers and IO make progress while every worker is busy.
//! - The current-thread scheduler turns it whenever it runs out of tasks, and without
//!   waiting every [`MAINTENANCE_INTERVAL`] polls (also while only its `block_on` future
//!   keeps waking itself).
//!
//! A wake aimed at the thread in the poller interrupts it with [`Driver::unpark`]
//! (`Poller::notify`), so a wake from any thread reaches it; `park.rs` has the protocol.
//!
//! ## Signals
//! A runtime that listens for signals (`signal::Signals`, or `Builder::dump_on_signal`)
//! registers a duplicate of the signal self-pipe's read end with its reactor
//! ([`Driver::enable_signals`]). Each turn, after dispatching IO, the driver checks that
//! registration's readiness (one atomic load) and, when it is readable, drains the pipe and
//! delivers the pending signals (`signal/registry.rs`); a dump signal prints the task tree
//! from here, so no task of the user's is involved.

use crate::io::Reactor;
#[cfg(unix)]
use crate::io::{Direction, Interest, Mode, ScheduledIo, WakeList};
use crate::time::Clock;
use crate::time::driver::{TimeCore, TimeDriver};
use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, OwnedFd};
#[cfg(unix)]
use std::sync::OnceLock;
#[cfg(unix)]
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

/// A busy worker turns the driver (without waiting) every this many scheduler ticks, and
/// the current-thread scheduler every this many polls (tasks and its `block_on` future), so
/// timers and IO are serviced while no thread parks. Prime, like the other intervals; the
/// same as tokio's `event_interval`.
pub(crate) const MAINTENANCE_INTERVAL: u32 = 61;

pub(crate) struct Driver {
    /// The runtime's clock: the OS clock, or virtual time while paused.
    pub(crate) clock: Clock,
    /// Timer submission and tick arithmetic; shared by every thread.
    pub(crate) time: TimeDriver,
    /// The poller; shared by every thread (registration, notify).
    pub(crate) io: Reactor,
    /// What only the thread turning the driver touches: the wheel, the event buffer.
    core: Mutex<Core>,
    /// The signal self-pipe's registration, once this runtime listens for signals.
    #[cfg(unix)]
    signals: OnceLock<SignalSource>,
    /// `Builder::dump_on_signal`: the signal that prints the task tree.
    #[cfg(unix)]
    dump: OnceLock<DumpOnSignal>,
}

/// A runtime's duplicate of the signal pipe's read end, registered with its reactor.
#[cfg(unix)]
struct SignalSource {
    fd: OwnedFd,
    key: usize,
    io: Arc<ScheduledIo>,
}

/// The dump signal, and the delivery count this runtime last dumped for.
#[cfg(unix)]
struct DumpOnSignal {
    signal: i32,
    seen: AtomicU64,
}

pub(crate) struct Core {
    time: TimeCore,
    events: crate::io::Events,
}

impl Driver {
    pub(crate) fn new(can_pause: bool, start_paused: bool) -> io::Result<Arc<Driver>> {
        let clock = Clock::new(can_pause, start_paused);
        let origin = clock.origin();
        Ok(Arc::new(Driver {
            clock,
            time: TimeDriver::new(origin),
            io: Reactor::new()?,
            core: Mutex::new(Core {
                time: TimeCore::new(),
                events: crate::io::Events::new(),
            }),
            #[cfg(unix)]
            signals: OnceLock::new(),
            #[cfg(unix)]
            dump: OnceLock::new(),
        }))
    }

    /// Registers the signal self-pipe with this runtime's reactor, once.
    #[cfg(unix)]
    pub(crate) fn enable_signals(&self) -> io::Result<()> {
        static ENABLING: Mutex<()> = Mutex::new(());
        if self.signals.get().is_some() {
            return Ok(());
        }
        let _enabling = ENABLING.lock().unwrap_or_else(|e| e.into_inner());
        if self.signals.get().is_some() {
            return Ok(());
        }
        let fd = crate::signal::registry::read_end()?.try_clone_to_owned()?;
        // SAFETY: `fd` is deregistered before it is closed: it lives in `self.signals`,
        // which only `Drop for Driver` takes apart, deregistering it first.
        let (key, io) = unsafe { self.io.register(fd.as_fd(), Interest::READ)? };
        if self.io.mode() == Mode::Oneshot {
            if let Err(e) = self.io.arm(fd.as_fd(), key, Interest::READ) {
                self.io.deregister(fd.as_fd(), key);
                return Err(e);
            }
        }
        let _ = self.signals.set(SignalSource { fd, key, io });
        Ok(())
    }

    /// `Builder::dump_on_signal`: prints the task tree when `signal` arrives.
    #[cfg(unix)]
    pub(crate) fn enable_dump(&self, signal: i32) -> io::Result<()> {
        crate::signal::validate(signal)?;
        self.enable_signals()?;
        crate::signal::registry::install(signal)?;
        let seen = AtomicU64::new(crate::signal::registry::deliveries(signal));
        let _ = self.dump.set(DumpOnSignal { signal, seen });
        Ok(())
    }

    /// Whether this runtime's signal delivery has stopped for good (it shut down).
    #[cfg(unix)]
    pub(crate) fn signals_shut_down(&self) -> bool {
        self.signals
            .get()
            .and_then(|s| s.io.ready(Direction::Read))
            .is_some_and(|event| event.is_shutdown())
    }

    /// After dispatch: if the signal pipe is readable, drains it, delivers the pending
    /// signals, and prints the task tree for a dump signal. Returns how many tasks woke.
    #[cfg(unix)]
    fn process_signals(&self) -> usize {
        let Some(source) = self.signals.get() else {
            return 0;
        };
        let Some(event) = source.io.ready(Direction::Read) else {
            return 0;
        };
        if event.is_shutdown() {
            return 0;
        }
        let mut wakers = WakeList::new();
        crate::signal::registry::drain_and_broadcast(source.fd.as_fd(), &mut wakers);
        // Only this thread (holding the driver) sets this readiness, so no event for a
        // byte written after the drain is lost: epoll reports it at the next wait.
        source.io.clear_readiness(event, Direction::Read);
        if self.io.mode() == Mode::Oneshot {
            if let Err(e) = self.io.arm(source.fd.as_fd(), source.key, Interest::READ) {
                tracing::error!(error = %e, "arbor: re-arming the signal pipe failed");
            }
        }
        if let Some(dump) = self.dump.get() {
            let now = crate::signal::registry::deliveries(dump.signal);
            if dump.seen.swap(now, Ordering::Relaxed) != now {
                self.print_dump(dump.signal);
            }
        }
        wakers.wake_all()
    }

    /// Prints `task::dump()` of the runtime this driver belongs to, to stderr.
    #[cfg(unix)]
    fn print_dump(&self, signal: i32) {
        use std::io::Write;
        let tree = crate::context::with_handle(|handle| {
            handle
                .filter(|h| std::ptr::eq(Arc::as_ptr(h.driver()), self))
                .map(|_| crate::task::dump())
        });
        let text = match tree {
            Some(tree) if tree.is_empty() => "(no live tasks)\n".to_string(),
            Some(tree) => tree,
            None => "(the thread turning the driver is outside its runtime)\n".to_string(),
        };
        let header = format!(
            "arbor: task dump on {} (pid {}):\n",
            crate::signal::describe(signal),
            std::process::id()
        );
        // One write, so that concurrent output does not interleave inside the tree; a
        // closed stderr is nothing to report.
        let _ = std::io::stderr()
            .lock()
            .write_all(format!("{header}{text}").as_bytes());
    }

    /// The driver's core, if no other thread is turning it.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, Core>> {
        match self.core.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Interrupts the thread waiting in the driver (or its next wait).
    pub(crate) fn unpark(&self) {
        self.io.notify();
    }

    /// Turns the driver: fires due timers, then, if nothing woke and `block` agrees (it
    /// is called last, just before the wait), waits for IO or the next timer, at most
    /// `max_wait`; then dispatches IO and fires timers again. Returns how many timers fired
    /// or IO events arrived.
    pub(crate) fn turn(
        &self,
        core: &mut Core,
        max_wait: Option<Duration>,
        block: impl FnOnce() -> bool,
    ) -> usize {
        let mut woken = self.fire_due(core);
        let mut wait = if woken > 0 {
            Some(Duration::ZERO)
        } else {
            max_wait
        };
        let mut waiting = false;
        if wait != Some(Duration::ZERO) {
            loop {
                let next = self.time.next_expiration(&core.time);
                if let Some(tick) = next {
                    if !self.clock.is_paused() {
                        let until = self.time.tick_instant(tick) - self.clock.now();
                        wait = Some(wait.map_or(until, |w| w.min(until)));
                    }
                }
                if self.time.prepare_wait(next.unwrap_or(u64::MAX)) {
                    break;
                }
                self.time.drain_queue(&mut core.time);
            }
            waiting = true;
            if !block() {
                wait = Some(Duration::ZERO);
            }
        }
        // A non-blocking turn with no socket registered has nothing to ask the poller (a
        // pending notify stays pending: the next wait returns at once, harmlessly).
        if wait == Some(Duration::ZERO) && !waiting && !self.io.has_registrations() {
            return woken + self.fire_due(core);
        }
        let polled = self.io.poll(&mut core.events, wait);
        if waiting {
            self.time.end_wait();
        }
        if let Err(e) = polled {
            tracing::error!(error = %e, "arbor: waiting in the IO poller failed");
        }
        woken += self.io.dispatch(&core.events);
        #[cfg(unix)]
        {
            woken += self.process_signals();
        }
        woken + self.fire_due(core)
    }

    fn fire_due(&self, core: &mut Core) -> usize {
        self.time.drain_queue(&mut core.time);
        // No timer: no need to read the clock.
        if self.time.is_empty(&core.time) {
            return 0;
        }
        let now = self.time.now_tick(self.clock.now());
        self.time.fire(&mut core.time, now)
    }

    /// A busy thread's non-blocking turn, skipped if another thread holds the driver.
    pub(crate) fn maintain(&self) {
        if let Some(mut core) = self.try_lock() {
            self.turn(&mut core, Some(Duration::ZERO), || false);
        }
    }

    /// Fires the timers due by now, if no other thread holds the driver (`advance`).
    pub(crate) fn process_timers(&self) {
        if let Some(mut core) = self.try_lock() {
            self.fire_due(&mut core);
        }
    }

    /// Virtual time: moves the paused clock to the next timer and fires it. `false` if the
    /// clock is not paused or there is no timer.
    pub(crate) fn autojump(&self, core: &mut Core) -> bool {
        if !self.clock.is_paused() {
            return false;
        }
        self.time.drain_queue(&mut core.time);
        let Some(tick) = self.time.next_expiration(&core.time) else {
            return false;
        };
        self.clock.advance_to(self.time.tick_instant(tick));
        self.fire_due(core);
        true
    }

    /// Runtime shutdown: timers stop, IO resources fail; their owners are woken.
    pub(crate) fn shutdown(&self) {
        let mut core = self.lock();
        self.time.shutdown(&mut core.time);
        drop(core);
        self.io.shutdown();
        self.unpark();
    }
}

#[cfg(unix)]
impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(source) = self.signals.take() {
            // Out of the poller before the duplicate is closed (`register`'s contract).
            self.io.deregister(source.fd.as_fd(), source.key);
        }
    }
}
