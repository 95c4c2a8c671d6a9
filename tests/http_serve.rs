//! `arbor::http::serve` (feature `http`): keep-alive reuse, HTTP/2 multiplexing, the
//! header read timeout on virtual time, a malformed request, 1,000 concurrent requests,
//! and a Unix listener.

#![cfg(all(unix, feature = "http"))]

#[path = "support/http.rs"]
mod support;

use arbor::http::hyper::body::{Bytes, Incoming};
use arbor::http::hyper::service::service_fn;
use arbor::http::hyper::{Request, Response};
use arbor::http::{ServeConfig, serve, serve_with};
use arbor::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use arbor::runtime::Builder;
use arbor::sync::Barrier;
use arbor::time::Instant;
use arbor::{CancelScope, TaskGroup};
use http_body_util::Full;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;
use support::{Counting, get, h1, h2, read, unix_path};

/// Requests sent over one kept-alive connection.
const REQUESTS: usize = 20;

type Reply = Result<Response<Full<Bytes>>, Infallible>;

/// Answers with the request's path; counts the requests it serves.
fn echo_path(
    served: Arc<AtomicUsize>,
) -> impl Fn(Request<Incoming>) -> std::future::Ready<Reply> + Clone + Send + Sync + 'static {
    move |req| {
        served.fetch_add(1, SeqCst);
        let path = Bytes::copy_from_slice(req.uri().path().as_bytes());
        std::future::ready(Ok(Response::new(Full::new(path))))
    }
}

/// Runs `client` against `serve` on `listener` (wrapped to count accepts), then cancels the
/// server and checks it shut down cleanly. Returns the accepts.
async fn with_server<L, C, F>(listener: L, served: Arc<AtomicUsize>, client: C) -> usize
where
    L: arbor::http::Listener,
    C: FnOnce() -> F,
    F: std::future::Future<Output = ()>,
{
    let listener = Counting::new(listener);
    let accepts = listener.accepts.clone();
    let scope = CancelScope::new();
    let stop = scope.handle();
    let server = arbor::spawn(scope.run(serve(listener, service_fn(echo_path(served)))));
    client().await;
    stop.cancel();
    assert!(matches!(server.await.unwrap(), Err(arbor::Cancelled)));
    accepts.load(SeqCst)
}

/// HTTP/1.1 keep-alive: N requests on one client connection are N requests on one accepted
/// connection.
#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    for rt in support::flavours() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let served = Arc::new(AtomicUsize::new(0));
            let accepts = with_server(listener, served.clone(), || async move {
                let mut sender = h1(TcpStream::connect(addr).await.unwrap()).await;
                for i in 0..REQUESTS {
                    sender.ready().await.unwrap();
                    let response = sender.send_request(get(&format!("/{i}"))).await.unwrap();
                    assert_eq!(read(response).await, (200, Bytes::from(format!("/{i}"))));
                }
            })
            .await;
            assert_eq!(served.load(SeqCst), REQUESTS);
            assert_eq!(accepts, 1, "every request came over the one connection");
        });
    }
}

/// HTTP/2 (prior knowledge) is detected on the same listener, and its streams run at once:
/// each request waits at a barrier that opens only when all of them are in the service
/// together, all over one accepted connection.
#[test]
fn http2_multiplexes_concurrent_requests_on_one_connection() {
    const STREAMS: usize = 10;
    for rt in support::flavours() {
        rt.block_on(async {
            let listener = Counting::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.inner.local_addr().unwrap();
            let accepts = listener.accepts.clone();
            let barrier = Arc::new(Barrier::new(STREAMS));
            let service = service_fn(move |req: Request<Incoming>| {
                let barrier = barrier.clone();
                async move {
                    assert_eq!(req.version(), arbor::http::hyper::Version::HTTP_2);
                    barrier.wait().await;
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("together"))))
                }
            });
            let scope = CancelScope::new();
            let stop = scope.handle();
            let server = arbor::spawn(scope.run(serve(listener, service)));

            let sender = h2(TcpStream::connect(addr).await.unwrap()).await;
            let requests = (0..STREAMS).map(|i| {
                let mut sender = sender.clone();
                async move { read(sender.send_request(get(&format!("/{i}"))).await.unwrap()).await }
            });
            for (status, body) in arbor::gather(requests).await {
                assert_eq!((status, &body[..]), (200, &b"together"[..]));
            }
            assert_eq!(
                accepts.load(SeqCst),
                1,
                "one connection carried every stream"
            );
            stop.cancel();
            assert!(matches!(server.await.unwrap(), Err(arbor::Cancelled)));
        });
    }
}

