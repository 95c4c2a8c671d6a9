//! Splitting a stream into a read half and a write half, owned (`into_split`, the halves
//! can move into different tasks, `reunite` puts them back together) or borrowed (`split`).
//! Written once, stamped into `net::tcp` and `net::unix` by [`split_types!`].
//!
//! The halves share the stream (an `Arc`, or a shared borrow) and wait in different owner
//! slots of its registration: the read half in the read slot, the write half in the write
//! slot, so a reader and a writer in two tasks never take each other's wake-ups.

macro_rules! split_types {
    ($stream:ident, $addr:ty) => {
        use std::sync::Arc;

        #[doc = concat!("The owned read half of a [`", stringify!($stream), "`], from [`",
            stringify!($stream), "::into_split`]; it can move into another task.")]
        ///
        /// It has the stream's reading methods and implements `futures_io::AsyncRead` (and,
        /// with the `http` feature, `hyper::rt::Read`).
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            inner: Arc<$stream>,
        }

        #[doc = concat!("The owned write half of a [`", stringify!($stream), "`], from [`",
            stringify!($stream), "::into_split`]; it can move into another task.")]
        ///
        /// It has the stream's writing methods and implements `futures_io::AsyncWrite` (and,
        /// with the `http` feature, `hyper::rt::Write`).
        /// Dropping it shuts the write direction down (the peer reads end-of-file), unless
        /// it was [`reunite`](OwnedWriteHalf::reunite)d.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            inner: Arc<$stream>,
            shutdown_on_drop: bool,
        }

        #[doc = concat!("The borrowed read half of a [`", stringify!($stream), "`], from [`",
            stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct ReadHalf<'a> {
            inner: &'a $stream,
        }

        #[doc = concat!("The borrowed write half of a [`", stringify!($stream), "`], from [`",
            stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct WriteHalf<'a> {
            inner: &'a $stream,
        }

        /// Two halves that did not come from the same stream, handed back.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("tried to reunite halves that are not from the same stream")
            }
        }

        impl std::error::Error for ReuniteError {}

        pub(crate) fn split_owned(stream: $stream) -> (OwnedReadHalf, OwnedWriteHalf) {
            let inner = Arc::new(stream);
            let read = OwnedReadHalf {
                inner: inner.clone(),
            };
            let write = OwnedWriteHalf {
                inner,
                shutdown_on_drop: true,
            };
            (read, write)
        }

        pub(crate) fn split_borrowed(stream: &mut $stream) -> (ReadHalf<'_>, WriteHalf<'_>) {
            (ReadHalf { inner: stream }, WriteHalf { inner: stream })
        }

        fn reunite(
            read: OwnedReadHalf,
            mut write: OwnedWriteHalf,
        ) -> Result<$stream, ReuniteError> {
            if !Arc::ptr_eq(&read.inner, &write.inner) {
                return Err(ReuniteError(read, write));
            }
            write.shutdown_on_drop = false;
            drop(write);
            let stream = Arc::try_unwrap(read.inner)
                .expect("the two halves held the only references to the stream");
            Ok(stream)
        }

        impl OwnedReadHalf {
            fn stream(&self) -> &$stream {
                &self.inner
            }

            /// Puts the stream back together; `Err` if `other` is another stream's half.
            pub fn reunite(self, other: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                reunite(self, other)
            }

            /// The address of the peer.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.inner.peer_addr()
            }

            /// The local address.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.inner.local_addr()
            }

            /// Waits until the stream may be readable (readiness can be spurious: a read
            /// may still find nothing).
            pub async fn readable(&self) -> std::io::Result<()> {
                self.inner.readable().await
            }
        }

        impl OwnedWriteHalf {
            fn stream(&self) -> &$stream {
                &self.inner
            }

            /// Puts the stream back together; `Err` if `other` is another stream's half.
            pub fn reunite(self, other: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                reunite(other, self)
            }

            /// The address of the peer.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.inner.peer_addr()
            }

            /// The local address.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.inner.local_addr()
            }

            /// Waits until the stream may be writable.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.inner.writable().await
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    use $crate::net::stream_io::PollStream;
                    // The peer may be gone already; nothing to report to.
                    let _ = self.inner.shutdown_write();
                }
            }
        }

        impl ReadHalf<'_> {
            fn stream(&self) -> &$stream {
                self.inner
            }
        }

        impl WriteHalf<'_> {
            fn stream(&self) -> &$stream {
                self.inner
            }
        }

        impl AsRef<$stream> for OwnedReadHalf {
            fn as_ref(&self) -> &$stream {
                &self.inner
            }
        }

        impl AsRef<$stream> for OwnedWriteHalf {
            fn as_ref(&self) -> &$stream {
                &self.inner
            }
        }

        $crate::net::stream_io::read_methods!([] OwnedReadHalf);
        $crate::net::stream_io::write_methods!([] OwnedWriteHalf);
        #[cfg(feature = "http")]
        $crate::net::hyper_io::hyper_read!(OwnedReadHalf);
        #[cfg(feature = "http")]
        $crate::net::hyper_io::hyper_write!(OwnedWriteHalf);
        $crate::net::stream_io::read_methods!(['a] ReadHalf<'a>);
        $crate::net::stream_io::write_methods!(['a] WriteHalf<'a>);
    };
}

pub(crate) use split_types;
