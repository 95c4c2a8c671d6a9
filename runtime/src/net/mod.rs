//! Networking: TCP, UDP and Unix domain sockets (asyncio's `open_connection`,
//! `start_server`, `create_datagram_endpoint`, `open_unix_connection`).
//!
//! | asyncio | arbor |
//! |---|---|
//! | `reader, writer = await open_connection(host, port)` | `let stream = TcpStream::connect((host, port)).await?` |
//! | `await reader.read(n)`, `readexactly(n)` | `stream.read(&mut buf).await?`, `stream.read_exact(&mut buf).await?` |
//! | `writer.write(b); await writer.drain()` | `stream.write_all(b).await?` |
//! | `writer.write_eof()` | `stream.shutdown().await?` |
//! | `await start_server(cb, host, port)` | `TcpListener::bind((host, port)).await?`, then `accept()` in a loop and `spawn` per connection |
//! | `create_datagram_endpoint` | `UdpSocket::bind(addr).await?`, `send_to`, `recv_from` |
//! | `loop.getaddrinfo(host, port)` | [`lookup_host`]`((host, port)).await?` |
//!
//! Every socket is non-blocking and registered with the runtime's IO reactor (see the
//! runtime's `io` module): an operation tries its syscall first and waits in the reactor
//! only when the OS says it would block, so a ready socket costs one syscall. Host names
//! are looked up on the blocking pool, off the workers. Errors, including "runtime shut
//! down" and "not inside a runtime", are `io::Error`s, never panics.
//!
//! Streams ([`TcpStream`], [`UnixStream`]) have inherent async `read`, `read_exact`,
//! `write`, `write_all`, `flush` and `shutdown`, implement `futures_io::{AsyncRead,
//! AsyncWrite}`, and split into halves that move into different tasks
//! ([`TcpStream::into_split`]). With the `http` feature, the streams and their owned
//! halves also implement `hyper::rt::{Read, Write}` (reads go straight into hyper's
//! uninitialised buffers).
//!
//! A socket belongs to the runtime it was created in: its readiness comes from that
//! runtime's reactor. Once that runtime shuts down, its operations fail.
//!
//! Unix only, for now (the sockets are built on file descriptors).
//!
//! ```
//! use arbor_runtime::net::{TcpListener, TcpStream};
//!
//! arbor_runtime::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     arbor_runtime::spawn(async move {
//!         let (mut conn, _) = listener.accept().await?;
//!         let mut line = [0; 6];
//!         conn.read_exact(&mut line).await?;
//!         conn.write_all(&line).await?;
//!         std::io::Result::Ok(())
//!     });
//!     let mut stream = TcpStream::connect(addr).await?;
//!     stream.write_all(b"hello\n").await?;
//!     let mut reply = [0; 6];
//!     stream.read_exact(&mut reply).await?;
//!     assert_eq!(&reply, b"hello\n");
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

mod addr;
#[cfg(feature = "http")]
mod hyper_io;
mod socket;
mod split;
pub(crate) mod stream_io;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{ToSocketAddrs, lookup_host};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
