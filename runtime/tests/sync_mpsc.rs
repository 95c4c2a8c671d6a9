//! `sync::mpsc`: many producers on every flavour (every value delivered once, each
//! producer's values in order), bounded back-pressure, closing from either side,
//! cancellation safety of `send` and `recv`, a value racing the receiver's drop, and a
//! proptest of the bounded channel against a model.

mod support;
mod sync_support;

use arbor_runtime::spawn;
use arbor_runtime::sync::mpsc::{self, TryRecvError, TrySendError};
use std::sync::Arc;
use std::task::Poll;
use support::Counters;
use sync_support::{CountingWaker, manual, poll_noop};

/// arbor's cooperative budget: units of progress a task makes per poll (`coop::TASK_BUDGET`).
const BUDGET: usize = 128;

const PRODUCERS: u32 = 8;
const PER_PRODUCER: u32 = 200;

rt_test! {
    fn many_producers_each_in_order(rt: &Runtime) {
        let per_producer = rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(4);
            for p in 0..PRODUCERS {
                let tx = tx.clone();
                // Detached: the receiver's `None` says every producer is done.
                drop(spawn(async move {
                    for i in 0..PER_PRODUCER {
                        tx.send((p, i)).await.unwrap();
                    }
                }));
            }
            drop(tx);
            let mut per_producer = vec![Vec::new(); PRODUCERS as usize];
            while let Some((p, i)) = rx.recv().await {
                assert!(rx.len() <= 4);
                per_producer[p as usize].push(i);
            }
            per_producer
        });
        for got in per_producer {
            assert_eq!(got, (0..PER_PRODUCER).collect::<Vec<_>>());
        }
    }
}

