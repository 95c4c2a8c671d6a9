//! hyper on arbor's streams with `arbor::http`'s `Timer` and `Executor` (feature `http`):
//! HTTP/1 keep-alive over one TCP connection and over a Unix socket pair, 1 MiB bodies
//! echoed through hyper's buffers, hyper's header-read timeout on virtual time, and a
//! `TaskGroup` as the executor.

#![cfg(all(unix, feature = "http"))]

#[path = "support/http.rs"]
mod support;

use arbor::TaskGroup;
use arbor::http::hyper::body::{Bytes, Incoming};
use arbor::http::hyper::client::conn::http1 as client;
use arbor::http::hyper::server::conn::http1 as server;
use arbor::http::hyper::service::service_fn;
use arbor::http::hyper::{Request, Response};
use arbor::http::{Executor, Timer, hyper};
use arbor::net::{TcpListener, TcpStream, UnixStream};
use arbor::runtime::Builder;
use arbor::time::Instant;
use http_body_util::{BodyExt, Full};
use hyper::rt::Executor as _;
use std::io::ErrorKind::WouldBlock;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

/// Requests sent over each kept-alive connection.
const REQUESTS: usize = 20;

/// 1 MiB: many partial reads on both sides.
const BIG: usize = 1 << 20;

/// An echo service: the response body is the request's, prefixed by its path; counts the
/// requests it serves.
async fn echo(
    served: Arc<AtomicUsize>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    served.fetch_add(1, SeqCst);
    let mut body = req.uri().path().as_bytes().to_vec();
    body.extend_from_slice(&req.into_body().collect().await?.to_bytes());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Serves one connection with hyper's HTTP/1 server and arbor's timer, in a task spawned
/// by `Executor`; `served` counts its requests.
fn serve_one<S>(stream: S, served: Arc<AtomicUsize>)
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| echo(served.clone(), req));
    let conn = server::Builder::new()
        .timer(Timer::new())
        .serve_connection(stream, service);
    Executor::new().execute(async move { conn.await.unwrap() });
}

/// Sends `requests` requests over one client connection (a hyper handshake on `stream`,
/// driven by a task `Executor` spawned), each with a body of `len` bytes, and checks each
/// echo; then closes the connection and checks it ended cleanly.
async fn requests_over_one_connection<S>(stream: S, requests: usize, len: usize)
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = client::handshake::<_, Full<Bytes>>(stream).await.unwrap();
    let (tx, done) = arbor::sync::oneshot::channel();
    Executor::new().execute(async move {
        let _ = tx.send(conn.await);
    });
    let payload = Bytes::from((0..len).map(|i| (i % 251) as u8).collect::<Vec<_>>());
    for i in 0..requests {
        sender.ready().await.unwrap();
        let request = Request::post(format!("/{i}"))
            .header("host", "arbor.test")
            .body(Full::new(payload.clone()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let path = format!("/{i}");
        assert_eq!(&body[..path.len()], path.as_bytes());
        assert!(
            body[path.len()..] == payload[..],
            "request {i}: the body echoes whole"
        );
    }
    drop(sender);
    done.await.unwrap().unwrap();
}

#[test]
fn keep_alive_serves_every_request_on_one_tcp_connection() {
    for rt in support::flavours() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let served = Arc::new(AtomicUsize::new(0));
            let s = served.clone();
            let accepting = arbor::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                serve_one(stream, s);
                // Keep-alive: the client never opens a second connection.
                listener
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            requests_over_one_connection(stream, REQUESTS, 16).await;
            assert_eq!(served.load(SeqCst), REQUESTS);
            let listener = accepting.await.unwrap().into_std().unwrap();
            let second = listener.accept().map(|_| ()).unwrap_err();
            assert_eq!(second.kind(), WouldBlock, "no other connection was made");
        });
    }
}

#[test]
fn keep_alive_serves_every_request_on_one_unix_connection() {
    for rt in support::flavours() {
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let served = Arc::new(AtomicUsize::new(0));
            serve_one(b, served.clone());
            requests_over_one_connection(a, REQUESTS, 16).await;
            assert_eq!(served.load(SeqCst), REQUESTS);
        });
    }
}

#[test]
fn one_mebibyte_bodies_echo_whole_over_tcp_and_unix() {
    for rt in support::flavours() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let served = Arc::new(AtomicUsize::new(0));
            let s = served.clone();
            let accepting = arbor::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                serve_one(stream, s);
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            requests_over_one_connection(stream, 3, BIG).await;
            accepting.await.unwrap();

            let (a, b) = UnixStream::pair().unwrap();
            serve_one(b, served.clone());
            requests_over_one_connection(a, 3, BIG).await;
            assert_eq!(served.load(SeqCst), 6);
        });
    }
}

/// hyper's header-read timeout, on arbor's clock paused: a client that sends nothing, or
/// half a request head, is disconnected when the timeout passes on virtual time (the
/// runtime jumps to the deadline; no wall time is spent waiting), and not before.
#[test]
fn the_header_read_timeout_runs_on_virtual_time() {
    const TIMEOUT: Duration = Duration::from_secs(30);
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        for sent in [&b""[..], b"GET / HTTP/1.1\r\nhost: arbor.test\r\n"] {
            let (mut client, server_side) = UnixStream::pair().unwrap();
            let service = service_fn(|req| echo(Arc::default(), req));
            let conn = server::Builder::new()
                .timer(Timer::new())
                .header_read_timeout(TIMEOUT)
                .serve_connection(server_side, service);
            let start = Instant::now();
            let served = arbor::spawn(async move {
                let res = conn.await;
                (res, start.elapsed())
            });
            client.write_all(sent).await.unwrap();
            let (res, elapsed) = served.await.unwrap();
            assert!(
                res.unwrap_err().is_timeout(),
                "the connection ends with hyper's header timeout"
            );
            assert_eq!(
                elapsed, TIMEOUT,
                "it closed when the timeout passed, on arbor's clock"
            );
            let mut rest = Vec::new();
            let mut buf = [0; 256];
            loop {
                match client.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => rest.extend_from_slice(&buf[..n]),
                }
            }
            assert!(
                rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
                "the client sees the connection close: {:?}",
                String::from_utf8_lossy(&rest)
            );
        }
    });
}

/// A `TaskGroup` as the executor: both connections are children of the group, and the
/// scope returns once the client closed and the server saw it.
#[test]
fn a_task_group_runs_the_connections_as_its_children() {
    for rt in support::flavours() {
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let served = Arc::new(AtomicUsize::new(0));
            let s = served.clone();
            TaskGroup::<hyper::Error>::scope(|tg| async move {
                let service = service_fn(move |req| echo(s.clone(), req));
                let conn = server::Builder::new()
                    .timer(Timer::new())
                    .serve_connection(b, service);
                tg.execute(async move { conn.await.unwrap() });
                let (mut sender, conn) = client::handshake::<_, Full<Bytes>>(a).await?;
                tg.execute(async move { conn.await.unwrap() });
                for _ in 0..3 {
                    // hyper's contract: an HTTP/1 sender takes a request once the connection
                    // task wants one; sending the next right after a response may find it
                    // not ready yet ("connection was not ready").
                    sender.ready().await?;
                    let request = Request::get("/x").body(Full::default()).unwrap();
                    let response = sender.send_request(request).await?;
                    assert_eq!(response.into_body().collect().await?.to_bytes(), "/x");
                }
                let groups = arbor::task::all()
                    .iter()
                    .filter(|t| t.group().is_some())
                    .count();
                assert_eq!(groups, 2, "the two connections run in the group");
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(served.load(SeqCst), 3);
        });
    }
}
