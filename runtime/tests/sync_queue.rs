//! `sync::{Queue, LifoQueue, PriorityQueue}`: many producers and consumers on every flavour
//! (every item delivered once), `task_done`/`join`, Python 3.13 `shutdown`, cancellation
//! safety of gets and puts (a put dropped after it was granted room did not put), views that
//! agree with the `_nowait` calls, and a proptest of put/get sequences (waiting and
//! `_nowait`, with cancellations and shutdowns) against a `VecDeque`/`Vec`/`BinaryHeap`
//! model.

mod support;
mod sync_support;

use arbor_runtime::spawn;
use arbor_runtime::sync::{
    LifoQueue, PriorityQueue, Queue, QueueShutDown, TryGetError, TryPutError,
};
use std::sync::Arc;
use std::task::Poll;
use sync_support::{CountingWaker, manual, poll_noop};

const PRODUCERS: u64 = 4;
const CONSUMERS: usize = 4;
const PER_PRODUCER: u64 = 250;

rt_test! {
    fn producers_and_consumers_deliver_every_item_once(rt: &Runtime) {
        let mut got = rt.block_on(async {
            let q = Arc::new(Queue::new(4));
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let q = q.clone();
                    spawn(async move {
                        let mut got = Vec::new();
                        while let Ok(item) = q.get().await {
                            got.push(item);
                            q.task_done();
                        }
                        got
                    })
                })
                .collect();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let q = q.clone();
                    spawn(async move {
                        for i in 0..PER_PRODUCER {
                            q.put(p * 1000 + i).await.unwrap();
                            assert!(q.len() <= 4);
                        }
                    })
                })
                .collect();
            for p in producers {
                p.await.unwrap();
            }
            q.join().await;
            assert!(q.is_empty());
            q.shutdown(false);
            let mut got = Vec::new();
            for c in consumers {
                got.extend(c.await.unwrap());
            }
            got
        });
        got.sort();
        let want: Vec<u64> =
            (0..PRODUCERS).flat_map(|p| (0..PER_PRODUCER).map(move |i| p * 1000 + i)).collect();
        assert_eq!(got, want);
    }
}

rt_test! {
    fn fifo_order_is_kept_for_one_consumer(rt: &Runtime) {
        let got = rt.block_on(async {
            let q = Arc::new(Queue::new(2));
            let producer = {
                let q = q.clone();
                spawn(async move {
                    for i in 0..100 {
                        q.put(i).await.unwrap();
                    }
                })
            };
            let mut got = Vec::new();
            for _ in 0..100 {
                got.push(q.get().await.unwrap());
            }
            producer.await.unwrap();
            got
        });
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }
}

rt_test! {
    fn shutdown_wakes_blocked_getters_and_putters(rt: &Runtime) {
        rt.block_on(async {
            let empty = Arc::new(Queue::<u32>::new(1));
            let getters: Vec<_> = (0..3)
                .map(|_| {
                    let q = empty.clone();
                    spawn(async move { q.get().await })
                })
                .collect();
            let full = Arc::new(Queue::new(1));
            full.put_nowait(0).unwrap();
            let putter = {
                let q = full.clone();
                spawn(async move { q.put(1).await })
            };
            // Let them block (on one worker they run only when this task yields).
            for _ in 0..10 {
                arbor_runtime::yield_now().await;
            }
            empty.shutdown(false);
            full.shutdown(false);
            for g in getters {
                assert_eq!(g.await.unwrap(), Err(QueueShutDown(())));
            }
            // The putter gets its item back, unless it ran after the shutdown: same error.
            assert_eq!(putter.await.unwrap(), Err(QueueShutDown(1)));
            // Not immediate: what was queued can still be taken.
            assert_eq!(full.get().await, Ok(0));
            assert_eq!(full.get().await, Err(QueueShutDown(())));
        });
    }
}

