//! Out of file descriptors on accept: the error surfaces (logged), the server backs off and
//! keeps serving once descriptors are free again. Its own test binary: it lowers the
//! process's descriptor limit, which would break tests running beside it.

#![cfg(target_os = "linux")]

use arbor::net::{TcpListener, TcpStream};
use rustix::net::{AddressFamily, SocketType};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use std::os::fd::OwnedFd;

/// Opens descriptors until the process is out of them.
fn exhaust() -> Vec<std::fs::File> {
    let mut held = Vec::new();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => held.push(f),
            Err(e) if e.raw_os_error() == Some(24) => return held, // EMFILE
            Err(e) => panic!("unexpected error while exhausting descriptors: {e}"),
        }
    }
}

#[test]
fn accept_out_of_descriptors_backs_off_and_keeps_serving() {
    let old = getrlimit(Resource::Nofile);
    // Room for the runtime, the listener and the test's sockets, then out of descriptors.
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(256),
            maximum: old.maximum,
        },
    )
    .expect("lowering RLIMIT_NOFILE");
    arbor::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = arbor::spawn(arbor::net::serve(
            listener,
            |mut conn: TcpStream, _| async move {
                let mut buf = [0; 2];
                conn.read_exact(&mut buf).await?;
                conn.write_all(&buf).await
            },
        ));
        // Sockets made now, connected once nothing is left: the server's accept then fails.
        let sockets: Vec<OwnedFd> = (0..3)
            .map(|_| rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap())
            .collect();
        let held = exhaust();
        for s in &sockets {
            rustix::net::connect(s, &addr).unwrap();
        }
        // Let the server hit EMFILE a few times (it backs off and retries).
        arbor::sleep(std::time::Duration::from_millis(50)).await;
        assert!(
            !server.is_finished(),
            "serve survived running out of descriptors"
        );
        drop(held);
        for (i, s) in sockets.into_iter().enumerate() {
            let std_stream = std::net::TcpStream::from(s);
            let mut c = TcpStream::from_std(std_stream).unwrap();
            let msg = [i as u8, 7];
            c.write_all(&msg).await.unwrap();
            let mut back = [0; 2];
            c.read_exact(&mut back).await.unwrap();
            assert_eq!(back, msg, "served after descriptors were freed");
        }
        server.cancel();
    });
    setrlimit(Resource::Nofile, old).unwrap();
}
