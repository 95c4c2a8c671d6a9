//! [`UnixListener`].

use super::{SocketAddr, UnixStream};
use crate::io::{Direction, Interest, PollEvented, current_driver};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

/// A Unix domain server socket (asyncio's `start_unix_server`, without the callback).
///
/// ```
/// use arbor_runtime::net::{UnixListener, UnixStream};
///
/// arbor_runtime::run(async {
///     let dir = std::env::temp_dir().join(format!("arbor-doc-{}", std::process::id()));
///     std::fs::create_dir_all(&dir).unwrap();
///     let path = dir.join("listener.sock");
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path).unwrap();
///     let client = arbor_runtime::spawn({
///         let path = path.clone();
///         async move {
///             let mut stream = UnixStream::connect(&path).await.unwrap();
///             stream.write_all(b"hi").await.unwrap();
///         }
///     });
///     let (mut stream, _addr) = listener.accept().await.unwrap();
///     let mut buf = [0; 2];
///     stream.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
///     client.await.unwrap();
///     std::fs::remove_dir_all(&dir).unwrap();
/// });
/// ```
pub struct UnixListener {
    io: PollEvented<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens. The socket file stays after the listener is dropped;
    /// remove it yourself.
    ///
    /// # Errors
    /// `AddrInUse` if the file exists; the other bind errors; an error naming `arbor::run`
    /// outside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let driver = current_driver("arbor::net::UnixListener::bind")?;
        let listener = std::os::unix::net::UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::new(driver, listener, Interest::READ)?,
        })
    }

    /// Adopts a std listener (switched to non-blocking mode) into the current runtime.
    ///
    /// # Errors
    /// Outside a runtime, or if the listener cannot be registered.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        let driver = current_driver("arbor::net::UnixListener::from_std")?;
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::new(driver, listener, Interest::READ)?,
        })
    }

    /// Hands the std listener back, deregistered and still non-blocking.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// Waits for a connection. Any number of tasks may accept at once; cancel-safe.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.io.async_io(Direction::Read, |l| l.accept()).await?;
        let stream = UnixStream::from_driver(self.io.driver().clone(), stream)?;
        Ok((stream, addr))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