#[test]
fn join_waits_for_task_done() {
    let q = Queue::new(0);
    let w = CountingWaker::new();
    let mut join = manual(q.join());
    assert!(
        w.poll(join.as_mut()).is_ready(),
        "nothing put: nothing to wait for"
    );
    drop(join);
    q.put_nowait('a').unwrap();
    q.put_nowait('b').unwrap();
    let mut join = manual(q.join());
    assert!(w.poll(join.as_mut()).is_pending());
    q.get_nowait().unwrap();
    q.task_done();
    assert!(w.poll(join.as_mut()).is_pending(), "one of two done");
    q.get_nowait().unwrap();
    q.task_done();
    assert_eq!(w.wakes(), 1);
    assert!(w.poll(join.as_mut()).is_ready());
}

#[test]
#[should_panic(expected = "task_done() called more times than there were items put")]
fn too_many_task_done_panics_with_a_clear_message() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.get_nowait().unwrap();
    q.task_done();
    q.task_done();
}

#[test]
fn immediate_shutdown_drains_counts_done_and_fails_gets() {
    let q = Queue::new(0);
    for i in 0..3 {
        q.put_nowait(i).unwrap();
    }
    let first = q.get_nowait().unwrap();
    let w = CountingWaker::new();
    let mut join = manual(q.join());
    assert!(w.poll(join.as_mut()).is_pending());
    q.shutdown(true);
    assert!(q.is_empty() && q.is_shut_down());
    assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
    assert_eq!(q.put_nowait(9), Err(TryPutError::ShutDown(9)));
    assert!(
        w.poll(join.as_mut()).is_pending(),
        "the item taken before is not done yet"
    );
    assert_eq!(first, 0);
    q.task_done();
    assert!(w.poll(join.as_mut()).is_ready());
}

#[test]
fn immediate_shutdown_voids_a_promised_item() {
    let q = Queue::new(0);
    let w = CountingWaker::new();
    let mut getter = manual(q.get());
    assert!(w.poll(getter.as_mut()).is_pending());
    q.put_nowait(1).unwrap(); // promised to the getter, not yet taken
    assert_eq!(q.len(), 0, "a promised item is not counted");
    q.shutdown(true);
    assert_eq!(w.poll(getter.as_mut()), Poll::Ready(Err(QueueShutDown(()))));
}

#[test]
fn a_getter_dropped_after_an_item_was_promised_passes_it_on() {
    let q = Queue::new(0);
    let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
    let mut first = manual(q.get());
    let mut second = manual(q.get());
    assert!(w1.poll(first.as_mut()).is_pending());
    assert!(w2.poll(second.as_mut()).is_pending());
    q.put_nowait("x").unwrap();
    assert_eq!(
        (w1.wakes(), w2.wakes()),
        (1, 0),
        "promised to the oldest getter"
    );
    assert_eq!(
        q.get_nowait(),
        Err(TryGetError::Empty),
        "a newcomer cannot take it"
    );
    drop(first);
    assert_eq!(w2.wakes(), 1, "the promise moved on");
    assert_eq!(w2.poll(second.as_mut()), Poll::Ready(Ok("x")));
    assert!(q.is_empty());
}

#[test]
fn len_is_empty_and_get_nowait_agree_while_an_item_is_promised() {
    // A getter queued on an empty queue is promised the next item. Until it collects it,
    // that item is not counted by `len`/`is_empty`, as `get_nowait` cannot take it.
    let q = Queue::new(0);
    let w = CountingWaker::new();
    let mut getter = manual(q.get());
    assert!(w.poll(getter.as_mut()).is_pending());
    q.put_nowait(1).unwrap();
    assert_eq!(w.wakes(), 1, "promised to the getter");
    assert_eq!((q.len(), q.is_empty()), (0, true));
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    // CPython's `while not q.empty(): q.get_nowait()` ends at once, without a failure.
    let mut drained = Vec::new();
    while !q.is_empty() {
        drained.push(q.get_nowait().unwrap());
        assert!(drained.len() <= 1, "the idiom loops");
    }
    assert!(drained.is_empty());
    // A second item is not promised to anyone: counted and takeable.
    q.put_nowait(2).unwrap();
    assert_eq!((q.len(), q.is_empty()), (1, false));
    while !q.is_empty() {
        drained.push(q.get_nowait().unwrap());
        assert!(drained.len() <= 1, "the idiom loops");
    }
    // One item each; the promise is of an item, not of a particular one: the getter takes
    // the head when it runs (as a woken asyncio getter does).
    assert_eq!(drained, [1]);
    assert_eq!(w.poll(getter.as_mut()), Poll::Ready(Ok(2)));
    assert!(q.is_empty());
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
}

