//! `arbor::http::serve`: hyper-util's auto builder (HTTP/1.1 and HTTP/2 told apart by the
//! client's first bytes) over an arbor listener, one child task per connection in a
//! [`TaskGroup`], with a graceful shutdown when the code around `serve` is cancelled.
//!
//! ## Structure
//! ```text
//! serve_with
//! └── shielded scope                 outer cancellation does not drop what is inside...
//!     └── Timeout (none, then grace) ...until this deadline, set when the shutdown starts
//!         └── TaskGroup              one child per connection, and HTTP/2's streams
//!             └── body: the accept loop, raced against the `outer` watcher
//! ```
//!
//! ## Shutdown, step by step
//! 1. At its first poll `serve` finds the cancel node it runs under (`outer`: the
//!    innermost enclosing scope, timeout or group, or its task's node) and attaches a
//!    *watcher* node below it, with the accept loop's waker: cancelling any enclosing scope
//!    propagates to the watcher and wakes the loop.
//! 2. Because everything else runs inside a shielded scope, the cancelled scopes around
//!    `serve` wait for it instead of dropping it (DESIGN.md section 3, rule 4).
//! 3. The loop sees the watcher cancelled: it drops the listener (new connections are
//!    refused), cancels `stopping` (each connection task calls hyper's `graceful_shutdown`:
//!    idle connections close at once, HTTP/2 sends GOAWAY, in-flight requests carry on),
//!    and gives the timeout its deadline, now + `grace`.
//! 4. The group's scope returns once every connection has finished; if `grace` passes
//!    first, the timeout cancels the group and the remaining connections are dropped (their
//!    clients see the connection close). The shielded region ends with it, and the
//!    cancelled scope around `serve` drops it and reports its cancellation as usual.
//!
//! Dropping the `serve` future, `Task::cancel` of the task running it, or a runtime
//! shutdown skip the grace period (a destructor cannot wait): the group still drops every
//! connection before the drop returns.

use crate::TaskGroup;
use crate::http::Timer;
use arbor_runtime::cancel::CancelNode;
use arbor_runtime::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use arbor_runtime::time::{self, Instant};
use arbor_taskgroup::CancelScope;
use arbor_timeouts::Timeout;
use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::Duration;

/// The default [`ServeConfig::grace`]: in-flight requests get 10 s to finish.
const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// The default [`ServeConfig::header_read_timeout`]: 30 s to send a request head.
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Timeouts this long or longer are "never" (about 136 years).
const NO_TIMEOUT: Duration = Duration::from_secs(u32::MAX as u64);

/// How long the accept loop waits after running out of file descriptors or memory before
/// accepting again (as `net::serve` does).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// How [`serve_with`] runs: public fields, [`Default`], and builder-style setters.
///
/// ```
/// use arbor::http::ServeConfig;
/// use std::time::Duration;
///
/// let config = ServeConfig::default().grace(Duration::from_secs(2));
/// assert_eq!(config.grace, Duration::from_secs(2));
/// assert_eq!(config.header_read_timeout, Duration::from_secs(30));
///
/// let same = ServeConfig { grace: Duration::from_secs(2), ..ServeConfig::default() };
/// assert_eq!(same.grace, config.grace);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServeConfig {
    /// How long in-flight requests may run on once a shutdown started (default 10 s);
    /// what still runs then is dropped. `Duration::MAX`: as long as they take.
    pub grace: Duration,
    /// How long a client may take to send a request head (default 30 s): HTTP/1's header
    /// read timeout (hyper's, on arbor's clock), and for every connection, the time from
    /// accept to its first request (a client that sends nothing, or an HTTP/2 client that
    /// never finishes its preface or opens no stream, is disconnected then). HTTP/1's
    /// timeout also closes a kept-alive connection left idle that long. `Duration::MAX`:
    /// no timeout.
    pub header_read_timeout: Duration,
}

