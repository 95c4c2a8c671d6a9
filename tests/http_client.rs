//! `arbor::http::Client` (feature `http`): keep-alive reuse, HTTP/2 multiplexing, connect
//! errors (refused, timed out on virtual time), dropped and cancelled requests and the pool
//! afterwards, a half-read response, bad URIs, 1,000 concurrent requests.

#![cfg(all(unix, feature = "http"))]

#[path = "support/http.rs"]
mod support;

use arbor::http::hyper::body::{Bytes, Incoming};
use arbor::http::hyper::server::conn::{http1, http2};
use arbor::http::hyper::service::service_fn;
use arbor::http::hyper::{Request, Response, StatusCode};
use arbor::http::{Client, Error, Executor, Timer};
use arbor::net::TcpListener;
use arbor::runtime::Builder;
use arbor::time::Instant;
use http_body_util::{BodyExt, Full, StreamBody};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the test server counts.
#[derive(Default)]
struct Counts {
    /// Connections accepted.
    accepted: AtomicUsize,
    /// Requests answered.
    served: AtomicUsize,
    /// Requests in progress (for multiplexing).
    in_flight: AtomicUsize,
    /// The most requests in progress at once.
    most_in_flight: AtomicUsize,
    /// Each request's path and the connection (numbered from 1 in accept order) it came on.
    log: Mutex<Vec<(usize, String)>>,
}

impl Counts {
    /// The connection `path` was served on.
    fn conn_of(&self, path: &str) -> usize {
        let log = self.log.lock().unwrap();
        log.iter().find(|(_, p)| p == path).unwrap().0
    }

    /// The paths served on connection `conn`, in order.
    fn served_on(&self, conn: usize) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|(c, _)| *c == conn)
            .map(|(_, p)| p.clone())
            .collect()
    }
}

/// The test service: `/` says "hello"; `/wait/N` answers once N requests are in flight
/// at once; `/never` never answers; `/big` streams 1 MiB in 64 KiB chunks.
async fn service(
    counts: Arc<Counts>,
    conn: usize,
    req: Request<Incoming>,
) -> Result<Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>, Infallible> {
    let path = req.uri().path().to_owned();
    counts.log.lock().unwrap().push((conn, path.clone()));
    let now = counts.in_flight.fetch_add(1, SeqCst) + 1;
    counts.most_in_flight.fetch_max(now, SeqCst);
    let body = if let Some(n) = path.strip_prefix("/wait/") {
        let n: usize = n.parse().unwrap();
        while counts.most_in_flight.load(SeqCst) < n {
            arbor::sleep(Duration::from_millis(1)).await;
        }
        Full::new(Bytes::from("waited")).boxed()
    } else if path == "/never" {
        std::future::pending::<()>().await;
        unreachable!()
    } else if path.starts_with("/big") {
        let chunks = (0..16).map(|_| Ok(hyper_frame(Bytes::from(vec![7u8; 64 << 10]))));
        StreamBody::new(futures_stream(chunks)).boxed()
    } else {
        Full::new(Bytes::from(format!("hello {path}"))).boxed()
    };
    counts.in_flight.fetch_sub(1, SeqCst);
    counts.served.fetch_add(1, SeqCst);
    Ok(Response::new(body))
}

fn hyper_frame(b: Bytes) -> arbor::http::hyper::body::Frame<Bytes> {
    arbor::http::hyper::body::Frame::data(b)
}

/// A stream over an iterator (the test needs no futures crate).
fn futures_stream<I: Iterator + Unpin>(iter: I) -> IterStream<I> {
    IterStream(iter)
}

struct IterStream<I>(I);

impl<I: Iterator + Unpin> futures_core::Stream for IterStream<I> {
    type Item = I::Item;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<I::Item>> {
        std::task::Poll::Ready(self.0.next())
    }
}

/// Serves HTTP/1.1 (or HTTP/2 with `h2`) on a fresh loopback listener in a detached task;
/// returns its address and counts.
async fn server(h2: bool) -> (SocketAddr, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    drop(arbor::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let conn = c.accepted.fetch_add(1, SeqCst) + 1;
            let c = c.clone();
            let svc = service_fn(move |req| service(c.clone(), conn, req));
            drop(arbor::spawn(async move {
                if h2 {
                    let _ = http2::Builder::new(Executor::new())
                        .timer(Timer::new())
                        .serve_connection(stream, svc)
                        .await;
                } else {
                    let _ = http1::Builder::new()
                        .timer(Timer::new())
                        .serve_connection(stream, svc)
                        .await;
                }
            }));
        }
    }));
    (addr, counts)
}

