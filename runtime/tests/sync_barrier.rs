//! `sync::Barrier`: rounds release together with one leader each, on every flavour; a waiter
//! dropped before its round completes withdraws its arrival.

mod support;
mod sync_support;

use arbor_runtime::spawn;
use arbor_runtime::sync::Barrier;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use sync_support::{CountingWaker, manual, poll_noop};

const PARTIES: usize = 8;
const ROUNDS: usize = 5;

rt_test! {
    fn rounds_release_together_with_one_leader(rt: &Runtime) {
        let leaders = rt.block_on(async {
            let barrier = Arc::new(Barrier::new(PARTIES));
            let arrived = Arc::new(AtomicUsize::new(0));
            let leaders = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..PARTIES)
                .map(|_| {
                    let (barrier, arrived, leaders) =
                        (barrier.clone(), arrived.clone(), leaders.clone());
                    spawn(async move {
                        for round in 0..ROUNDS {
                            arrived.fetch_add(1, SeqCst);
                            let result = barrier.wait().await;
                            // Nobody passes before the whole round arrived.
                            assert!(arrived.load(SeqCst) >= (round + 1) * PARTIES);
                            if result.is_leader() {
                                leaders.fetch_add(1, SeqCst);
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            leaders.load(SeqCst)
        });
        assert_eq!(leaders, ROUNDS, "one leader per round");
    }
}

#[test]
fn a_dropped_waiter_withdraws_its_arrival() {
    let barrier = Barrier::new(2);
    let mut quitter = manual(barrier.wait());
    assert!(poll_noop(quitter.as_mut()).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    drop(quitter);
    assert_eq!(barrier.n_waiting(), 0);
    let w = CountingWaker::new();
    let mut first = manual(barrier.wait());
    assert!(w.poll(first.as_mut()).is_pending(), "still one short");
    let mut second = manual(barrier.wait());
    match poll_noop(second.as_mut()) {
        std::task::Poll::Ready(r) => assert!(r.is_leader()),
        std::task::Poll::Pending => panic!("the second arrival completes the round"),
    }
    assert_eq!(w.wakes(), 1);
    match w.poll(first.as_mut()) {
        std::task::Poll::Ready(r) => assert!(!r.is_leader()),
        std::task::Poll::Pending => panic!("released with the round"),
    }
}

#[test]
fn a_released_waiter_dropped_before_observing_owes_nothing() {
    let barrier = Barrier::new(2);
    let mut first = manual(barrier.wait());
    assert!(poll_noop(first.as_mut()).is_pending());
    let mut second = manual(barrier.wait());
    assert!(poll_noop(second.as_mut()).is_ready());
    drop(first); // released, never observed it
    assert_eq!(barrier.n_waiting(), 0, "the next round starts empty");
    let mut third = manual(barrier.wait());
    assert!(poll_noop(third.as_mut()).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
}

#[test]
#[should_panic(expected = "at least one party")]
fn zero_parties_panics_with_a_clear_message() {
    Barrier::new(0);
}