#[test]
fn is_full_and_put_nowait_agree_while_an_item_is_promised() {
    // A promised item still takes its room until its getter collects it: `is_full` says so
    // and `put_nowait` fails, although `len` leaves the item out.
    let q = Queue::new(1);
    let w = CountingWaker::new();
    let mut getter = manual(q.get());
    assert!(w.poll(getter.as_mut()).is_pending());
    q.put_nowait('a').unwrap();
    assert_eq!(q.len(), 0);
    assert!(q.is_full());
    assert_eq!(q.put_nowait('b'), Err(TryPutError::Full('b')));
    assert_eq!(w.poll(getter.as_mut()), Poll::Ready(Ok('a')));
    assert!(!q.is_full());
    assert_eq!(q.put_nowait('b'), Ok(()));
    assert_eq!((q.len(), q.is_full()), (1, true));
}

/// The room a full queue makes goes to its oldest putter, whose item goes in only when that
/// putter runs. Dropped before then (a timeout, a cancelled scope), it did not put: its item
/// is never delivered, and the room goes to the next putter. The same for every kind.
macro_rules! granted_putter_dropped_never_put {
    ($queue:expr) => {{
        let q = $queue;
        q.put_nowait(1).unwrap();
        let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
        let mut first = manual(q.put(2));
        let mut second = manual(q.put(3));
        assert!(w1.poll(first.as_mut()).is_pending());
        assert!(w2.poll(second.as_mut()).is_pending());
        assert_eq!(
            q.put_nowait(4),
            Err(TryPutError::Full(4)),
            "no barging past putters"
        );
        assert_eq!(q.get_nowait(), Ok(1));
        assert_eq!(
            (w1.wakes(), w2.wakes()),
            (1, 0),
            "the room went to the oldest putter"
        );
        // The room is promised, the item not yet in: nothing to take, no room for others.
        assert_eq!((q.len(), q.is_empty(), q.is_full()), (0, true, true));
        assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
        assert_eq!(q.put_nowait(5), Err(TryPutError::Full(5)));
        drop(first); // granted room, dropped before it ran again: did not put
        assert_eq!(w2.wakes(), 1, "the room moved on");
        assert_eq!(q.get_nowait(), Err(TryGetError::Empty), "2 was never put");
        assert_eq!(w2.poll(second.as_mut()), Poll::Ready(Ok(())));
        assert_eq!((q.len(), q.is_full()), (1, true));
        assert_eq!(q.get_nowait(), Ok(3));
        assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    }};
}

#[test]
fn a_putter_granted_room_and_dropped_before_it_ran_never_put_its_item() {
    granted_putter_dropped_never_put!(Queue::new(1));
    granted_putter_dropped_never_put!(LifoQueue::new(1));
    granted_putter_dropped_never_put!(PriorityQueue::new(1));
}

#[test]
fn a_dropped_putter_granted_room_drops_its_item_once() {
    let q = Queue::new(1);
    q.put_nowait(Arc::new(0)).unwrap();
    let item = Arc::new(1);
    let mut putter = manual(q.put(item.clone()));
    assert!(poll_noop(putter.as_mut()).is_pending());
    drop(q.get_nowait().unwrap()); // room for the putter
    assert_eq!(Arc::strong_count(&item), 2, "held by the granted putter");
    drop(putter);
    assert_eq!(
        Arc::strong_count(&item),
        1,
        "dropped with the putter, not queued"
    );
    assert!(!q.is_full(), "the room came back");
    q.put_nowait(Arc::new(2)).unwrap();
}

