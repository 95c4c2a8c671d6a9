//! The IO reactor: readiness from the OS (epoll on Linux, `polling`'s kqueue and others
//! elsewhere: see `sys/`) turned into wakes.
//!
//! The reactor is one half of the runtime's driver (`driver.rs`): the thread holding the
//! driver waits in [`Reactor::poll`] with the next timer's deadline as its timeout, then
//! hands the events to [`Reactor::dispatch`]; any thread can interrupt that wait with
//! [`Reactor::notify`].
//!
//! ## The pieces
//! - [`ScheduledIo`] (`scheduled_io.rs`): one resource's readiness word and waiters, and the
//!   readiness protocol between operations and the dispatcher.
//! - [`Registration`] (`registration.rs`): a resource's handle on the reactor: waits for
//!   readiness, deregisters.
//! - [`PollEvented`] (`poll_evented.rs`): a non-blocking std socket plus its registration;
//!   runs syscalls in the "try, and on `WouldBlock` clear readiness and wait" loop. The
//!   `net` types are thin wrappers around it.
//! - `sys/`: the OS poller, behind the few calls the reactor makes (add, modify, delete,
//!   wait, notify); epoll of our own on Linux, the `polling` crate elsewhere.
//!
//! ## Registrations and keys
//! The reactor keeps its resources in a slab (`registrations`), under a mutex that only
//! registration, deregistration, dispatch and shutdown take: never an operation on a ready
//! socket. A resource's key in the poller is its slab index plus a generation (bumped each
//! time the slot is reused), so an event that was already fetched for a resource that is
//! then deregistered, and whose slot is reused, is recognised as stale and dropped.
//! Deregistration removes the resource from the poller first and frees its slot second;
//! both happen before the socket is closed (`PollEvented` owns the socket and does it in
//! its `Drop`), which is what `Poller::add`'s safety contract asks.
//!
//! ## Edge-triggered, or oneshot where the OS has no edges
//! Where the poller supports it (epoll, kqueue), a resource is registered once,
//! edge-triggered, for the directions it uses, and never touched again until it is
//! deregistered: readiness is cached in the resource's readiness word and cleared only when
//! a syscall says `WouldBlock`, so a ready socket costs no poller syscall at all. Elsewhere
//! it is registered oneshot and re-armed for the directions that have waiters (see
//! "Oneshot mode" in `scheduled_io.rs`).
//!
//! ## Dispatch
//! For each event: find the resource (stale keys are skipped), set its readiness, take the
//! wakers of the ready directions. Wakers are collected in a [`WakeList`] and woken after
//! the slab lock is released, since a waker may run scheduler code that registers or drops
//! sockets.
//!
//! ## Shutdown
//! [`Reactor::shutdown`] (from `Driver::shutdown`, after every task was dropped) marks every
//! resource shut down and wakes its waiters; operations on it then fail with an
//! `io::Error`, and new registrations are refused, so IO outliving its runtime never hangs.

#[cfg(unix)]
mod poll_evented;
#[cfg(all(test, unix, not(loom)))]
mod reactor_tests;
#[cfg(unix)]
mod registration;
mod scheduled_io;
mod sys;

#[cfg(unix)]
pub(crate) use poll_evented::PollEvented;
#[cfg(unix)]
pub(crate) use registration::Registration;
pub(crate) use scheduled_io::{
    ReadyEvent, Registered, ScheduledIo, SharedWaiter, Waiter, WakeList, shutdown_error,
};
pub(crate) use sys::Events;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A direction of IO on a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The direction's readiness bit.
    pub(crate) fn bit(self) -> usize {
        match self {
            Direction::Read => scheduled_io::READABLE,
            Direction::Write => scheduled_io::WRITABLE,
        }
    }
}

/// The directions a resource is registered (or armed) for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Interest {
    pub(crate) read: bool,
    pub(crate) write: bool,
}

impl Interest {
    pub(crate) const NONE: Interest = Interest {
        read: false,
        write: false,
    };
    pub(crate) const READ: Interest = Interest {
        read: true,
        write: false,
    };
    pub(crate) const BOTH: Interest = Interest {
        read: true,
        write: true,
    };

    /// Whether every direction of `other` is in `self`.
    pub(crate) fn contains(self, other: Interest) -> bool {
        (self.read || !other.read) && (self.write || !other.write)
    }
}

/// How resources are registered with the poller (see the module header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Registered once, edge-triggered; no re-arming.
    Edge,
    /// Registered oneshot; re-armed for the directions with waiters.
    Oneshot,
}

/// Bits of a poller key that hold the slab index; the generation sits above them.
const INDEX_BITS: u32 = if usize::BITS >= 64 { 32 } else { 22 };
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Generation bits: all above the index except the top bit, so that no key is `usize::MAX`
/// (`sys::NOTIFY_KEY`, reserved for the poller's notifications).
const GENERATION_MASK: usize = (1 << (usize::BITS - INDEX_BITS - 1)) - 1;