impl ServeConfig {
    /// The defaults: grace 10 s, header read timeout 30 s.
    pub fn new() -> ServeConfig {
        ServeConfig {
            grace: DEFAULT_GRACE,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }

    /// Sets [`grace`](ServeConfig::grace).
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> ServeConfig {
        self.grace = grace;
        self
    }

    /// Sets [`header_read_timeout`](ServeConfig::header_read_timeout).
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> ServeConfig {
        self.header_read_timeout = timeout;
        self
    }
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig::new()
    }
}

/// A listener [`serve`] accepts connections from: arbor's
/// [`TcpListener`](crate::net::TcpListener) and [`UnixListener`](crate::net::UnixListener).
pub trait Listener: Send + Sync + 'static {
    /// An accepted connection.
    type Io: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static;
    /// The peer's address (logged with a connection's errors).
    type Addr: fmt::Debug + Send + 'static;

    /// Accepts the next connection.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Io, Self::Addr)>> + Send;
}

/// Accepted streams get `TCP_NODELAY`: a response goes out as soon as hyper writes it.
impl Listener for TcpListener {
    type Io = TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&self) -> io::Result<(TcpStream, std::net::SocketAddr)> {
        let (stream, peer) = TcpListener::accept(self).await?;
        // A socket that cannot take the option still serves, only with Nagle's delays.
        let _ = stream.set_nodelay(true);
        Ok((stream, peer))
    }
}

impl Listener for UnixListener {
    type Io = UnixStream;
    type Addr = std::os::unix::net::SocketAddr;

    async fn accept(&self) -> io::Result<(UnixStream, std::os::unix::net::SocketAddr)> {
        UnixListener::accept(self).await
    }
}

/// Serves HTTP/1.1 and HTTP/2 on `listener` with `service`, with the default
/// [`ServeConfig`]: see [`serve_with`].
///
/// ```
/// use arbor::http::hyper::service::service_fn;
/// use arbor::http::hyper::{Request, Response, body::Incoming};
/// use arbor::net::{TcpListener, TcpStream};
/// use arbor::CancelScope;
/// use std::convert::Infallible;
///
/// arbor::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let hello = service_fn(|_: Request<Incoming>| async {
///         Ok::<_, Infallible>(Response::new(String::from("hello")))
///     });
///     let scope = CancelScope::new();
///     let stop = scope.handle();
///     let server = arbor::spawn(scope.run(arbor::http::serve(listener, hello)));
///
///     let mut client = TcpStream::connect(addr).await?;
///     client.write_all(b"GET / HTTP/1.1\r\nhost: arbor\r\nconnection: close\r\n\r\n").await?;
///     let mut response = Vec::new();
///     let mut buf = [0; 1024];
///     loop {
///         match client.read(&mut buf).await? {
///             0 => break,
///             n => response.extend_from_slice(&buf[..n]),
///         }
///     }
///     assert!(response.starts_with(b"HTTP/1.1 200 OK"));
///     assert!(response.ends_with(b"hello"));
///
///     stop.cancel(); // a graceful shutdown: nothing is in flight, so it is immediate
///     assert!(server.await.unwrap().is_err(), "the scope reports its cancellation");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn serve<L, S, B>(listener: L, service: S) -> io::Result<()>
where
    L: Listener,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    serve_with(listener, service, ServeConfig::default()).await
}

