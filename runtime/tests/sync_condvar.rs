//! `sync::Condvar`: producer/consumer on every flavour, notify_one wakes one waiter in FIFO
//! order, notify_all wakes all, and a notification received by a dropped waiter moves on.

mod support;
mod sync_support;

use arbor_runtime::sync::{Condvar, Mutex};
use arbor_runtime::{spawn, yield_now};
use std::collections::VecDeque;
use std::sync::Arc;
use sync_support::{CountingWaker, manual};

rt_test! {
    fn producer_consumer_hands_over_every_item(rt: &Runtime) {
        let got = rt.block_on(async {
            let state = Arc::new((Mutex::new((VecDeque::new(), false)), Condvar::new()));
            let consumers: Vec<_> = (0..4)
                .map(|_| {
                    let state = state.clone();
                    spawn(async move {
                        let (lock, cv) = &*state;
                        let mut got = Vec::new();
                        loop {
                            let guard = lock.lock().await;
                            let mut guard =
                                cv.wait_while(guard, |(items, done)| items.is_empty() && !*done).await;
                            match guard.0.pop_front() {
                                Some(item) => got.push(item),
                                None => return got, // done and drained
                            }
                        }
                    })
                })
                .collect();
            let (lock, cv) = &*state;
            for i in 0..200u32 {
                lock.lock().await.0.push_back(i);
                cv.notify_one();
                if i % 16 == 0 {
                    yield_now().await;
                }
            }
            lock.lock().await.1 = true;
            cv.notify_all();
            let mut got = Vec::new();
            for c in consumers {
                got.extend(c.await.unwrap());
            }
            got.sort();
            got
        });
        assert_eq!(got, (0..200).collect::<Vec<_>>());
    }
}

#[test]
fn notify_one_is_fifo_and_passed_on_by_a_dropped_waiter() {
    let mutex = Mutex::new(0);
    let cv = Condvar::new();
    let (w1, w2, w3) = (
        CountingWaker::new(),
        CountingWaker::new(),
        CountingWaker::new(),
    );
    let mut first = manual(cv.wait(mutex.try_lock().unwrap()));
    assert!(
        w1.poll(first.as_mut()).is_pending(),
        "the mutex is released while waiting"
    );
    let mut second = manual(cv.wait(mutex.try_lock().unwrap()));
    assert!(w2.poll(second.as_mut()).is_pending());
    let mut third = manual(cv.wait(mutex.try_lock().unwrap()));
    assert!(w3.poll(third.as_mut()).is_pending());

    cv.notify_one();
    assert_eq!(
        (w1.wakes(), w2.wakes(), w3.wakes()),
        (1, 0, 0),
        "the oldest first"
    );
    drop(first); // notified, never observed it
    assert_eq!(
        (w2.wakes(), w3.wakes()),
        (1, 0),
        "the notification moved on"
    );
    let guard = match w2.poll(second.as_mut()) {
        std::task::Poll::Ready(g) => g,
        std::task::Poll::Pending => panic!("the second waiter was notified and the mutex is free"),
    };
    drop(guard);
    assert!(
        w3.poll(third.as_mut()).is_pending(),
        "one notification, one waiter"
    );
    cv.notify_all();
    assert!(w3.poll(third.as_mut()).is_ready());
}

#[test]
fn notifications_are_not_stored() {
    let mutex = Mutex::new(());
    let cv = Condvar::default();
    cv.notify_one();
    cv.notify_all();
    let w = CountingWaker::new();
    let mut waiter = manual(cv.wait(mutex.try_lock().unwrap()));
    assert!(w.poll(waiter.as_mut()).is_pending());
}

#[test]
fn a_notified_waiter_waits_for_the_mutex() {
    let mutex = Mutex::new(1);
    let cv = Condvar::new();
    let w = CountingWaker::new();
    let mut waiter = manual(cv.wait(mutex.try_lock().unwrap()));
    assert!(w.poll(waiter.as_mut()).is_pending());
    let mut held = mutex.try_lock().unwrap();
    cv.notify_one();
    assert!(
        w.poll(waiter.as_mut()).is_pending(),
        "notified, but the mutex is held"
    );
    *held = 2;
    drop(held);
    match w.poll(waiter.as_mut()) {
        std::task::Poll::Ready(g) => assert_eq!(*g, 2),
        std::task::Poll::Pending => panic!("the mutex was handed over"),
    }
}
