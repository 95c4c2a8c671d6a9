//! The reactor end to end without a scheduler: sockets registered with a driver that the
//! test turns by hand, on both poller backends (the platform's, and `polling`, which is
//! the platform's everywhere but Linux) and in both registration modes (oneshot is what
//! platforms without edge-triggered polling get). Every combination runs on every
//! platform that has it, so Linux tests them all.

use super::{Direction, Interest, Mode, PollEvented, Reactor, Waiter};
use crate::driver::Driver;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// Bounds a turn that must find an event (an event that never comes fails the test
/// instead of hanging it).
const TURN_LIMIT: Duration = Duration::from_secs(10);

struct Counter(AtomicUsize);
impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counter() -> (Arc<Counter>, Waker) {
    let c = Arc::new(Counter(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

/// A poller backend and registration mode to test the reactor on.
#[derive(Clone, Copy, Debug)]
struct Setup {
    /// The `polling` backend instead of the platform's.
    portable: bool,
    mode: Mode,
}

fn driver(setup: Setup) -> Arc<Driver> {
    let mut driver = Driver::new(false, false).unwrap();
    Arc::get_mut(&mut driver).expect("fresh driver").io =
        Reactor::new_for_test(setup.portable, setup.mode).unwrap();
    driver
}

/// Turns the driver until `done` or the limit passes.
fn turn_until(driver: &Driver, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < TURN_LIMIT, "no event arrived");
        let mut core = driver.try_lock().expect("only the test turns the driver");
        driver.turn(&mut core, Some(Duration::from_millis(100)), || true);
    }
}

fn pair(driver: &Arc<Driver>) -> (PollEvented<UnixStream>, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (
        PollEvented::new(driver.clone(), a, Interest::BOTH).unwrap(),
        b,
    )
}

fn poll_read(io: &PollEvented<UnixStream>, w: &Waker, buf: &mut [u8]) -> Poll<usize> {
    let mut cx = Context::from_waker(w);
    io.poll_io(&mut cx, Direction::Read, Waiter::Owner, |mut s| s.read(buf))
        .map(|r| r.unwrap())
}

fn poll_write(io: &PollEvented<UnixStream>, w: &Waker, buf: &[u8]) -> Poll<usize> {
    let mut cx = Context::from_waker(w);
    io.poll_io(&mut cx, Direction::Write, Waiter::Owner, |mut s| {
        s.write(buf)
    })
    .map(|r| r.unwrap())
}

/// Runs `test` on both backends, in both modes (edge mode only where it is supported).
fn each_setup(test: impl Fn(Setup)) {
    for portable in [false, true] {
        let edges = super::sys::Poller::new_portable().unwrap().supports_edge();
        if !portable || edges {
            test(Setup {
                portable,
                mode: Mode::Edge,
            });
        }
        test(Setup {
            portable,
            mode: Mode::Oneshot,
        });
    }
}

#[test]
fn a_waiting_reader_is_woken_by_data() {
    each_setup(|setup| {
        let driver = driver(setup);
        let (io, mut peer) = pair(&driver);
        let (count, w) = counter();
        let mut buf = [0; 8];
        assert!(poll_read(&io, &w, &mut buf).is_pending(), "{setup:?}");
        peer.write_all(b"abc").unwrap();
        turn_until(&driver, || count.0.load(SeqCst) > 0);
        assert_eq!(poll_read(&io, &w, &mut buf), Poll::Ready(3), "{setup:?}");
        assert_eq!(&buf[..3], b"abc");
        // Readiness was consumed: the next read waits again, and wakes again.
        assert!(poll_read(&io, &w, &mut buf).is_pending(), "{setup:?}");
        peer.write_all(b"de").unwrap();
        turn_until(&driver, || count.0.load(SeqCst) > 1);
        assert_eq!(poll_read(&io, &w, &mut buf), Poll::Ready(2), "{setup:?}");
    });
}

#[test]
fn a_reader_and_a_writer_wait_on_one_socket_at_once() {
    each_setup(|setup| {
        let driver = driver(setup);
        let (io, mut peer) = pair(&driver);
        let (reads, rw) = counter();
        let (writes, ww) = counter();
        let mut buf = [0; 4096];
        assert!(poll_read(&io, &rw, &mut buf).is_pending());
        // Fill the socket until the writer must wait.
        let chunk = [7u8; 4096];
        let mut written = 0;
        while let Poll::Ready(n) = poll_write(&io, &ww, &chunk) {
            written += n;
        }
        // Interest changes: now both directions wait. Data for the reader first.
        peer.write_all(b"x").unwrap();
        turn_until(&driver, || reads.load_count() > 0);
        assert_eq!(poll_read(&io, &rw, &mut buf), Poll::Ready(1), "{setup:?}");
        // The writer still waits, and is woken once the peer drains.
        assert!(poll_write(&io, &ww, &chunk).is_pending(), "{setup:?}");
        let before = writes.load_count();
        let mut drained = 0;
        while drained < written {
            match peer.read(&mut buf) {
                Ok(n) => drained += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        turn_until(&driver, || writes.load_count() > before);
        assert!(poll_write(&io, &ww, &chunk).is_ready(), "{setup:?}");
    });
}

#[test]
fn shutdown_fails_waiting_and_new_operations() {
    each_setup(|setup| {
        let driver = driver(setup);
        let (io, _peer) = pair(&driver);
        let (count, w) = counter();
        let mut buf = [0; 8];
        assert!(poll_read(&io, &w, &mut buf).is_pending());
        driver.shutdown();
        assert_eq!(count.load_count(), 1, "{setup:?}: the waiter was not woken");
        let mut cx = Context::from_waker(&w);
        let poll = io.poll_io(&mut cx, Direction::Read, Waiter::Owner, |mut s| {
            s.read(&mut buf)
        });
        let Poll::Ready(Err(e)) = poll else {
            panic!("{setup:?}: an operation after shutdown did not fail")
        };
        assert!(e.to_string().contains("shut down"), "{e}");
        let (a, _b) = UnixStream::pair().unwrap();
        assert!(PollEvented::new(driver.clone(), a, Interest::BOTH).is_err());
    });
}

#[test]
fn a_dropped_registration_frees_its_key_for_a_new_one() {
    each_setup(|setup| {
        let driver = driver(setup);
        let (io, _peer) = pair(&driver);
        drop(io);
        let (io, mut peer) = pair(&driver);
        let (count, w) = counter();
        let mut buf = [0; 8];
        assert!(poll_read(&io, &w, &mut buf).is_pending());
        peer.write_all(b"z").unwrap();
        turn_until(&driver, || count.load_count() > 0);
        assert_eq!(poll_read(&io, &w, &mut buf), Poll::Ready(1), "{setup:?}");
        let slab = driver.io.slab();
        assert_eq!(slab.slots.len(), 1, "{setup:?}: the slot was not reused");
    });
}

#[test]
fn an_unpark_from_another_thread_ends_a_wait_without_timeout() {
    /// Rounds of the race between the unpark and the start of the wait.
    const ROUNDS: usize = 50;
    each_setup(|setup| {
        let driver = driver(setup);
        for _ in 0..ROUNDS {
            let unparker = {
                let driver = driver.clone();
                std::thread::spawn(move || driver.unpark())
            };
            let mut core = driver.try_lock().expect("only the test turns the driver");
            let before = driver.io.poll_count();
            // No timeout: only the unpark (before or during the wait) ends it; a lost
            // one hangs the test.
            driver.turn(&mut core, None, || true);
            assert_eq!(driver.io.poll_count(), before + 1, "{setup:?}");
            drop(core);
            unparker.join().unwrap();
        }
    });
}

impl Counter {
    fn load_count(&self) -> usize {
        self.0.load(SeqCst)
    }
}
