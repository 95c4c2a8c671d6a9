//! A hello-world HTTP server (HTTP/1.1 and HTTP/2) on `arbor::http::serve`, until ctrl-c
//! or a number of seconds, then a graceful shutdown: new connections are refused, requests
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
use arbor::net::{TcpListener, UnixStream};
use arbor::{TimedOut, Timeout};
use http_body_util::Full;
use std::convert::Infallible;
use std::io;
use std::os::fd::IntoRawFd;
use std::sync::atomic::{AtomicI32, Ordering};
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
    let mut interrupted = ctrl_c()?;
    let on_ctrl_c = arbor::spawn(async move {
        let _ = interrupted.read(&mut [0]).await;
        println!("ctrl-c: draining");
        stop.cancel();
    });

    let config = ServeConfig::default().grace(GRACE);
    let served = timeout
        .run(serve_with(listener, service_fn(hello), config))
        .await;
    on_ctrl_c.cancel();
    match served {
        Ok(result) => result,
        Err(TimedOut) => {
            println!("stopped and drained");
            Ok(())
        }
    }
}

/// The write end of the pipe SIGINT's handler writes to.
static SIGINT_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigint(_: libc::c_int) {
    let fd = SIGINT_PIPE.load(Ordering::Relaxed);
    // SAFETY: write(2) is async-signal-safe; `fd` is the pipe's write end, open for the
    // rest of the program, and the buffer is one byte on this stack. A full pipe fails the
    // write, which is fine: a byte is waiting already.
    unsafe { libc::write(fd, [1u8].as_ptr().cast(), 1) };
}

/// A stream that becomes readable on ctrl-c (SIGINT): a handler that writes to a socket
/// pair, the self-pipe trick.
fn ctrl_c() -> io::Result<UnixStream> {
    let (reader, writer) = UnixStream::pair()?;
    SIGINT_PIPE.store(writer.into_std()?.into_raw_fd(), Ordering::Relaxed);
    let handler: extern "C" fn(libc::c_int) = on_sigint;
    // SAFETY: the handler only loads an atomic and calls write(2), both async-signal-safe.
    let previous = unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) };
    if previous == libc::SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(reader)
}
