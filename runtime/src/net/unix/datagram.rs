//! [`UnixDatagram`].

use super::SocketAddr;
use crate::driver::Driver;
use crate::io::{Direction, Interest, PollEvented, current_driver};
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::sync::Arc;

/// A Unix domain datagram socket. Every method takes `&self`, and a receive into an empty
/// buffer waits for a datagram and consumes it, as for [`UdpSocket`](crate::net::UdpSocket).
///
/// ```
/// use arbor_runtime::net::UnixDatagram;
///
/// arbor_runtime::run(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"one").await.unwrap();
///     a.send(b"two").await.unwrap();
///     let mut buf = [0; 8];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"one"); // datagrams keep their boundaries
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"two");
/// });
/// ```
pub struct UnixDatagram {
    io: PollEvented<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path`.
    ///
    /// # Errors
    /// `AddrInUse` if the file exists; the other bind errors; outside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let driver = current_driver("arbor::net::UnixDatagram::bind")?;
        let socket = std::os::unix::net::UnixDatagram::bind(path)?;
        UnixDatagram::from_driver(driver, socket)
    }

    /// A socket bound to no address (it can send, and receive replies only if connected).
    ///
    /// # Errors
    /// Outside a runtime, or if the OS refuses.
    pub fn unbound() -> io::Result<UnixDatagram> {
        let driver = current_driver("arbor::net::UnixDatagram::unbound")?;
        UnixDatagram::from_driver(driver, std::os::unix::net::UnixDatagram::unbound()?)
    }

    /// A pair of connected sockets.
    ///
    /// # Errors
    /// Outside a runtime, or if the OS refuses.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let driver = current_driver("arbor::net::UnixDatagram::pair")?;
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((
            UnixDatagram::from_driver(driver.clone(), a)?,
            UnixDatagram::from_driver(driver, b)?,
        ))
    }

    fn from_driver(
        driver: Arc<Driver>,
        socket: std::os::unix::net::UnixDatagram,
    ) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: PollEvented::new(driver, socket, Interest::BOTH)?,
        })
    }

    /// Adopts a std socket (switched to non-blocking mode) into the current runtime.
    ///
    /// # Errors
    /// Outside a runtime, or if the socket cannot be registered.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        let driver = current_driver("arbor::net::UnixDatagram::from_std")?;
        UnixDatagram::from_driver(driver, socket)
    }

    /// Hands the std socket back, deregistered and still non-blocking.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.io.into_inner())
    }

    /// Sets the default peer to the socket at `path`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends `buf` to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Sends `buf` to the socket at `path`.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .async_io(Direction::Write, |s| s.send_to(buf, path))
            .await
    }

    /// Receives one datagram; returns its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Direction::Read, |s| s.recv_from(buf))
            .await
    }

    /// Sends to the connected peer if the socket can take it now: `WouldBlock` otherwise.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |s| s.send(buf))
    }

    /// Receives a queued datagram: `WouldBlock` if none is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |s| s.recv(buf))
    }

    /// Waits until a datagram may be queued (readiness can be spurious).
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Waits until the socket may accept a datagram (readiness can be spurious).
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the reading, writing or both directions.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
