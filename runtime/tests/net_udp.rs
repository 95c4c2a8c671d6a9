//! UDP on every runtime flavour: datagram round trips, connected sockets, many tasks
//! receiving on one shared socket.

#![cfg(unix)]

mod support;
use arbor_runtime::net::UdpSocket;
use arbor_runtime::spawn;
use std::io::ErrorKind;
use std::sync::Arc;
use support::poll_once;

rt_test! {
    fn datagrams_round_trip(rt: &Runtime) {
        rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            let echo = spawn(async move {
                let mut buf = [0; 64];
                for _ in 0..10 {
                    let (n, from) = b.recv_from(&mut buf).await.unwrap();
                    b.send_to(&buf[..n], from).await.unwrap();
                }
            });
            for i in 0..10u8 {
                a.send_to(&[i; 32], b_addr).await.unwrap();
                let mut buf = [0; 64];
                let (n, from) = a.recv_from(&mut buf).await.unwrap();
                assert_eq!((n, from), (32, b_addr));
                assert_eq!(buf[..n], [i; 32]);
            }
            echo.await.unwrap();
            assert_ne!(a_addr, b_addr);
        });
    }
}

rt_test! {
    fn connected_sockets_send_and_recv(rt: &Runtime) {
        rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            assert_eq!(a.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
            a.connect(b.local_addr().unwrap()).await.unwrap();
            b.connect(a.local_addr().unwrap()).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
            a.send(b"hello").await.unwrap();
            let mut buf = [0; 16];
            let (n, _) = b.peek_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"hello", "peek leaves the datagram queued");
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"hello");
            assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
            b.try_send(b"back").unwrap();
            let n = a.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"back");
        });
    }
}

const RECEIVERS: usize = 8;

rt_test! {
    fn many_tasks_receive_on_one_socket(rt: &Runtime) {
        rt.block_on(async {
            let server = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = server.local_addr().unwrap();
            let receivers: Vec<_> = (0..RECEIVERS)
                .map(|_| {
                    let server = server.clone();
                    spawn(async move {
                        let mut buf = [0; 8];
                        let (n, _) = server.recv_from(&mut buf).await.unwrap();
                        assert_eq!(n, 1);
                        buf[0] as usize
                    })
                })
                .collect();
            // Let every receiver wait before anything arrives.
            for _ in 0..10 {
                arbor_runtime::yield_now().await;
            }
            let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            for i in 0..RECEIVERS {
                client.send_to(&[i as u8], addr).await.unwrap();
            }
            let mut got: Vec<usize> = Vec::new();
            for r in receivers {
                got.push(r.await.unwrap());
            }
            got.sort_unstable();
            assert_eq!(got, (0..RECEIVERS).collect::<Vec<_>>());
        });
    }
}

rt_test! {
    fn socket_options_round_trip(rt: &Runtime) {
        rt.block_on(async {
            let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            s.set_broadcast(true).unwrap();
            assert!(s.broadcast().unwrap());
            s.set_ttl(9).unwrap();
            assert_eq!(s.ttl().unwrap(), 9);
            s.set_multicast_ttl_v4(3).unwrap();
            assert_eq!(s.multicast_ttl_v4().unwrap(), 3);
            s.set_multicast_loop_v4(false).unwrap();
            assert!(!s.multicast_loop_v4().unwrap());
            assert!(s.take_error().unwrap().is_none());
            let std = s.into_std().unwrap();
            assert!(std.local_addr().is_ok());
        });
    }
}

// Unlike a stream's, a datagram socket's zero-byte receive keeps the OS's (and std's)
// meaning: it waits for a datagram and consumes it, returning 0.
rt_test! {
    fn a_recv_into_an_empty_buffer_waits_and_consumes_one_datagram(rt: &Runtime) {
        rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            b.connect(a.local_addr().unwrap()).await.unwrap();
            assert!(poll_once(b.recv(&mut [])).is_pending(), "nothing was sent");
            assert!(poll_once(b.recv_from(&mut [])).is_pending(), "nothing was sent");
            let b_addr = b.local_addr().unwrap();
            for msg in [&b"one"[..], b"two", b"three"] {
                a.send_to(msg, b_addr).await.unwrap();
            }
            assert_eq!(b.recv(&mut []).await.unwrap(), 0);
            assert_eq!(b.recv_from(&mut []).await.unwrap(), (0, a.local_addr().unwrap()));
            let mut buf = [0; 8];
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"three", "the empty receives consumed one datagram each");
        });
    }
}
