//! `net::serve`: a TCP server with one task per connection, inside a `TaskGroup`.

use crate::TaskGroup;
use arbor_runtime::net::{TcpListener, TcpStream};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long `serve` waits after an accept error caused by resource exhaustion (out of file
/// descriptors or memory) before accepting again, so it does not spin while nothing can
/// be accepted.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Accepts connections on `listener` forever, running `handler(stream, peer)` for each as
/// its own task inside one [`TaskGroup`] (asyncio's `start_server`, Trio's `serve_tcp`).
///
/// - **Cancellation is structured**: dropping or cancelling the `serve` future (for
///   example with a timeout around it, or by cancelling the task running it) cancels every
///   connection's task, and `serve` returns only once all of them are gone.
/// - **One connection's error is not the server's**: a handler's `Err` is logged (a
///   `tracing` warning with the peer address) and the other connections carry on. A
///   handler that *panics* is a bug: as in any `TaskGroup`, the other connections are
///   cancelled and the panic resumes in the caller of `serve`.
/// - **Accept errors**: errors about the connection itself (reset or aborted before it was
///   accepted) are skipped; running out of file descriptors or memory is logged and
///   retried after a short back-off, so the server keeps serving the connections it has.
///   Any other accept error ends `serve` with that error, after the connections finish.
///
/// ```
/// use arbor::net::{TcpListener, TcpStream};
///
/// arbor::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = arbor::spawn(arbor::net::serve(listener, |mut conn: TcpStream, _peer| async move {
///         let mut buf = [0; 5];
///         conn.read_exact(&mut buf).await?;
///         conn.write_all(&buf).await
///     }));
///     let mut client = TcpStream::connect(addr).await?;
///     client.write_all(b"hello").await?;
///     let mut reply = [0; 5];
///     client.read_exact(&mut reply).await?;
///     assert_eq!(&reply, b"hello");
///     server.cancel(); // stops accepting and cancels every connection
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn serve<H, F>(listener: TcpListener, handler: H) -> io::Result<()>
where
    H: Fn(TcpStream, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = io::Result<()>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let result = TaskGroup::<Infallible>::scope(|tg| async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let conn = handler(stream, peer);
                    drop(tg.spawn(async move {
                        if let Err(error) = conn.await {
                            tracing::warn!(%peer, %error, "arbor::net::serve: a connection failed");
                        }
                        Ok(())
                    }));
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) if is_resource_exhaustion(&e) => {
                    tracing::error!(error = %e, "arbor::net::serve: accept failed; retrying");
                    arbor_runtime::sleep(ACCEPT_BACKOFF).await;
                }
                Err(e) => return Ok(Err(e)),
            }
        }
    })
    .await;
    match result {
        Ok(r) => r,
        // No child returns an error and nobody else holds the group to cancel it: the only
        // way here would be an outer cancellation, which drops this future instead.
        Err(_) => Err(io::Error::other(
            "arbor::net::serve: the server was cancelled",
        )),
    }
}

/// The accepted connection failed, not the listener.
pub(crate) fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// Out of file descriptors (`EMFILE`, `ENFILE`) or memory (`ENOBUFS`, `ENOMEM`).
pub(crate) fn is_resource_exhaustion(e: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    #[cfg(target_os = "linux")]
    const ENOBUFS: i32 = 105;
    #[cfg(not(target_os = "linux"))]
    const ENOBUFS: i32 = 55;
    const ENOMEM: i32 = 12;
    e.kind() == io::ErrorKind::OutOfMemory
        || matches!(e.raw_os_error(), Some(EMFILE | ENFILE | ENOBUFS | ENOMEM))
}
