//! A hello-world HTTP server (HTTP/1.1 and HTTP/2) on `arbor::http::serve`, until ctrl-c
//! (or SIGTERM) or a number of seconds, then a graceful shutdown: new connections are refused, requests
//! in flight get up to 5 s to finish.
//!
//! ```text
//! cargo run --release --features http --example http_server -- [ADDR] [SECONDS]
//! curl http://127.0.0.1:3000/        # ADDR defaults to 127.0.0.1:3000; no SECONDS: ctrl-c
//! ```

use arbor::http::hyper::body::{Bytes, Incoming};
use arbor::http::hyper::service::service_fn;
use arbor::http::hyper::{Request, Response};
use arbor::http::{ServeConfig, serve_with};
use arbor::net::TcpListener;
use arbor::signal::{SIGINT, SIGTERM, Signals};
use arbor::{TimedOut, Timeout};
use http_body_util::Full;
use std::convert::Infallible;
use std::io;
use std::time::Duration;

/// How long requests in flight may run on after ctrl-c or the time limit.
const GRACE: Duration = Duration::from_secs(5);

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!\n",
    ))))
}

#[arbor::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());
    let limit = match args.next() {
        Some(s) => Some(Duration::from_secs(s.parse().map_err(io::Error::other)?)),
        None => None,
    };

    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("listening on http://{}", listener.local_addr()?);

    // The time limit and ctrl-c both cancel this one timeout around `serve`.
    let timeout = limit.map_or_else(Timeout::never, Timeout::after);
    let stop = timeout.handle();
    // Listening from here on: a signal arriving before the task first runs is kept.
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let on_signal = arbor::spawn(async move {
        if let Some(signal) = signals.next().await {
            println!("signal {signal}: draining");
            stop.cancel();
        }
    });

    let config = ServeConfig::default().grace(GRACE);
    let served = timeout
        .run(serve_with(listener, service_fn(hello), config))
        .await;
    on_signal.cancel();
    match served {
        Ok(result) => result,
        Err(TimedOut) => {
            println!("stopped and drained");
            Ok(())
        }
    }
}
