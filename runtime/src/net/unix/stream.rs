//! [`UnixStream`].

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SocketAddr, WriteHalf};
use crate::driver::Driver;
use crate::io::{Direction, Interest, PollEvented, Waiter, current_driver};
use crate::net::socket;
use crate::net::stream_io::{poll_stream_impl, read_methods, write_methods};
use rustix::net::{AddressFamily, SocketAddrUnix, SocketType};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::sync::Arc;

/// A Unix domain stream socket (asyncio's `open_unix_connection`).
///
/// The same methods as [`TcpStream`](crate::net::TcpStream): inherent async reads and
/// writes, `futures_io::{AsyncRead, AsyncWrite}`, and [`into_split`](UnixStream::into_split).
///
/// ```
/// use arbor_runtime::net::UnixStream;
///
/// arbor_runtime::run(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"over the socket").await.unwrap();
///     a.shutdown().await.unwrap();
///     let mut got = Vec::new();
///     let mut buf = [0; 4];
///     loop {
///         match b.read(&mut buf).await.unwrap() {
///             0 => break, // end-of-file after the shutdown
///             n => got.extend_from_slice(&buf[..n]),
///         }
///     }
///     assert_eq!(got, b"over the socket");
/// });
/// ```
pub struct UnixStream {
    pub(crate) io: PollEvented<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`, without blocking a thread.
    ///
    /// # Errors
    /// `NotFound` or `ConnectionRefused` when nothing listens there; `WouldBlock` when the
    /// listener's backlog is full (Linux); an error naming `arbor::run` outside a runtime.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let driver = current_driver("arbor::net::UnixStream::connect")?;
        let addr = SocketAddrUnix::new(path.as_ref())?;
        let fd = socket::new_socket(AddressFamily::UNIX, SocketType::STREAM)?;
        socket::start_connect(&fd, &addr)?;
        let stream = std::os::unix::net::UnixStream::from(fd);
        let io = PollEvented::new(driver, stream, Interest::BOTH)?;
        poll_fn(|cx| io.poll_io(cx, Direction::Write, Waiter::Owner, connected)).await?;
        Ok(UnixStream { io })
    }

    /// A pair of connected sockets.
    ///
    /// # Errors
    /// Outside a runtime, or if the OS refuses.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let driver = current_driver("arbor::net::UnixStream::pair")?;
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((
            UnixStream::from_driver(driver.clone(), a)?,
            UnixStream::from_driver(driver, b)?,
        ))
    }

    pub(crate) fn from_driver(
        driver: Arc<Driver>,
        stream: std::os::unix::net::UnixStream,
    ) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            io: PollEvented::new(driver, stream, Interest::BOTH)?,
        })
    }

    /// Adopts a connected std stream (switched to non-blocking mode) into the current
    /// runtime.
    ///
    /// # Errors
    /// Outside a runtime, or if the stream cannot be registered.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        let driver = current_driver("arbor::net::UnixStream::from_std")?;
        UnixStream::from_driver(driver, stream)
    }

    /// Hands the std stream back, deregistered and still non-blocking.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.io.into_inner())
    }

    fn stream(&self) -> &Self {
        self
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Waits until the stream may be readable (readiness can be spurious).
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Waits until the stream may be writable (readiness can be spurious).
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// Reads what is available now, without waiting: `WouldBlock` if nothing is. An empty
    /// `buf` returns `Ok(0)`, as a read does.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Read;
        if buf.is_empty() {
            // Empty reads (`stream_io`'s docs): the OS would answer `WouldBlock`.
            return Ok(0);
        }
        self.io.try_io(Direction::Read, |mut s| s.read(buf))
    }

    /// Writes what fits now, without waiting: `WouldBlock` if nothing does.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        use std::io::Write;
        self.io.try_io(Direction::Write, |mut s| s.write(buf))
    }

    /// Splits the stream into halves that can move into different tasks (see
    /// [`TcpStream::into_split`](crate::net::TcpStream::into_split)).
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        super::split_owned(self)
    }

    /// Splits a borrowed stream into a read half and a write half.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        super::split_borrowed(self)
    }
}

/// Whether a connecting socket is connected: `WouldBlock` while it is not.
fn connected(stream: &std::os::unix::net::UnixStream) -> io::Result<()> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Err(io::ErrorKind::WouldBlock.into()),
        Err(e) => Err(e),
    }
}

poll_stream_impl!(UnixStream);
read_methods!([] UnixStream);
write_methods!([] UnixStream);
#[cfg(feature = "http")]
crate::net::hyper_io::hyper_read!(UnixStream);
#[cfg(feature = "http")]
crate::net::hyper_io::hyper_write!(UnixStream);

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
