//! The methods every byte stream shares (TCP and Unix streams and their split halves):
//! inherent `read`, `read_exact`, `peek`-free reading, `write`, `write_all`, `flush`,
//! `shutdown`, and the `futures_io::{AsyncRead, AsyncWrite}` impls, written once over
//! [`PollStream`] and stamped onto each type by [`read_methods!`] and [`write_methods!`].
//!
//! # Empty reads
//!
//! A read into an empty buffer returns `Ok(0)` at once, without a syscall, as `Read`'s
//! contract says. The OS would not: a zero-byte `recv` on a stream socket with
//! nothing queued is `EAGAIN` (Linux waits for `SO_RCVLOWAT`, at least one byte, even for a
//! zero-length read), so the read would wait for data it cannot take. Datagram sockets
//! (`UdpSocket`, `UnixDatagram`) keep the OS's and std's meaning instead: a zero-byte
//! receive waits for a datagram and consumes it.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::task::{Context, Poll};

/// What a stream type provides to the shared methods. Reads and writes wait in the
/// direction's *owner* slot: callers guarantee one reader and one writer at a time, which
/// `&mut self` receivers and the split halves do.
pub(crate) trait PollStream {
    /// One read. Every reading method (inherent, `AsyncRead`, the split halves) comes here,
    /// so this is where an empty `buf` returns `Ok(0)` at once (see "Empty reads" above).
    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
    /// Shuts the write direction down (the peer reads end-of-file).
    fn shutdown_write(&self) -> io::Result<()>;
}

pub(crate) async fn read<S: PollStream + ?Sized>(s: &S, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| s.poll_read_priv(cx, buf)).await
}

pub(crate) async fn read_exact<S: PollStream + ?Sized>(
    s: &S,
    mut buf: &mut [u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| s.poll_read_priv(cx, buf)).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the stream ended before the buffer was filled",
            ));
        }
        buf = &mut std::mem::take(&mut buf)[n..];
    }
    Ok(())
}

pub(crate) async fn write<S: PollStream + ?Sized>(s: &S, buf: &[u8]) -> io::Result<usize> {
    poll_fn(|cx| s.poll_write_priv(cx, buf)).await
}

pub(crate) async fn write_all<S: PollStream + ?Sized>(s: &S, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| s.poll_write_priv(cx, buf)).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the stream accepted no more bytes",
            ));
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// The inherent reading methods and `AsyncRead`, for a type with a method
/// `fn stream(&self) -> &impl PollStream`.
macro_rules! read_methods {
    ([$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> $ty {
            /// Reads into `buf`, waiting until at least one byte is available; returns how
            /// many bytes were read, `0` at end-of-file. An empty `buf` returns `Ok(0)` at
            /// once, without waiting.
            ///
            /// Cancel-safe: if the future is dropped before it completes, no data was read.
            pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                $crate::net::stream_io::read(self.stream(), buf).await
            }

            /// Reads exactly `buf.len()` bytes; fails with `UnexpectedEof` if the stream
            /// ends first. An empty `buf` returns `Ok(())` at once.
            ///
            /// Not cancel-safe: if the future is dropped midway, the bytes read so far are
            /// in `buf` but their count is lost.
            pub async fn read_exact(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
                $crate::net::stream_io::read_exact(self.stream(), buf).await
            }
        }

        impl<$($generics)*> futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use $crate::net::stream_io::PollStream;
                self.stream().poll_read_priv(cx, buf)
            }
        }
    };
}

/// The inherent writing methods and `AsyncWrite`, for a type with a method
/// `fn stream(&self) -> &impl PollStream`.
macro_rules! write_methods {
    ([$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> $ty {
            /// Writes some of `buf`, waiting until the socket accepts at least one byte;
            /// returns how many bytes were written.
            ///
            /// Cancel-safe: if the future is dropped before it completes, nothing was
            /// written.
            pub async fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                $crate::net::stream_io::write(self.stream(), buf).await
            }

            /// Writes all of `buf`.
            ///
            /// Not cancel-safe: if the future is dropped midway, an unknown prefix of `buf`
            /// was written.
            pub async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
                $crate::net::stream_io::write_all(self.stream(), buf).await
            }

            /// Does nothing: a socket has no user-space buffer. Present so that code
            /// written against buffered writers ports as is.
            pub async fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }

            /// Shuts the write direction down: the peer reads end-of-file once it has read
            /// what was sent. Reading from this side continues to work.
            pub async fn shutdown(&mut self) -> std::io::Result<()> {
                use $crate::net::stream_io::PollStream;
                self.stream().shutdown_write()
            }
        }

        impl<$($generics)*> futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use $crate::net::stream_io::PollStream;
                self.stream().poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use $crate::net::stream_io::PollStream;
                self.stream().poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                use $crate::net::stream_io::PollStream;
                std::task::Poll::Ready(self.stream().shutdown_write())
            }
        }
    };
}

/// [`PollStream`] for a stream type wrapping `PollEvented<$std>` in a field `io`, whose
/// `&$std` implements `Read` and `Write`. With `read: $read`, reads call
/// `$read(&self, cx, buf)` instead of `Read::read` (TCP's `TCP_INQ` reads).
macro_rules! poll_stream_impl {
    ($ty:ty) => {
        $crate::net::stream_io::poll_stream_impl!($ty, read: |this: &$ty,
                                                             cx: &mut std::task::Context<'_>,
                                                             buf: &mut [u8]| {
            use std::io::Read;
            let waiter = $crate::io::Waiter::Owner;
            let read = $crate::io::Direction::Read;
            this.io.poll_io(cx, read, waiter, |mut s| s.read(buf))
        });
    };
    ($ty:ty, read: $read:expr) => {
        impl $crate::net::stream_io::PollStream for $ty {
            fn poll_read_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                if buf.is_empty() {
                    // Empty reads (module docs): the OS would wait for data.
                    return std::task::Poll::Ready(Ok(0));
                }
                ($read)(self, cx, buf)
            }

            fn poll_write_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use std::io::Write;
                let waiter = $crate::io::Waiter::Owner;
                let write = $crate::io::Direction::Write;
                self.io.poll_io(cx, write, waiter, |mut s| s.write(buf))
            }

            fn poll_write_vectored_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use std::io::Write;
                let waiter = $crate::io::Waiter::Owner;
                let write = $crate::io::Direction::Write;
                self.io
                    .poll_io(cx, write, waiter, |mut s| s.write_vectored(bufs))
            }

            fn shutdown_write(&self) -> std::io::Result<()> {
                self.io.get_ref().shutdown(std::net::Shutdown::Write)
            }
        }
    };
}

pub(crate) use {poll_stream_impl, read_methods, write_methods};
