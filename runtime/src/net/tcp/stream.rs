//! [`TcpStream`].

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::driver::Driver;
use crate::io::{Direction, Interest, PollEvented, Waiter, current_driver};
use crate::net::addr::{ToSocketAddrs, no_addresses, resolve};
use crate::net::socket;
use crate::net::stream_io::{poll_stream_impl, read_methods, write_methods};
use rustix::net::{AddressFamily, SocketType};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// A TCP connection (asyncio's `open_connection` pair of reader and writer, in one value).
///
/// Read and write with the inherent async methods ([`read`](TcpStream::read),
/// [`read_exact`](TcpStream::read_exact), [`write`](TcpStream::write),
/// [`write_all`](TcpStream::write_all), [`flush`](TcpStream::flush),
/// [`shutdown`](TcpStream::shutdown)) or through `futures_io::{AsyncRead, AsyncWrite}`.
/// To read and write from two tasks at once, [`into_split`](TcpStream::into_split) it.
///
/// ```
/// use arbor_runtime::net::{TcpListener, TcpStream};
///
/// arbor_runtime::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = arbor_runtime::spawn(async move {
///         let (mut stream, _peer) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await.unwrap();
///         stream.write_all(&buf).await.unwrap(); // echo
///     });
///     let mut stream = TcpStream::connect(addr).await.unwrap();
///     stream.write_all(b"hello").await.unwrap();
///     let mut buf = [0; 5];
///     stream.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hello");
///     server.await.unwrap();
/// });
/// ```
pub struct TcpStream {
    pub(crate) io: PollEvented<std::net::TcpStream>,
    /// Reads use `TCP_INQ` (see `inq.rs`); false where the kernel refused the option.
    inq: bool,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to in turn (a host name is
    /// looked up off the workers); returns the first connection made, or the last error.
    ///
    /// The connect itself does not block a thread: it waits in the reactor, so wrapping it
    /// in a timeout really stops it.
    ///
    /// # Errors
    /// `ConnectionRefused` when nothing listens; any other connect or lookup error; an
    /// error naming `arbor::run` outside a runtime.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        const WHAT: &str = "arbor::net::TcpStream::connect";
        let driver = current_driver(WHAT)?;
        let mut last_error = None;
        for addr in resolve(&addr, WHAT).await? {
            match TcpStream::connect_addr(driver.clone(), addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(no_addresses))
    }

    async fn connect_addr(driver: Arc<Driver>, addr: SocketAddr) -> io::Result<TcpStream> {
        let family = match addr {
            SocketAddr::V4(_) => AddressFamily::INET,
            SocketAddr::V6(_) => AddressFamily::INET6,
        };
        let fd = socket::new_socket(family, SocketType::STREAM)?;
        socket::start_connect(&fd, &addr)?;
        let io = PollEvented::new(driver, std::net::TcpStream::from(fd), Interest::BOTH)?;
        // Writable means the handshake ended, one way or the other.
        poll_fn(|cx| io.poll_io(cx, Direction::Write, Waiter::Owner, connected)).await?;
        Ok(TcpStream::new(io))
    }

    fn new(io: PollEvented<std::net::TcpStream>) -> TcpStream {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let inq = super::inq::enable(io.get_ref().as_fd());
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let inq = false;
        TcpStream { io, inq }
    }

    /// One read into `buf`, which need not be initialised (`stream_io`'s one read path):
    /// with `TCP_INQ`, a read that empties the receive queue also clears the read readiness
    /// (one `WouldBlock` syscall fewer per message; see `inq.rs`).
    fn poll_read_io(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let waiter = Waiter::Owner;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.inq {
            return self.io.poll_io_draining(cx, Direction::Read, waiter, |s| {
                super::inq::read(s.as_fd(), buf)
            });
        }
        self.io.poll_io(cx, Direction::Read, waiter, |s| {
            crate::net::stream_io::recv_uninit(s.as_fd(), buf)
        })
    }

    /// Wraps a connection accepted by a listener registered with `driver`.
    pub(crate) fn from_accepted(
        driver: Arc<Driver>,
        stream: std::net::TcpStream,
    ) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream::new(PollEvented::new(
            driver,
            stream,
            Interest::BOTH,
        )?))
    }

    /// Adopts a connected std stream (it is switched to non-blocking mode) into the current
    /// runtime.
    ///
    /// # Errors
    /// Outside a runtime, or if the stream cannot be registered.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        let driver = current_driver("arbor::net::TcpStream::from_std")?;
        TcpStream::from_accepted(driver, stream)
    }

    /// Hands the std stream back, deregistered and still in non-blocking mode (call
    /// `set_nonblocking(false)` to use it with blocking calls). On Linux the socket keeps
    /// the `TCP_INQ` option arbor's reads use: plain reads ignore it, and a `recvmsg`
    /// with a control buffer receives a `TCP_CM_INQ` message.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
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

    /// Sets `TCP_NODELAY`: `true` sends small writes at once instead of coalescing them
    /// (Nagle's algorithm), which request/response protocols usually want.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets the IP time-to-live of outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing packets.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `SO_LINGER`: `Some(d)` makes closing wait up to `d` for unsent data;
    /// `Some(Duration::ZERO)` makes closing reset the connection at once (the peer sees
    /// `ConnectionReset`); `None` restores the default.
    ///
    /// With a non-zero duration, dropping the stream may block the thread for up to `d`.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        Ok(rustix::net::sockopt::set_socket_linger(self, linger)?)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        Ok(rustix::net::sockopt::socket_linger(self)?)
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Reads into `buf` without consuming the data: the next read returns it again.
    /// Waits until data is available; `0` at end-of-file. An empty `buf` returns `Ok(0)` at
    /// once, as a read does.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            // Empty reads (`stream_io`'s docs): the OS would wait for data.
            return Ok(0);
        }
        self.io.async_io(Direction::Read, |s| s.peek(buf)).await
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

    /// Splits the stream into halves that can move into different tasks: one reads while
    /// the other writes. [`OwnedReadHalf::reunite`] puts them back together.
    ///
    /// ```
    /// use arbor_runtime::net::{TcpListener, TcpStream};
    ///
    /// arbor_runtime::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     let (mut reader, mut writer) = client.into_split();
    ///     let sender = arbor_runtime::spawn(async move {
    ///         writer.write_all(b"ping").await.unwrap();
    ///         writer
    ///     });
    ///     let mut buf = [0; 4];
    ///     server.read_exact(&mut buf).await.unwrap();
    ///     server.write_all(b"pong").await.unwrap();
    ///     reader.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"pong");
    ///     let client = reader.reunite(sender.await.unwrap()).unwrap();
    ///     assert!(client.peer_addr().is_ok());
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        super::split_owned(self)
    }

    /// Splits a borrowed stream into a read half and a write half, to use both at once in
    /// one task (for instance in `gather`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        super::split_borrowed(self)
    }
}

/// Whether a connecting socket finished its handshake: `WouldBlock` while it has not.
fn connected(stream: &std::net::TcpStream) -> io::Result<()> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Err(io::ErrorKind::WouldBlock.into()),
        Err(e) => Err(e),
    }
}

poll_stream_impl!(TcpStream, read: TcpStream::poll_read_io);
read_methods!([] TcpStream);
write_methods!([] TcpStream);
#[cfg(feature = "http")]
crate::net::hyper_io::hyper_read!(TcpStream);
#[cfg(feature = "http")]
crate::net::hyper_io::hyper_write!(TcpStream);

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
