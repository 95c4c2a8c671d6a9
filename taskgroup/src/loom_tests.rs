//! Loom models of the group completion protocol (`group/completion.rs`): the scope future
//! waiting for its children, racing a child that fails (records its error, cancels the
//! group, spawns a sibling, then is dropped) and a cancel from another thread (which drops
//! a sleeping child); a late spawn slipping in just before the group closes; and the scope
//! future's drop, which blocks its thread until every child's future is gone, racing the
//! children finishing on other threads (and one of them spawning a sibling).
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p arbor-taskgroup --release --lib loom --target-dir target/loom`.

use crate::group::Completion;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

/// Polls `fut` on this loom thread, parking between polls; the waker unparks it.
fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(std::sync::Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// What the group records besides its count: errors (in order) and the cancel flag that
/// stands for the group's node.
#[derive(Default)]
struct Record {
    errors: Mutex<Vec<u32>>,
    cancelled: AtomicBool,
}

/// Explores every interleaving with at most this many preemptions (loom's bound). The
/// races modelled need two; five runs in seconds.
const PREEMPTION_BOUND: usize = 5;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTION_BOUND);
    builder.check(f);
}

#[test]
fn loom_completion_races_a_failure_and_a_cancel() {
    model(|| {
        let completion = Arc::new(Completion::new());
        let record = Arc::new(Record::default());
        // Two children spawned by the body: one fails, one sleeps until cancelled.
        assert!(completion.try_add());
        assert!(completion.try_add());

        let failing = {
            let (completion, record) = (completion.clone(), record.clone());
            thread::spawn(move || {
                record.errors.lock().unwrap().push(1);
                record.cancelled.store(true, SeqCst);
                // The child's future is dropped after it recorded its error; it spawned a
                // sibling first, which the group either counts (and awaits) or refuses.
                if completion.try_add() {
                    completion.child_done();
                }
                completion.child_done();
            })
        };
        let canceller = {
            let (completion, record) = (completion.clone(), record.clone());
            thread::spawn(move || {
                record.cancelled.store(true, SeqCst);
                // The sleeping child wakes, sees the cancel, drops its future.
                completion.child_done();
            })
        };

        // The scope future: the body is done; wait for the children.
        block_on(poll_fn(|cx| completion.poll_closed(cx)));

        // Closed, with nothing live: the failure was recorded before its child was gone.
        assert!(completion.is_closed());
        assert_eq!(completion.live(), 0);
        assert_eq!(*record.errors.lock().unwrap(), vec![1]);
        assert!(record.cancelled.load(SeqCst));
        // Nothing can be added to a finished group.
        assert!(!completion.try_add());

        failing.join().unwrap();
        canceller.join().unwrap();
    });
}

#[test]
fn loom_a_spawn_that_slips_in_before_close_is_awaited() {
    model(|| {
        let completion = Arc::new(Completion::new());
        assert!(completion.try_add());
        let done = Arc::new(AtomicBool::new(false));
        let child = {
            let (completion, done) = (completion.clone(), done.clone());
            thread::spawn(move || {
                // The last child spawns a sibling before it goes away.
                if completion.try_add() {
                    let sibling = {
                        let (completion, done) = (completion.clone(), done.clone());
                        thread::spawn(move || {
                            done.store(true, SeqCst);
                            completion.child_done();
                        })
                    };
                    completion.child_done();
                    sibling.join().unwrap();
                } else {
                    unreachable!("the group cannot close while this child is live");
                }
            })
        };
        block_on(poll_fn(|cx| completion.poll_closed(cx)));
        assert!(
            done.load(SeqCst),
            "the group closed before the late sibling was done"
        );
        child.join().unwrap();
    });
}

#[test]
fn loom_a_dropped_scope_waits_for_children_finishing_elsewhere() {
    model(|| {
        let completion = Arc::new(Completion::new());
        assert!(completion.try_add());
        assert!(completion.try_add());
        let dropped = Arc::new(Mutex::new(0));
        // Two children mid-poll on other workers when the scope is dropped: each drops its
        // future when its poll returns; the first spawns a sibling first, if it still may.
        let children: Vec<_> = (0..2)
            .map(|i| {
                let (completion, dropped) = (completion.clone(), dropped.clone());
                thread::spawn(move || {
                    if i == 0 && completion.try_add() {
                        *dropped.lock().unwrap() += 1;
                        completion.child_done();
                    }
                    *dropped.lock().unwrap() += 1;
                    completion.child_done();
                })
            })
            .collect();
        // The scope future's drop: blocks until every child's future is gone.
        completion.wait_closed_blocking();
        let gone = *dropped.lock().unwrap();
        assert!(
            gone >= 2,
            "the drop returned while a child's future was alive"
        );
        assert_eq!(completion.live(), 0);
        assert!(
            !completion.try_add(),
            "a spawn after the drop returned is refused"
        );
        for child in children {
            child.join().unwrap();
        }
        // A sibling counted before the close was awaited too: nothing was dropped after.
        assert_eq!(*dropped.lock().unwrap(), gone);
    });
}
