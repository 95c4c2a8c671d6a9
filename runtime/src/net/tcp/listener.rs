//! [`TcpListener`].

use super::TcpStream;
use crate::io::{Direction, Interest, PollEvented, current_driver};
use crate::net::addr::{ToSocketAddrs, resolve};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

/// A TCP server socket (asyncio's `start_server` without the callback: accept in a loop
/// and spawn a task per connection).
///
/// ```
/// use arbor_runtime::net::{TcpListener, TcpStream};
///
/// arbor_runtime::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = arbor_runtime::spawn(async move {
///         for _ in 0..2 {
///             let (mut stream, _peer) = listener.accept().await.unwrap();
///             arbor_runtime::spawn(async move {
///                 stream.write_all(b"hi").await.unwrap();
///             });
///         }
///     });
///     for _ in 0..2 {
///         let mut client = TcpStream::connect(addr).await.unwrap();
///         let mut buf = [0; 2];
///         client.read_exact(&mut buf).await.unwrap();
///         assert_eq!(&buf, b"hi");
///     }
///     server.await.unwrap();
/// });
/// ```
pub struct TcpListener {
    io: PollEvented<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` and listens, trying each address it resolves to in turn. Port `0`
    /// picks a free port; [`local_addr`](TcpListener::local_addr) tells which.
    ///
    /// # Errors
    /// `AddrInUse` and the other bind errors; an error naming `arbor::run` outside a
    /// runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        const WHAT: &str = "arbor::net::TcpListener::bind";
        let driver = current_driver(WHAT)?;
        let addrs = resolve(&addr, WHAT).await?;
        let listener = std::net::TcpListener::bind(&addrs[..])?;
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::new(driver, listener, Interest::READ)?,
        })
    }

    /// Adopts a std listener (switched to non-blocking mode) into the current runtime.
    ///
    /// # Errors
    /// Outside a runtime, or if the listener cannot be registered.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        let driver = current_driver("arbor::net::TcpListener::from_std")?;
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::new(driver, listener, Interest::READ)?,
        })
    }

    /// Hands the std listener back, deregistered and still non-blocking.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// Waits for a connection; returns it with the peer's address. Any number of tasks may
    /// accept on one listener at once.
    ///
    /// Cancel-safe: a connection is never lost by dropping the future.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self.io.async_io(Direction::Read, |l| l.accept()).await?;
        let stream = TcpStream::from_accepted(self.io.driver().clone(), stream)?;
        Ok((stream, addr))
    }

    /// The local address (with the port the OS picked, after binding to port `0`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of accepted connections' packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
