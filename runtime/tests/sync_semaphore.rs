//! `sync::Semaphore`: the permit bound holds under contention on every flavour, waiters are
//! served in FIFO order (a large request is not starved), dropped waiters give back what
//! they were assigned, and an `add_permits` that panics has changed nothing.

mod support;
mod sync_support;

use arbor_runtime::sync::{Event, Semaphore};
use arbor_runtime::{spawn, yield_now};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Poll;
use sync_support::{CountingWaker, manual, poll_noop, report_queued};

const LIMIT: usize = 3;
const TASKS: usize = 64;

rt_test! {
    fn at_most_limit_tasks_hold_a_permit(rt: &Runtime) {
        let (max_seen, ran, left) = rt.block_on(async {
            let sem = Arc::new(Semaphore::new(LIMIT));
            let inside = Arc::new(AtomicUsize::new(0));
            let max_seen = Arc::new(AtomicUsize::new(0));
            let ran = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (sem, inside, max_seen, ran) =
                        (sem.clone(), inside.clone(), max_seen.clone(), ran.clone());
                    spawn(async move {
                        let _permit = sem.acquire().await;
                        let now = inside.fetch_add(1, SeqCst) + 1;
                        max_seen.fetch_max(now, SeqCst);
                        yield_now().await;
                        inside.fetch_sub(1, SeqCst);
                        ran.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            (max_seen.load(SeqCst), ran.load(SeqCst), sem.available_permits())
        });
        assert!(max_seen <= LIMIT, "{max_seen} tasks held a permit at once");
        assert_eq!(ran, TASKS);
        assert_eq!(left, LIMIT, "every permit came back");
    }
}

rt_test! {
    fn waiters_are_served_in_fifo_order(rt: &Runtime) {
        let order = rt.block_on(async {
            let sem = Arc::new(Semaphore::new(0));
            let order = Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut tasks = Vec::new();
            for i in 0..12usize {
                let queued = Arc::new(Event::new());
                let (sem, order) = (sem.clone(), order.clone());
                // Odd tasks ask for two permits: they are not overtaken by later small asks.
                let n = 1 + i % 2;
                tasks.push(spawn(report_queued(
                    async move {
                        let permit = sem.acquire_many(n).await;
                        order.lock().unwrap().push(i);
                        drop(permit);
                    },
                    queued.clone(),
                )));
                queued.wait().await;
            }
            sem.add_permits(2);
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(sem.available_permits(), 2);
            order.lock().unwrap().clone()
        });
        assert_eq!(order, (0..12).collect::<Vec<_>>());
    }
}

#[test]
fn try_acquire_does_not_barge_past_waiters() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire_many(1).unwrap();
    let mut big = manual(sem.acquire_many(2));
    assert!(poll_noop(big.as_mut()).is_pending());
    drop(held);
    // One permit is free but assigned to the queued request: a newcomer may not take it.
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.try_acquire().is_err());
    sem.add_permits(1);
    let permit = match poll_noop(big.as_mut()) {
        Poll::Ready(p) => p,
        Poll::Pending => panic!("two permits were released to the waiter"),
    };
    assert_eq!(permit.num_permits(), 2);
    drop(permit);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn a_granted_waiter_dropped_before_observing_passes_the_permit_on() {
    let sem = Semaphore::new(0);
    let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
    let mut first = manual(sem.acquire());
    let mut second = manual(sem.acquire());
    assert!(w1.poll(first.as_mut()).is_pending());
    assert!(w2.poll(second.as_mut()).is_pending());
    sem.add_permits(1);
    assert_eq!((w1.wakes(), w2.wakes()), (1, 0));
    drop(first);
    assert_eq!(w2.wakes(), 1, "the permit moved on");
    let permit = match w2.poll(second.as_mut()) {
        Poll::Ready(p) => p,
        Poll::Pending => panic!("the second waiter has the permit"),
    };
    assert_eq!(sem.available_permits(), 0);
    drop(permit);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn a_partly_served_waiter_dropped_gives_back_its_part() {
    let sem = Semaphore::new(1);
    let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
    let mut big = manual(sem.acquire_many(3)); // takes the 1 available, waits for 2 more
    let mut small = manual(sem.acquire());
    assert!(w1.poll(big.as_mut()).is_pending());
    assert!(w2.poll(small.as_mut()).is_pending());
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(1); // the big request now holds 2 of 3
    assert_eq!((w1.wakes(), w2.wakes()), (0, 0));
    drop(big);
    // Its 2 permits: 1 to the small request, 1 back to the semaphore.
    assert_eq!(w2.wakes(), 1);
    assert_eq!(sem.available_permits(), 1);
    let permit = match w2.poll(small.as_mut()) {
        Poll::Ready(p) => p,
        Poll::Pending => panic!("the small request was served"),
    };
    drop(permit);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn forget_owned_and_zero_permits() {
    let sem = Arc::new(Semaphore::new(2));
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
    let owned = sem.clone().try_acquire_owned().unwrap();
    assert_eq!(owned.num_permits(), 1);
    assert!(sem.clone().try_acquire_owned().is_err());
    drop(owned);
    assert_eq!(sem.available_permits(), 1);
    let mut none = manual(sem.acquire_many(0));
    assert!(
        poll_noop(none.as_mut()).is_ready(),
        "zero permits resolve at once"
    );
}

#[test]
#[should_panic(expected = "a semaphore holds at most")]
fn too_many_permits_panics_with_a_clear_message() {
    Semaphore::new(Semaphore::MAX_PERMITS + 1);
}

#[test]
#[should_panic(expected = "too many were added")]
fn adding_past_the_maximum_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.add_permits(1);
}

#[test]
fn an_overflowing_add_permits_panics_before_serving_a_waiter() {
    // The overflow is checked before any permit moves: the queued waiter is neither granted
    // nor left granted-but-unwoken, and the semaphore works on afterwards.
    let sem = Semaphore::new(0);
    let w = CountingWaker::new();
    let mut waiter = manual(sem.acquire());
    assert!(w.poll(waiter.as_mut()).is_pending());
    for n in [usize::MAX, Semaphore::MAX_PERMITS + 1] {
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sem.add_permits(n)))
            .expect_err("adding past the maximum panics");
        let message = panic.downcast_ref::<String>().map_or("", String::as_str);
        assert!(message.contains("too many were added"), "{message}");
        assert_eq!(w.wakes(), 0, "nobody was served");
        assert!(
            w.poll(waiter.as_mut()).is_pending(),
            "the waiter still waits, granted nothing"
        );
        assert_eq!(sem.available_permits(), 0);
    }
    sem.add_permits(1);
    assert_eq!(w.wakes(), 1, "a valid add serves the waiter and wakes it");
    let permit = match w.poll(waiter.as_mut()) {
        Poll::Ready(p) => p,
        Poll::Pending => panic!("the waiter was served"),
    };
    assert!(sem.try_acquire().is_err());
    drop(permit);
    assert_eq!(sem.available_permits(), 1);
}

