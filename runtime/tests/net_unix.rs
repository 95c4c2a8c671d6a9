//! Unix domain sockets on every runtime flavour: stream and datagram round trips through
//! paths and pairs, split halves, and connecting to a path nobody listens on.

#![cfg(unix)]

mod support;
use arbor_runtime::net::{UnixDatagram, UnixListener, UnixStream};
use arbor_runtime::spawn;
use futures_io::AsyncRead;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Poll;
use support::poll_once;

/// A fresh directory for one test's socket files; removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "arbor-net-unix-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, SeqCst)
        );
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

rt_test! {
    fn streams_round_trip_through_a_path(rt: &Runtime) {
        let dir = TempDir::new();
        let path = dir.path("echo.sock");
        rt.block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            let server = spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0; 256];
                loop {
                    match stream.read(&mut buf).await.unwrap() {
                        0 => break,
                        n => stream.write_all(&buf[..n]).await.unwrap(),
                    }
                }
            });
            let mut client = UnixStream::connect(&path).await.unwrap();
            assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
            for i in 0..10u8 {
                client.write_all(&[i; 100]).await.unwrap();
                let mut back = [0; 100];
                client.read_exact(&mut back).await.unwrap();
                assert_eq!(back, [i; 100]);
            }
            client.shutdown().await.unwrap();
            server.await.unwrap();
            let mut buf = [0; 1];
            assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        });
    }
}

rt_test! {
    fn split_pair_halves_work_from_two_tasks(rt: &Runtime) {
        rt.block_on(async {
            let (a, mut b) = UnixStream::pair().unwrap();
            let (mut read, mut write) = a.into_split();
            let writer = spawn(async move {
                for i in 0..100u8 {
                    write.write_all(&[i; 1000]).await.unwrap();
                }
            });
            let echo = spawn(async move {
                let mut buf = [0; 4096];
                let mut total = 0;
                while total < 100_000 {
                    let n = b.read(&mut buf).await.unwrap();
                    b.write_all(&buf[..n]).await.unwrap();
                    total += n;
                }
            });
            let mut back = vec![0; 100_000];
            read.read_exact(&mut back).await.unwrap();
            for (i, chunk) in back.chunks(1000).enumerate() {
                assert!(chunk.iter().all(|&x| x == i as u8));
            }
            writer.await.unwrap();
            echo.await.unwrap();
        });
    }
}

rt_test! {
    fn connecting_to_a_missing_path_fails(rt: &Runtime) {
        let dir = TempDir::new();
        rt.block_on(async {
            let err = UnixStream::connect(dir.path("nobody.sock")).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
            // A socket file whose listener is gone refuses.
            let path = dir.path("gone.sock");
            drop(UnixListener::bind(&path).unwrap());
            let err = UnixStream::connect(&path).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        });
    }
}

rt_test! {
    fn datagrams_round_trip_through_paths(rt: &Runtime) {
        let dir = TempDir::new();
        let (a_path, b_path) = (dir.path("a.sock"), dir.path("b.sock"));
        rt.block_on(async {
            let a = UnixDatagram::bind(&a_path).unwrap();
            let b = UnixDatagram::bind(&b_path).unwrap();
            let echo = spawn(async move {
                let mut buf = [0; 64];
                for _ in 0..5 {
                    let (n, from) = b.recv_from(&mut buf).await.unwrap();
                    let to = from.as_pathname().unwrap().to_owned();
                    b.send_to(&buf[..n], to).await.unwrap();
                }
            });
            for i in 0..5u8 {
                a.send_to(&[i; 10], &b_path).await.unwrap();
                let mut buf = [0; 64];
                let (n, from) = a.recv_from(&mut buf).await.unwrap();
                assert_eq!(from.as_pathname(), Some(b_path.as_path()));
                assert_eq!(buf[..n], [i; 10]);
            }
            echo.await.unwrap();
        });
    }
}