/// Serves HTTP on `listener`: HTTP/1.1 (with keep-alive) and HTTP/2 told apart by each
/// client's first bytes (hyper-util's auto builder, with arbor's [`Timer`] and the
/// server's [`TaskGroup`] as hyper's executor), one child task per connection.
///
/// - **Header read timeout**: a client has `config.header_read_timeout` to send each
///   request head (HTTP/1), and to get from connecting to its first request (HTTP/1 and
///   HTTP/2); then its connection is closed.
/// - **Graceful shutdown**: cancelling the code around `serve` (an enclosing
///   [`CancelScope`], timeout or [`TaskGroup`]) closes the listener at once (new
///   connections are refused), closes idle connections (HTTP/2: GOAWAY), lets in-flight
///   requests finish within `config.grace`, then drops what remains (its clients see the
///   connection close); the cancelled scope around it then reports as usual (`serve`
///   itself does not return: that scope drops it, with nothing left inside).
/// - **Structure**: when `serve` returns or is dropped, no connection task (and no HTTP/2
///   stream task) is left. Dropping it skips the grace period.
/// - **Errors**: a connection's error (a malformed request, a client gone) is logged at
///   `debug` level and ends that connection only. Accept errors about one connection are
///   skipped, running out of file descriptors or memory is retried after a short back-off;
///   any other accept error shuts down as a cancellation would and is returned. A service
///   that *panics* is a bug: as in any [`TaskGroup`], the other connections are cancelled
///   and the panic resumes in the caller of `serve` (catch it in the service to answer
///   500 instead).
///
/// ```
/// use arbor::http::hyper::service::service_fn;
/// use arbor::http::hyper::{Request, Response, body::Incoming};
/// use arbor::http::{ServeConfig, serve_with};
/// use arbor::net::TcpListener;
/// use arbor::CancelScope;
/// use std::convert::Infallible;
/// use std::time::Duration;
///
/// arbor::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let hello = service_fn(|_: Request<Incoming>| async {
///         Ok::<_, Infallible>(Response::new(String::from("hello")))
///     });
///     let config = ServeConfig::default().grace(Duration::from_secs(5));
///     let scope = CancelScope::new();
///     let stop = scope.handle();
///     arbor::spawn(async move {
///         arbor::sleep(Duration::from_millis(100)).await; // e.g. on ctrl-c
///         stop.cancel();
///     });
///     let res = scope.run(serve_with(listener, hello, config)).await;
///     assert!(matches!(res, Err(arbor::Cancelled))); // drained and stopped
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn serve_with<L, S, B>(listener: L, service: S, config: ServeConfig) -> io::Result<()>
where
    L: Listener,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    // Step 1: the watcher, below whatever encloses `serve` now.
    let watcher = CancelNode::scope_parent().map(|outer| CancelNode::new(Some(&outer), false));
    let grace = Timeout::never();
    let grace_handle = grace.handle();
    // Why the accept loop ended, if not for a cancellation: the listener's error.
    let failure = OnceLock::new();
    let failed = &failure;
    let _served = CancelScope::shielded()
        .run(grace.run(TaskGroup::<Infallible>::scope(|tg| async move {
            let mut builder = auto::Builder::new(tg.clone());
            builder
                .http1()
                .timer(Timer::new())
                .header_read_timeout(hyper_timeout(config.header_read_timeout));
            builder.http2().timer(Timer::new());
            let builder = Arc::new(builder);
            // Cancelled when the shutdown starts: each connection watches it through a
            // node of its own below it (see `connection`).
            let stopping = CancelNode::new(None, false);

            let accepted = accept_loop(&listener, watcher.as_deref(), |io, peer| {
                let conn = connection(
                    builder.clone(),
                    io,
                    service.clone(),
                    stopping.clone(),
                    config.header_read_timeout,
                );
                drop(tg.spawn(async move {
                    if let Err(error) = conn.await {
                        tracing::debug!(?peer, %error, "arbor::http::serve: a connection ended");
                    }
                    Ok(())
                }));
            })
            .await;

            // Step 3: refuse new connections, drain the rest within `grace`.
            drop(listener);
            stopping.cancel();
            grace_handle.reschedule(Some(Instant::now() + config.grace));
            if let Err(e) = accepted {
                let _ = failed.set(e);
            }
            Ok(())
        })))
        .await;
    // Whether the connections finished or the grace period cut them off (the outcome of
    // the scopes above), the shutdown is over and every connection is gone.
    if let Some(e) = failure.into_inner() {
        // The listener failed: the connections were drained as for a cancellation.
        return Err(e);
    }
    // Step 4: the accept loop ended because the code around `serve` is cancelled, and the
    // shielded region has ended, which wakes that cancelled scope: it drops this future at
    // its next poll and reports its cancellation (`Err(Cancelled)`, `Err(TimedOut)`, ...),
    // as for any other code it wraps.
    std::future::pending().await
}