pub(crate) struct Reactor {
    poller: sys::Poller,
    mode: Mode,
    /// Every registered resource; see "Registrations and keys".
    registrations: Mutex<Slab>,
    /// How many times `poll` returned: a test hook (an idle runtime must not spin).
    polls: AtomicUsize,
    /// How many resources are registered (changed under the slab lock, read without it):
    /// a busy worker's non-blocking turn skips the poller when there are none.
    live: AtomicUsize,
}

/// The resources, by slab index.
struct Slab {
    slots: Vec<Slot>,
    /// Indices of empty slots.
    free: Vec<usize>,
    /// Set by `shutdown`: registering is refused from then on.
    shutdown: bool,
}

struct Slot {
    /// The generation of the key this slot was last handed out with.
    generation: usize,
    io: Option<Arc<ScheduledIo>>,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        let poller = sys::Poller::new()?;
        let mode = if poller.supports_edge() {
            Mode::Edge
        } else {
            Mode::Oneshot
        };
        Ok(Reactor::with_mode(poller, mode))
    }

    fn with_mode(poller: sys::Poller, mode: Mode) -> Reactor {
        Reactor {
            poller,
            mode,
            registrations: Mutex::new(Slab {
                slots: Vec::new(),
                free: Vec::new(),
                shutdown: false,
            }),
            polls: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
        }
    }

    /// A reactor on the given backend (`portable`: the `polling` one, whatever the
    /// platform) in the given mode, for tests of every combination on platforms that have
    /// them. (Oneshot mode needs no edge support; edge mode does.)
    #[cfg(all(test, not(loom)))]
    pub(crate) fn new_for_test(portable: bool, mode: Mode) -> io::Result<Reactor> {
        let poller = if portable {
            sys::Poller::new_portable()?
        } else {
            sys::Poller::new()?
        };
        assert!(mode == Mode::Oneshot || poller.supports_edge());
        Ok(Reactor::with_mode(poller, mode))
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether any resource is registered. A registration racing this read is seen by the
    /// next poll; nothing is lost, as a new resource starts out assumed ready.
    pub(crate) fn has_registrations(&self) -> bool {
        self.live.load(Ordering::Relaxed) > 0
    }

    /// How many resources are registered (a snapshot).
    pub(crate) fn num_registrations(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    fn slab(&self) -> std::sync::MutexGuard<'_, Slab> {
        // Nothing panics under this lock; a poisoned slab is still consistent.
        self.registrations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for readiness, at most `timeout` (`None`: until notified); `events` holds
    /// what arrived. An interrupted wait (`EINTR`) is a spurious wake-up (no events).
    pub(crate) fn poll(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let result = self.poller.wait(events, timeout);
        self.polls.fetch_add(1, Ordering::Relaxed);
        result
    }

    /// How many times [`poll`](Reactor::poll) returned (test hook).
    pub(crate) fn poll_count(&self) -> usize {
        self.polls.load(Ordering::Relaxed)
    }

    /// Hands the events of the last `poll` to their resources and wakes their waiters.
    /// Returns how many tasks were woken.
    pub(crate) fn dispatch(&self, events: &Events) -> usize {
        let mut wakers = WakeList::new();
        let all = self.mode == Mode::Oneshot;
        {
            let slab = self.slab();
            for event in events.iter() {
                let Some(io) = slab.get(event.key) else {
                    continue; // deregistered meanwhile
                };
                let mut ready = 0;
                if event.readable {
                    ready |= Direction::Read.bit();
                }
                if event.writable {
                    ready |= Direction::Write.bit();
                }
                if ready == 0 && !all {
                    continue;
                }
                io.set_readiness(ready);
                io.take_wakers(ready, all, &mut wakers);
            }
        }
        wakers.wake_all()
    }

    /// Interrupts the current (or the next) `poll`.
    pub(crate) fn notify(&self) {
        // An error here means the poller is gone or the notification is already pending;
        // either way the waiter wakes (or has nothing to wake).
        let _ = self.poller.notify();
    }

    /// Runtime shutdown: refuses new registrations, fails and wakes the existing ones.
    pub(crate) fn shutdown(&self) {
        let mut wakers = WakeList::new();
        {
            let mut slab = self.slab();
            slab.shutdown = true;
            for io in slab.slots.iter().filter_map(|slot| slot.io.as_ref()) {
                io.shutdown(&mut wakers);
            }
        }
        wakers.wake_all();
    }

    /// Adds `source` to the poller for `interest` (edge mode; oneshot mode arms nothing
    /// until somebody waits). Returns its key and its readiness.
    ///
    /// # Safety
    /// `source` must be deregistered with [`deregister`](Reactor::deregister) before it
    /// is closed (`polling`'s contract for `Poller::add`).
    #[cfg(unix)]
    pub(crate) unsafe fn register(
        &self,
        source: std::os::fd::BorrowedFd<'_>,
        interest: Interest,
    ) -> io::Result<(usize, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::new());
        let key = self.slab().insert(io.clone())?;
        self.live.fetch_add(1, Ordering::Relaxed);
        let interest = match self.mode {
            Mode::Edge => interest,
            Mode::Oneshot => Interest::NONE,
        };
        // SAFETY: the caller deregisters `source` before closing it.
        let added = unsafe { self.poller.add(source, key, interest, self.mode) };
        if let Err(e) = added {
            self.slab().remove(key);
            self.live.fetch_sub(1, Ordering::Relaxed);
            return Err(e);
        }
        Ok((key, io))
    }

    /// Oneshot mode: arms `source` for `interest`.
    #[cfg(unix)]
    pub(crate) fn arm(
        &self,
        source: std::os::fd::BorrowedFd<'_>,
        key: usize,
        interest: Interest,
    ) -> io::Result<()> {
        self.poller.modify(source, key, interest, Mode::Oneshot)
    }

    /// Removes `source` from the poller, then frees its key.
    #[cfg(unix)]
    pub(crate) fn deregister(&self, source: std::os::fd::BorrowedFd<'_>, key: usize) {
        if let Err(e) = self.poller.delete(source) {
            // The poller outlives every registration (they hold the driver), so this only
            // happens if the OS refuses; the key is freed anyway (the slot's generation
            // makes later events for it stale).
            tracing::warn!(error = %e, "arbor: removing a socket from the poller failed");
        }
        self.slab().remove(key);
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Slab {
    fn get(&self, key: usize) -> Option<&Arc<ScheduledIo>> {
        let slot = self.slots.get(key & INDEX_MASK)?;
        if slot.generation != (key >> INDEX_BITS) {
            return None;
        }
        slot.io.as_ref()
    }

    fn insert(&mut self, io: Arc<ScheduledIo>) -> io::Result<usize> {
        if self.shutdown {
            return Err(shutdown_error());
        }
        let index = match self.free.pop() {
            Some(index) => index,
            None if self.slots.len() <= INDEX_MASK => {
                self.slots.push(Slot {
                    generation: 0,
                    io: None,
                });
                self.slots.len() - 1
            }
            None => {
                return Err(io::Error::other(
                    "arbor: too many sockets registered with one runtime",
                ));
            }
        };
        let slot = &mut self.slots[index];
        slot.generation = (slot.generation + 1) & GENERATION_MASK;
        slot.io = Some(io);
        Ok(index | (slot.generation << INDEX_BITS))
    }

    fn remove(&mut self, key: usize) {
        let index = key & INDEX_MASK;
        if let Some(slot) = self.slots.get_mut(index) {
            if slot.generation == key >> INDEX_BITS && slot.io.take().is_some() {
                self.free.push(index);
            }
        }
    }
}

/// The error for IO constructors called outside a runtime.
pub(crate) fn no_runtime(what: &str) -> io::Error {
    io::Error::other(format!(
        "{what} called outside of an arbor runtime: call it from inside `arbor::run(...)`, a \
         `#[arbor::main]` or `#[arbor::test]` function, or `Runtime::block_on`, or enter a \
         runtime with `Runtime::enter`"
    ))
}

/// The current runtime's driver, or the "no runtime" error naming `what`.
pub(crate) fn current_driver(what: &str) -> io::Result<std::sync::Arc<crate::driver::Driver>> {
    crate::context::with_handle(|h| h.map(|h| h.driver().clone())).ok_or_else(|| no_runtime(what))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_a_generation_and_stale_keys_miss() {
        let mut slab = Slab {
            slots: Vec::new(),
            free: Vec::new(),
            shutdown: false,
        };
        let first = slab.insert(Arc::new(ScheduledIo::new())).unwrap();
        assert!(slab.get(first).is_some());
        slab.remove(first);
        assert!(slab.get(first).is_none());
        let second = slab.insert(Arc::new(ScheduledIo::new())).unwrap();
        assert_eq!(
            first & INDEX_MASK,
            second & INDEX_MASK,
            "the slot is reused"
        );
        assert_ne!(first, second);
        assert!(
            slab.get(first).is_none(),
            "a stale key misses the new resource"
        );
        assert!(slab.get(second).is_some());
        slab.remove(first); // removing with a stale key is a no-op
        assert!(slab.get(second).is_some());
        slab.shutdown = true;
        assert!(slab.insert(Arc::new(ScheduledIo::new())).is_err());
    }

    #[test]
    fn no_key_is_the_notification_key() {
        let key = INDEX_MASK | (GENERATION_MASK << INDEX_BITS);
        assert_ne!(key, usize::MAX);
    }
}
