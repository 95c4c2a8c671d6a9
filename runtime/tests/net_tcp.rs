//! TCP on every runtime flavour: round trips, many connections at once, split halves
//! reading and writing concurrently, refused connections, resets, end-of-file, socket
//! options, and host-name resolution.

#![cfg(unix)]

mod support;
use arbor_runtime::net::{TcpListener, TcpStream};
use arbor_runtime::spawn;
use futures_io::AsyncRead;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use support::poll_once;

/// Accepts `n` connections and echoes each (a task per connection) until its peer
/// shuts down its write direction.
async fn echo_server(n: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(spawn(async move {
        for _ in 0..n {
            let (mut stream, _) = listener.accept().await.unwrap();
            drop(spawn(async move {
                let mut buf = [0; 1024];
                loop {
                    match stream.read(&mut buf).await.unwrap() {
                        0 => break,
                        k => stream.write_all(&buf[..k]).await.unwrap(),
                    }
                }
            }));
        }
    }));
    addr
}

rt_test! {
    fn a_round_trip_echoes_the_bytes(rt: &Runtime) {
        rt.block_on(async {
            let addr = echo_server(1).await;
            let mut stream = TcpStream::connect(addr).await.unwrap();
            assert_eq!(stream.peer_addr().unwrap(), addr);
            for round in 0..10u8 {
                let msg = [round; 64];
                stream.write_all(&msg).await.unwrap();
                let mut back = [0; 64];
                stream.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg);
            }
            stream.shutdown().await.unwrap();
            let mut buf = [0; 1];
            assert_eq!(stream.read(&mut buf).await.unwrap(), 0, "the server closes after EOF");
        });
    }
}

const CONNECTIONS: usize = 64;
const ROUNDS: usize = 20;

rt_test! {
    fn many_connections_round_trip_at_once(rt: &Runtime) {
        rt.block_on(async {
            let addr = echo_server(CONNECTIONS).await;
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|i| {
                    spawn(async move {
                        let mut stream = TcpStream::connect(addr).await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        for round in 0..ROUNDS {
                            let msg = [(i + round) as u8; 64];
                            stream.write_all(&msg).await.unwrap();
                            let mut back = [0; 64];
                            stream.read_exact(&mut back).await.unwrap();
                            assert_eq!(back, msg);
                        }
                        ROUNDS
                    })
                })
                .collect();
            let mut total = 0;
            for client in clients {
                total += client.await.unwrap();
            }
            assert_eq!(total, CONNECTIONS * ROUNDS);
        });
    }
}

/// Bytes each side of the split test sends: far more than socket buffers hold, so both
/// directions wait for each other many times.
const BULK: usize = 4 << 20;

fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

rt_test! {
    fn split_halves_read_and_write_concurrently(rt: &Runtime) {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            // Each side writes BULK bytes from one task while reading BULK from another.
            let mut tasks = Vec::new();
            for stream in [client, server] {
                let (mut reader, mut writer) = stream.into_split();
                let write = spawn(async move {
                    let chunk: Vec<u8> = (0..BULK).map(pattern).collect();
                    for piece in chunk.chunks(7919) {
                        writer.write_all(piece).await.unwrap();
                    }
                    writer
                });
                let read = spawn(async move {
                    let mut got = 0;
                    let mut buf = vec![0; 65536];
                    while got < BULK {
                        let n = reader.read(&mut buf).await.unwrap();
                        assert_ne!(n, 0, "early EOF");
                        for (k, b) in buf[..n].iter().enumerate() {
                            assert_eq!(*b, pattern(got + k), "corrupt at {}", got + k);
                        }
                        got += n;
                    }
                    reader
                });
                tasks.push((read, write));
            }
            for (read, write) in tasks {
                let stream = read.await.unwrap().reunite(write.await.unwrap()).unwrap();
                assert!(stream.peer_addr().is_ok());
            }
        });
    }
}

rt_test! {
    /// Lock-step exchanges whose reads alternately empty the receive queue (the whole
    /// message at once) and leave bytes in it (a message read in two parts): a read that
    /// empties the queue clears the stream's readiness early (`TCP_INQ` on Linux), and the
    /// next message must still wake the reader, and a partial read must not clear it.
    fn reads_that_empty_the_queue_still_see_the_next_message(rt: &Runtime) {
        const EXCHANGES: usize = 500;
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0; 64];
                for i in 0..EXCHANGES {
                    let len = 1 + i % 64;
                    if i % 2 == 0 {
                        stream.read_exact(&mut buf[..len]).await.unwrap();
                    } else {
                        let half = len / 2;
                        stream.read_exact(&mut buf[..half]).await.unwrap();
                        stream.read_exact(&mut buf[half..len]).await.unwrap();
                    }
                    assert!(buf[..len].iter().all(|&b| b == pattern(i)));
                    stream.write_all(&buf[..len]).await.unwrap();
                }
                let mut rest = [0; 1];
                assert_eq!(stream.read(&mut rest).await.unwrap(), 0);
            });
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut back = [0; 64];
            for i in 0..EXCHANGES {
                let len = 1 + i % 64;
                stream.write_all(&vec![pattern(i); len]).await.unwrap();
                stream.read_exact(&mut back[..len]).await.unwrap();
                assert!(back[..len].iter().all(|&b| b == pattern(i)));
            }
            stream.shutdown().await.unwrap();
            server.await.unwrap();
        });
    }
}

