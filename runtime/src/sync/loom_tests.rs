//! Loom models of the sync primitives' core protocols: the permit counter (acquire,
//! release, a waiter dropped around its grant), the mutex hand-off, rwlock exclusion, event
//! set/wait, condvar notify/wait, barrier release, oneshot send/recv/drop, the receiver's
//! atomic waker, mpsc send/recv/close (a close racing a send in flight, the receiver's drop
//! racing a send) and queue put/get (getters and putters dropped around their grants).
//!
//! Futures are driven with [`block_on`] (which sleeps until its waker fires, so a lost
//! wake-up is a deadlock loom reports), or polled by hand with a no-op waker where
//! a test drops a waiter at a chosen point.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p arbor-runtime --release --lib loom`.

use super::atomic_waker::AtomicWaker;
use super::permits::Permits;
use super::{Barrier, Condvar, Event, Mutex, Queue, RwLock, mpsc, oneshot};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use loom::thread;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

/// The waker of [`block_on`]: a flag under a loom lock, and a condvar. (Not loom's
/// `Thread::unpark`: loom cannot model an unpark that reaches a thread blocked elsewhere,
/// in a `join`, as a late wake from a finished `block_on` does.)
#[derive(Default)]
struct Notify {
    woken: loom::sync::Mutex<bool>,
    cv: loom::sync::Condvar,
}

