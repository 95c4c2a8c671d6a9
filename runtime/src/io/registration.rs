//! A resource's handle on the reactor: waits for readiness, re-arms (oneshot mode),
//! deregisters. [`PollEvented`](super::PollEvented) owns one per socket.

use super::{Direction, Interest, Mode, ReadyEvent, Registered, ScheduledIo, SharedWaiter};
use super::{Waiter, shutdown_error};
use crate::driver::Driver;
use std::io;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::task::{Context, Poll};

pub(crate) struct Registration {
    /// Keeps the reactor (and its poller) alive for as long as the resource is registered.
    driver: Arc<Driver>,
    /// The resource's readiness and waiters, shared with the reactor's slab.
    io: Arc<ScheduledIo>,
    /// The resource's key in the poller (slab index and generation).
    key: usize,
}

impl Registration {
    /// Registers `source` with `driver`'s reactor for `interest`.
    ///
    /// # Safety
    /// `source` must be [`deregister`](Registration::deregister)ed before it is closed.
    pub(crate) unsafe fn new(
        driver: Arc<Driver>,
        source: BorrowedFd<'_>,
        interest: Interest,
    ) -> io::Result<Registration> {
        // SAFETY: forwarded to our caller.
        let (key, io) = unsafe { driver.io.register(source, interest)? };
        Ok(Registration { driver, io, key })
    }

    /// The driver whose reactor this resource is registered with.
    pub(crate) fn driver(&self) -> &Arc<Driver> {
        &self.driver
    }

    /// The direction's readiness, if it is ready (or shut down), without waiting.
    pub(crate) fn ready(&self, direction: Direction) -> Option<ReadyEvent> {
        self.io.ready(direction)
    }

    /// Waits until `direction` is ready; `source` is the registered socket (oneshot mode
    /// re-arms it). Fails once the runtime has shut down.
    pub(crate) fn poll_ready(
        &self,
        cx: &Context<'_>,
        direction: Direction,
        waiter: Waiter<'_>,
        source: BorrowedFd<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(event) = self.io.ready(direction) {
            return Poll::Ready(check_shutdown(event));
        }
        let arm = |interest: Interest| self.driver.io.arm(source, self.key, interest);
        let arm: Option<&dyn Fn(Interest) -> io::Result<()>> = match self.driver.io.mode() {
            Mode::Edge => None,
            Mode::Oneshot => Some(&arm),
        };
        match self.io.register(cx, direction, waiter, arm)? {
            Registered::Ready(event) => Poll::Ready(check_shutdown(event)),
            Registered::Waiting => Poll::Pending,
        }
    }

    /// A syscall saw `WouldBlock` after `event`: see `ScheduledIo::clear_readiness`.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent, direction: Direction) {
        self.io.clear_readiness(event, direction);
    }

    /// Forgets a shared waiter whose operation finished or was dropped.
    pub(crate) fn remove_waiter(&self, waiter: &mut SharedWaiter) {
        self.io.remove_waiter(waiter);
    }

    /// Removes `source` from the poller and frees the key. Called once, before `source`
    /// is closed.
    pub(crate) fn deregister(&self, source: BorrowedFd<'_>) {
        self.driver.io.deregister(source, self.key);
    }
}

/// `event`, or the shutdown error if the runtime shut down.
fn check_shutdown(event: ReadyEvent) -> io::Result<ReadyEvent> {
    if event.is_shutdown() {
        Err(shutdown_error())
    } else {
        Ok(event)
    }
}
