//! hyper's IO traits on arbor's streams (feature `http`), on every runtime flavour: reads
//! fill hyper's uninitialised buffers (large transfers arrive over many partial reads,
//! end-of-file leaves the buffer unfilled), vectored writes, shutdown, and the owned halves
//! in two tasks.

#![cfg(all(unix, feature = "http"))]

mod support;
use arbor_runtime::net::{TcpListener, TcpStream, UnixStream};
use arbor_runtime::spawn;
use hyper::rt::{Read, ReadBuf, Write};
use std::future::poll_fn;
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::pin::Pin;

/// 1 MiB: far more than a socket buffer holds, so it takes many partial reads.
const BIG: usize = 1 << 20;

/// A pattern that tells misplaced or repeated bytes apart.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// One `hyper::rt::Read::poll_read` into `len` bytes of uninitialised memory; the bytes read.
async fn read_once<R: Read + Unpin>(r: &mut R, len: usize) -> Vec<u8> {
    let mut memory = vec![MaybeUninit::<u8>::uninit(); len];
    let mut buf = ReadBuf::uninit(&mut memory);
    poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, buf.unfilled()))
        .await
        .unwrap();
    buf.filled().to_vec()
}

/// Reads until end-of-file through `hyper::rt::Read`; the bytes and how many reads it took.
async fn read_to_end<R: Read + Unpin>(r: &mut R) -> (Vec<u8>, usize) {
    let (mut all, mut reads) = (Vec::new(), 0);
    loop {
        let got = read_once(r, 64 * 1024).await;
        reads += 1;
        if got.is_empty() {
            return (all, reads);
        }
        all.extend_from_slice(&got);
    }
}

/// Writes all of `bytes` through `hyper::rt::Write`, in vectored writes of two slices.
async fn write_all<W: Write + Unpin>(w: &mut W, mut bytes: &[u8]) {
    assert!(w.is_write_vectored());
    while !bytes.is_empty() {
        let (a, b) = bytes.split_at(bytes.len() / 2);
        let slices = [IoSlice::new(a), IoSlice::new(b)];
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write_vectored(cx, &slices))
            .await
            .unwrap();
        assert!(n > 0);
        bytes = &bytes[n..];
    }
    poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx))
        .await
        .unwrap();
}

async fn shutdown<W: Write + Unpin>(w: &mut W) {
    poll_fn(|cx| Pin::new(&mut *w).poll_shutdown(cx))
        .await
        .unwrap();
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Sends `BIG` bytes one way through hyper's traits and checks they arrive whole.
async fn one_mebibyte<A, B>(mut a: A, mut b: B)
where
    A: Write + Unpin + Send + 'static,
    B: Read + Unpin,
{
    let writer = spawn(async move {
        write_all(&mut a, &pattern(BIG)).await;
        shutdown(&mut a).await;
        a
    });
    let (got, reads) = read_to_end(&mut b).await;
    assert_eq!(got.len(), BIG);
    assert!(got == pattern(BIG), "the bytes arrive in order, unchanged");
    assert!(reads > 2, "1 MiB arrives over several reads, not {reads}");
    drop(writer.await.unwrap());
}

rt_test! {
    fn tcp_reads_fill_hyper_buffers(rt: &Runtime) {
        rt.block_on(async {
            let (client, server) = tcp_pair().await;
            one_mebibyte(client, server).await;
        });
    }
}

rt_test! {
    fn unix_reads_fill_hyper_buffers(rt: &Runtime) {
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            one_mebibyte(a, b).await;
        });
    }
}

rt_test! {
    fn a_short_buffer_takes_part_of_what_is_queued(rt: &Runtime) {
        rt.block_on(async {
            let (mut client, mut server) = tcp_pair().await;
            write_all(&mut client, b"0123456789").await;
            assert_eq!(read_once(&mut server, 4).await, b"0123");
            assert_eq!(read_once(&mut server, 64).await, b"456789");
            // An empty buffer reads nothing, without waiting.
            assert_eq!(read_once(&mut server, 0).await, b"");
            shutdown(&mut client).await;
            assert_eq!(read_once(&mut server, 64).await, b"", "end-of-file fills nothing");
        });
    }
}

rt_test! {
    fn owned_halves_read_and_write_in_two_tasks(rt: &Runtime) {
        rt.block_on(async {
            let (client, server) = tcp_pair().await;
            let (mut read, mut write) = server.into_split();
            // The server echoes through its halves: one task reads, another writes.
            let (tx, mut rx) = arbor_runtime::sync::mpsc::unbounded_channel::<Vec<u8>>();
            let reader = spawn(async move {
                loop {
                    let got = read_once(&mut read, 4096).await;
                    if got.is_empty() {
                        return read;
                    }
                    tx.send(got).unwrap();
                }
            });
            let writer = spawn(async move {
                while let Some(bytes) = rx.recv().await {
                    write_all(&mut write, &bytes).await;
                }
                shutdown(&mut write).await;
                write
            });
            let (mut c_read, mut c_write) = client.into_split();
            let sender = spawn(async move {
                write_all(&mut c_write, &pattern(BIG)).await;
                shutdown(&mut c_write).await;
                c_write
            });
            let (echoed, _) = read_to_end(&mut c_read).await;
            assert!(echoed == pattern(BIG), "the echo comes back whole");
            let (read, write) = (reader.await.unwrap(), writer.await.unwrap());
            read.reunite(write).unwrap();
            c_read.reunite(sender.await.unwrap()).unwrap();
        });
    }
}

rt_test! {
    fn unix_owned_halves_implement_the_traits(rt: &Runtime) {
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let (_a_read, mut a_write) = a.into_split();
            let (mut b_read, _b_write) = b.into_split();
            write_all(&mut a_write, b"over a unix socket").await;
            shutdown(&mut a_write).await;
            let (got, _) = read_to_end(&mut b_read).await;
            assert_eq!(got, b"over a unix socket");
        });
    }
}
