//! [`PollEvented`]: a non-blocking socket and its registration, and the loop every
//! operation runs: wait for readiness, try the syscall, and on `WouldBlock` clear the
//! readiness and wait again.

use super::{Direction, Interest, Registration, SharedWaiter, Waiter, shutdown_error};
use crate::coop;
use crate::driver::Driver;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A socket registered with the current runtime's reactor. The socket is in non-blocking
/// mode; it is removed from the poller before it is closed (in `Drop`), which is what
/// makes the registration sound.
pub(crate) struct PollEvented<S: AsFd> {
    /// `Some` until [`into_inner`](PollEvented::into_inner) or drop takes it out.
    io: Option<S>,
    registration: Registration,
}

/// Removes a shared waiter when the operation that owns it ends or is dropped.
struct WaiterGuard<'a> {
    registration: &'a Registration,
    waiter: SharedWaiter,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        self.registration.remove_waiter(&mut self.waiter);
    }
}

impl<S: AsFd> PollEvented<S> {
    /// Registers `io`, which must already be non-blocking, with `driver`'s reactor.
    pub(crate) fn new(driver: Arc<Driver>, io: S, interest: Interest) -> io::Result<Self> {
        // SAFETY: `io` is deregistered before it is closed: `Drop` and `into_inner` both
        // deregister it first, and nothing else takes it out of `self.io`.
        let registration = unsafe { Registration::new(driver, io.as_fd(), interest)? };
        Ok(PollEvented {
            io: Some(io),
            registration,
        })
    }

    /// The socket.
    pub(crate) fn get_ref(&self) -> &S {
        self.io
            .as_ref()
            .expect("PollEvented's socket is present until it is dropped")
    }

    /// The driver the socket is registered with (accepted sockets join it too).
    pub(crate) fn driver(&self) -> &Arc<Driver> {
        self.registration.driver()
    }

    /// Runs `f` until it does not return `WouldBlock`, waiting for `direction` between
    /// attempts. An interrupted syscall (`EINTR`) is retried. Spends one unit of the task's
    /// cooperative budget per completed operation.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        waiter: Waiter<'_>,
        mut f: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_draining(cx, direction, waiter, |io| f(io).map(|r| (r, false)))
    }

    /// [`poll_io`](PollEvented::poll_io) for an operation that can tell when it drained
    /// `direction` (a read that left nothing queued): `f` returns that with its result, and
    /// a drained direction's readiness is cleared at once, so the next operation waits for
    /// the next event instead of paying a syscall to learn `WouldBlock`. Sound only if the
    /// next data's arrival raises a new event (edge-triggered readiness: it does).
    pub(crate) fn poll_io_draining<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut waiter: Waiter<'_>,
        mut f: impl FnMut(&S) -> io::Result<(R, bool)>,
    ) -> Poll<io::Result<R>> {
        let coop = std::task::ready!(coop::poll_proceed(cx));
        let io = self.get_ref();
        loop {
            let event =
                match self
                    .registration
                    .poll_ready(cx, direction, waiter.reborrow(), io.as_fd())
                {
                    Poll::Ready(Ok(event)) => event,
                    Poll::Ready(Err(e)) => {
                        coop.made_progress();
                        return Poll::Ready(Err(e));
                    }
                    Poll::Pending => return Poll::Pending,
                };
            match f(io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_readiness(event, direction);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok((result, drained)) => {
                    if drained {
                        self.registration.clear_readiness(event, direction);
                    }
                    coop.made_progress();
                    return Poll::Ready(Ok(result));
                }
                Err(e) => {
                    coop.made_progress();
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    /// [`poll_io`](PollEvented::poll_io) as a future for operations on `&self`, which any
    /// number of tasks may run at once (each waits as a shared waiter).
    pub(crate) async fn async_io<R>(
        &self,
        direction: Direction,
        mut f: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut guard = WaiterGuard {
            registration: &self.registration,
            waiter: SharedWaiter::new(),
        };
        poll_fn(|cx| self.poll_io(cx, direction, Waiter::Shared(&mut guard.waiter), &mut f)).await
    }

    /// Waits until `direction` is ready (or may be: readiness can be spurious).
    pub(crate) async fn ready(&self, direction: Direction) -> io::Result<()> {
        let mut guard = WaiterGuard {
            registration: &self.registration,
            waiter: SharedWaiter::new(),
        };
        let source = self.get_ref().as_fd();
        poll_fn(|cx| {
            let waiter = Waiter::Shared(&mut guard.waiter);
            self.registration
                .poll_ready(cx, direction, waiter, source)
                .map_ok(|_| ())
        })
        .await
    }

    /// Runs `f` once if `direction` is ready, without waiting; `WouldBlock` if it is not
    /// (and clears the readiness if `f` says `WouldBlock`).
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        f: impl FnOnce(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let Some(event) = self.registration.ready(direction) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if event.is_shutdown() {
            return Err(shutdown_error());
        }
        let result = f(self.get_ref());
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.registration.clear_readiness(event, direction);
        }
        result
    }

    /// Deregisters the socket and hands it back (still non-blocking).
    pub(crate) fn into_inner(mut self) -> S {
        let io = self.io.take().expect("PollEvented's socket is present");
        self.registration.deregister(io.as_fd());
        io
    }
}

impl<S: AsFd> Drop for PollEvented<S> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            self.registration.deregister(io.as_fd());
            drop(io); // closed only now, after the poller forgot it
        }
    }
}

impl<S: AsFd + fmt::Debug> fmt::Debug for PollEvented<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.io {
            Some(io) => io.fmt(f),
            None => f.write_str("PollEvented(closed)"),
        }
    }
}