rt_test! {
    fn unbounded_many_producers(rt: &Runtime) {
        let total = rt.block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|_| {
                    let tx = tx.clone();
                    spawn(async move {
                        for i in 0..PER_PRODUCER {
                            tx.send(u64::from(i)).unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            for p in producers {
                p.await.unwrap();
            }
            let mut total = 0;
            while let Some(v) = rx.recv().await {
                total += v;
            }
            total
        });
        assert_eq!(total, u64::from(PRODUCERS) * u64::from(PER_PRODUCER * (PER_PRODUCER - 1) / 2));
    }
}

rt_test! {
    fn dropping_the_receiver_fails_blocked_senders(rt: &Runtime) {
        rt.block_on(async {
            let (tx, rx) = mpsc::channel(1);
            tx.send(0).await.unwrap();
            let blocked = spawn(async move { tx.send(1).await.map_err(|e| e.0) });
            for _ in 0..10 {
                arbor_runtime::yield_now().await;
            }
            drop(rx);
            assert_eq!(blocked.await.unwrap(), Err(1));
        });
    }
}

rt_test! {
    fn draining_a_full_buffer_still_yields(rt: &Runtime) {
        const VALUES: usize = 5_000;
        let counters = Counters::new();
        let c = counters.clone();
        let got = rt.block_on(async move {
            let (tx, mut rx) = mpsc::unbounded_channel();
            for i in 0..VALUES {
                tx.send(i).unwrap();
            }
            drop(tx);
            spawn(c.wrap(async move {
                let mut got = 0;
                while rx.recv().await.is_some() {
                    got += 1;
                }
                got
            }))
            .await
            .unwrap()
        });
        assert_eq!(got, VALUES);
        assert!(counters.polls() >= VALUES / BUDGET, "polls: {}", counters.polls());
    }
}

#[test]
fn try_send_try_recv_and_close() {
    let (tx, mut rx) = mpsc::channel(2);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(4), Err(TrySendError::Closed(4)));
    assert_eq!(rx.try_recv(), Ok(1), "buffered values survive close");
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn recv_returns_none_once_senders_are_gone_and_the_buffer_is_empty() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert!(!tx2.is_closed());
    let w = CountingWaker::new();
    {
        let mut recv = manual(rx.recv());
        assert_eq!(w.poll(recv.as_mut()), Poll::Ready(Some(1)));
    }
    {
        let mut recv = manual(rx.recv());
        assert!(w.poll(recv.as_mut()).is_pending(), "one sender is left");
        drop(tx2);
        assert_eq!(w.wakes(), 1);
        assert_eq!(w.poll(recv.as_mut()), Poll::Ready(None));
    }
}

#[test]
fn a_recv_dropped_after_a_value_arrived_leaves_it_for_the_next_recv() {
    let (tx, mut rx) = mpsc::channel(1);
    let w = CountingWaker::new();
    {
        let mut recv = manual(rx.recv());
        assert!(w.poll(recv.as_mut()).is_pending());
        tx.try_send("v").unwrap();
        assert_eq!(w.wakes(), 1);
        // Dropped before it observed the value.
    }
    let mut recv = manual(rx.recv());
    assert_eq!(poll_noop(recv.as_mut()), Poll::Ready(Some("v")));
    drop(recv);
    // The same through try_recv.
    {
        let mut recv = manual(rx.recv());
        assert!(poll_noop(recv.as_mut()).is_pending());
    }
    tx.try_send("w").unwrap();
    assert_eq!(rx.try_recv(), Ok("w"));
}

#[test]
fn len_is_empty_and_try_recv_agree_with_a_value_kept_for_the_receiver() {
    // A value that arrived for a dropped `recv` is the receiver's own: counted, and taken
    // by `try_recv` (the single-consumer counterpart of the queue's promised item).
    let (tx, mut rx) = mpsc::channel(2);
    {
        let mut recv = manual(rx.recv());
        assert!(poll_noop(recv.as_mut()).is_pending());
    }
    tx.try_send(7).unwrap();
    assert_eq!((rx.len(), rx.is_empty()), (1, false));
    let mut got = Vec::new();
    while !rx.is_empty() {
        got.push(rx.try_recv().unwrap());
        assert!(got.len() <= 1, "the idiom loops");
    }
    assert_eq!(got, [7]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_send_dropped_while_waiting_or_after_it_was_granted_room_did_not_send() {
    // A retry-on-timeout loop drops its `send` and sends the value again: the dropped send
    // must not have sent, even if the receiver made room for it before it was dropped.
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (w1, w2, w3) = (
        CountingWaker::new(),
        CountingWaker::new(),
        CountingWaker::new(),
    );
    let mut first = manual(tx.send(1));
    let mut second = manual(tx.send(2));
    let mut third = manual(tx.send(3));
    assert!(w1.poll(first.as_mut()).is_pending());
    assert!(w2.poll(second.as_mut()).is_pending());
    assert!(w3.poll(third.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(w1.wakes(), 1, "the room went to the first sender");
    assert_eq!((rx.len(), rx.is_empty()), (0, true));
    drop(first); // granted room, never ran again: did not send
    assert_eq!(w2.wakes(), 1, "the room moved on to the second sender");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "1 was never sent");
    drop(third); // still waiting: did not send either
    assert_eq!(w2.poll(second.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(w3.wakes(), 0);
}

#[test]
fn receiver_drop_drops_buffered_values_once() {
    let value = Arc::new(());
    let (tx, rx) = mpsc::channel(2);
    tx.try_send(value.clone()).unwrap();
    assert_eq!(Arc::strong_count(&value), 2);
    drop(rx);
    assert_eq!(Arc::strong_count(&value), 1);
    assert!(tx.is_closed());
}

#[test]
fn a_channel_that_carries_its_own_sender_can_be_dropped() {
    // The last sender is dropped while the buffer is drained: no deadlock.
    struct Carrier(
        #[expect(dead_code, reason = "held for its drop")] mpsc::UnboundedSender<Carrier>,
    );
    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(Carrier(tx.clone())).unwrap();
    drop(tx);
    drop(rx);
}

#[test]
#[should_panic(expected = "the capacity must be at least 1")]
fn zero_capacity_panics_with_a_clear_message() {
    let _ = mpsc::channel::<()>(0);
}

#[test]
#[should_panic(expected = "the capacity must be at most")]
fn a_capacity_beyond_the_maximum_panics_with_a_clear_message() {
    let _ = mpsc::channel::<()>(usize::MAX);
}

#[test]
fn a_large_bound_holds_exactly_that_many_in_order() {
    // Bounds above the preallocated ring (1024) keep values in growing segments.
    for capacity in [1, 2, 1024, 1025, 5000] {
        let (tx, mut rx) = mpsc::channel(capacity);
        for i in 0..capacity {
            tx.try_send(i).unwrap();
        }
        assert_eq!(tx.try_send(capacity), Err(TrySendError::Full(capacity)));
        assert_eq!(rx.len(), capacity);
        for i in 0..capacity {
            assert_eq!(rx.try_recv(), Ok(i));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        // The room came back: the channel fills again.
        for i in 0..capacity {
            tx.try_send(i).unwrap();
        }
        assert!(matches!(tx.try_send(0), Err(TrySendError::Full(0))));
    }
}

#[test]
fn a_value_racing_the_receivers_drop_is_dropped_at_once_not_kept_for_no_one() {
    // The value is a oneshot reply sender (the actor pattern): if the channel kept it after
    // the receiver (the actor) was gone, the caller would wait for a reply forever, for as
    // long as any sender lives. Raced from two threads, many times.
    type Rx = Box<dyn Send>;
    let (hand_over, receivers) = std::sync::mpsc::channel::<Rx>();
    let start = Arc::new(std::sync::Barrier::new(2));
    let (dropped, was_dropped) = std::sync::mpsc::channel();
    let dropper = {
        let start = start.clone();
        std::thread::spawn(move || {
            for rx in receivers {
                start.wait();
                drop(rx);
                dropped.send(()).unwrap();
            }
        })
    };
    for bounded in [false, true] {
        for _ in 0..5_000 {
            let (reply, mut answer) = arbor_runtime::sync::oneshot::channel::<()>();
            let (send, rx): (Box<dyn Fn(_) -> bool + Send>, Rx) = if bounded {
                let (tx, rx) = mpsc::channel(1);
                (Box::new(move |v| tx.try_send(v).is_ok()), Box::new(rx))
            } else {
                let (tx, rx) = mpsc::unbounded_channel();
                (Box::new(move |v| tx.send(v).is_ok()), Box::new(rx))
            };
            hand_over.send(rx).unwrap();
            start.wait(); // the receiver's drop and this send start together
            let sent = send(reply);
            was_dropped.recv().unwrap();
            // The sender (inside `send`) is still alive here.
            assert_eq!(
                answer.try_recv(),
                Err(arbor_runtime::sync::oneshot::TryRecvError::Closed),
                "the reply sender (sent: {sent}) outlived the receiver"
            );
            drop(send);
        }
    }
    drop(hand_over);
    dropper.join().unwrap();
}

#[test]
fn a_forgotten_send_future_leaks_its_room_but_breaks_nothing() {
    // `mem::forget` on a send waiting for room: safe code, so nothing may go wrong beyond
    // a leak. The room granted to the forgotten future is lost (as a forgotten permit of a
    // semaphore is); its value is never delivered; everything else keeps working, and the
    // close still reaches the sender queued behind it.
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let mut forgotten = manual(tx.send(100));
    assert!(poll_noop(forgotten.as_mut()).is_pending());
    std::mem::forget(forgotten);
    let mut behind = manual(tx.send(2));
    assert!(poll_noop(behind.as_mut()).is_pending());
    // The first slot made goes to the forgotten future (first in line), the second to
    // `behind`.
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(
        poll_noop(behind.as_mut()).is_pending(),
        "room went to the first in line"
    );
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(poll_noop(behind.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the forgotten value never lands"
    );
    // One slot of two is leaked: one more fits, then it is full.
    tx.try_send(3).unwrap();
    assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
    // A sender waiting behind the leak still learns of the close.
    let mut waiting = manual(tx.send(5));
    assert!(poll_noop(waiting.as_mut()).is_pending());
    drop(rx);
    assert_eq!(
        poll_noop(waiting.as_mut()).map(|r| r.map_err(|e| e.0)),
        Poll::Ready(Err(5))
    );
}

#[test]
fn the_receiver_is_a_stream() {
    use futures_core::Stream;
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(3).unwrap();
    drop(tx);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert_eq!(
        std::pin::Pin::new(&mut rx).poll_next(&mut cx),
        Poll::Ready(Some(3))
    );
    assert_eq!(
        std::pin::Pin::new(&mut rx).poll_next(&mut cx),
        Poll::Ready(None)
    );
}

/// The bounded channel against a model: a FIFO buffer, a FIFO line of senders waiting for
/// room (the head is granted the next slot made; a granted sender's value lands when it is
/// next polled), and the close. Random sequences of `try_send`, `send` futures (started,
/// polled, dropped at any point), `try_recv`, `close` and the receiver's drop; after every
/// step the buffer's length, the closed flag and every granted sender's wake-up are checked.
mod model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use sync_support::Manual;

    #[derive(Debug, Clone)]
    enum Op {
        TrySend,
        /// Start a `send` and poll it once.
        Send,
        /// Poll the n-th live `send` (modulo how many there are).
        Poll(usize),
        /// Drop the n-th live `send`.
        Drop(usize),
        TryRecv,
        Close,
        DropReceiver,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::TrySend),
            4 => Just(Op::Send),
            4 => (0usize..8).prop_map(Op::Poll),
            2 => (0usize..8).prop_map(Op::Drop),
            5 => Just(Op::TryRecv),
            1 => Just(Op::Close),
            1 => Just(Op::DropReceiver),
        ]
    }

    /// Where a live `send` stands in the model.
    #[derive(Debug, PartialEq)]
    enum Stand {
        Queued,
        Granted,
    }

    struct Sending<'a> {
        id: u32,
        future: Manual<'a, Result<(), mpsc::SendError<u32>>>,
        waker: CountingWaker,
        /// Wake-ups seen when it was last polled.
        seen: usize,
    }

    #[derive(Default)]
    struct Model {
        buffer: VecDeque<u32>,
        /// Queued senders, oldest first, and granted ones.
        line: VecDeque<u32>,
        granted: Vec<u32>,
        /// Free slots nobody was granted.
        free: usize,
        closed: bool,
    }

    impl Model {
        /// A slot is made (a value taken, a granted sender gone): the head of the line gets
        /// it, else it is free.
        fn make_room(&mut self) {
            match self.line.pop_front() {
                Some(id) => self.granted.push(id),
                None => self.free += 1,
            }
        }

        fn close(&mut self) {
            self.closed = true;
            // Every waiting sender is let through, to fail.
            self.granted.extend(self.line.drain(..));
        }

        fn stand(&self, id: u32) -> Stand {
            if self.granted.contains(&id) {
                Stand::Granted
            } else {
                assert!(self.line.contains(&id), "sender {id} unknown to the model");
                Stand::Queued
            }
        }

        fn forget(&mut self, id: u32) {
            self.line.retain(|&x| x != id);
            self.granted.retain(|&x| x != id);
        }
    }

    fn run(capacity: usize, ops: Vec<Op>) {
        let (tx, rx) = mpsc::channel::<u32>(capacity);
        let mut rx = Some(rx);
        let mut model = Model {
            free: capacity,
            ..Model::default()
        };
        let mut live: Vec<Sending<'_>> = Vec::new();
        let mut next = 0u32;
        for op in ops {
            match op {
                Op::TrySend => {
                    next += 1;
                    let got = tx.try_send(next);
                    if model.closed {
                        assert_eq!(got, Err(TrySendError::Closed(next)));
                    } else if !model.line.is_empty() || model.free == 0 {
                        assert_eq!(got, Err(TrySendError::Full(next)), "no barging");
                    } else {
                        assert_eq!(got, Ok(()));
                        model.free -= 1;
                        model.buffer.push_back(next);
                    }
                }
                Op::Send => {
                    next += 1;
                    let mut sending = Sending {
                        id: next,
                        future: manual(tx.send(next)),
                        waker: CountingWaker::new(),
                        seen: 0,
                    };
                    let got = sending.waker.poll(sending.future.as_mut());
                    if model.closed {
                        assert_eq!(got.map(|r| r.map_err(|e| e.0)), Poll::Ready(Err(next)));
                    } else if model.line.is_empty() && model.free > 0 {
                        assert_eq!(got.map(|r| r.is_ok()), Poll::Ready(true));
                        model.free -= 1;
                        model.buffer.push_back(next);
                    } else {
                        assert!(got.is_pending(), "a send past a full buffer resolved");
                        model.line.push_back(next);
                        sending.seen = sending.waker.wakes();
                        live.push(sending);
                    }
                }
                Op::Poll(n) if !live.is_empty() => {
                    let i = n % live.len();
                    let id = live[i].id;
                    let sending = &mut live[i];
                    let got = sending.waker.poll(sending.future.as_mut());
                    match model.stand(id) {
                        Stand::Queued => {
                            assert!(got.is_pending(), "sender {id} got past the line");
                            live[i].seen = live[i].waker.wakes();
                        }
                        Stand::Granted => {
                            model.forget(id);
                            live.remove(i);
                            if model.closed {
                                assert_eq!(got.map(|r| r.map_err(|e| e.0)), Poll::Ready(Err(id)));
                                // Its slot (from the close's flood) is of no use to anyone.
                            } else {
                                assert_eq!(got.map(|r| r.is_ok()), Poll::Ready(true));
                                model.buffer.push_back(id);
                            }
                        }
                    }
                }
                Op::Drop(n) if !live.is_empty() => {
                    let sending = live.remove(n % live.len());
                    let stand = model.stand(sending.id);
                    model.forget(sending.id);
                    drop(sending);
                    if stand == Stand::Granted && !model.closed {
                        model.make_room(); // its slot goes on
                    }
                }
                Op::Poll(_) | Op::Drop(_) => {}
                Op::TryRecv => {
                    let Some(rx) = rx.as_mut() else { continue };
                    let got = rx.try_recv();
                    match model.buffer.pop_front() {
                        Some(v) => {
                            assert_eq!(got, Ok(v), "FIFO");
                            if !model.closed {
                                model.make_room();
                            }
                        }
                        None if model.closed => assert_eq!(got, Err(TryRecvError::Disconnected)),
                        None => assert_eq!(got, Err(TryRecvError::Empty)),
                    }
                }
                Op::Close => {
                    if let Some(rx) = rx.as_mut() {
                        rx.close();
                        model.close();
                    }
                }
                Op::DropReceiver => {
                    drop(rx.take());
                    model.close();
                    model.buffer.clear();
                }
            }
            assert_eq!(tx.is_closed(), model.closed, "closed");
            if let Some(rx) = &rx {
                assert_eq!(rx.len(), model.buffer.len(), "len");
            }
            for sending in &live {
                if model.stand(sending.id) == Stand::Granted {
                    assert!(
                        sending.waker.wakes() > sending.seen,
                        "sender {} granted, not woken",
                        sending.id
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn the_bounded_channel_matches_the_model(
            capacity in 1usize..4,
            ops in prop::collection::vec(op(), 1..80),
        ) {
            run(capacity, ops);
        }
    }
}