async fn body_of(response: Response<Incoming>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

/// Sequential requests from one task reuse one connection. On a current-thread runtime
/// the order is fixed: once a response body is read whole, the connection's own task and
/// hyper-util's return-to-pool task are queued before the next request's connect can
/// finish (it resolves the host on the blocking pool first), so the pool's checkout always
/// wins. (On several workers the next request may instead win the race and dial a new
/// connection, which is hyper-util's design: the race is covered by the other tests.)
#[test]
fn keep_alive_reuses_one_connection_for_sequential_requests() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (addr, counts) = server(false).await;
        let client = Client::new();
        for i in 0..20 {
            let response = client.get(format!("http://{addr}/{i}")).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(body_of(response).await, format!("hello /{i}"));
        }
        assert_eq!(counts.served.load(SeqCst), 20);
        // hyper-util's pool may dial a spare connection while the used one is on its way
        // back to the pool; what matters is that every request reused the first.
        let all: Vec<String> = (0..20).map(|i| format!("/{i}")).collect();
        assert_eq!(counts.served_on(1), all, "one kept-alive connection");
    });
}

#[test]
fn http2_multiplexes_concurrent_requests_on_one_connection() {
    for rt in support::flavours() {
        rt.block_on(async {
            let (addr, counts) = server(true).await;
            let client = Client::builder().http2_prior_knowledge().build().unwrap();
            // The connection, made by a first request (concurrent first requests may each
            // dial one before any is up).
            body_of(client.get(format!("http://{addr}/first")).await.unwrap()).await;
            // Each answer waits until 8 are in flight: only multiplexing completes them.
            let uri = format!("http://{addr}/wait/8");
            let mut tasks = Vec::new();
            for _ in 0..8 {
                let (client, uri) = (client.clone(), uri.clone());
                tasks.push(arbor::spawn(async move {
                    let response = client.get(uri).await.unwrap();
                    assert_eq!(response.version(), arbor::http::hyper::Version::HTTP_2);
                    body_of(response).await
                }));
            }
            for task in tasks {
                assert_eq!(task.await.unwrap(), "waited");
            }
            let first = counts.conn_of("/first");
            assert_eq!(
                counts.served_on(first).len(),
                9,
                "all on one HTTP/2 connection"
            );
            assert_eq!(counts.most_in_flight.load(SeqCst), 8);
        });
    }
}

#[test]
fn a_refused_connect_is_a_connect_error_with_the_io_cause() {
    for rt in support::flavours() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            drop(listener);
            let err = Client::new()
                .get(format!("http://{addr}/"))
                .await
                .unwrap_err();
            assert!(err.is_connect(), "{err:?}");
            assert!(!err.is_timeout(), "{err:?}");
            assert_eq!(
                err.io_error().unwrap().kind(),
                std::io::ErrorKind::ConnectionRefused
            );
            assert!(err.to_string().contains("refused"), "{err}");
            let io: std::io::Error = err.into();
            assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
        });
    }
}

/// A listener whose accept queue is full (backlog 0, one connection waiting, never
/// accepted): the next SYN is dropped, so a connect to it hangs.
fn full_listener() -> (std::net::TcpListener, Vec<std::net::TcpStream>) {
    use rustix::net::{AddressFamily, SocketType, bind, listen, socket};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    bind(&fd, &"127.0.0.1:0".parse::<SocketAddr>().unwrap()).unwrap();
    listen(&fd, 0).unwrap();
    let listener = std::net::TcpListener::from(fd);
    let addr = listener.local_addr().unwrap();
    let mut fill = Vec::new();
    // The kernel accepts backlog + 1 connections into the queue; a couple more to be sure
    // the queue is full (those connect in the background and are never accepted).
    for _ in 0..2 {
        let s = socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
        rustix::fs::fcntl_setfl(&s, rustix::fs::OFlags::NONBLOCK).unwrap();
        let _ = rustix::net::connect(&s, &addr);
        fill.push(std::net::TcpStream::from(s));
    }
    (listener, fill)
}

#[test]
fn a_connect_that_hangs_times_out_on_virtual_time() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let (listener, _fill) = full_listener();
        let addr = listener.local_addr().unwrap();
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let start = Instant::now();
        let err = client.get(format!("http://{addr}/")).await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(start.elapsed(), Duration::from_secs(10), "on arbor's clock");
    });
}

