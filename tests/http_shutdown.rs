//! `arbor::http::serve`'s graceful shutdown (feature `http`), on virtual time: an in-flight
//! request finishes within the grace period, new connections are refused once the
//! shutdown starts, a request still running when the grace period ends is dropped and its
//! client sees the connection close, and no connection task is left once the scope around
//! `serve` returns or `serve` is dropped.

#![cfg(all(unix, feature = "http"))]

#[path = "support/http.rs"]
mod support;

use arbor::http::hyper::body::{Bytes, Incoming};
use arbor::http::hyper::service::service_fn;
use arbor::http::hyper::{Request, Response};
use arbor::http::{ServeConfig, serve_with};
use arbor::net::{UnixListener, UnixStream};
use arbor::runtime::Builder;
use arbor::sync::Event;
use arbor::task::TaskId;
use arbor::time::Instant;
use arbor::{CancelScope, Cancelled};
use http_body_util::Full;
use std::convert::Infallible;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;
use support::{Counting, get, h1, h2, read, unix_path};

/// The grace period of these tests.
const GRACE: Duration = Duration::from_secs(10);

/// A paused current-thread runtime: the clock jumps whenever every task waits.
fn paused() -> arbor::runtime::Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

/// What the slow service reports.
#[derive(Default)]
struct Slow {
    /// Set when a request entered the service.
    started: Event,
    /// Set when a request's future was dropped before it answered.
    dropped: AtomicBool,
}

/// Sets `dropped` unless disarmed: the service future was dropped mid-request.
struct DropFlag(Arc<Slow>, bool);

impl Drop for DropFlag {
    fn drop(&mut self) {
        if self.1 {
            self.0.dropped.store(true, SeqCst);
        }
    }
}

/// A service that takes the number of seconds in the request's path (`/5`) to answer.
fn slow(
    state: Arc<Slow>,
) -> impl arbor::http::hyper::service::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    service_fn(move |req: Request<Incoming>| {
        let state = state.clone();
        async move {
            let secs: u64 = req.uri().path()[1..].parse().unwrap();
            let mut flag = DropFlag(state.clone(), true);
            state.started.set();
            arbor::sleep(Duration::from_secs(secs)).await;
            flag.1 = false;
            Ok(Response::new(Full::new(Bytes::from(format!(
                "slept {secs}"
            )))))
        }
    })
}

/// The tasks running in groups opened by `server` (its connections).
fn connection_tasks(server: TaskId) -> usize {
    arbor::task::all()
        .iter()
        .filter(|t| t.group().is_some_and(|g| g.opened_by() == Some(server)))
        .count()
}

/// The server's task: the scope's outcome, and when it came.
type Server = arbor::Task<(Result<std::io::Result<()>, Cancelled>, Instant)>;

/// Starts `serve_with` on a fresh Unix socket inside a cancel scope, in a task; returns
/// the socket's path, the listener's `closed` event, the scope's handle and the task
/// (which resolves to the scope's outcome and when `serve` returned).
fn start(state: Arc<Slow>) -> (std::path::PathBuf, Arc<Event>, arbor::CancelHandle, Server) {
    let path = unix_path("shutdown");
    let listener = Counting::new(UnixListener::bind(&path).unwrap());
    let closed = listener.closed.clone();
    let scope = CancelScope::new();
    let stop = scope.handle();
    let config = ServeConfig::default().grace(GRACE);
    let server = arbor::spawn(async move {
        let res = scope.run(serve_with(listener, slow(state), config)).await;
        (res, Instant::now())
    });
    (path, closed, stop, server)
}

/// A request in flight when the shutdown starts completes (5 s, within the 10 s grace),
/// and `serve` returns as soon as it did, not at the end of the grace period.
#[test]
fn an_in_flight_request_completes_within_the_grace_period() {
    paused().block_on(async {
        let state = Arc::new(Slow::default());
        let (path, _, stop, server) = start(state.clone());
        let mut sender = h1(UnixStream::connect(&path).await.unwrap()).await;
        let request = arbor::spawn(async move {
            let response = sender.send_request(get("/5")).await.unwrap();
            (read(response).await, Instant::now())
        });
        state.started.wait().await;
        let stopped = Instant::now();
        stop.cancel();
        let ((status, body), answered) = request.await.unwrap();
        assert_eq!((status, &body[..]), (200, &b"slept 5"[..]));
        assert_eq!(answered - stopped, Duration::from_secs(5));
        let (res, returned) = server.await.unwrap();
        assert!(
            matches!(res, Err(Cancelled)),
            "the scope reports its cancellation"
        );
        assert_eq!(
            returned - stopped,
            Duration::from_secs(5),
            "serve returned once the request was answered"
        );
        assert!(!state.dropped.load(SeqCst));
        let _ = std::fs::remove_file(&path);
    });
}