rt_test! {
    fn halves_of_different_streams_do_not_reunite(rt: &Runtime) {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let a = TcpStream::connect(addr).await.unwrap();
            let b = TcpStream::connect(addr).await.unwrap();
            let (a_read, _a_write) = a.into_split();
            let (_b_read, b_write) = b.into_split();
            let err = a_read.reunite(b_write).unwrap_err();
            assert!(err.to_string().contains("not from the same stream"));
        });
    }
}

rt_test! {
    fn dropping_the_write_half_sends_eof(rt: &Runtime) {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let (_read, mut write) = client.into_split();
            write.write_all(b"last words").await.unwrap();
            drop(write);
            let mut buf = Vec::new();
            let mut chunk = [0; 4];
            loop {
                match server.read(&mut chunk).await.unwrap() {
                    0 => break,
                    n => buf.extend_from_slice(&chunk[..n]),
                }
            }
            assert_eq!(buf, b"last words");
        });
    }
}

/// A port nobody listens on: bound by a listener that is then dropped.
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

rt_test! {
    fn connecting_to_a_closed_port_is_refused(rt: &Runtime) {
        rt.block_on(async {
            let addr = free_port();
            let err = TcpStream::connect(addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        });
    }
}

rt_test! {
    fn a_reset_reaches_the_peer_as_an_error(rt: &Runtime) {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            // The server waits in a read while the client aborts the connection.
            let reader = spawn(async move {
                let mut buf = [0; 16];
                server.read(&mut buf).await
            });
            arbor_runtime::yield_now().await;
            client.set_linger(Some(Duration::ZERO)).unwrap();
            assert_eq!(client.linger().unwrap(), Some(Duration::ZERO));
            drop(client); // linger 0: close sends RST, not FIN
            let err = reader.await.unwrap().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        });
    }
}

rt_test! {
    fn unread_data_at_close_resets_the_connection(rt: &Runtime) {
        rt.block_on(async {
            // Linux (and BSD) answer a close with unread data in the receive buffer with a
            // RST: the peer's next read fails instead of seeing EOF.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            client.write_all(b"never read").await.unwrap();
            server.readable().await.unwrap();
            drop(server);
            let mut buf = [0; 16];
            let err = loop {
                match client.read(&mut buf).await {
                    Ok(0) => panic!("EOF instead of a reset"),
                    Ok(_) => continue,
                    Err(e) => break e,
                }
            };
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        });
    }
}

rt_test! {
    fn reads_see_eof_after_the_peer_shuts_down(rt: &Runtime) {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let reader = spawn(async move {
                let mut buf = [0; 8];
                let first = server.read(&mut buf).await.unwrap();
                let eof = server.read(&mut buf).await.unwrap();
                let again = server.read(&mut buf).await.unwrap();
                let exact = server.read_exact(&mut buf).await.unwrap_err().kind();
                (first, eof, again, exact)
            });
            client.write_all(b"bye").await.unwrap();
            client.shutdown().await.unwrap();
            let (first, eof, again, exact) = reader.await.unwrap();
            assert_eq!((first, eof, again), (3, 0, 0));
            assert_eq!(exact, ErrorKind::UnexpectedEof);
        });
    }
}

rt_test! {
    fn socket_options_round_trip(rt: &Runtime) {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.set_ttl(42).unwrap();
            assert_eq!(listener.ttl().unwrap(), 42);
            let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            stream.set_nodelay(true).unwrap();
            assert!(stream.nodelay().unwrap());
            stream.set_nodelay(false).unwrap();
            assert!(!stream.nodelay().unwrap());
            stream.set_ttl(17).unwrap();
            assert_eq!(stream.ttl().unwrap(), 17);
            stream.set_linger(Some(Duration::from_secs(1))).unwrap();
            assert_eq!(stream.linger().unwrap(), Some(Duration::from_secs(1)));
            stream.set_linger(None).unwrap();
            assert_eq!(stream.linger().unwrap(), None);
            assert!(stream.take_error().unwrap().is_none());
        });
    }
}

