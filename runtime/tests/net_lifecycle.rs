//! IO and the runtime's life: constructors outside a runtime return errors (not panics),
//! operations pending or started after the runtime shut down fail instead of hanging, and
//! an idle runtime sleeps in the poller instead of spinning.

#![cfg(unix)]

mod support;
use arbor_runtime::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};
use arbor_runtime::runtime::Builder;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Polls `fut` once, outside any runtime.
fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    pin!(fut).poll(&mut cx)
}

fn assert_no_runtime<T: std::fmt::Debug>(result: std::io::Result<T>) {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Other);
    let msg = err.to_string();
    assert!(
        msg.contains("arbor::run") && msg.contains("#[arbor::main]"),
        "{msg}"
    );
}

#[test]
fn constructors_outside_a_runtime_return_errors() {
    let Poll::Ready(r) = poll_once(TcpStream::connect("127.0.0.1:1")) else {
        panic!("connect waited outside a runtime")
    };
    assert_no_runtime(r);
    let Poll::Ready(r) = poll_once(TcpListener::bind("127.0.0.1:0")) else {
        panic!("bind waited outside a runtime")
    };
    assert_no_runtime(r);
    let Poll::Ready(r) = poll_once(UdpSocket::bind("127.0.0.1:0")) else {
        panic!("bind waited outside a runtime")
    };
    assert_no_runtime(r);
    assert_no_runtime(UnixStream::pair());
    assert_no_runtime(UnixDatagram::unbound());
    let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert_no_runtime(TcpListener::from_std(std));
    let Poll::Ready(r) = poll_once(arbor_runtime::net::lookup_host("localhost:1")) else {
        panic!("lookup waited outside a runtime")
    };
    assert_no_runtime(r.map(|_| ()));
}

#[test]
fn operations_after_shutdown_fail() {
    for (name, make) in support::flavours() {
        let rt = make();
        let (mut a, b) = rt.block_on(async { UnixStream::pair().unwrap() });
        drop(rt);
        let other = Builder::new_current_thread().build().unwrap();
        other.block_on(async {
            let mut buf = [0; 4];
            let err = a.read(&mut buf).await.unwrap_err();
            assert!(err.to_string().contains("shut down"), "{name}: {err}");
            let err = a.write_all(b"x").await.unwrap_err();
            assert!(err.to_string().contains("shut down"), "{name}: {err}");
        });
        drop(b);
    }
}

#[test]
fn an_operation_pending_at_shutdown_fails() {
    for (name, make) in support::flavours() {
        let rt = make();
        let (mut a, _b) = rt.block_on(async { UnixStream::pair().unwrap() });
        // Another runtime's thread waits on a socket of `rt` while `rt` shuts down.
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let other = Builder::new_current_thread().build().unwrap();
            other.block_on(async move {
                let mut buf = [0; 4];
                let read = a.read(&mut buf);
                let mut read = pin!(read);
                // Register the wait, then tell the test to shut `rt` down.
                std::future::poll_fn(|cx| {
                    let poll = read.as_mut().poll(cx);
                    let _ = started_tx.send(());
                    poll
                })
                .await
            })
        });
        started_rx.recv().unwrap();
        drop(rt);
        let err = waiter.join().unwrap().unwrap_err();
        assert!(err.to_string().contains("shut down"), "{name}: {err}");
    }
}

/// How long the idle test leaves each runtime alone.
const IDLE: Duration = Duration::from_millis(200);
/// Poller wake-ups tolerated in that time: the timer's own, a few spurious ones; a
/// spinning runtime makes thousands.
const MAX_IDLE_POLLS: usize = 10;

#[test]
fn an_idle_runtime_sleeps_in_the_poller() {
    for (name, make) in support::flavours() {
        let rt = make();
        let handle = rt.handle().clone();
        // Sockets registered, nothing happening on them.
        let (_a, _b, _l) = rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            (a, b, l)
        });
        // Idle with no timer at all (workers parked; current-thread not driven).
        let before = handle.io_poll_count();
        std::thread::sleep(IDLE);
        let idle = handle.io_poll_count() - before;
        assert!(
            idle <= MAX_IDLE_POLLS,
            "{name}: {idle} poller wake-ups while idle"
        );
        // Idle waiting for one timer.
        let before = handle.io_poll_count();
        rt.block_on(arbor_runtime::time::sleep(IDLE));
        let sleeping = handle.io_poll_count() - before;
        assert!(
            sleeping >= 1,
            "{name}: the sleep did not wait in the poller"
        );
        assert!(
            sleeping <= MAX_IDLE_POLLS,
            "{name}: {sleeping} poller wake-ups in a sleep"
        );
    }
}