/// Once the shutdown started (the listener is closed), a new connection is refused, while
/// the in-flight request still runs.
#[test]
fn a_new_connection_is_refused_once_the_shutdown_started() {
    paused().block_on(async {
        let state = Arc::new(Slow::default());
        let (path, closed, stop, server) = start(state.clone());
        let mut sender = h1(UnixStream::connect(&path).await.unwrap()).await;
        let request = arbor::spawn(async move { sender.send_request(get("/5")).await.is_ok() });
        state.started.wait().await;
        stop.cancel();
        closed.wait().await;
        let refused = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
        assert!(!request.is_finished(), "the in-flight request still runs");
        assert!(request.await.unwrap(), "and completes");
        assert!(matches!(server.await.unwrap().0, Err(Cancelled)));
        let _ = std::fs::remove_file(&path);
    });
}

/// A request still running when the grace period ends is dropped (its service future is
/// dropped mid-request), its client sees the connection close, and `serve` returns at the
/// end of the grace period.
#[test]
fn a_request_still_running_after_the_grace_period_is_cancelled() {
    paused().block_on(async {
        let state = Arc::new(Slow::default());
        let (path, _, stop, server) = start(state.clone());
        let mut sender = h1(UnixStream::connect(&path).await.unwrap()).await;
        let request = arbor::spawn(async move {
            let res = sender.send_request(get("/60")).await;
            (res.map(|_| ()), Instant::now())
        });
        state.started.wait().await;
        let stopped = Instant::now();
        stop.cancel();
        let (res, failed) = request.await.unwrap();
        let error = res.unwrap_err();
        assert!(
            error.is_incomplete_message() || error.is_canceled() || error.is_closed(),
            "the client sees the connection close: {error:?}"
        );
        assert_eq!(failed - stopped, GRACE);
        assert!(
            state.dropped.load(SeqCst),
            "the request's future was dropped"
        );
        let (res, returned) = server.await.unwrap();
        assert!(matches!(res, Err(Cancelled)));
        assert_eq!(returned - stopped, GRACE);
        let _ = std::fs::remove_file(&path);
    });
}

/// Opens an HTTP/1 and an HTTP/2 connection to `path`, each with a 60 s request in flight,
/// and waits until both are in the service.
async fn busy_connections(path: &Path, state: &Slow) -> Vec<arbor::Task<bool>> {
    let mut requests = Vec::new();
    let mut sender = h1(UnixStream::connect(path).await.unwrap()).await;
    requests.push(arbor::spawn(async move {
        sender.send_request(get("/60")).await.is_ok()
    }));
    state.started.wait().await;
    state.started.clear();
    let mut sender = h2(UnixStream::connect(path).await.unwrap()).await;
    requests.push(arbor::spawn(async move {
        sender.send_request(get("/60")).await.is_ok()
    }));
    state.started.wait().await;
    requests
}

/// Once the cancelled scope around `serve` returns (a graceful shutdown whose grace ran
/// out), no task of its group is left: not the connections, not HTTP/2's stream tasks.
#[test]
fn no_connection_task_is_left_after_serve_returns() {
    paused().block_on(async {
        let state = Arc::new(Slow::default());
        let (path, _, stop, server) = start(state.clone());
        let requests = busy_connections(&path, &state).await;
        let during = connection_tasks(server.id());
        assert!(
            during >= 3,
            "two connections and an HTTP/2 stream: {during}"
        );
        stop.cancel();
        let id = server.id();
        assert!(matches!(server.await.unwrap().0, Err(Cancelled)));
        assert_eq!(connection_tasks(id), 0);
        for request in requests {
            assert!(!request.await.unwrap(), "the request was cut off");
        }
        let _ = std::fs::remove_file(&path);
    });
}

/// Dropping `serve` (here: cancelling its task, which skips the grace period) leaves no
/// connection task either, and drops the in-flight requests at once.
#[test]
fn no_connection_task_is_left_after_serve_is_dropped() {
    paused().block_on(async {
        let state = Arc::new(Slow::default());
        let (path, _, _stop, server) = start(state.clone());
        let requests = busy_connections(&path, &state).await;
        assert!(connection_tasks(server.id()) >= 3);
        let id = server.id();
        let start = Instant::now();
        server.cancel();
        assert!(server.await.unwrap_err().is_cancelled());
        assert_eq!(connection_tasks(id), 0);
        assert!(state.dropped.load(SeqCst));
        for request in requests {
            assert!(!request.await.unwrap(), "the request was cut off");
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "no grace period on a drop");
        let _ = std::fs::remove_file(&path);
    });
}

