//! The `graceful` example's shutdown, run from its own source: in-process (a stop lets the
//! request in flight finish; the grace period bounds the drain, on virtual time), and as a
//! child process that gets a real SIGTERM or SIGINT with a request in flight.
#![cfg(unix)]

#[path = "../examples/graceful.rs"]
#[allow(dead_code, reason = "the example's `main` is not used here")]
mod graceful;

use arbor::net::{TcpListener, TcpStream};
use arbor::runtime::{Builder, Runtime};
use arbor::sync::Event;
use arbor::time::Instant;
use std::io::{self, BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// Sends one request line and reads the one-line reply.
async fn request(client: &mut TcpStream, line: &str, reply: &str) {
    client
        .write_all(format!("{line}\n").as_bytes())
        .await
        .unwrap();
    let mut got = vec![0; reply.len() + 1];
    client.read_exact(&mut got).await.unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), format!("{reply}\n"));
}

fn a_stop_lets_the_request_in_flight_finish(rt: &Runtime) {
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(Event::new());
        let stopped = stop.clone();
        let start = Instant::now();
        let server = arbor::spawn(graceful::serve_until(
            listener,
            async move { stopped.wait().await },
            graceful::GRACE,
        ));
        let mut client = TcpStream::connect(addr).await.unwrap();
        request(&mut client, "ping", "ping").await;
        request(&mut client, "hold", "started").await;
        stop.set();
        // The request in flight is still served after the stop.
        request(&mut client, "release", "done").await;
        drop(client);
        server.await.unwrap().unwrap();
        assert!(
            start.elapsed() < graceful::GRACE,
            "the drain waited for the grace"
        );
        // The listener is closed.
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn a_stop_lets_the_request_in_flight_finish_current_thread() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    a_stop_lets_the_request_in_flight_finish(&rt);
}

#[test]
fn a_stop_lets_the_request_in_flight_finish_multi_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    a_stop_lets_the_request_in_flight_finish(&rt);
}

#[test]
fn connections_still_running_after_the_grace_are_cancelled() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(Event::new());
        let stopped = stop.clone();
        let grace = Duration::from_secs(3);
        let server = arbor::spawn(graceful::serve_until(
            listener,
            async move { stopped.wait().await },
            grace,
        ));
        let mut client = TcpStream::connect(addr).await.unwrap();
        request(&mut client, "hold", "started").await;
        let stopped_at = Instant::now();
        stop.set();
        server.await.unwrap().unwrap();
        assert_eq!(
            stopped_at.elapsed(),
            grace,
            "the drain lasts exactly the grace"
        );
        // The held connection was cancelled: the client sees it close, without `done`.
        let mut rest = [0; 16];
        assert!(matches!(client.read(&mut rest).await, Ok(0) | Err(_)));
    });
}

// ---- The example as a child process (this test binary, re-run in child mode) ----

const CHILD_ENV: &str = "ARBOR_GRACEFUL_TEST_CHILD";

/// The child's entry point: runs the example's `run` (or its `demo`); an empty test in a
/// normal run.
#[test]
fn child() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    // On a line of its own, after the harness's "test child ... ".
    println!();
    arbor::run(async {
        if mode == "demo" {
            return graceful::demo().await;
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        graceful::run(listener, graceful::GRACE).await
    })
    .unwrap();
}

/// Sends `signal` to the example running as a child, with a request in flight.
fn stop_the_child_with(signal: rustix::process::Signal) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    // A lost signal fails the test instead of hanging it.
    let (done, watchdog) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let timeout = Duration::from_secs(60);
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = watchdog.recv_timeout(timeout) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut next_line = move || {
        let mut line = String::new();
        assert_ne!(stdout.read_line(&mut line).unwrap(), 0, "the child exited");
        line.trim_end().to_string()
    };
    let addr = loop {
        let line = next_line();
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.parse::<std::net::SocketAddr>().unwrap();
        }
    };
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    let mut replies = BufReader::new(client.try_clone().unwrap());
    let mut reply = String::new();
    client.write_all(b"hold\n").unwrap();
    replies.read_line(&mut reply).unwrap();
    assert_eq!(reply, "started\n");
    rustix::process::kill_process(pid, signal).unwrap();
    let expected = if signal == rustix::process::Signal::INT {
        "stopping on SIGINT"
    } else {
        "stopping on SIGTERM"
    };
    assert_eq!(next_line(), expected);
    assert_eq!(next_line(), "stopped accepting");
    // New connections are refused while the request in flight goes on.
    let err = std::net::TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    client.write_all(b"release\n").unwrap();
    reply.clear();
    replies.read_line(&mut reply).unwrap();
    assert_eq!(reply, "done\n");
    drop((client, replies));
    assert_eq!(next_line(), "stopped");
    let status = child.wait().unwrap();
    let _ = done.send(());
    assert!(status.success(), "{status}");
}

#[test]
fn sigterm_stops_the_example_gracefully() {
    stop_the_child_with(rustix::process::Signal::TERM);
}

#[test]
fn ctrl_c_stops_the_example_gracefully() {
    stop_the_child_with(rustix::process::Signal::INT);
}

#[test]
fn the_demo_sends_itself_sigterm_and_exits_0() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "demo")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    for line in [
        "stopping on SIGTERM",
        "stopped accepting",
        "client: got \"done\"",
        "stopped",
    ] {
        assert!(stdout.lines().any(|l| l == line), "no {line:?} in {stdout}");
    }
}
