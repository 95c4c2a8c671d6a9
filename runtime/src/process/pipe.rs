//! A child's piped stdio as arbor streams: non-blocking pipes registered with the reactor.

use crate::io::{Direction, Interest, PollEvented, Waiter};
use std::fmt;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Makes `fd` non-blocking and registers it with `driver` for `interest`.
fn register(
    driver: Arc<crate::driver::Driver>,
    fd: OwnedFd,
    interest: Interest,
) -> io::Result<PollEvented<OwnedFd>> {
    rustix::io::ioctl_fionbio(&fd, true)?;
    PollEvented::new(driver, fd, interest)
}

/// The read end of a child's stdout or stderr.
struct ReadPipe {
    io: PollEvented<OwnedFd>,
}

// SAFETY: `poll_read_priv` reads with rustix's `read` into the `MaybeUninit` buffer, which
// writes only the bytes the kernel returned and reports how many it initialised; the count
// returned is that, at most `buf.len()`.
unsafe impl crate::net::stream_io::PollStream for ReadPipe {
    fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.io.poll_io(cx, Direction::Read, Waiter::Owner, |fd| {
            let (init, _) = rustix::io::read(fd, &mut *buf)?;
            Ok(init.len())
        })
    }

    fn poll_write_priv(&self, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        unreachable!("a read pipe has no writing methods")
    }

    fn poll_write_vectored_priv(
        &self,
        _: &mut Context<'_>,
        _: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        unreachable!("a read pipe has no writing methods")
    }

    fn shutdown_write(&self) -> io::Result<()> {
        unreachable!("a read pipe has no writing methods")
    }
}

macro_rules! read_pipe {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        pub struct $name {
            pipe: ReadPipe,
        }

        impl $name {
            pub(crate) fn new(driver: Arc<crate::driver::Driver>, std: $std) -> io::Result<$name> {
                let io = register(driver, OwnedFd::from(std), Interest::READ)?;
                Ok($name { pipe: ReadPipe { io } })
            }

            fn stream(&self) -> &ReadPipe {
                &self.pipe
            }

            /// Reads to the end of the pipe (the child closed it or exited), appending to
            /// `out`; returns the bytes read.
            ///
            /// # Errors
            /// A read error.
            pub async fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
                read_to_end(&self.pipe, out).await
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(self.pipe.io.get_ref()).finish()
            }
        }

        crate::net::stream_io::read_methods!([] $name);
    };
}

read_pipe!(
    /// The read end of a child's stdout (`Stdio::piped()`): inherent async `read`,
    /// `read_exact`, `read_to_end`, and `futures_io::AsyncRead`.
    ChildStdout,
    std::process::ChildStdout
);

read_pipe!(
    /// The read end of a child's stderr (`Stdio::piped()`): inherent async `read`,
    /// `read_exact`, `read_to_end`, and `futures_io::AsyncRead`.
    ChildStderr,
    std::process::ChildStderr
);

/// Reads `pipe` to its end into `out`.
async fn read_to_end(pipe: &ReadPipe, out: &mut Vec<u8>) -> io::Result<usize> {
    let start = out.len();
    loop {
        out.reserve(8192);
        let spare = out.spare_capacity_mut();
        let n = std::future::poll_fn(|cx| {
            use crate::net::stream_io::PollStream;
            pipe.poll_read_priv(cx, spare)
        })
        .await?;
        if n == 0 {
            return Ok(out.len() - start);
        }
        // SAFETY: the read initialised the first `n` spare bytes (`PollStream`'s contract).
        unsafe { out.set_len(out.len() + n) };
    }
}

/// The write end of a child's stdin (`Stdio::piped()`): inherent async `write`,
/// `write_all`, `flush`, `shutdown`, and `futures_io::AsyncWrite`. Dropping it (or
/// `shutdown`, or `AsyncWrite::poll_close`) closes the pipe: the child reads end-of-file.
pub struct ChildStdin {
    /// `None` once closed.
    io: Option<PollEvented<OwnedFd>>,
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.io {
            Some(io) => f.debug_tuple("ChildStdin").field(io.get_ref()).finish(),
            None => f.write_str("ChildStdin(closed)"),
        }
    }
}

impl ChildStdin {
    pub(crate) fn new(
        driver: Arc<crate::driver::Driver>,
        std: std::process::ChildStdin,
    ) -> io::Result<ChildStdin> {
        let io = register(
            driver,
            OwnedFd::from(std),
            Interest {
                read: false,
                write: true,
            },
        )?;
        Ok(ChildStdin { io: Some(io) })
    }

    fn closed() -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was closed")
    }

    fn poll_write_inner(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let Some(io) = &self.io else {
            return Poll::Ready(Err(ChildStdin::closed()));
        };
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        io.poll_io(cx, Direction::Write, Waiter::Owner, |fd| {
            Ok(rustix::io::write(fd.as_fd(), buf)?)
        })
    }

    /// Writes some of `buf`, waiting until the pipe accepts at least one byte; returns how
    /// many were written. Cancel-safe: dropped before it completes, nothing was written.
    ///
    /// # Errors
    /// `BrokenPipe` once the child closed its end (or exited), or after `shutdown`.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_write_inner(cx, buf)).await
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    /// As [`write`](ChildStdin::write); `WriteZero` if the pipe takes nothing.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Does nothing: a pipe has no user-space buffer.
    pub async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the pipe: the child reads end-of-file.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.io = None;
        Ok(())
    }
}

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_inner(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().io = None;
        Poll::Ready(Ok(()))
    }
}
