//! The methods every byte stream shares (TCP and Unix streams and their split halves):
//! inherent `read`, `read_exact`, `peek`-free reading, `write`, `write_all`, `flush`,
//! `shutdown`, and the `futures_io::{AsyncRead, AsyncWrite}` impls, written once over
//! [`PollStream`] and stamped onto each type by [`read_methods!`] and [`write_methods!`]
//! (and, with the `http` feature, hyper's IO traits, by `hyper_io`'s macros).
//!
//! # One read path, into uninitialised memory
//!
//! Every read, whatever its caller, is one [`PollStream::poll_read_priv`] into a
//! `&mut [MaybeUninit<u8>]`: hyper hands out uninitialised buffers and reads straight into
//! them, with no zeroing; `&mut [u8]` callers go through [`poll_read`], which views their
//! initialised buffer as uninitialised. That is sound because a read writes only the bytes
//! the kernel received, never uninitialised ones ([`PollStream`]'s contract).
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
use std::mem::MaybeUninit;
use std::task::{Context, Poll};

/// What a stream type provides to the shared methods. Reads and writes wait in the
/// direction's *owner* slot: callers guarantee one reader and one writer at a time, which
/// `&mut self` receivers and the split halves do.
///
/// # Safety
/// [`poll_read_priv`](PollStream::poll_read_priv) writes into its buffer only bytes it
/// initialises (what the kernel received), never uninitialised ones, and when it returns
/// `Ready(Ok(n))`, `n <= buf.len()` and the first `n` bytes of `buf` are initialised.
/// [`poll_read`] and hyper's `Read` impls rely on both.
pub(crate) unsafe trait PollStream {
    /// One read. Every reading method (inherent, `AsyncRead`, hyper's `Read`, the split
    /// halves) comes here, so this is where an empty `buf` returns `Ok(0)` at once (see
    /// "Empty reads" above).
    fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
    /// Shuts the write direction down (the peer reads end-of-file).
    fn shutdown_write(&self) -> io::Result<()>;
}

/// One read into an initialised buffer (the inherent methods and `AsyncRead`).
pub(crate) fn poll_read<S: PollStream + ?Sized>(
    s: &S,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    // SAFETY: `MaybeUninit<u8>` has `u8`'s size and alignment, and the view lives only for
    // this call. The read writes nothing uninitialised into it (`PollStream`'s contract), so
    // every byte of `buf` is still initialised when the borrow ends.
    let uninit = unsafe { &mut *(std::ptr::from_mut(buf) as *mut [MaybeUninit<u8>]) };
    s.poll_read_priv(cx, uninit)
}

/// One `recv` into uninitialised memory: the plain read of both stream types (TCP's when
/// `TCP_INQ` is off). rustix's `recv` takes `MaybeUninit` buffers safely and reports how
/// many bytes it initialised.
pub(crate) fn recv_uninit(
    fd: std::os::fd::BorrowedFd<'_>,
    buf: &mut [MaybeUninit<u8>],
) -> io::Result<usize> {
    let ((init, _rest), _len) = rustix::net::recv(fd, buf, rustix::net::RecvFlags::empty())?;
    Ok(init.len())
}

pub(crate) async fn read<S: PollStream + ?Sized>(s: &S, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| poll_read(s, cx, buf)).await
}

pub(crate) async fn read_exact<S: PollStream + ?Sized>(
    s: &S,
    mut buf: &mut [u8],
) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| poll_read(s, cx, buf)).await?;
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
                $crate::net::stream_io::poll_read(self.stream(), cx, buf)
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
/// `&$std` implements `Write` and `AsFd`. Reads are one `recv` into uninitialised memory
/// ([`recv_uninit`]); with `read: $read`, they call `$read(&self, cx, buf)` instead (TCP's
/// `TCP_INQ` reads), which must keep [`PollStream`]'s contract.
macro_rules! poll_stream_impl {
    ($ty:ty) => {
        $crate::net::stream_io::poll_stream_impl!($ty, read: |this: &$ty,
                                                             cx: &mut std::task::Context<'_>,
                                                             buf: &mut [std::mem::MaybeUninit<u8>]| {
            use std::os::fd::AsFd;
            let waiter = $crate::io::Waiter::Owner;
            let read = $crate::io::Direction::Read;
            this.io.poll_io(cx, read, waiter, |s| {
                $crate::net::stream_io::recv_uninit(s.as_fd(), buf)
            })
        });
    };
    ($ty:ty, read: $read:expr) => {
        // SAFETY: reads are `$read`, which writes only received bytes into `buf` and reports
        // how many it initialised: `recv_uninit` (rustix's `recv`, which counts the bytes
        // the kernel wrote) or TCP's `inq::read` (`recvmsg` into `buf`, returning its count).
        unsafe impl $crate::net::stream_io::PollStream for $ty {
            fn poll_read_priv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [std::mem::MaybeUninit<u8>],
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