/// A timeout around `serve`, or a cancelled `TaskGroup` that runs it, shuts it down as
/// gracefully as a cancel scope does: the in-flight request completes, and the timeout
/// (the group) reports its own outcome once it did.
#[test]
fn a_timeout_or_a_group_around_serve_drains_it_too() {
    paused().block_on(async {
        // A timeout: it fires at 1 s, the request (3 s) started at 0 s ends at 3 s.
        let state = Arc::new(Slow::default());
        let path = unix_path("timeout");
        let listener = UnixListener::bind(&path).unwrap();
        let config = ServeConfig::default().grace(GRACE);
        let start = Instant::now();
        let server = arbor::spawn(arbor::timeout(
            Duration::from_secs(1),
            serve_with(listener, slow(state.clone()), config),
        ));
        let mut sender = h1(UnixStream::connect(&path).await.unwrap()).await;
        let (status, body) = read(sender.send_request(get("/3")).await.unwrap()).await;
        assert_eq!((status, &body[..]), (200, &b"slept 3"[..]));
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert!(
            server.await.unwrap().is_err(),
            "the timeout reports TimedOut"
        );
        let _ = std::fs::remove_file(&path);

        // A group: cancelled at 1 s (with `tg.cancel()`), the request ends at 3 s.
        let state = Arc::new(Slow::default());
        let path = unix_path("group");
        let listener = UnixListener::bind(&path).unwrap();
        let mut sender = h1(UnixStream::connect(&path).await.unwrap()).await;
        let request =
            arbor::spawn(async move { read(sender.send_request(get("/3")).await.unwrap()).await });
        let start = Instant::now();
        let group = arbor::TaskGroup::<std::io::Error>::scope(|tg| async move {
            drop(tg.spawn(serve_with(listener, slow(state.clone()), config)));
            state.started.wait().await;
            arbor::sleep(Duration::from_secs(1)).await;
            tg.cancel();
            Ok(())
        })
        .await;
        assert!(group.unwrap_err().is_cancelled());
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(3),
            "the group waited for serve"
        );
        let (status, body) = request.await.unwrap();
        assert_eq!((status, &body[..]), (200, &b"slept 3"[..]));
        let _ = std::fs::remove_file(&path);
    });
}

/// Idle kept-alive connections (HTTP/1 and HTTP/2, their clients still holding them) are
/// closed as soon as the shutdown starts: `serve`'s scope returns without waiting for the
/// grace period, and both clients see their connection close.
#[test]
fn idle_connections_close_as_soon_as_the_shutdown_starts() {
    paused().block_on(async {
        let state = Arc::new(Slow::default());
        let (path, _, stop, server) = start(state.clone());
        let mut http1 = h1(UnixStream::connect(&path).await.unwrap()).await;
        assert_eq!(
            read(http1.send_request(get("/0")).await.unwrap()).await.0,
            200
        );
        let mut http2 = h2(UnixStream::connect(&path).await.unwrap()).await;
        assert_eq!(
            read(http2.send_request(get("/0")).await.unwrap()).await.0,
            200
        );
        let stopped = Instant::now();
        stop.cancel();
        let (res, returned) = server.await.unwrap();
        assert!(matches!(res, Err(Cancelled)));
        assert_eq!(returned, stopped, "no wait: nothing was in flight");
        assert!(
            http1.ready().await.is_err(),
            "the HTTP/1 client saw the close"
        );
        assert!(
            http2.ready().await.is_err(),
            "the HTTP/2 client saw the close"
        );
        let _ = std::fs::remove_file(&path);
    });
}

/// Accepts `left` connections from a Unix listener, then fails with an error that is not
/// about one connection once `fail` is set.
struct FailsLater {
    inner: UnixListener,
    left: std::sync::atomic::AtomicUsize,
    fail: Arc<Event>,
}

impl arbor::http::Listener for FailsLater {
    type Io = UnixStream;
    type Addr = std::os::unix::net::SocketAddr;

    async fn accept(&self) -> std::io::Result<(UnixStream, Self::Addr)> {
        if self.left.load(SeqCst) == 0 {
            self.fail.wait().await;
            return Err(std::io::Error::other("the listener broke"));
        }
        self.left.fetch_sub(1, SeqCst);
        self.inner.accept().await
    }
}

/// A listener that fails ends `serve` with its error, with no scope cancelled around it,
/// after the same drain as a cancellation: here the request in flight outlives the grace
/// period, is cut off at its end, and `serve` returns the error then.
#[test]
fn a_failing_listener_drains_and_returns_its_error() {
    paused().block_on(async {
        let state = Arc::new(Slow::default());
        let path = unix_path("failing");
        let fail = Arc::new(Event::new());
        let listener = FailsLater {
            inner: UnixListener::bind(&path).unwrap(),
            left: 1.into(),
            fail: fail.clone(),
        };
        let config = ServeConfig::default().grace(GRACE);
        let started = state.clone();
        let started = &started.started;
        let server = arbor::spawn(async move {
            let res = serve_with(listener, slow(state.clone()), config).await;
            (res, Instant::now())
        });
        let mut sender = h1(UnixStream::connect(&path).await.unwrap()).await;
        let request = arbor::spawn(async move { sender.send_request(get("/60")).await.is_ok() });
        started.wait().await;
        let failed_at = Instant::now();
        fail.set();
        let (res, returned) = arbor::timeout(3 * GRACE, server)
            .await
            .expect("serve returned")
            .unwrap();
        assert_eq!(res.unwrap_err().to_string(), "the listener broke");
        assert_eq!(returned - failed_at, GRACE);
        assert!(!request.await.unwrap(), "the request was cut off");
        let _ = std::fs::remove_file(&path);
    });
}