#[test]
fn a_putter_granted_room_before_a_shutdown_fails_when_it_runs() {
    // Room was made, then the queue shut down before the putter ran: puts fail from the
    // shutdown on, so it gets its item back (asyncio's woken putter raises too).
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let w = CountingWaker::new();
    let mut putter = manual(q.put(2));
    assert!(w.poll(putter.as_mut()).is_pending());
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(w.wakes(), 1);
    q.shutdown(false);
    assert_eq!(w.poll(putter.as_mut()), Poll::Ready(Err(QueueShutDown(2))));
    assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
}

#[test]
fn a_queued_putter_dropped_never_put_its_item() {
    let q = Queue::new(1);
    q.put_nowait(Arc::new(1)).unwrap();
    let item = Arc::new(5);
    let mut putter = manual(q.put(item.clone()));
    assert!(poll_noop(putter.as_mut()).is_pending());
    assert_eq!(Arc::strong_count(&item), 2, "held by the queued putter");
    drop(putter);
    assert_eq!(Arc::strong_count(&item), 1, "dropped with the putter");
    drop(q.get_nowait().unwrap());
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
}

#[test]
fn lifo_and_priority_orders() {
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(3);
    for i in [2, 5, 1] {
        lifo.put_nowait(i).unwrap();
        prio.put_nowait(i).unwrap();
    }
    assert!(prio.is_full());
    assert_eq!(prio.put_nowait(0), Err(TryPutError::Full(0)));
    let lifo_out: Vec<_> = std::iter::from_fn(|| lifo.get_nowait().ok()).collect();
    let prio_out: Vec<_> = std::iter::from_fn(|| prio.get_nowait().ok()).collect();
    assert_eq!(lifo_out, [1, 5, 2]);
    assert_eq!(prio_out, [1, 2, 5]);
    assert_eq!(prio.maxsize(), 3);
    assert_eq!(lifo.maxsize(), 0);
    assert!(!lifo.is_full());
}

#[test]
fn items_dropped_by_shutdown_may_use_the_queue() {
    // An item whose destructor touches the queue it was in (here: its length) must not
    // deadlock: drained items are dropped after the queue's lock is released.
    struct Touch(Arc<Queue<Touch>>);
    impl Drop for Touch {
        fn drop(&mut self) {
            let _ = self.0.len();
        }
    }
    let q = Arc::new(Queue::new(0));
    q.put_nowait(Touch(q.clone())).unwrap();
    q.shutdown(true);
    assert_eq!(Arc::strong_count(&q), 1);
}

