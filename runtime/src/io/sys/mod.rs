//! The OS poller under the reactor: epoll of our own on Linux and Android (`epoll.rs`),
//! the `polling` crate everywhere else (`polling.rs`).
//!
//! ## Why Linux has a backend of its own
//! DESIGN.md chose `polling`, and every other platform still uses it. On Linux it costs
//! five syscalls per wait: `polling` arms a timerfd for the timeout (`timerfd_settime`,
//! then `epoll_ctl` to re-arm it), waits (`epoll_wait`), then reads its notification
//! eventfd and re-arms it (`epoll_ctl`), as its notifier is registered oneshot. The driver
//! waits whenever a worker parks, and turns without waiting every `MAINTENANCE_INTERVAL`
//! ticks of a busy worker and whenever the current-thread scheduler runs dry, and pays
//! them on each of those turns. The epoll backend pays one: `epoll_wait` with its own
//! millisecond timeout, and an eventfd registered edge-triggered once, which waking only
//! writes (see `notify.rs`). rustix, already a dependency, gives a safe API to all of it.
//!
//! ## The API
//! Just what the reactor uses: a [`Poller`] (add with a [`Mode`](crate::io::Mode),
//! modify, delete, wait, notify) and an [`Events`] buffer whose iterator yields one
//! [`Event`] (key, readable, writable) per resource. The notification event is never
//! yielded; its key, [`NOTIFY_KEY`], is one the reactor never hands out.
//!
//! ## Testing both
//! `Poller::new_portable` (tests only) builds the `polling` backend on any platform, so
//! the reactor's tests run on both backends on Linux. (Hence the `cfg`s below: the
//! `polling` backend is compiled on Linux for those tests, not for loom's.)

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod notify;
#[cfg(any(
    not(any(target_os = "linux", target_os = "android")),
    all(test, not(loom))
))]
mod polling;

#[cfg(unix)]
use super::{Interest, Mode};
use std::io;
use std::time::Duration;

/// The key of the notification event; the reactor's keys never take this value.
pub(crate) const NOTIFY_KEY: usize = usize::MAX;

/// Readiness reported for one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    /// The key the resource was added with.
    pub(crate) key: usize,
    /// Readable, or closed, or in error: a read will not block.
    pub(crate) readable: bool,
    /// Writable, or closed, or in error: a write will not block.
    pub(crate) writable: bool,
}

/// The OS poller: one of the backends.
#[derive(Debug)]
pub(crate) struct Poller {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Epoll(epoll::Poller),
    #[cfg(any(
        not(any(target_os = "linux", target_os = "android")),
        all(test, not(loom))
    ))]
    Polling(polling::Poller),
}

/// The events of one wait. Holds a buffer for each backend compiled in; a backend only
/// ever fills its own, so iterating yields exactly the last wait's events.
#[derive(Debug)]
pub(crate) struct Events {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    epoll: epoll::Events,
    #[cfg(any(
        not(any(target_os = "linux", target_os = "android")),
        all(test, not(loom))
    ))]
    polling: polling::Events,
}

