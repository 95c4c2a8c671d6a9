//! `sync::Mutex`: mutual exclusion under contention on every flavour, FIFO hand-off, and
//! cancellation safety (a lock future dropped after the lock was handed to it passes it on).

mod support;
mod sync_support;

use arbor_runtime::sync::{Event, Mutex};
use arbor_runtime::{spawn, yield_now};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use support::Counters;
use sync_support::{CountingWaker, manual, poll_noop, report_queued};

/// arbor's cooperative budget: units of progress a task makes per poll (`coop::TASK_BUDGET`).
const BUDGET: usize = 128;
const UNCONTENDED: usize = 10_000;

const TASKS: usize = 32;
const ROUNDS: usize = 50;

rt_test! {
    fn contended_increments_are_all_counted(rt: &Runtime) {
        let total = rt.block_on(async {
            let counter = Arc::new(Mutex::new(0usize));
            let inside = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (counter, inside) = (counter.clone(), inside.clone());
                    spawn(async move {
                        for _ in 0..ROUNDS {
                            let mut n = counter.lock().await;
                            assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders at once");
                            let seen = *n;
                            yield_now().await; // held across a suspension
                            *n = seen + 1;
                            inside.fetch_sub(1, SeqCst);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            *counter.lock().await
        });
        assert_eq!(total, TASKS * ROUNDS);
    }
}

rt_test! {
    fn waiters_get_the_lock_in_the_order_they_queued(rt: &Runtime) {
        let order = rt.block_on(async {
            let mutex = Arc::new(Mutex::new(Vec::new()));
            let guard = mutex.lock().await;
            let mut tasks = Vec::new();
            for i in 0..16 {
                let queued = Arc::new(Event::new());
                let m = mutex.clone();
                tasks.push(spawn(report_queued(
                    async move {
                        m.lock().await.push(i);
                    },
                    queued.clone(),
                )));
                // The next task starts only once this one is in line.
                queued.wait().await;
            }
            drop(guard);
            for t in tasks {
                t.await.unwrap();
            }
            mutex.lock().await.clone()
        });
        assert_eq!(order, (0..16).collect::<Vec<_>>());
    }
}

rt_test! {
    fn a_loop_on_an_always_free_lock_still_yields(rt: &Runtime) {
        let counters = Counters::new();
        let c = counters.clone();
        let n = rt.block_on(async move {
            let mutex = Arc::new(Mutex::new(0));
            let m = mutex.clone();
            spawn(c.wrap(async move {
                for _ in 0..UNCONTENDED {
                    *m.lock().await += 1;
                }
            }))
            .await
            .unwrap();
            *mutex.lock().await
        });
        assert_eq!(n, UNCONTENDED);
        // Each lock spends a unit of the budget: the task is re-polled once per budget.
        assert!(counters.polls() >= UNCONTENDED / BUDGET, "polls: {}", counters.polls());
    }
}

#[test]
fn try_lock_fails_while_held_or_contended() {
    let mutex = Mutex::new(1);
    let guard = mutex.try_lock().unwrap();
    assert!(mutex.try_lock().is_err());
    let mut waiter = manual(mutex.lock());
    assert!(poll_noop(waiter.as_mut()).is_pending());
    drop(guard);
    // Handed to the waiter: a newcomer cannot barge in.
    assert!(mutex.try_lock().is_err());
    let guard = match poll_noop(waiter.as_mut()) {
        std::task::Poll::Ready(g) => g,
        std::task::Poll::Pending => panic!("the waiter was handed the lock"),
    };
    assert_eq!(*guard, 1);
    drop(guard);
    assert!(mutex.try_lock().is_ok());
}

#[test]
fn a_dropped_waiter_that_was_handed_the_lock_passes_it_on() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
    let mut first = manual(mutex.lock());
    let mut second = manual(mutex.lock());
    assert!(w1.poll(first.as_mut()).is_pending());
    assert!(w2.poll(second.as_mut()).is_pending());
    drop(guard);
    assert_eq!(
        (w1.wakes(), w2.wakes()),
        (1, 0),
        "the first waiter is handed the lock"
    );
    drop(first); // before it observed the lock
    assert_eq!(w2.wakes(), 1, "the lock moved on to the second waiter");
    let guard = match w2.poll(second.as_mut()) {
        std::task::Poll::Ready(g) => g,
        std::task::Poll::Pending => panic!("the second waiter holds the lock"),
    };
    assert!(mutex.try_lock().is_err());
    drop(guard);
    drop(second);
    assert!(mutex.try_lock().is_ok(), "nothing leaked");
}

#[test]
fn a_dropped_queued_waiter_leaves_the_line() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
    let mut first = manual(mutex.lock());
    let mut second = manual(mutex.lock());
    assert!(w1.poll(first.as_mut()).is_pending());
    assert!(w2.poll(second.as_mut()).is_pending());
    drop(first);
    drop(guard);
    assert_eq!((w1.wakes(), w2.wakes()), (0, 1));
    assert!(w2.poll(second.as_mut()).is_ready());
}

#[test]
fn into_inner_get_mut_and_debug() {
    let mut mutex = Mutex::new(vec![1]);
    mutex.get_mut().push(2);
    assert_eq!(format!("{mutex:?}"), "Mutex { data: [1, 2] }");
    let guard = mutex.try_lock().unwrap();
    assert_eq!(format!("{mutex:?}"), "Mutex { data: <locked> }");
    drop(guard);
    assert_eq!(mutex.into_inner(), [1, 2]);
}

#[test]
fn guards_and_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let mutex = Mutex::new(0);
    let fut = mutex.lock();
    send(&fut);
    send(&mutex.try_lock().unwrap());
}
