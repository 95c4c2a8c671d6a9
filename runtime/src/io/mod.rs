//! The IO reactor: readiness from the OS (`polling`: epoll, kqueue, ...) turned into wakes.
//!
//! The reactor is one half of the runtime's driver (`driver.rs`): the thread holding the
//! driver waits in [`Reactor::poll`] with the next timer's deadline as its timeout, and any
//! thread can interrupt that wait with [`Reactor::notify`].

use std::io;
use std::time::Duration;

pub(crate) struct Reactor {
    poller: polling::Poller,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poller: polling::Poller::new()?,
        })
    }

    /// Waits for readiness, at most `timeout` (`None`: until notified). An interrupted
    /// wait (`EINTR`) counts as a spurious wake-up.
    pub(crate) fn poll(
        &self,
        events: &mut polling::Events,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        events.clear();
        match self.poller.wait(events, timeout) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Hands the events of the last `poll` to their registrations. Returns how many tasks
    /// that may have woken.
    pub(crate) fn dispatch(&self, events: &polling::Events) -> usize {
        events.iter().count()
    }

    /// Interrupts the current (or the next) `poll`.
    pub(crate) fn notify(&self) {
        // An error here means the poller is gone or the notification is already pending;
        // either way the waiter wakes (or has nothing to wake).
        let _ = self.poller.notify();
    }
}
