//! `sync::{Queue, LifoQueue, PriorityQueue}`: many producers and consumers on every flavour
//! (every item delivered once), `task_done`/`join`, Python 3.13 `shutdown`, cancellation
//! safety of gets and puts (a put dropped after it was granted room did not put), views that
//! agree with the `_nowait` calls, and a proptest of put/get sequences (waiting and
//! `_nowait`, polled, cancelled and shut down in any order) against a
//! `VecDeque`/`Vec`/`BinaryHeap` model.

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
    //! The proptest: a sequence of operations on a real queue and on a model of the
    //! documented protocol. A waiting future is granted (an item, or room) at once, but
    //! collects only when it is polled, and sequences poll, cancel and shut down in any
    //! order, so they reach states where items are promised to getters and room to putters.
    //! After every operation the views must match the model: `len`/`is_empty` count what
    //! `get_nowait` can take, `is_full` says whether `put_nowait` finds room, and every
    //! granted future has been woken since it last ran.

    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::{BTreeMap, BinaryHeap, VecDeque};
    use std::future::Future;
    use std::pin::Pin;

    #[derive(Debug, Clone)]
    enum Op {
        PutNowait(u8),
        GetNowait,
        /// Start a `put` (polled once).
        Put(u8),
        /// Start a `get` (polled once).
        Get,
        /// Poll the n-th (mod count) pending future once.
        Poll(usize),
        /// Poll every pending future, oldest first, until none resolves.
        PollAll,
        /// Drop the n-th (mod count) pending future.
        Cancel(usize),
        TaskDone,
        Shutdown(bool),
        /// CPython's `while not q.empty(): q.get_nowait()`.
        Drain,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => any::<u8>().prop_map(Op::PutNowait),
            3 => Just(Op::GetNowait),
            3 => any::<u8>().prop_map(Op::Put),
            3 => Just(Op::Get),
            3 => any::<usize>().prop_map(Op::Poll),
            1 => Just(Op::PollAll),
            2 => any::<usize>().prop_map(Op::Cancel),
            1 => Just(Op::TaskDone),
            1 => any::<bool>().prop_map(Op::Shutdown),
            1 => Just(Op::Drain),
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
        fn is_empty(&self) -> bool;
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
                fn is_empty(&self) -> bool {
                    $t::is_empty(self)
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

    /// What the model granted a waiting future.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Grant {
        /// A getter: one item, the head of the store when it runs.
        Item,
        /// A putter: room for its item, which goes in when it runs.
        Room,
        /// The queue shut down while it waited.
        ShutDown,
    }

    struct Model {
        store: Store,
        maxsize: usize,
        /// Items promised to granted getters.
        reserved: usize,
        /// Room promised to granted putters.
        room: usize,
        /// Queued getters and putters, oldest first.
        getters: VecDeque<usize>,
        putters: VecDeque<usize>,
        /// Each waiting putter's item.
        items: BTreeMap<usize, u8>,
        /// Granted futures that have not collected.
        grants: BTreeMap<usize, Grant>,
        unfinished: usize,
        shut_down: bool,
        drained: bool,
    }

    impl Model {
        /// What `get_nowait` can take.
        fn takeable(&self) -> usize {
            self.store.len() - self.reserved
        }

        /// Whether `put_nowait` finds no room.
        fn full(&self) -> bool {
            self.maxsize > 0 && self.store.len() + self.room >= self.maxsize
        }

        fn admit(&mut self, v: u8) {
            self.store.push(v);
            self.unfinished += 1;
        }

        /// Room goes to the oldest putter, unpromised items to the oldest getter.
        fn balance(&mut self) {
            loop {
                if !self.full() {
                    if let Some(p) = self.putters.pop_front() {
                        self.grants.insert(p, Grant::Room);
                        self.room += 1;
                        continue;
                    }
                }
                if self.takeable() > 0 {
                    if let Some(g) = self.getters.pop_front() {
                        self.grants.insert(g, Grant::Item);
                        self.reserved += 1;
                        continue;
                    }
                }
                return;
            }
        }

        fn put_nowait(&mut self, v: u8) -> Result<(), TryPutError<u8>> {
            if self.shut_down {
                return Err(TryPutError::ShutDown(v));
            }
            if self.full() {
                return Err(TryPutError::Full(v));
            }
            self.admit(v);
            self.balance();
            Ok(())
        }

        fn get_nowait(&mut self) -> Result<u8, TryGetError> {
            if self.takeable() == 0 {
                return Err(if self.shut_down {
                    TryGetError::ShutDown
                } else {
                    TryGetError::Empty
                });
            }
            let v = self.store.pop().expect("takeable");
            self.balance();
            Ok(v)
        }

        /// A put's first poll.
        fn start_put(&mut self, id: usize, v: u8) -> Option<Outcome> {
            if self.shut_down {
                return Some(Outcome::Put(Err(QueueShutDown(v))));
            }
            if self.full() {
                self.putters.push_back(id);
                self.items.insert(id, v);
                return None;
            }
            self.admit(v);
            self.balance();
            Some(Outcome::Put(Ok(())))
        }

        /// A get's first poll.
        fn start_get(&mut self, id: usize) -> Option<Outcome> {
            match self.get_nowait() {
                Ok(v) => Some(Outcome::Get(Ok(v))),
                Err(TryGetError::ShutDown) => Some(Outcome::Get(Err(QueueShutDown(())))),
                Err(TryGetError::Empty) => {
                    self.getters.push_back(id);
                    None
                }
            }
        }

        /// A later poll: a granted future collects, a queued one keeps waiting.
        fn poll(&mut self, id: usize) -> Option<Outcome> {
            let out = match self.grants.remove(&id)? {
                Grant::Item => match self.store.pop() {
                    Some(v) => {
                        self.reserved -= 1;
                        Outcome::Get(Ok(v))
                    }
                    None => {
                        assert!(self.drained);
                        Outcome::Get(Err(QueueShutDown(())))
                    }
                },
                Grant::Room => {
                    self.room -= 1;
                    let v = self.items.remove(&id).expect("a putter holds its item");
                    if self.shut_down {
                        Outcome::Put(Err(QueueShutDown(v)))
                    } else {
                        self.admit(v);
                        Outcome::Put(Ok(()))
                    }
                }
                Grant::ShutDown => match self.items.remove(&id) {
                    Some(v) => Outcome::Put(Err(QueueShutDown(v))),
                    None => Outcome::Get(Err(QueueShutDown(()))),
                },
            };
            self.balance();
            Some(out)
        }

        /// A future dropped: it leaves its line, and what it was granted moves on.
        fn cancel(&mut self, id: usize) {
            self.getters.retain(|&g| g != id);
            self.putters.retain(|&p| p != id);
            self.items.remove(&id);
            match self.grants.remove(&id) {
                Some(Grant::Item) if !self.drained => self.reserved -= 1,
                Some(Grant::Room) => self.room -= 1,
                _ => {}
            }
            self.balance();
        }

        fn shutdown(&mut self, immediate: bool) {
            self.shut_down = true;
            if immediate && !self.drained {
                self.drained = true;
                let n = self.store.len();
                self.store.clear();
                self.reserved = 0;
                self.unfinished = self.unfinished.saturating_sub(n);
            }
            for id in self.putters.drain(..).chain(self.getters.drain(..)) {
                self.grants.insert(id, Grant::ShutDown);
            }
        }
    }

    /// A pending future of the real queue, with its own waker.
    struct Pending<'a> {
        id: usize,
        fut: Pin<Box<dyn Future<Output = Outcome> + 'a>>,
        waker: CountingWaker,
        /// `waker.wakes()` when it was last polled.
        seen: usize,
    }

    impl Pending<'_> {
        fn poll(&mut self) -> Poll<Outcome> {
            self.seen = self.waker.wakes();
            self.waker.poll(self.fut.as_mut())
        }
    }

    fn run(real: &dyn Real, store: Store, maxsize: usize, ops: Vec<Op>) {
        let mut model = Model {
            store,
            maxsize,
            reserved: 0,
            room: 0,
            getters: VecDeque::new(),
            putters: VecDeque::new(),
            items: BTreeMap::new(),
            grants: BTreeMap::new(),
            unfinished: 0,
            shut_down: false,
            drained: false,
        };
        let mut pending: Vec<Pending<'_>> = Vec::new();
        let mut next_id = 0;
        for op in ops {
            match op {
                Op::PutNowait(v) => assert_eq!(real.put_nowait(v), model.put_nowait(v)),
                Op::GetNowait => assert_eq!(real.get_nowait(), model.get_nowait()),
                Op::Put(_) | Op::Get => {
                    let id = next_id;
                    next_id += 1;
                    let (fut, want): (Pin<Box<dyn Future<Output = Outcome>>>, _) = match op {
                        Op::Put(v) => {
                            let fut = real.put(v);
                            (
                                Box::pin(async move { Outcome::Put(fut.await) }),
                                model.start_put(id, v),
                            )
                        }
                        _ => {
                            let fut = real.get();
                            (
                                Box::pin(async move { Outcome::Get(fut.await) }),
                                model.start_get(id),
                            )
                        }
                    };
                    let mut p = Pending {
                        id,
                        fut,
                        waker: CountingWaker::new(),
                        seen: 0,
                    };
                    match p.poll() {
                        Poll::Ready(out) => assert_eq!(Some(out), want, "future {id}"),
                        Poll::Pending => {
                            assert_eq!(want, None, "future {id}");
                            pending.push(p);
                        }
                    }
                }
                Op::Poll(n) => {
                    if !pending.is_empty() {
                        let i = n % pending.len();
                        let id = pending[i].id;
                        let want = model.poll(id);
                        match pending[i].poll() {
                            Poll::Ready(out) => {
                                assert_eq!(Some(out), want, "future {id}");
                                pending.remove(i);
                            }
                            Poll::Pending => assert_eq!(want, None, "future {id}"),
                        }
                    }
                }
                Op::PollAll => loop {
                    let before = pending.len();
                    pending.retain_mut(|p| {
                        let want = model.poll(p.id);
                        match p.poll() {
                            Poll::Ready(out) => {
                                assert_eq!(Some(out), want, "future {}", p.id);
                                false
                            }
                            Poll::Pending => {
                                assert_eq!(want, None, "future {}", p.id);
                                true
                            }
                        }
                    });
                    if pending.len() == before {
                        break;
                    }
                },
                Op::Cancel(n) => {
                    if !pending.is_empty() {
                        let p = pending.remove(n % pending.len());
                        model.cancel(p.id);
                        drop(p);
                    }
                }
                Op::TaskDone => {
                    if model.unfinished > 0 {
                        model.unfinished -= 1;
                        real.task_done();
                    }
                }
                Op::Shutdown(immediate) => {
                    model.shutdown(immediate);
                    real.shutdown(immediate);
                }
                Op::Drain => {
                    let mut taken = 0;
                    while !real.is_empty() {
                        assert_eq!(
                            real.get_nowait().map_err(|_| ()),
                            model.get_nowait().map_err(|_| ())
                        );
                        taken += 1;
                        assert!(taken <= 256, "the drain idiom does not end");
                    }
                    assert_eq!(model.takeable(), 0);
                }
            }
            assert_eq!(real.len(), model.takeable(), "len");
            assert_eq!(real.is_empty(), model.takeable() == 0, "is_empty");
            assert_eq!(real.is_full(), model.full(), "is_full");
            assert_eq!(real.join_ready(), model.unfinished == 0, "join");
            for p in &pending {
                if model.grants.contains_key(&p.id) {
                    assert!(
                        p.waker.wakes() > p.seen,
                        "future {} granted, not woken",
                        p.id
                    );
                }
            }
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