#[test]
fn a_dropped_request_closes_its_connection_and_the_pool_still_serves() {
    for rt in support::flavours() {
        rt.block_on(async {
            let (addr, counts) = server(false).await;
            let client = Client::new();
            // Warm the pool: one idle connection.
            body_of(client.get(format!("http://{addr}/a")).await.unwrap()).await;
            // A request that never gets its answer, abandoned by a timeout.
            let never = arbor::wait_for(
                Duration::from_millis(20),
                client.get(format!("http://{addr}/never")),
            )
            .await;
            assert!(never.is_err(), "the request was cut off");
            // The abandoned connection is not reused half-way: the next request gets an
            // answer (on a fresh connection), not the stale exchange.
            let response = client.get(format!("http://{addr}/b")).await.unwrap();
            assert_eq!(body_of(response).await, "hello /b");
            let abandoned = counts.conn_of("/never");
            let on_it = counts.served_on(abandoned);
            assert_eq!(
                on_it.last().unwrap(),
                "/never",
                "nothing after the abandoned one"
            );
            assert_ne!(counts.conn_of("/b"), abandoned, "a fresh connection");
        });
    }
}

#[test]
fn a_cancelled_request_inside_a_scope_releases_its_connection() {
    for rt in support::flavours() {
        rt.block_on(async {
            let (addr, counts) = server(false).await;
            let client = Client::new();
            let c = client.clone();
            let uri = format!("http://{addr}/never");
            let scope = arbor::CancelScope::new();
            let handle = scope.handle();
            let canceller = arbor::spawn(async move {
                arbor::sleep(Duration::from_millis(20)).await;
                handle.cancel();
            });
            let result = scope.run(async move { c.get(uri).await }).await;
            assert!(result.is_err(), "cancelled");
            canceller.await.unwrap();
            let response = client.get(format!("http://{addr}/after")).await.unwrap();
            assert_eq!(body_of(response).await, "hello /after");
            let abandoned = counts.conn_of("/never");
            let on_it = counts.served_on(abandoned);
            assert_eq!(
                on_it.last().unwrap(),
                "/never",
                "nothing after the abandoned one"
            );
            assert_ne!(counts.conn_of("/after"), abandoned);
        });
    }
}

#[test]
fn a_half_read_response_does_not_return_its_connection_to_the_pool() {
    for rt in support::flavours() {
        rt.block_on(async {
            let (addr, counts) = server(false).await;
            let client = Client::new();
            let response = client.get(format!("http://{addr}/big")).await.unwrap();
            let mut body = response.into_body();
            // One chunk of sixteen, then the response is dropped.
            let first = body.frame().await.unwrap().unwrap();
            assert!(first.is_data());
            drop(body);
            let response = client.get(format!("http://{addr}/next")).await.unwrap();
            assert_eq!(body_of(response).await, "hello /next");
            let half_read = counts.conn_of("/big");
            assert_eq!(
                counts.served_on(half_read),
                ["/big"],
                "not reused half-read"
            );
            // A body read whole leaves a connection the pool may hand out again.
            let big = body_of(client.get(format!("http://{addr}/big2")).await.unwrap()).await;
            assert_eq!(big.len(), 1 << 20);
            body_of(client.get(format!("http://{addr}/again")).await.unwrap()).await;
            assert_ne!(counts.conn_of("/again"), half_read);
        });
    }
}

#[test]
fn bad_uris_are_uri_errors() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let client = Client::new();
        for bad in [
            "not a uri",
            "/relative",
            "ftp://example.com/",
            "http:///path",
        ] {
            let err = client.get(bad).await.unwrap_err();
            assert!(!err.is_connect(), "{bad}: {err:?}");
            assert!(err.to_string().starts_with("invalid request URI"), "{err}");
        }
    });
}

#[cfg(not(feature = "tls"))]
#[test]
fn https_without_the_tls_feature_says_so() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let err = Client::new()
            .get(format!("https://{addr}/"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("`tls` feature"), "{err}");
    });
}

#[test]
fn a_thousand_concurrent_requests_all_succeed() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (addr, counts) = server(false).await;
        let client = Client::new();
        let mut tasks = Vec::new();
        for i in 0..1000 {
            let client = client.clone();
            tasks.push(arbor::spawn(async move {
                let response = client.get(format!("http://{addr}/{i}")).await?;
                let body = body_of(response).await;
                assert_eq!(body, format!("hello /{i}"));
                Ok::<_, Error>(())
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(counts.served.load(SeqCst), 1000);
    });
}

#[test]
fn the_client_and_its_error_are_send_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Client>();
    send_sync::<Error>();
    fn is_error<T: std::error::Error + Send + Sync + 'static>() {}
    is_error::<Error>();
    // A request future can be spawned onto a multi-thread runtime.
    fn send<T: Send>(_: &T) {}
    let client = Client::new();
    send(&client.get("http://127.0.0.1/"));
}
