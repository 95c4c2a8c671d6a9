//! A TCP server that shuts down gracefully on SIGTERM or ctrl-c: it stops accepting at
//! once, lets the requests in flight finish within a grace period, cancels what is left,
//! and exits 0 (what systemd and Kubernetes expect of a service).
//!
//! The protocol is line-based: `hold` answers `started`, then waits for `release` and
//! answers `done` (a request whose length the client controls); any other line is echoed.
//!
//! `cargo run --example graceful` tells the whole story in one process: a client starts a
//! request, the process sends itself SIGTERM, the request still completes, and the server
//! exits. `cargo run --example graceful -- 127.0.0.1:8080` serves until you press ctrl-c
//! or `kill <pid>` it (talk to it with `nc 127.0.0.1 8080`).

use arbor::net::{TcpListener, TcpStream};
use arbor::signal::{SIGINT, SIGTERM, Signals};
use arbor::sync::mpsc;
use arbor::{CancelScope, TaskGroup};
use std::future::Future;
use std::io;
use std::time::Duration;

/// How long requests in flight may take to finish once a stop was asked for.
pub const GRACE: Duration = Duration::from_secs(10);

fn main() -> io::Result<()> {
    arbor::run(async {
        match std::env::args().nth(1) {
            Some(addr) => run(TcpListener::bind(addr).await?, GRACE).await,
            None => demo().await,
        }
    })
}

/// Serves on `listener` until SIGTERM or SIGINT (ctrl-c), then drains within `grace`.
pub async fn run(listener: TcpListener, grace: Duration) -> io::Result<()> {
    // Listen before saying we are up: from then on, SIGTERM means "stop gracefully"
    // instead of the default "die".
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    println!("listening on {}", listener.local_addr()?);
    let stop = async move {
        let signal = signals.next().await;
        let name = if signal == Some(SIGINT) {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        println!("stopping on {name}");
    };
    serve_until(listener, stop, grace).await?;
    println!("stopped");
    Ok(())
}

/// The server and a client in one process: the client's request is in flight when the
/// process sends itself SIGTERM, and still gets its answer.
pub async fn demo() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = arbor::spawn(run(listener, GRACE));
    let mut client = TcpStream::connect(addr).await?;
    let mut reply = [0; 8];
    client.write_all(b"hold\n").await?;
    client.read_exact(&mut reply).await?; // "started\n": the server is listening for signals
    println!("client: request started; sending SIGTERM to this process");
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::TERM)?;
    // Give the server a moment to stop accepting; the request is still in flight.
    arbor::sleep(Duration::from_millis(100)).await;
    client.write_all(b"release\n").await?;
    let mut done = [0; 5];
    client.read_exact(&mut done).await?;
    println!(
        "client: got {:?}",
        String::from_utf8_lossy(&done).trim_end()
    );
    drop(client);
    server.await?
}

/// Serves connections on `listener` until `stop` resolves; then stops accepting (the
/// listener is closed: new connections are refused), lets the connections in flight finish
/// within `grace`, cancels those still running after it, and returns. An accept error ends
/// it early, with that error, once the connections are gone.
pub async fn serve_until(
    listener: TcpListener,
    stop: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()> {
    let result = TaskGroup::<io::Error>::scope(|conns| async move {
        // Every connection (and the accept loop) holds a sender: `recv` returns `None` once
        // all of them are gone.
        let (alive, mut all_done) = mpsc::channel::<()>(1);
        let acceptor = conns.spawn(accept_loop(listener, conns.clone(), alive));
        stop.await;
        // Stop accepting: the loop is dropped, and the listener with it.
        acceptor.cancel();
        let _ = acceptor.await;
        println!("stopped accepting");
        // The drain: a shielded region with its own deadline, so that only `grace` cuts
        // the wait short. Whatever is still running after it is cancelled.
        let drained = CancelScope::shielded()
            .run(arbor::move_on_after(grace, all_done.recv()))
            .await;
        if drained != Ok(Some(None)) {
            println!("grace period over: cancelling the remaining connections");
            conns.cancel();
        }
        Ok(())
    })
    .await;
    match result {
        Ok(()) => Ok(()),
        // Cancelled by `conns.cancel()` after the grace: still a clean stop.
        Err(e) if e.is_cancelled() => Ok(()),
        Err(e) => Err(e
            .into_errors()
            .into_iter()
            .next()
            .unwrap_or_else(|| io::Error::other("the server failed"))),
    }
}

/// Accepts connections until cancelled, one child task of `conns` each. An accept error
/// fails the group (and so ends `serve_until` with it).
async fn accept_loop(
    listener: TcpListener,
    conns: TaskGroup<io::Error>,
    alive: mpsc::Sender<()>,
) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let alive = alive.clone();
        drop(conns.spawn(async move {
            let _alive = alive;
            // One connection's error is not the server's.
            if let Err(e) = handle(stream).await {
                eprintln!("connection from {peer} failed: {e}");
            }
            Ok(())
        }));
    }
}

/// Serves one connection: `hold` / `release` requests, anything else echoed.
async fn handle(stream: TcpStream) -> io::Result<()> {
    let (mut reader, mut writer) = stream.into_split();
    let mut pending = Vec::new();
    let mut buf = [0; 1024];
    let mut holding = false;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(()); // the client closed its side
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            match (line.trim_ascii(), holding) {
                (b"hold", false) => {
                    holding = true;
                    writer.write_all(b"started\n").await?;
                }
                (b"release", true) => {
                    holding = false;
                    writer.write_all(b"done\n").await?;
                }
                (other, _) => {
                    writer.write_all(other).await?;
                    writer.write_all(b"\n").await?;
                }
            }
        }
    }
}
