//! Shared by the `arbor::http::serve` tests: a listener that counts its accepts and says
//! when it is closed, Unix socket paths, and hyper clients (HTTP/1 and HTTP/2) driven by
//! tasks of their own.

#![allow(dead_code, reason = "each test file uses its own share of the helpers")]

use arbor::http::hyper::body::{Bytes, Incoming};
use arbor::http::hyper::client::conn::{http1, http2};
use arbor::http::hyper::{Request, Response};
use arbor::http::{Executor, Listener, hyper};
use arbor::sync::Event;
use http_body_util::{BodyExt, Full};
use hyper::rt::Executor as _;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// The runtimes each test runs on: current-thread and two workers.
pub fn flavours() -> Vec<arbor::runtime::Runtime> {
    use arbor::runtime::Builder;
    vec![
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

/// Wraps a listener: counts the connections it accepted, and sets `closed` when dropped
/// (`serve` closing its listener).
pub struct Counting<L> {
    pub inner: L,
    pub accepts: Arc<AtomicUsize>,
    pub closed: Arc<Event>,
}

impl<L> Counting<L> {
    pub fn new(inner: L) -> Counting<L> {
        Counting {
            inner,
            accepts: Arc::default(),
            closed: Arc::default(),
        }
    }
}

impl<L> Drop for Counting<L> {
    fn drop(&mut self) {
        self.closed.set();
    }
}

impl<L: Listener> Listener for Counting<L> {
    type Io = L::Io;
    type Addr = L::Addr;

    async fn accept(&self) -> io::Result<(L::Io, L::Addr)> {
        let accepted = self.inner.accept().await?;
        self.accepts.fetch_add(1, SeqCst);
        Ok(accepted)
    }
}

/// A fresh path for a Unix socket in the temporary directory (removed if it exists).
pub fn unix_path(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, SeqCst);
    let path =
        std::env::temp_dir().join(format!("arbor-http-{}-{name}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// The client side of one HTTP/1 connection; its connection runs in a task of its own.
pub async fn h1<S>(io: S) -> http1::SendRequest<Full<Bytes>>
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(io).await.unwrap();
    Executor::new().execute(async move {
        let _ = conn.await;
    });
    sender
}

/// The client side of one HTTP/2 connection (prior knowledge); its connection runs in a
/// task of its own.
pub async fn h2<S>(io: S) -> http2::SendRequest<Full<Bytes>>
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http2::Builder::new(Executor::new())
        .timer(arbor::http::Timer::new())
        .handshake(io)
        .await
        .unwrap();
    Executor::new().execute(async move {
        let _ = conn.await;
    });
    sender
}

/// A GET request for `path`.
pub fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(format!("http://arbor.test{path}"))
        .body(Full::default())
        .unwrap()
}

/// A response's status and whole body.
pub async fn read(response: Response<Incoming>) -> (u16, Bytes) {
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body)
}
