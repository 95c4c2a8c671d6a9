//! `net::serve`: a task per connection in a TaskGroup; cancelling it cancels every
//! connection; a failing handler does not stop the server.

#![cfg(unix)]

use arbor::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn serves_many_connections_and_a_failing_handler_does_not_stop_it() {
    arbor::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = arbor::spawn(arbor::net::serve(
            listener,
            |mut conn: TcpStream, _| async move {
                let mut buf = [0; 4];
                conn.read_exact(&mut buf).await?;
                if &buf == b"fail" {
                    return Err(std::io::Error::other("asked to fail"));
                }
                conn.write_all(&buf).await
            },
        ));
        // A failing connection first, then 32 concurrent good ones.
        let mut bad = TcpStream::connect(addr).await.unwrap();
        bad.write_all(b"fail").await.unwrap();
        let mut buf = [0; 4];
        assert_eq!(
            bad.read(&mut buf).await.unwrap(),
            0,
            "the failed connection is closed"
        );
        let clients = (0..32u8).map(|i| async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            let msg = [i; 4];
            c.write_all(&msg).await.unwrap();
            let mut back = [0; 4];
            c.read_exact(&mut back).await.unwrap();
            assert_eq!(back, msg);
        });
        arbor::gather(clients).await;
        assert!(!server.is_finished(), "serve keeps running");
        assert!(server.cancel());
        assert!(server.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn cancelling_serve_cancels_every_connection() {
    arbor::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let started = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let (s, d) = (started.clone(), dropped.clone());
        let server = arbor::spawn(arbor::net::serve(listener, move |_conn, _| {
            let (s, d) = (s.clone(), d.clone());
            async move {
                let _guard = CountDrop(d);
                s.fetch_add(1, SeqCst);
                std::future::pending::<std::io::Result<()>>().await
            }
        }));
        let mut clients = Vec::new();
        for _ in 0..5 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        while started.load(SeqCst) < 5 {
            arbor::yield_now().await;
        }
        server.cancel();
        assert!(server.await.unwrap_err().is_cancelled());
        // The structured guarantee: every handler was dropped before serve's task ended.
        assert_eq!(dropped.load(SeqCst), 5);
        for mut c in clients {
            let mut buf = [0; 1];
            assert_eq!(
                c.read(&mut buf).await.unwrap(),
                0,
                "the connection was closed"
            );
        }
    });
}
