//! `sync::RwLock`: readers share, writers exclude, on every flavour; a queued writer holds
//! back later readers (no starvation); dropped waiters pass the lock on.

mod support;
mod sync_support;

use arbor_runtime::sync::RwLock;
use arbor_runtime::{spawn, yield_now};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Poll;
use sync_support::{CountingWaker, manual, poll_noop};

rt_test! {
    fn readers_share_and_writers_exclude(rt: &Runtime) {
        let (value, max_readers) = rt.block_on(async {
            let lock = Arc::new(RwLock::new(0usize));
            let readers = Arc::new(AtomicUsize::new(0));
            let writers = Arc::new(AtomicUsize::new(0));
            let max_readers = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..40usize)
                .map(|i| {
                    let (lock, readers, writers, max_readers) =
                        (lock.clone(), readers.clone(), writers.clone(), max_readers.clone());
                    spawn(async move {
                        for _ in 0..10 {
                            if i % 4 == 0 {
                                let mut w = lock.write().await;
                                assert_eq!(writers.fetch_add(1, SeqCst), 0);
                                assert_eq!(readers.load(SeqCst), 0, "a reader inside a write");
                                yield_now().await;
                                *w += 1;
                                writers.fetch_sub(1, SeqCst);
                            } else {
                                let r = lock.read().await;
                                let now = readers.fetch_add(1, SeqCst) + 1;
                                max_readers.fetch_max(now, SeqCst);
                                assert_eq!(writers.load(SeqCst), 0, "a writer inside a read");
                                let _ = *r;
                                yield_now().await;
                                readers.fetch_sub(1, SeqCst);
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            let v = *lock.read().await;
            (v, max_readers.load(SeqCst))
        });
        assert_eq!(value, 10 * 10, "ten writers wrote ten times");
        assert!(max_readers >= 1);
    }
}

#[test]
fn a_queued_writer_holds_back_later_readers() {
    let lock = RwLock::new(0);
    let reader = lock.try_read().unwrap();
    let mut writer = manual(lock.write());
    assert!(poll_noop(writer.as_mut()).is_pending());
    assert!(
        lock.try_read().is_err(),
        "a new reader would starve the writer"
    );
    let mut late_reader = manual(lock.read());
    assert!(poll_noop(late_reader.as_mut()).is_pending());
    drop(reader);
    let mut w = match poll_noop(writer.as_mut()) {
        Poll::Ready(w) => w,
        Poll::Pending => panic!("the writer was next"),
    };
    *w = 1;
    assert!(poll_noop(late_reader.as_mut()).is_pending());
    drop(w);
    match poll_noop(late_reader.as_mut()) {
        Poll::Ready(r) => assert_eq!(*r, 1),
        Poll::Pending => panic!("the reader follows the writer"),
    }
}

#[test]
fn a_granted_writer_dropped_before_observing_lets_readers_in() {
    let lock = RwLock::new(());
    let reader = lock.try_read().unwrap();
    let (ww, wr) = (CountingWaker::new(), CountingWaker::new());
    let mut writer = manual(lock.write());
    let mut late_reader = manual(lock.read());
    assert!(ww.poll(writer.as_mut()).is_pending());
    assert!(wr.poll(late_reader.as_mut()).is_pending());
    drop(reader);
    assert_eq!((ww.wakes(), wr.wakes()), (1, 0), "the writer is granted");
    drop(writer);
    assert_eq!(wr.wakes(), 1, "the writer's grant went to the reader");
    assert!(wr.poll(late_reader.as_mut()).is_ready());
    drop(late_reader);
    assert!(lock.try_write().is_ok(), "nothing leaked");
}

#[test]
fn downgrade_keeps_readers_and_lets_waiting_readers_in() {
    let lock = RwLock::new(5);
    let w = lock.try_write().unwrap();
    let mut reader = manual(lock.read());
    assert!(poll_noop(reader.as_mut()).is_pending());
    let r = w.downgrade();
    assert!(poll_noop(reader.as_mut()).is_ready());
    assert_eq!(*r, 5);
    assert!(lock.try_write().is_err());
    drop(r);
    drop(reader);
    assert!(lock.try_write().is_ok());
}