impl Wake for Notify {
    fn wake(self: std::sync::Arc<Self>) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

/// Drives `fut` to completion on this loom thread, sleeping between polls until its waker
/// fires. A lost wake-up leaves the thread asleep for good, which loom reports as a
/// deadlock.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let notify = std::sync::Arc::new(Notify::default());
    let waker = Waker::from(notify.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        let mut woken = notify.woken.lock().unwrap();
        while !*woken {
            woken = notify.cv.wait(woken).unwrap();
        }
        *woken = false;
    }
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    std::pin::Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

/// A preemption bound for the models with three threads, so each runs in seconds.
fn bounded(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(model);
}

#[test]
fn loom_permits_acquire_release() {
    // Two tasks take the one permit in turn; each writes the cell, which loom checks for a
    // data race (so the permit's hand-over must order the writes).
    loom::model(|| {
        let permits = Arc::new(Permits::new(1));
        let cell = Arc::new(UnsafeCell::new(0usize));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (permits, cell) = (permits.clone(), cell.clone());
                thread::spawn(move || {
                    block_on(permits.acquire(1));
                    cell.with_mut(|p| {
                        // SAFETY: the permit gives this thread exclusive access.
                        unsafe { *p += 1 }
                    });
                    permits.release(1);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // SAFETY: every other thread has been joined.
        assert_eq!(cell.with(|p| unsafe { *p }), 2);
        assert_eq!(permits.available(), 1);
    });
}

#[test]
fn loom_permits_dropped_waiter_returns_its_grant() {
    // A waiter queues, then is dropped while the holder releases: granted or not, the
    // permit must end up back in the counter.
    loom::model(|| {
        let permits = Arc::new(Permits::new(1));
        assert!(permits.try_acquire(1));
        let p2 = permits.clone();
        let waiter = thread::spawn(move || {
            let mut acquire = p2.acquire(1);
            let first = poll_once(&mut acquire);
            drop(acquire);
            first.is_ready()
        });
        permits.release(1);
        let got_it_at_once = waiter.join().unwrap();
        if got_it_at_once {
            // It took the permit on its first poll, then "dropped" the future, not a permit:
            // the permit was leaked by this test on purpose; give it back.
            permits.release(1);
        }
        assert_eq!(permits.available(), 1);
        assert!(
            permits.try_acquire(1),
            "the fast path works again (QUEUED cleared)"
        );
    });
}

#[test]
fn loom_permits_partial_grant_to_a_dropped_waiter_moves_on() {
    // Waiter A wants 2 of 2 permits, waiter B wants 1; both queue while the permits are out.
    // The holders release one each while A is dropped: B must end up with its permit and
    // the other permit must be back.
    bounded(|| {
        let permits = Arc::new(Permits::new(2));
        assert!(permits.try_acquire(2));
        let mut a = permits.acquire(2);
        assert!(poll_once(&mut a).is_pending());
        let p2 = permits.clone();
        let b = thread::spawn(move || {
            block_on(p2.acquire(1));
            p2.release(1);
        });
        let p3 = permits.clone();
        let releaser = thread::spawn(move || p3.release(1));
        drop(a);
        permits.release(1);
        releaser.join().unwrap();
        b.join().unwrap();
        assert_eq!(permits.available(), 2);
    });
}

#[test]
fn loom_mutex_lock_contended() {
    bounded(|| {
        let mutex = Arc::new(Mutex::new(UnsafeCell::new(0usize)));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let mutex = mutex.clone();
                thread::spawn(move || {
                    let guard = block_on(mutex.lock());
                    guard.with_mut(|p| {
                        // SAFETY: the guard gives this thread exclusive access.
                        unsafe { *p += 1 }
                    });
                })
            })
            .collect();
        {
            let guard = block_on(mutex.lock());
            guard.with_mut(|p| {
                // SAFETY: as above.
                unsafe { *p += 1 }
            });
        }
        for t in threads {
            t.join().unwrap();
        }
        let guard = mutex.try_lock().expect("the mutex is free at the end");
        // SAFETY: as above.
        assert_eq!(guard.with(|p| unsafe { *p }), 3);
    });
}

#[test]
fn loom_mutex_dropped_lock_future_passes_the_lock_on() {
    loom::model(|| {
        let mutex = Arc::new(Mutex::new(()));
        let guard = mutex.try_lock().unwrap();
        let m2 = mutex.clone();
        let canceller = thread::spawn(move || {
            let mut lock = Box::pin(m2.lock());
            let _ = lock.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            // Dropped queued, granted, or holding the guard it just got: all give it back.
        });
        let m3 = mutex.clone();
        let next = thread::spawn(move || drop(block_on(m3.lock())));
        drop(guard);
        canceller.join().unwrap();
        next.join().unwrap();
        assert!(mutex.try_lock().is_ok());
    });
}

#[test]
fn loom_rwlock_reader_and_writer_exclude() {
    // A writer and a reader race; loom's cell checks the writer's access never overlaps the
    // reader's, and the reader sees the value before or after the write, nothing else.
    loom::model(|| {
        let lock = Arc::new(RwLock::new(UnsafeCell::new(0usize)));
        let l2 = lock.clone();
        let writer = thread::spawn(move || {
            let guard = block_on(l2.write());
            guard.with_mut(|p| {
                // SAFETY: the write guard gives this thread exclusive access.
                unsafe { *p = 1 }
            });
        });
        let seen = {
            let guard = block_on(lock.read());
            // SAFETY: the read guard excludes the writer.
            guard.with(|p| unsafe { *p })
        };
        assert!(seen == 0 || seen == 1);
        writer.join().unwrap();
        assert!(lock.try_write().is_ok());
    });
}

#[test]
fn loom_event_set_wakes_waiter() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let e2 = event.clone();
        let waiter = thread::spawn(move || block_on(e2.wait()));
        event.set();
        waiter.join().unwrap();
        assert!(event.is_set());
    });
}

#[test]
fn loom_event_clear_does_not_unwake() {
    // A waiter woken by `set` resolves even though `clear` follows at once.
    loom::model(|| {
        let event = Arc::new(Event::new());
        let mut wait = event.wait();
        assert!(poll_once(&mut wait).is_pending(), "queued");
        let e2 = event.clone();
        let setter = thread::spawn(move || {
            e2.set();
            e2.clear();
        });
        block_on(wait);
        setter.join().unwrap();
        assert!(!event.is_set());
    });
}

#[test]
fn loom_condvar_notify_is_not_lost() {
    loom::model(|| {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let p2 = pair.clone();
        let notifier = thread::spawn(move || {
            *block_on(p2.0.lock()) = true;
            p2.1.notify_one();
        });
        block_on(async {
            let guard = pair.0.lock().await;
            let guard = pair.1.wait_while(guard, |ready| !*ready).await;
            assert!(*guard);
        });
        notifier.join().unwrap();
    });
}