/// Reads until the peer closes; returns what came and when it closed.
async fn read_to_close(stream: &mut UnixStream) -> (Vec<u8>, Instant) {
    let mut got = Vec::new();
    let mut buf = [0; 512];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return (got, Instant::now()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// The header read timeout, on virtual time: a client that sends nothing, half a request
/// head, or half of HTTP/2's preface, is disconnected exactly `header_read_timeout` after
/// it connected; and a keep-alive connection left idle after a response is closed
/// `header_read_timeout` after that response. No wall time passes waiting.
#[test]
fn header_read_timeout_closes_silent_and_slow_clients_on_virtual_time() {
    const TIMEOUT: Duration = Duration::from_secs(30);
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let path = unix_path("header-timeout");
        let listener = UnixListener::bind(&path).unwrap();
        let config = ServeConfig::default().header_read_timeout(TIMEOUT);
        let scope = CancelScope::new();
        let stop = scope.handle();
        let served = Arc::new(AtomicUsize::new(0));
        let server = arbor::spawn(scope.run(serve_with(
            listener,
            service_fn(echo_path(served.clone())),
            config,
        )));

        let half_preface = &b"PRI * HTTP/2.0\r\n"[..];
        for sent in [
            &b""[..],
            b"GET / HTTP/1.1\r\nhost: arbor.test\r\n",
            half_preface,
        ] {
            let mut client = UnixStream::connect(&path).await.unwrap();
            let start = Instant::now();
            client.write_all(sent).await.unwrap();
            let (got, closed) = arbor::timeout(2 * TIMEOUT, read_to_close(&mut client))
                .await
                .expect("the server closed the connection");
            assert_eq!(
                closed - start,
                TIMEOUT,
                "sent {:?}: closed when the timeout passed, on arbor's clock",
                String::from_utf8_lossy(sent)
            );
            assert!(
                got.is_empty() || got.starts_with(b"HTTP/1.1 408"),
                "no response but a timeout: {:?}",
                String::from_utf8_lossy(&got)
            );
        }

        // A served keep-alive connection, then idle: closed a timeout after its response.
        let mut client = UnixStream::connect(&path).await.unwrap();
        client
            .write_all(b"GET /one HTTP/1.1\r\nhost: arbor.test\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0; 512];
        let n = client.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        let answered = Instant::now();
        let (_, closed) = arbor::timeout(2 * TIMEOUT, read_to_close(&mut client))
            .await
            .expect("the server closed the connection");
        assert_eq!(closed - answered, TIMEOUT);
        assert_eq!(served.load(SeqCst), 1);

        stop.cancel();
        assert!(matches!(server.await.unwrap(), Err(arbor::Cancelled)));
        let _ = std::fs::remove_file(&path);
    });
}

/// A request hyper cannot parse gets a 400 or a closed connection, and the server goes on
/// serving other connections (HTTP/1 and HTTP/2).
#[test]
fn a_malformed_request_is_refused_and_the_server_keeps_serving() {
    for rt in support::flavours() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let served = Arc::new(AtomicUsize::new(0));
            with_server(listener, served.clone(), || async move {
                let garbage: [&[u8]; 3] = [
                    b"GET /\x01 HTTP/1.1\r\nho st\r\n\r\n",
                    b"NOT HTTP AT ALL\r\n\r\n",
                    // HTTP/2's preface, then a frame header that is not SETTINGS.
                    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\xff\xff\xff\xff\xff\xff",
                ];
                for bytes in garbage {
                    let mut raw = TcpStream::connect(addr).await.unwrap();
                    raw.write_all(bytes).await.unwrap();
                    let mut got = Vec::new();
                    let mut buf = [0; 512];
                    while let Ok(n @ 1..) = raw.read(&mut buf).await {
                        got.extend_from_slice(&buf[..n]);
                    }
                    assert!(
                        got.is_empty() || got.starts_with(b"HTTP/1.1 400") || bytes[0] == b'P',
                        "a 400 or a close: {:?}",
                        String::from_utf8_lossy(&got)
                    );
                    // The next clients are served as usual.
                    let mut sender = h1(TcpStream::connect(addr).await.unwrap()).await;
                    let response = sender.send_request(get("/after")).await.unwrap();
                    assert_eq!(read(response).await, (200, Bytes::from("/after")));
                    let mut sender = h2(TcpStream::connect(addr).await.unwrap()).await;
                    let response = sender.send_request(get("/h2")).await.unwrap();
                    assert_eq!(read(response).await, (200, Bytes::from("/h2")));
                }
            })
            .await;
            assert_eq!(
                served.load(SeqCst),
                6,
                "only the good requests reached the service"
            );
        });
    }
}

