//! `arbor_runtime::fs`: round trips, large files, seeks after buffered reads, writes after
//! reads, bytes of a dropped unflushed `File`, `flush` reporting a failed write, a
//! cancelled read losing nothing, `read_dir` of 10k entries, errors naming the path, and
//! "no runtime".

mod support;

use arbor_runtime::fs::{self, File, OpenOptions};
use arbor_runtime::runtime::Builder;
use std::collections::BTreeSet;
use std::future::{Future, poll_fn};
use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;
use std::pin::pin;
use std::task::Poll;

/// A fresh directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("arbor-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `len` bytes that differ from their neighbours (so a misplaced read shows).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn free_functions_round_trip() {
    for (i, rt) in support::two_runtimes().into_iter().enumerate() {
        let dir = TempDir::new(&format!("free-{i}"));
        rt.block_on(async {
            let a = dir.join("a.txt");
            fs::write(&a, "hello").await.unwrap();
            assert_eq!(fs::read(&a).await.unwrap(), b"hello");
            assert_eq!(fs::read_to_string(&a).await.unwrap(), "hello");
            assert_eq!(fs::metadata(&a).await.unwrap().len(), 5);
            assert!(fs::try_exists(&a).await.unwrap());

            let b = dir.join("b.txt");
            assert_eq!(fs::copy(&a, &b).await.unwrap(), 5);
            let c = dir.join("sub/deeper/c.txt");
            fs::create_dir_all(c.parent().unwrap()).await.unwrap();
            fs::rename(&b, &c).await.unwrap();
            assert!(!fs::try_exists(&b).await.unwrap());
            assert_eq!(fs::read(&c).await.unwrap(), b"hello");

            let link = dir.join("link");
            fs::symlink(&a, &link).await.unwrap();
            assert_eq!(fs::read_link(&link).await.unwrap(), a);
            assert!(fs::symlink_metadata(&link).await.unwrap().is_symlink());
            assert_eq!(
                fs::canonicalize(&link).await.unwrap(),
                std::fs::canonicalize(&a).unwrap()
            );
            let hard = dir.join("hard");
            fs::hard_link(&a, &hard).await.unwrap();
            assert_eq!(fs::read(&hard).await.unwrap(), b"hello");

            fs::remove_file(&hard).await.unwrap();
            fs::create_dir(dir.join("empty")).await.unwrap();
            fs::remove_dir(dir.join("empty")).await.unwrap();
            fs::remove_dir_all(dir.join("sub")).await.unwrap();
            assert!(!fs::try_exists(&c).await.unwrap());
        });
    }
}

#[test]
fn a_large_file_written_in_small_pieces_reads_back_whole() {
    const LEN: usize = 8 << 20;
    for (i, rt) in support::two_runtimes().into_iter().enumerate() {
        let dir = TempDir::new(&format!("large-{i}"));
        rt.block_on(async {
            let path = dir.join("big");
            let data = pattern(LEN);
            let mut file = File::create(&path).await.unwrap();
            // Uneven pieces: some straddle the buffer's end.
            for chunk in data.chunks(1000) {
                file.write_all(chunk).await.unwrap();
            }
            file.flush().await.unwrap();
            assert_eq!(
                std::fs::read(&path).unwrap(),
                data,
                "flushed: std sees every byte"
            );

            let mut file = File::open(&path).await.unwrap();
            let mut back = Vec::new();
            assert_eq!(file.read_to_end(&mut back).await.unwrap(), LEN);
            assert!(back == data);
            // Small reads from the start again, after a seek.
            file.seek(SeekFrom::Start(0)).await.unwrap();
            let mut small = [0u8; 7];
            let mut got = Vec::new();
            while got.len() < 200_000 {
                let n = file.read(&mut small).await.unwrap();
                got.extend_from_slice(&small[..n]);
            }
            assert!(got[..200_000] == data[..200_000]);
        });
    }
}

#[test]
fn a_seek_after_a_buffered_read_lands_where_the_caller_expects() {
    for (i, rt) in support::two_runtimes().into_iter().enumerate() {
        let dir = TempDir::new(&format!("seek-{i}"));
        rt.block_on(async {
            let path = dir.join("f");
            let data = pattern(300_000);
            std::fs::write(&path, &data).unwrap();
            let mut file = File::open(&path).await.unwrap();
            let mut two = [0u8; 2];
            file.read_exact(&mut two).await.unwrap(); // reads ahead 64 KiB
            assert_eq!(file.seek(SeekFrom::Current(3)).await.unwrap(), 5);
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(two, [data[5], data[6]]);
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 7);
            assert_eq!(file.seek(SeekFrom::End(-2)).await.unwrap(), 299_998);
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(two, [data[299_998], data[299_999]]);
            assert_eq!(file.read(&mut two).await.unwrap(), 0, "end of file");
            assert_eq!(file.seek(SeekFrom::Start(100_000)).await.unwrap(), 100_000);
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(two, [data[100_000], data[100_001]]);
            let err = file.seek(SeekFrom::Current(-1_000_000)).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
        });
    }
}