rt_test! {
    fn host_names_are_resolved(rt: &Runtime) {
        rt.block_on(async {
            let listener = TcpListener::bind(("localhost", 0)).await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let accept = spawn(async move { listener.accept().await.map(|_| ()) });
            let stream = TcpStream::connect(format!("localhost:{port}")).await.unwrap();
            assert!(stream.peer_addr().unwrap().ip().is_loopback());
            accept.await.unwrap().unwrap();
        });
    }
}

rt_test! {
    fn many_tasks_accept_on_one_listener(rt: &Runtime) {
        rt.block_on(async {
            let listener = std::sync::Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let acceptors: Vec<_> = (0..4)
                .map(|_| {
                    let listener = listener.clone();
                    spawn(async move {
                        let (mut s, _) = listener.accept().await.unwrap();
                        s.write_all(b"!").await.unwrap();
                    })
                })
                .collect();
            arbor_runtime::yield_now().await;
            let mut clients = Vec::new();
            for _ in 0..4 {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            for acceptor in acceptors {
                acceptor.await.unwrap();
            }
            for mut client in clients {
                let mut buf = [0; 1];
                client.read_exact(&mut buf).await.unwrap();
            }
        });
    }
}

rt_test! {
    fn futures_io_traits_work(rt: &Runtime) {
        use futures_io::{AsyncRead, AsyncWrite};
        use std::future::poll_fn;
        use std::pin::Pin;
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let n = poll_fn(|cx| Pin::new(&mut client).poll_write(cx, b"trait")).await.unwrap();
            assert_eq!(n, 5);
            poll_fn(|cx| Pin::new(&mut client).poll_close(cx)).await.unwrap();
            let mut buf = [0; 8];
            let mut got = 0;
            loop {
                match poll_fn(|cx| Pin::new(&mut server).poll_read(cx, &mut buf[got..])).await {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(&buf[..got], b"trait");
        });
    }
}

rt_test! {
    fn a_cancelled_accept_leaves_the_listener_usable(rt: &Runtime) {
        rt.block_on(async {
            let listener = std::sync::Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            // Accepts that wait, then are dropped before any connection arrives.
            for _ in 0..3 {
                let l = listener.clone();
                let waiting = spawn(async move { l.accept().await.map(|_| ()) });
                arbor_runtime::yield_now().await;
                waiting.cancel();
                assert!(waiting.await.unwrap_err().is_cancelled());
            }
            let accept = spawn(async move { listener.accept().await.map(|(_, peer)| peer) });
            let client = TcpStream::connect(addr).await.unwrap();
            assert_eq!(accept.await.unwrap().unwrap(), client.local_addr().unwrap());
        });
    }
}

/// A connected pair (client, server) with nothing sent either way.
async fn quiet_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
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
            let (mut client, mut server) = quiet_pair().await;
            assert!(matches!(poll_once(client.read(&mut [])), Poll::Ready(Ok(0))));
            assert!(matches!(poll_once(client.read_exact(&mut [])), Poll::Ready(Ok(()))));
            assert!(matches!(poll_once(client.peek(&mut [])), Poll::Ready(Ok(0))));
            assert_eq!(client.try_read(&mut []).unwrap(), 0);
            assert!(matches!(poll_read_empty(&mut client), Poll::Ready(Ok(0))));
            {
                let (mut reader, _writer) = client.split();
                assert!(matches!(poll_once(reader.read(&mut [])), Poll::Ready(Ok(0))));
                assert!(matches!(poll_read_empty(&mut reader), Poll::Ready(Ok(0))));
            }
            let (mut reader, writer) = client.into_split();
            assert!(matches!(poll_once(reader.read(&mut [])), Poll::Ready(Ok(0))));
            assert!(matches!(poll_read_empty(&mut reader), Poll::Ready(Ok(0))));
            // The empty reads consumed nothing: what is sent next arrives whole, and an empty
            // read with data queued leaves it queued.
            server.write_all(b"abc").await.unwrap();
            reader.readable().await.unwrap();
            assert_eq!(reader.read(&mut []).await.unwrap(), 0);
            let mut buf = [0; 3];
            reader.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"abc");
            drop(writer);
            assert_eq!(server.read(&mut [0; 1]).await.unwrap(), 0, "the write half shut down");
        });
    }
}

#[test]
fn net_types_are_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin>() {}
    check::<TcpListener>();
    check::<TcpStream>();
    check::<arbor_runtime::net::tcp::OwnedReadHalf>();
    check::<arbor_runtime::net::tcp::OwnedWriteHalf>();
    check::<arbor_runtime::net::tcp::ReadHalf<'_>>();
    check::<arbor_runtime::net::UdpSocket>();
    check::<arbor_runtime::net::UnixListener>();
    check::<arbor_runtime::net::UnixStream>();
    check::<arbor_runtime::net::UnixDatagram>();
    check::<arbor_runtime::net::unix::OwnedWriteHalf>();
}