/// 1,000 requests in the service at once: 200 over HTTP/1 connections of their own and 800
/// as HTTP/2 streams over 8 connections, all waiting at one barrier that opens only when
/// every one of them is in.
#[test]
fn a_thousand_concurrent_requests_are_all_in_flight_together() {
    const H1_CONNS: usize = 200;
    const H2_CONNS: usize = 8;
    const STREAMS: usize = 100;
    const TOTAL: usize = H1_CONNS + H2_CONNS * STREAMS;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let barrier = Arc::new(Barrier::new(TOTAL));
        let service = service_fn(move |_: Request<Incoming>| {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("ok"))))
            }
        });
        let scope = CancelScope::new();
        let stop = scope.handle();
        let server = arbor::spawn(scope.run(serve(listener, service)));

        let ok = Arc::new(AtomicUsize::new(0));
        TaskGroup::<Infallible>::scope(|tg| {
            let ok = ok.clone();
            async move {
                for _ in 0..H1_CONNS {
                    let ok = ok.clone();
                    drop(tg.spawn(async move {
                        let mut sender = h1(TcpStream::connect(addr).await.unwrap()).await;
                        let response = sender.send_request(get("/")).await.unwrap();
                        assert_eq!(read(response).await, (200, Bytes::from("ok")));
                        ok.fetch_add(1, SeqCst);
                        Ok(())
                    }));
                }
                for _ in 0..H2_CONNS {
                    let sender = h2(TcpStream::connect(addr).await.unwrap()).await;
                    for _ in 0..STREAMS {
                        let (mut sender, ok) = (sender.clone(), ok.clone());
                        drop(tg.spawn(async move {
                            let response = sender.send_request(get("/")).await.unwrap();
                            assert_eq!(read(response).await, (200, Bytes::from("ok")));
                            ok.fetch_add(1, SeqCst);
                            Ok(())
                        }));
                    }
                }
                Ok(())
            }
        })
        .await
        .unwrap();
        assert_eq!(ok.load(SeqCst), TOTAL);
        stop.cancel();
        assert!(matches!(server.await.unwrap(), Err(arbor::Cancelled)));
    });
}

/// Over a Unix listener: HTTP/1 and HTTP/2 clients are both served.
#[test]
fn a_unix_listener_serves_http1_and_http2() {
    for rt in support::flavours() {
        rt.block_on(async {
            let path = unix_path("serve");
            let listener = UnixListener::bind(&path).unwrap();
            let served = Arc::new(AtomicUsize::new(0));
            let p = path.clone();
            let accepts = with_server(listener, served.clone(), || async move {
                let mut sender = h1(UnixStream::connect(&p).await.unwrap()).await;
                for _ in 0..3 {
                    sender.ready().await.unwrap();
                    let response = sender.send_request(get("/h1")).await.unwrap();
                    assert_eq!(read(response).await, (200, Bytes::from("/h1")));
                }
                let mut sender = h2(UnixStream::connect(&p).await.unwrap()).await;
                let response = sender.send_request(get("/h2")).await.unwrap();
                assert_eq!(read(response).await, (200, Bytes::from("/h2")));
            })
            .await;
            assert_eq!((accepts, served.load(SeqCst)), (2, 4));
            let _ = std::fs::remove_file(&path);
        });
    }
}

/// `Duration::MAX` timeouts mean "never": no overflow anywhere (hyper's timer adds the
/// header timeout to an instant), and requests are served as usual.
#[test]
fn duration_max_timeouts_mean_never() {
    for rt in support::flavours() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let config = ServeConfig::default()
                .grace(Duration::MAX)
                .header_read_timeout(Duration::MAX);
            let served = Arc::new(AtomicUsize::new(0));
            let scope = CancelScope::new();
            let stop = scope.handle();
            let server = arbor::spawn(scope.run(serve_with(
                listener,
                service_fn(echo_path(served.clone())),
                config,
            )));
            let mut sender = h1(TcpStream::connect(addr).await.unwrap()).await;
            for _ in 0..2 {
                sender.ready().await.unwrap();
                let response = sender.send_request(get("/max")).await.unwrap();
                assert_eq!(read(response).await, (200, Bytes::from("/max")));
            }
            drop(sender);
            stop.cancel();
            assert!(matches!(server.await.unwrap(), Err(arbor::Cancelled)));
            assert_eq!(served.load(SeqCst), 2);
        });
    }
}