#[test]
fn a_write_after_a_read_writes_at_the_callers_position() {
    for (i, rt) in support::two_runtimes().into_iter().enumerate() {
        let dir = TempDir::new(&format!("rw-{i}"));
        rt.block_on(async {
            let path = dir.join("f");
            std::fs::write(&path, b"abcdefgh").unwrap();
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            let mut two = [0u8; 2];
            file.read_exact(&mut two).await.unwrap();
            file.write_all(b"XY").await.unwrap();
            file.read_exact(&mut two).await.unwrap(); // reads after the written bytes
            assert_eq!(&two, b"ef");
            file.flush().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"abXYefgh");
            // set_len keeps the position; later writes land there.
            file.set_len(3).await.unwrap();
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 6);
            file.write_all(b"Z").await.unwrap();
            file.sync_all().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"abX\0\0\0Z");
        });
    }
}

#[test]
fn bytes_of_a_dropped_unflushed_file_land() {
    for (i, rt) in support::two_runtimes().into_iter().enumerate() {
        let dir = TempDir::new(&format!("drop-{i}"));
        let path = dir.join("f");
        let data = pattern(100_000);
        rt.block_on(async {
            let mut file = File::create(&path).await.unwrap();
            file.write_all(&data).await.unwrap(); // one full buffer sent, the rest held
            drop(file);
        });
        // Shutting down waits for running pool calls; one it cancels writes on drop.
        drop(rt);
        assert!(std::fs::read(&path).unwrap() == data);
    }
}

#[test]
fn bytes_of_a_dropped_file_land_even_when_the_runtime_is_gone() {
    let dir = TempDir::new("drop-late");
    let path = dir.join("f");
    let rt = Builder::new_current_thread().build().unwrap();
    let file = rt.block_on(async {
        let mut file = File::create(&path).await.unwrap();
        file.write_all(b"late bytes").await.unwrap();
        file
    });
    drop(rt);
    drop(file); // the pool is gone: the call is refused and its bytes written in place
    assert_eq!(std::fs::read(&path).unwrap(), b"late bytes");
}

#[test]
fn flush_reports_a_failed_write() {
    for (i, rt) in support::two_runtimes().into_iter().enumerate() {
        let dir = TempDir::new(&format!("flush-{i}"));
        rt.block_on(async {
            let path = dir.join("f");
            std::fs::write(&path, b"read only").unwrap();
            let mut file = File::open(&path).await.unwrap(); // not opened for writing
            file.write_all(b"nope").await.unwrap(); // accepted into the buffer
            let err = file.flush().await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(9), "EBADF: {err}");
            file.flush().await.unwrap(); // reported once
            assert_eq!(std::fs::read(&path).unwrap(), b"read only");
        });
    }
}

#[test]
fn a_cancelled_read_loses_no_bytes() {
    // One blocking thread: holding it with a blocker makes the next read's trip wait in
    // the pool's queue, so that read is certainly in flight when it is dropped (whether a
    // trip finishes within one poll is up to the OS scheduler otherwise).
    let runtimes = [
        Builder::new_current_thread().max_blocking_threads(1),
        Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(1),
    ];
    for (i, builder) in runtimes.into_iter().enumerate() {
        let rt = builder.build().unwrap();
        let dir = TempDir::new(&format!("cancel-{i}"));
        rt.block_on(async {
            let path = dir.join("f");
            let data = pattern(10_000);
            std::fs::write(&path, &data).unwrap();
            let mut file = File::open(&path).await.unwrap();
            // Abandon reads after one poll, many times. Every other one is held in the
            // pool's queue (certainly abandoned mid-flight); the others race the pool (one
            // that finishes within the poll counts as read).
            let mut all = Vec::new();
            let mut abandoned = 0;
            for round in 0..50 {
                // Settle the position (the abandoned read-ahead's bytes are given back),
                // so the next read is a trip to the pool again.
                let pos = file.seek(SeekFrom::Current(0)).await.unwrap();
                assert_eq!(pos as usize, all.len());
                let (release, held) = std::sync::mpsc::channel::<()>();
                let blocker = (round % 2 == 0).then(|| {
                    let (started, running) = std::sync::mpsc::channel();
                    let blocker = arbor_runtime::task::spawn_blocking(move || {
                        started.send(()).unwrap();
                        held.recv().unwrap();
                    });
                    running.recv().unwrap(); // the one pool thread is taken
                    blocker
                });
                let mut buf = [0u8; 10];
                let polled = {
                    let mut read = pin!(file.read(&mut buf));
                    poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await
                }; // a pending read is dropped here, mid-flight
                let in_flight = polled.is_pending();
                match polled {
                    Poll::Ready(n) => all.extend_from_slice(&buf[..n.unwrap()]),
                    Poll::Pending => abandoned += 1,
                }
                release.send(()).unwrap_or(());
                if let Some(blocker) = blocker {
                    assert!(in_flight, "a read behind the blocker finished");
                    blocker.await.unwrap();
                }
            }
            file.read_to_end(&mut all).await.unwrap();
            assert!(abandoned >= 25, "reads in flight were abandoned");
            assert!(all == data, "abandoned reads lost or repeated no bytes");
        });
    }
}