mod model {
    //! The proptest: a sequence of operations on a real queue and on a model. Waiting
    //! futures are polled after every operation, so each behaves as if it ran at once.

    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, VecDeque};
    use std::future::Future;
    use std::pin::Pin;

    #[derive(Debug, Clone)]
    enum Op {
        PutNowait(u8),
        GetNowait,
        Put(u8),
        Get,
        /// Drop the n-th (mod count) pending future.
        Cancel(usize),
        TaskDone,
        Shutdown(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => any::<u8>().prop_map(Op::PutNowait),
            3 => Just(Op::GetNowait),
            3 => any::<u8>().prop_map(Op::Put),
            3 => Just(Op::Get),
            1 => any::<usize>().prop_map(Op::Cancel),
            1 => Just(Op::TaskDone),
            1 => any::<bool>().prop_map(Op::Shutdown),
        ]
    }

    /// The queue kinds behind one interface.
    trait Real {
        fn put_nowait(&self, v: u8) -> Result<(), TryPutError<u8>>;
        fn get_nowait(&self) -> Result<u8, TryGetError>;
        fn put(&self, v: u8) -> Pin<Box<dyn Future<Output = Result<(), QueueShutDown<u8>>> + '_>>;
        fn get(&self) -> Pin<Box<dyn Future<Output = Result<u8, QueueShutDown>> + '_>>;
        fn task_done(&self);
        fn shutdown(&self, immediate: bool);
        fn len(&self) -> usize;
        fn is_full(&self) -> bool;
        fn join_ready(&self) -> bool;
    }

    macro_rules! real {
        ($t:ident) => {
            impl Real for $t<u8> {
                fn put_nowait(&self, v: u8) -> Result<(), TryPutError<u8>> {
                    $t::put_nowait(self, v)
                }
                fn get_nowait(&self) -> Result<u8, TryGetError> {
                    $t::get_nowait(self)
                }
                fn put(
                    &self,
                    v: u8,
                ) -> Pin<Box<dyn Future<Output = Result<(), QueueShutDown<u8>>> + '_>> {
                    Box::pin($t::put(self, v))
                }
                fn get(&self) -> Pin<Box<dyn Future<Output = Result<u8, QueueShutDown>> + '_>> {
                    Box::pin($t::get(self))
                }
                fn task_done(&self) {
                    $t::task_done(self)
                }
                fn shutdown(&self, immediate: bool) {
                    $t::shutdown(self, immediate)
                }
                fn len(&self) -> usize {
                    $t::len(self)
                }
                fn is_full(&self) -> bool {
                    $t::is_full(self)
                }
                fn join_ready(&self) -> bool {
                    poll_noop(Box::pin($t::join(self)).as_mut()).is_ready()
                }
            }
        };
    }
    real!(Queue);
    real!(LifoQueue);
    real!(PriorityQueue);

    /// The model's store: the order the kind hands items out in.
    #[derive(Debug)]
    enum Store {
        Fifo(VecDeque<u8>),
        Lifo(Vec<u8>),
        Priority(BinaryHeap<Reverse<u8>>),
    }

    impl Store {
        fn push(&mut self, v: u8) {
            match self {
                Store::Fifo(s) => s.push_back(v),
                Store::Lifo(s) => s.push(v),
                Store::Priority(s) => s.push(Reverse(v)),
            }
        }
        fn pop(&mut self) -> Option<u8> {
            match self {
                Store::Fifo(s) => s.pop_front(),
                Store::Lifo(s) => s.pop(),
                Store::Priority(s) => s.pop().map(|r| r.0),
            }
        }
        fn len(&self) -> usize {
            match self {
                Store::Fifo(s) => s.len(),
                Store::Lifo(s) => s.len(),
                Store::Priority(s) => s.len(),
            }
        }
        fn clear(&mut self) {
            while self.pop().is_some() {}
        }
    }

    /// What a pending future resolved to.
    #[derive(Debug, PartialEq, Eq)]
    enum Outcome {
        Put(Result<(), QueueShutDown<u8>>),
        Get(Result<u8, QueueShutDown>),
    }

    struct Model {
        store: Store,
        maxsize: usize,
        putters: VecDeque<(usize, u8)>,
        getters: VecDeque<usize>,
        unfinished: usize,
        shut_down: bool,
    }

    impl Model {
        fn full(&self) -> bool {
            self.maxsize > 0 && self.store.len() >= self.maxsize
        }

        fn admit(&mut self, v: u8) {
            self.store.push(v);
            self.unfinished += 1;
        }

        /// Items move to waiting getters, putters' items into free room.
        fn settle(&mut self, resolved: &mut Vec<(usize, Outcome)>) {
            loop {
                if let Some(&g) = self.getters.front() {
                    if let Some(v) = self.store.pop() {
                        self.getters.pop_front();
                        resolved.push((g, Outcome::Get(Ok(v))));
                        continue;
                    }
                }
                if !self.full() {
                    if let Some((p, v)) = self.putters.pop_front() {
                        self.admit(v);
                        resolved.push((p, Outcome::Put(Ok(()))));
                        continue;
                    }
                }
                return;
            }
        }
    }

    fn run(real: &dyn Real, store: Store, maxsize: usize, ops: Vec<Op>) {
        let mut model = Model {
            store,
            maxsize,
            putters: VecDeque::new(),
            getters: VecDeque::new(),
            unfinished: 0,
            shut_down: false,
        };
        type Pending<'a> = (usize, Pin<Box<dyn Future<Output = Outcome> + 'a>>);
        let mut pending: Vec<Pending<'_>> = Vec::new();
        let mut next_id = 0;
        for op in ops {
            let mut want: Vec<(usize, Outcome)> = Vec::new();
            match op {
                Op::PutNowait(v) => {
                    let expect = if model.shut_down {
                        Err(TryPutError::ShutDown(v))
                    } else if model.full() {
                        Err(TryPutError::Full(v))
                    } else {
                        model.admit(v);
                        Ok(())
                    };
                    assert_eq!(real.put_nowait(v), expect);
                }
                Op::GetNowait => {
                    let expect = match model.store.pop() {
                        Some(v) => Ok(v),
                        None if model.shut_down => Err(TryGetError::ShutDown),
                        None => Err(TryGetError::Empty),
                    };
                    assert_eq!(real.get_nowait(), expect);
                }
                Op::Put(v) => {
                    let id = next_id;
                    next_id += 1;
                    if model.shut_down {
                        want.push((id, Outcome::Put(Err(QueueShutDown(v)))));
                    } else {
                        model.putters.push_back((id, v));
                    }
                    let fut = real.put(v);
                    pending.push((id, Box::pin(async move { Outcome::Put(fut.await) })));
                }
                Op::Get => {
                    let id = next_id;
                    next_id += 1;
                    if model.shut_down && model.store.len() == 0 {
                        want.push((id, Outcome::Get(Err(QueueShutDown(())))));
                    } else {
                        model.getters.push_back(id);
                    }
                    let fut = real.get();
                    pending.push((id, Box::pin(async move { Outcome::Get(fut.await) })));
                }
                Op::Cancel(n) => {
                    if !pending.is_empty() {
                        let (id, fut) = pending.remove(n % pending.len());
                        drop(fut);
                        model.putters.retain(|&(p, _)| p != id);
                        model.getters.retain(|&g| g != id);
                    }
                }
                Op::TaskDone => {
                    if model.unfinished > 0 {
                        model.unfinished -= 1;
                        real.task_done();
                    }
                }
                Op::Shutdown(immediate) => {
                    model.shut_down = true;
                    if immediate {
                        let n = model.store.len();
                        model.store.clear();
                        model.unfinished = model.unfinished.saturating_sub(n);
                    }
                    for (p, v) in model.putters.drain(..) {
                        want.push((p, Outcome::Put(Err(QueueShutDown(v)))));
                    }
                    real.shutdown(immediate);
                }
            }
            model.settle(&mut want);
            if model.shut_down && model.store.len() == 0 {
                for g in model.getters.drain(..) {
                    want.push((g, Outcome::Get(Err(QueueShutDown(())))));
                }
            }
            // Poll every pending future (oldest first) until none makes progress (one that
            // resolves may have granted an older one); collect what resolved.
            let mut got = Vec::new();
            loop {
                let before = got.len();
                pending.retain_mut(|(id, fut)| match poll_noop(fut.as_mut()) {
                    Poll::Ready(out) => {
                        got.push((*id, out));
                        false
                    }
                    Poll::Pending => true,
                });
                if got.len() == before {
                    break;
                }
            }
            want.sort_by_key(|(id, _)| *id);
            got.sort_by_key(|(id, _)| *id);
            assert_eq!(got, want);
            assert_eq!(real.len(), model.store.len());
            assert_eq!(real.is_full(), model.full());
            assert_eq!(real.join_ready(), model.unfinished == 0);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn fifo_matches_the_model(maxsize in 0usize..4, ops in prop::collection::vec(op(), 1..60)) {
            run(&Queue::new(maxsize), Store::Fifo(VecDeque::new()), maxsize, ops);
        }

        #[test]
        fn lifo_matches_the_model(maxsize in 0usize..4, ops in prop::collection::vec(op(), 1..60)) {
            run(&LifoQueue::new(maxsize), Store::Lifo(Vec::new()), maxsize, ops);
        }

        #[test]
        fn priority_matches_the_model(maxsize in 0usize..4, ops in prop::collection::vec(op(), 1..60)) {
            run(&PriorityQueue::new(maxsize), Store::Priority(BinaryHeap::new()), maxsize, ops);
        }
    }
}