/// Counts `n` in `inside` while it lives (dropped before the permit it counts: declared
/// after it).
struct Inside<'a> {
    inside: &'a AtomicUsize,
    n: usize,
}

impl<'a> Inside<'a> {
    fn enter(inside: &'a AtomicUsize, n: usize) -> Inside<'a> {
        inside.fetch_add(n, SeqCst);
        Inside { inside, n }
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.inside.fetch_sub(self.n, SeqCst);
    }
}

rt_test! {
    // Waiters cancelled from another task while grants race them (queued, partly served,
    // or granted but not yet polled): no permit is lost or duplicated. Each round queues
    // waiters for 1-3 permits of 4 behind a holder, releases, and cancels every other
    // waiter while the grants are handed out.
    fn cancelled_waiters_racing_grants_lose_and_duplicate_no_permit(rt: &Runtime) {
        const PERMITS: usize = 4;
        let (max_seen, left) = rt.block_on(async {
            let sem = Arc::new(Semaphore::new(PERMITS));
            let inside = Arc::new(AtomicUsize::new(0));
            let max_seen = Arc::new(AtomicUsize::new(0));
            for round in 0..40usize {
                let holder = sem.acquire_many(PERMITS).await;
                let tasks: Vec<_> = (0..16usize)
                    .map(|i| {
                        let (sem, inside, max_seen) =
                            (sem.clone(), inside.clone(), max_seen.clone());
                        let n = 1 + (i + round) % 3;
                        spawn(async move {
                            let _permit = sem.acquire_many(n).await;
                            // Counted out on drop too: a task cancelled while it holds the
                            // permit gives it back when its future is dropped.
                            let _inside = Inside::enter(&inside, n);
                            max_seen.fetch_max(inside.load(SeqCst), SeqCst);
                            yield_now().await;
                        })
                    })
                    .collect();
                // Let the waiters queue, then release and cancel half of them at once.
                for _ in 0..4 {
                    yield_now().await;
                }
                drop(holder);
                for t in tasks.iter().skip(round % 2).step_by(2) {
                    t.cancel();
                }
                for t in tasks {
                    let _ = t.await; // finished or cancelled
                }
                assert_eq!(sem.available_permits(), PERMITS, "round {round}");
            }
            (max_seen.load(SeqCst), sem.available_permits())
        });
        assert!(max_seen <= PERMITS, "{max_seen} permits were held at once");
        assert_eq!(left, PERMITS, "every permit came back");
    }
}