#[test]
fn loom_barrier_releases_all_with_one_leader() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let leaders = Arc::new(AtomicUsize::new(0));
        let (b2, l2) = (barrier.clone(), leaders.clone());
        let other = thread::spawn(move || {
            if block_on(b2.wait()).is_leader() {
                l2.fetch_add(1, SeqCst);
            }
        });
        if block_on(barrier.wait()).is_leader() {
            leaders.fetch_add(1, SeqCst);
        }
        other.join().unwrap();
        assert_eq!(leaders.load(SeqCst), 1);
    });
}

#[test]
fn loom_oneshot_send_recv() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(7).unwrap());
        assert_eq!(block_on(rx), Ok(7));
        sender.join().unwrap();
    });
}

#[test]
fn loom_oneshot_sender_drop_wakes_receiver() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<u32>();
        let sender = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        sender.join().unwrap();
    });
}

#[test]
fn loom_oneshot_receiver_drop_races_send() {
    // The value is dropped exactly once: by the receiver's drop, or handed back to `send`.
    loom::model(|| {
        let value = Arc::new(());
        let (tx, rx) = oneshot::channel();
        let receiver = thread::spawn(move || drop(rx));
        let v = value.clone();
        match tx.send(v) {
            Ok(()) => {}
            Err(v) => drop(v),
        }
        receiver.join().unwrap();
        assert_eq!(Arc::strong_count(&value), 1);
    });
}

#[test]
fn loom_mpsc_bounded_send_waits_and_close() {
    bounded(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let sender = thread::spawn(move || {
            block_on(async {
                tx.send(1).await.unwrap();
                tx.send(2).await.unwrap(); // waits for room
            });
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(block_on(rx.recv()), None, "the sender is gone");
        sender.join().unwrap();
    });
}

#[test]
fn loom_mpsc_receiver_drop_fails_a_waiting_send() {
    loom::model(|| {
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(1).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(2)));
        drop(rx);
        let out = sender.join().unwrap();
        assert_eq!(out.map_err(|e| e.0), Err(2), "the value comes back");
    });
}

/// Waits, through `waker`, until `flag` is set: the receiver's shape (register, then look).
fn wait_for_flag(waker: &AtomicWaker, flag: &AtomicBool) {
    block_on(std::future::poll_fn(|cx| {
        if flag.load(Relaxed) {
            return Poll::Ready(());
        }
        waker.register(cx.waker());
        if flag.load(Relaxed) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }));
}

#[test]
fn loom_atomic_waker_a_wake_racing_the_registration_is_not_lost() {
    // The flag is stored Relaxed: the wake's and the registration's fences alone must
    // publish it to the registrant.
    loom::model(|| {
        let waker = Arc::new(AtomicWaker::new());
        let flag = Arc::new(AtomicBool::new(false));
        let (w, f) = (waker.clone(), flag.clone());
        let producer = thread::spawn(move || {
            f.store(true, Relaxed);
            w.wake();
        });
        wait_for_flag(&waker, &flag);
        producer.join().unwrap();
    });
}

#[test]
fn loom_atomic_waker_two_wakers_and_a_registration() {
    // Two producers each set their flag and wake; the registrant waits for both (it
    // registers again after the first). A wake that finds another one taking the slot
    // leaves the wake-up to it.
    bounded(|| {
        let waker = Arc::new(AtomicWaker::new());
        let flags = [
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        ];
        let producers: Vec<_> = flags
            .iter()
            .map(|flag| {
                let (w, f) = (waker.clone(), flag.clone());
                thread::spawn(move || {
                    f.store(true, Relaxed);
                    w.wake();
                })
            })
            .collect();
        for flag in &flags {
            wait_for_flag(&waker, flag);
        }
        for p in producers {
            p.join().unwrap();
        }
    });
}