impl Poller {
    /// The platform's poller: epoll on Linux and Android, `polling` elsewhere.
    pub(crate) fn new() -> io::Result<Poller> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let backend = Backend::Epoll(epoll::Poller::new()?);
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let backend = Backend::Polling(polling::Poller::new()?);
        Ok(Poller { backend })
    }

    /// The `polling` backend, on any platform (tests of the reactor on both backends).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn new_portable() -> io::Result<Poller> {
        Ok(Poller {
            backend: Backend::Polling(polling::Poller::new()?),
        })
    }

    /// Whether resources can be added edge-triggered ([`Mode::Edge`]).
    pub(crate) fn supports_edge(&self) -> bool {
        match &self.backend {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll(_) => true,
            #[cfg(any(
                not(any(target_os = "linux", target_os = "android")),
                all(test, not(loom))
            ))]
            Backend::Polling(p) => p.supports_edge(),
        }
    }

    /// Adds `fd` under `key` (never [`NOTIFY_KEY`]), for `interest`, in `mode`.
    ///
    /// # Safety
    /// `fd` must be [`delete`](Poller::delete)d before it is closed (`polling`'s contract;
    /// epoll itself needs nothing).
    #[cfg(unix)]
    pub(crate) unsafe fn add(
        &self,
        fd: std::os::fd::BorrowedFd<'_>,
        key: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        debug_assert_ne!(key, NOTIFY_KEY);
        match &self.backend {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll(p) => p.add(fd, key, interest, mode),
            #[cfg(any(
                not(any(target_os = "linux", target_os = "android")),
                all(test, not(loom))
            ))]
            Backend::Polling(p) => {
                // SAFETY: forwarded to our caller.
                unsafe { p.add(fd, key, interest, mode) }
            }
        }
    }

    /// Changes `fd`'s registration: its interest, and in oneshot mode re-arms it.
    #[cfg(unix)]
    pub(crate) fn modify(
        &self,
        fd: std::os::fd::BorrowedFd<'_>,
        key: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        match &self.backend {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll(p) => p.modify(fd, key, interest, mode),
            #[cfg(any(
                not(any(target_os = "linux", target_os = "android")),
                all(test, not(loom))
            ))]
            Backend::Polling(p) => p.modify(fd, key, interest, mode),
        }
    }

    /// Removes `fd`.
    #[cfg(unix)]
    pub(crate) fn delete(&self, fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
        match &self.backend {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll(p) => p.delete(fd),
            #[cfg(any(
                not(any(target_os = "linux", target_os = "android")),
                all(test, not(loom))
            ))]
            Backend::Polling(p) => p.delete(fd),
        }
    }

    /// Replaces `events` with the events of one wait, which lasts at most `timeout`
    /// (rounded up to the backend's resolution; `None`: until notified or an event). An
    /// interrupted wait (`EINTR`) returns no events: a spurious wake-up.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        match &self.backend {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll(p) => p.wait(&mut events.epoll, timeout).map(|_| ()),
            #[cfg(any(
                not(any(target_os = "linux", target_os = "android")),
                all(test, not(loom))
            ))]
            Backend::Polling(p) => p.wait(&mut events.polling, timeout),
        }
    }

    /// Makes the current wait return, or if no thread is waiting, the next one. (A
    /// notification that comes while the waiter is returning from a wait may be merged
    /// into that wake-up: the waiter re-checks its state after every wait.)
    pub(crate) fn notify(&self) -> io::Result<()> {
        match &self.backend {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll(p) => p.notify(),
            #[cfg(any(
                not(any(target_os = "linux", target_os = "android")),
                all(test, not(loom))
            ))]
            Backend::Polling(p) => p.notify(),
        }
    }
}

impl Events {
    pub(crate) fn new() -> Events {
        Events {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            epoll: epoll::Events::new(),
            #[cfg(any(
                not(any(target_os = "linux", target_os = "android")),
                all(test, not(loom))
            ))]
            polling: polling::Events::new(),
        }
    }

    /// Forgets the events of the last wait.
    pub(crate) fn clear(&mut self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        self.epoll.clear();
        #[cfg(any(
            not(any(target_os = "linux", target_os = "android")),
            all(test, not(loom))
        ))]
        self.polling.clear();
    }

    /// The last wait's events, one per resource.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let epoll = self.epoll.iter();
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let epoll = std::iter::empty();
        #[cfg(any(
            not(any(target_os = "linux", target_os = "android")),
            all(test, not(loom))
        ))]
        let polling = self.polling.iter();
        #[cfg(not(any(
            not(any(target_os = "linux", target_os = "android")),
            all(test, not(loom))
        )))]
        let polling = std::iter::empty();
        epoll.chain(polling)
    }
}