rt_test! {
    fn datagram_pairs_keep_boundaries(rt: &Runtime) {
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            let reader = spawn(async move {
                let mut sizes = Vec::new();
                let mut buf = [0; 64];
                for _ in 0..3 {
                    sizes.push(b.recv(&mut buf).await.unwrap());
                }
                sizes
            });
            for size in [1, 20, 3] {
                a.send(&vec![0; size]).await.unwrap();
            }
            assert_eq!(reader.await.unwrap(), [1, 20, 3]);
            let unbound = UnixDatagram::unbound().unwrap();
            assert!(unbound.local_addr().unwrap().is_unnamed());
        });
    }
}

/// `AsyncRead::poll_read` into an empty buffer, polled once.
fn poll_read_empty(reader: &mut (impl AsyncRead + Unpin)) -> Poll<std::io::Result<usize>> {
    poll_once(std::future::poll_fn(|cx| {
        Pin::new(&mut *reader).poll_read(cx, &mut [])
    }))
}

// Each read below is polled once: with nothing queued the OS answers a zero-byte read with
// `WouldBlock`, and a read that waited for data would be `Pending` here (and hang when
// awaited).
rt_test! {
    fn reading_into_an_empty_buffer_returns_zero_at_once(rt: &Runtime) {
        rt.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            assert!(matches!(poll_once(a.read(&mut [])), Poll::Ready(Ok(0))));
            assert!(matches!(poll_once(a.read_exact(&mut [])), Poll::Ready(Ok(()))));
            assert_eq!(a.try_read(&mut []).unwrap(), 0);
            assert!(matches!(poll_read_empty(&mut a), Poll::Ready(Ok(0))));
            {
                let (mut reader, _writer) = a.split();
                assert!(matches!(poll_once(reader.read(&mut [])), Poll::Ready(Ok(0))));
                assert!(matches!(poll_read_empty(&mut reader), Poll::Ready(Ok(0))));
            }
            let (mut reader, _writer) = a.into_split();
            assert!(matches!(poll_once(reader.read(&mut [])), Poll::Ready(Ok(0))));
            assert!(matches!(poll_read_empty(&mut reader), Poll::Ready(Ok(0))));
            // The empty reads consumed nothing: what is sent next arrives whole.
            b.write_all(b"abc").await.unwrap();
            let mut buf = [0; 3];
            reader.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"abc");
        });
    }
}

// Datagram sockets keep the OS's (and std's) meaning: a zero-byte receive waits for a
// datagram and consumes it, returning 0.
rt_test! {
    fn a_datagram_recv_into_an_empty_buffer_waits_and_consumes_one(rt: &Runtime) {
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            assert!(poll_once(b.recv(&mut [])).is_pending(), "nothing was sent");
            for msg in [&b"one"[..], b"two", b"three"] {
                a.send(msg).await.unwrap();
            }
            assert_eq!(b.recv(&mut []).await.unwrap(), 0);
            assert_eq!(b.recv_from(&mut []).await.unwrap().0, 0);
            let mut buf = [0; 8];
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"three", "the empty receives consumed one datagram each");
        });
    }
}

/// Bytes queued for the reader of the coop test: it reads them one at a time, so each read
/// is ready at once, and far more reads than one poll's budget.
const QUEUED: usize = 4096;

rt_test! {
    fn a_reader_of_an_always_ready_socket_lets_other_tasks_run(rt: &Runtime) {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        rt.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            b.write_all(&[1; QUEUED]).await.unwrap();
            let sibling_ran = Arc::new(AtomicBool::new(false));
            let flag = sibling_ran.clone();
            let reader = spawn(async move {
                // Spawned from this task, the sibling can only run when this task yields.
                let sibling = spawn(async move { flag.store(true, SeqCst) });
                let mut byte = [0; 1];
                let mut saw_sibling = false;
                for _ in 0..QUEUED {
                    a.read_exact(&mut byte).await.unwrap();
                    saw_sibling |= sibling_ran.load(SeqCst);
                }
                sibling.await.unwrap();
                saw_sibling
            });
            assert!(reader.await.unwrap(), "the reader never yielded to its sibling");
            drop(b);
        });
    }
}
