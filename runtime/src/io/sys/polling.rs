//! The portable backend: the `polling` crate (kqueue, event ports, IOCP, poll, and epoll).
//! What every platform without its own backend uses; on Linux, only the reactor's tests
//! (so that it stays tested there).

use super::Event;
#[cfg(unix)]
use crate::io::{Interest, Mode};
use std::io;
use std::time::Duration;

/// A `polling::Poller`.
#[derive(Debug)]
pub(crate) struct Poller {
    poller: ::polling::Poller,
}

/// A `polling::Events`.
#[derive(Debug)]
pub(crate) struct Events {
    events: ::polling::Events,
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        Ok(Poller {
            poller: ::polling::Poller::new()?,
        })
    }

    pub(crate) fn supports_edge(&self) -> bool {
        self.poller.supports_edge()
    }

    /// Adds `fd` under `key`, for `interest`, in `mode`.
    ///
    /// # Safety
    /// `fd` must be deleted before it is closed (`polling`'s contract).
    #[cfg(unix)]
    pub(crate) unsafe fn add(
        &self,
        fd: std::os::fd::BorrowedFd<'_>,
        key: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        // SAFETY: forwarded to our caller.
        unsafe {
            self.poller
                .add_with_mode(&fd, event(key, interest), poll_mode(mode))
        }
    }

    /// Changes `fd`'s registration (oneshot mode: re-arms it).
    #[cfg(unix)]
    pub(crate) fn modify(
        &self,
        fd: std::os::fd::BorrowedFd<'_>,
        key: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        self.poller
            .modify_with_mode(fd, event(key, interest), poll_mode(mode))
    }

    /// Removes `fd`.
    #[cfg(unix)]
    pub(crate) fn delete(&self, fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
        self.poller.delete(fd)
    }

    /// Waits for events, at most `timeout` (`None`: until notified). `polling` retries
    /// an interrupted wait itself.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.events.clear();
        self.poller.wait(&mut events.events, timeout).map(|_| ())
    }

    /// Makes the current wait return, or if none is in progress, the next one.
    pub(crate) fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }
}

impl Events {
    pub(crate) fn new() -> Events {
        Events {
            events: ::polling::Events::new(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.events.clear();
    }

    /// The resources' events (`polling` leaves its notifications out).
    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.events.iter().map(|e| Event {
            key: e.key,
            readable: e.readable,
            writable: e.writable,
        })
    }
}

#[cfg(unix)]
fn event(key: usize, interest: Interest) -> ::polling::Event {
    ::polling::Event::new(key, interest.read, interest.write)
}

#[cfg(unix)]
fn poll_mode(mode: Mode) -> ::polling::PollMode {
    match mode {
        Mode::Edge => ::polling::PollMode::Edge,
        Mode::Oneshot => ::polling::PollMode::Oneshot,
    }
}