#[test]
fn loom_mpsc_last_sender_drop_races_recv() {
    // The value and then the end: never the end first, never a lost wake-up.
    loom::model(|| {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            drop(tx);
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

#[test]
fn loom_mpsc_close_racing_a_send_in_flight() {
    // A send that committed before the close is received; one after it fails; `recv`
    // waits for a committed value that is still being pushed instead of ending early.
    loom::model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let sender = thread::spawn(move || block_on(tx.send(7)).is_ok());
        rx.close();
        let got = block_on(rx.recv());
        let sent = sender.join().unwrap();
        assert_eq!(got, sent.then_some(7), "received exactly what was sent");
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn loom_mpsc_receiver_drop_racing_a_send_keeps_no_value() {
    // Whichever comes first, the value is dropped by the time both are done, although a
    // sender still lives: a value is never kept for a receiver that is gone.
    loom::model(|| {
        let (tx, rx) = mpsc::unbounded_channel::<std::sync::Arc<()>>();
        let value = std::sync::Arc::new(());
        let v = value.clone();
        let sender = thread::spawn(move || {
            let _ = tx.send(v);
            tx
        });
        drop(rx);
        let tx = sender.join().unwrap();
        assert_eq!(
            std::sync::Arc::strong_count(&value),
            1,
            "the value was kept"
        );
        drop(tx);
    });
}

#[test]
fn loom_mpsc_bounded_room_is_handed_over_and_counted() {
    // Two senders race for one slot while the receiver takes values: both arrive, each
    // once, and the end comes after both.
    bounded(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let senders: Vec<_> = (1..=2)
            .map(|v| {
                let tx = tx.clone();
                thread::spawn(move || block_on(tx.send(v)).unwrap())
            })
            .collect();
        drop(tx);
        let mut got = [block_on(rx.recv()), block_on(rx.recv())];
        got.sort();
        assert_eq!(got, [Some(1), Some(2)]);
        assert_eq!(block_on(rx.recv()), None);
        for s in senders {
            s.join().unwrap();
        }
    });
}

#[test]
fn loom_queue_put_get() {
    bounded(|| {
        let queue = Arc::new(Queue::new(1));
        let q2 = queue.clone();
        let producer = thread::spawn(move || {
            block_on(async {
                q2.put(1).await.unwrap();
                q2.put(2).await.unwrap();
            });
        });
        let q3 = queue.clone();
        let consumer = thread::spawn(move || block_on(q3.get()).unwrap());
        let mine = block_on(queue.get()).unwrap();
        let theirs = consumer.join().unwrap();
        producer.join().unwrap();
        let mut got = [mine, theirs];
        got.sort();
        assert_eq!(got, [1, 2]);
        assert!(queue.is_empty());
    });
}

#[test]
fn loom_queue_dropped_getter_passes_its_item_on() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(0));
        let mut first = Box::pin(queue.get());
        let q2 = queue.clone();
        let second = thread::spawn(move || block_on(q2.get()).unwrap());
        // `first` queues (the second getter may queue before or after it).
        assert!(
            first
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        let q3 = queue.clone();
        let producer = thread::spawn(move || q3.put_nowait(5).unwrap());
        producer.join().unwrap();
        // The item was promised to whichever getter queued first; dropping `first` (queued
        // or promised) leaves it for `second`.
        drop(first);
        assert_eq!(second.join().unwrap(), 5);
        assert!(queue.is_empty());
    });
}

#[test]
fn loom_queue_granted_putter_dropped_passes_room_on_and_puts_nothing() {
    // A full queue; putter `first` waits for room. A getter makes room while `first` is
    // dropped: whether the room was granted to it or not, its item is never put, and the
    // room reaches `second` (queued behind it, or arriving later), whose put completes (a
    // lost wake-up would leave it parked).
    bounded(|| {
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(0).unwrap();
        let mut first = Box::pin(queue.put(1));
        assert!(poll_once(&mut first).is_pending());
        let q2 = queue.clone();
        let second = thread::spawn(move || block_on(q2.put(2)).unwrap());
        let q3 = queue.clone();
        let getter = thread::spawn(move || block_on(q3.get()).unwrap());
        drop(first);
        assert_eq!(getter.join().unwrap(), 0);
        second.join().unwrap();
        assert_eq!(queue.get_nowait(), Ok(2), "1 was never put");
        assert!(queue.is_empty() && !queue.is_full());
    });
}
