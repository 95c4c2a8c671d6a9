//! hyper's IO traits, `hyper::rt::{Read, Write}`, on the streams and their owned halves
//! (feature `http`): hyper drives arbor's sockets directly, with no adapter type.
//!
//! Written once over [`PollStream`](super::stream_io::PollStream), as `stream_io`'s
//! methods are, and stamped onto [`TcpStream`](super::TcpStream),
//! [`UnixStream`](super::UnixStream) and the owned halves by [`hyper_read!`] and
//! [`hyper_write!`].
//!
//! Reads go straight into the unfilled part of hyper's buffer, uninitialised memory, with
//! no zeroing first (a hyper server spends a visible share of its time zeroing buffers
//! otherwise): the stream's one read path takes `&mut [MaybeUninit<u8>]`, through the
//! reactor, with TCP's `TCP_INQ` draining as for every other read.
//!
//! Writes are the streams' own: `poll_write` and `poll_write_vectored` (`writev`, which
//! hyper uses to send a head and a body in one syscall), `poll_flush` has nothing to flush,
//! and `poll_shutdown` shuts the write direction down.

/// `hyper::rt::Read` for a type with a method `fn stream(&self) -> &impl PollStream`.
macro_rules! hyper_read {
    ($ty:ty) => {
        impl hyper::rt::Read for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                mut buf: hyper::rt::ReadBufCursor<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                use $crate::net::stream_io::PollStream;
                // SAFETY: the read writes into `unfilled` only bytes the kernel received,
                // never uninitialised ones (`PollStream`'s contract), so it de-initialises
                // nothing hyper had initialised.
                let unfilled = unsafe { buf.as_mut() };
                let n = std::task::ready!(self.stream().poll_read_priv(cx, unfilled))?;
                // SAFETY: by `PollStream`'s contract the read initialised the first `n`
                // bytes of the unfilled part (`n` is at most its length).
                unsafe { buf.advance(n) };
                std::task::Poll::Ready(Ok(()))
            }
        }
    };
}

/// `hyper::rt::Write` for a type with a method `fn stream(&self) -> &impl PollStream`.
macro_rules! hyper_write {
    ($ty:ty) => {
        impl hyper::rt::Write for $ty {
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

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // A socket has no user-space buffer.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                use $crate::net::stream_io::PollStream;
                std::task::Poll::Ready(self.stream().shutdown_write())
            }
        }
    };
}

pub(crate) use {hyper_read, hyper_write};
