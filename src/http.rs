//! HTTP on arbor (feature `http`): hyper runs on arbor with no glue.
//!
//! - arbor's streams ([`net::TcpStream`](crate::net::TcpStream),
//!   [`net::UnixStream`](crate::net::UnixStream)) and their owned halves implement
//!   `hyper::rt::{Read, Write}` directly: hand a stream to hyper's connection builders as
//!   is. Reads go straight into hyper's uninitialised buffers, with no zeroing.
//! - [`Timer`] is hyper's timer on arbor's clock, so HTTP code runs on virtual time in tests
//!   ([`time::pause`], `start_paused`): header-read and keep-alive
//!   timeouts take no wall time.
//! - [`Executor`] spawns what hyper spawns onto the current runtime;
//!   [`TaskGroup`](crate::TaskGroup) is an executor too, whose tasks are children of the
//!   group.
//! - [`serve`] / [`serve_with`] run a server: HTTP/1.1 and HTTP/2 on one listener (TCP or
//!   Unix), a task per connection in a [`TaskGroup`](crate::TaskGroup), a header read
//!   timeout, and a graceful shutdown when the code around it is cancelled.
//! - [`hyper`] is the hyper arbor was built with (HTTP/1 and HTTP/2, client and server).
//!
//! ```
//! use arbor::http::hyper::server::conn::http1;
//! use arbor::http::hyper::service::service_fn;
//! use arbor::http::hyper::{Request, Response, body::Incoming};
//! use arbor::http::{Executor, Timer, hyper};
//! use arbor::net::{TcpListener, TcpStream};
//! use hyper::rt::Executor as _;
//!
//! arbor::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     arbor::spawn(async move {
//!         let (stream, _) = listener.accept().await?;
//!         let hello = service_fn(|_: Request<Incoming>| async {
//!             Ok::<_, std::convert::Infallible>(Response::new(String::from("hello")))
//!         });
//!         let conn = http1::Builder::new().timer(Timer::new()).serve_connection(stream, hello);
//!         conn.await.map_err(std::io::Error::other)
//!     });
//!
//!     let stream = TcpStream::connect(addr).await?;
//!     let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, String>(stream)
//!         .await
//!         .map_err(std::io::Error::other)?;
//!     Executor::new().execute(conn); // drives the connection in a task of its own
//!     let request = Request::get("/").header("host", "localhost").body(String::new());
//!     let response = sender
//!         .send_request(request.unwrap())
//!         .await
//!         .map_err(std::io::Error::other)?;
//!     assert_eq!(response.status(), 200);
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

use arbor_runtime::time::{self, Instant};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

pub use hyper;

mod client;
mod error;
#[cfg(unix)]
mod serve;
#[cfg(feature = "tls")]
mod tls;

pub use client::{Client, ClientBuilder};
pub use error::Error;
#[cfg(unix)]
pub use serve::{Listener, ServeConfig, serve, serve_with};

/// hyper's [`Timer`](hyper::rt::Timer) on arbor's clock: its sleeps are arbor
/// [`Sleep`](crate::time::Sleep)s and its `now` is [`Instant::now`](crate::time::Instant::now),
/// so a paused runtime's virtual time drives hyper's timeouts too. Resetting a sleep moves
/// its deadline in place (no new timer).
///
/// Give it to hyper's builders: `http1::Builder::new().timer(Timer::new())`.
///
/// ```
/// use arbor::http::Timer;
/// use arbor::http::hyper::rt::Timer as _;
/// use arbor::runtime::Builder;
/// use arbor::time::Instant;
/// use std::time::Duration;
///
/// let rt = Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let timer = Timer::new();
///     let start = Instant::now();
///     timer.sleep(Duration::from_secs(30)).await; // virtual: no wall time passes
///     assert_eq!(start.elapsed(), Duration::from_secs(30));
///     assert_eq!(timer.now(), Instant::now().into_std());
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer {
    _private: (),
}

impl Timer {
    /// The timer (it holds nothing: the clock is the current runtime's).
    pub fn new() -> Timer {
        Timer { _private: () }
    }
}

/// The sleep [`Timer`] hands hyper: arbor's, so that `reset` can find it again.
struct HyperSleep(time::Sleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(time::sleep_until(Instant::from_std(deadline))))
    }

    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => ours.get_mut().0.reset(Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// hyper's [`Executor`](hyper::rt::Executor) on arbor: each future hyper hands it (an
/// HTTP/2 stream, a connection's background work) is spawned as a task of its own on the
/// current runtime, detached (as [`arbor::spawn`](crate::spawn) with the `Task` dropped).
///
/// To keep those tasks inside a structure instead, give hyper a
/// [`TaskGroup`](crate::TaskGroup): it is an executor too, and its tasks are children of
/// the group.
///
/// # Panics
/// `execute` outside a runtime, as [`arbor::spawn`](crate::spawn) does.
///
/// ```
/// use arbor::http::Executor;
/// use arbor::http::hyper::rt::Executor as _;
///
/// arbor::run(async {
///     let (tx, rx) = arbor::sync::oneshot::channel();
///     Executor::new().execute(async move { tx.send(42).unwrap() });
///     assert_eq!(rx.await.unwrap(), 42);
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Executor {
    _private: (),
}

impl Executor {
    /// The executor (it holds nothing: tasks go to the current runtime).
    pub fn new() -> Executor {
        Executor { _private: () }
    }
}

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, fut: F) {
        // Detached: the task runs to completion on its own.
        drop(arbor_runtime::spawn(fut));
    }
}