#[test]
fn the_futures_io_traits_work() {
    use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};
    let dir = TempDir::new("traits");
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let path = dir.join("f");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        let mut f = std::pin::Pin::new(&mut file);
        let n = poll_fn(|cx| f.as_mut().poll_write(cx, b"0123456789"))
            .await
            .unwrap();
        assert_eq!(n, 10);
        poll_fn(|cx| f.as_mut().poll_close(cx)).await.unwrap();
        let pos = poll_fn(|cx| f.as_mut().poll_seek(cx, SeekFrom::Start(4)))
            .await
            .unwrap();
        assert_eq!(pos, 4);
        let mut buf = [0u8; 3];
        let n = poll_fn(|cx| f.as_mut().poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"456");
        let pos = poll_fn(|cx| f.as_mut().poll_seek(cx, SeekFrom::Current(1)))
            .await
            .unwrap();
        assert_eq!(pos, 8);
    });
}

#[test]
fn read_dir_lists_ten_thousand_entries() {
    const N: usize = 10_000;
    for (i, rt) in support::two_runtimes().into_iter().enumerate() {
        let dir = TempDir::new(&format!("dir-{i}"));
        for n in 0..N {
            std::fs::write(dir.join(&format!("f{n}")), b"").unwrap();
        }
        std::fs::create_dir(dir.join("sub")).unwrap();
        rt.block_on(async {
            let mut names = BTreeSet::new();
            let mut listing = fs::read_dir(&dir.0).await.unwrap();
            let mut checked_one = false;
            while let Some(entry) = listing.next_entry().await.unwrap() {
                assert_eq!(entry.path(), dir.0.join(entry.file_name()));
                if !checked_one {
                    let kind = entry.file_type().await.unwrap();
                    let meta = entry.metadata().await.unwrap();
                    assert_eq!(kind.is_dir(), meta.is_dir());
                    checked_one = true;
                }
                names.insert(entry.file_name().into_string().unwrap());
            }
            assert_eq!(names.len(), N + 1);
            assert!(names.contains("sub") && names.contains("f0") && names.contains("f9999"));
            // The listing stays ended.
            assert!(listing.next_entry().await.unwrap().is_none());
            // As a Stream too.
            let mut stream = fs::read_dir(&dir.0).await.unwrap();
            let mut count = 0;
            while let Some(entry) =
                poll_fn(|cx| futures_core::Stream::poll_next(std::pin::Pin::new(&mut stream), cx))
                    .await
            {
                entry.unwrap();
                count += 1;
            }
            assert_eq!(count, N + 1);
        });
    }
}

#[test]
fn errors_keep_their_kind_and_name_the_path() {
    let dir = TempDir::new("errors");
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let missing = dir.join("missing.txt");
        let err = fs::read(&missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let msg = err.to_string();
        assert!(msg.contains("missing.txt") && msg.contains("read"), "{msg}");
        let os = std::error::Error::source(err.get_ref().unwrap()).unwrap();
        let os = os.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(os.raw_os_error(), Some(2), "the OS error is the source");

        let err = File::open(&missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("failed to open"), "{err}");

        let err = fs::read_dir(&missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("missing.txt"), "{err}");

        let err = fs::rename(&missing, dir.join("to.txt")).await.unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("missing.txt") && msg.contains("to.txt"),
            "{msg}"
        );

        // Permission denied, even for root: a read-only sysctl refuses to open for writing.
        let err = fs::write("/proc/sys/kernel/version", "x")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert!(
            err.to_string().contains("/proc/sys/kernel/version"),
            "{err}"
        );

        std::fs::write(dir.join("exists"), b"").unwrap();
        let err = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join("exists"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);

        let bad_utf8 = dir.join("bad");
        std::fs::write(&bad_utf8, [0xff, 0xfe]).unwrap();
        let err = fs::read_to_string(&bad_utf8).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    });
}

#[test]
fn outside_a_runtime_the_error_says_so() {
    let fut = fs::read("/etc/hostname");
    let err = futures_block_on(fut).unwrap_err();
    assert!(
        err.to_string().contains("outside of an arbor runtime"),
        "{err}"
    );
}

/// Polls a future that must be ready at once (no runtime needed).
fn futures_block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = std::task::Waker::noop();
    match fut
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected an immediate answer"),
    }
}