/// hyper's form of a timeout: `None` (no timeout) for one too long to add to an instant
/// (hyper would panic on `Duration::MAX`); arbor's own timers saturate instead.
fn hyper_timeout(timeout: Duration) -> Option<Duration> {
    (timeout < NO_TIMEOUT).then_some(timeout)
}

/// Accepts until the watcher is cancelled (`Ok`) or the listener fails (`Err`), handing
/// each connection to `spawn`.
async fn accept_loop<L: Listener>(
    listener: &L,
    watcher: Option<&CancelNode>,
    mut spawn: impl FnMut(L::Io, L::Addr),
) -> io::Result<()> {
    loop {
        let mut accept = pin!(listener.accept());
        let accepted = poll_fn(|cx| {
            if let Some(watcher) = watcher {
                if watcher.register_waker(cx.waker()) {
                    return Poll::Ready(None);
                }
            }
            accept.as_mut().poll(cx).map(Some)
        })
        .await;
        match accepted {
            None => return Ok(()),
            Some(Ok((io, peer))) => spawn(io, peer),
            Some(Err(e)) if crate::serve::is_connection_error(&e) => {}
            Some(Err(e)) if crate::serve::is_resource_exhaustion(&e) => {
                tracing::error!(error = %e, "arbor::http::serve: accept failed; retrying");
                time::sleep(ACCEPT_BACKOFF).await;
            }
            Some(Err(e)) => return Err(e),
        }
    }
}

/// Why a connection ended early.
#[derive(Debug)]
enum ConnError {
    /// hyper's error (a malformed request, an IO error, hyper's header timeout).
    Hyper(Box<dyn StdError + Send + Sync>),
    /// No request came within the header read timeout of the accept.
    FirstRequestTimeout,
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Hyper(e) => e.fmt(f),
            ConnError::FirstRequestTimeout => {
                f.write_str("no request within the header read timeout; connection closed")
            }
        }
    }
}

/// One connection, from accept to close: hyper's auto connection, the first-request
/// deadline, and the switch to `graceful_shutdown` once `stopping` is cancelled.
async fn connection<I, S, B>(
    builder: Arc<auto::Builder<TaskGroup<Infallible>>>,
    io: I,
    service: S,
    stopping: Arc<CancelNode>,
    header_read_timeout: Duration,
) -> Result<(), ConnError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let seen = Arc::new(AtomicBool::new(false));
    let service = FirstRequest {
        inner: service,
        seen: seen.clone(),
    };
    let mut conn = pin!(builder.serve_connection_with_upgrades(io, service));
    // This connection's own view of `stopping`: checking it and keeping its waker up to
    // date touch only this node (one uncontended lock per poll), never a lock that every
    // connection shares; the shutdown's cancel wakes each connection through it.
    let stop = CancelNode::new(Some(&stopping), false);
    drop(stopping);
    let mut first_deadline = Some(time::sleep(header_read_timeout));
    let mut shutting_down = false;
    poll_fn(|cx| {
        if !shutting_down && stop.register_waker(cx.waker()) {
            shutting_down = true;
            conn.as_mut().graceful_shutdown();
        }
        if let Poll::Ready(res) = conn.as_mut().poll(cx) {
            return Poll::Ready(res.map_err(ConnError::Hyper));
        }
        if let Some(deadline) = &mut first_deadline {
            if seen.load(Ordering::Relaxed) {
                first_deadline = None;
            } else if std::pin::Pin::new(deadline).poll(cx).is_ready() {
                return Poll::Ready(Err(ConnError::FirstRequestTimeout));
            }
        }
        Poll::Pending
    })
    .await
}

/// The user's service, noting that a connection's first request arrived.
#[derive(Debug)]
struct FirstRequest<S> {
    inner: S,
    /// Set at the first call; read by the connection's first-request deadline.
    seen: Arc<AtomicBool>,
}

impl<S, R> Service<R> for FirstRequest<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, req: R) -> S::Future {
        self.seen.store(true, Ordering::Relaxed);
        self.inner.call(req)
    }
}
