//! The machinery shared by [`Queue`](super::Queue), [`LifoQueue`](super::LifoQueue) and
//! [`PriorityQueue`](super::PriorityQueue).
//!
//! A [`Core`] is one lock around the items (a [`Store`]: FIFO, LIFO or min-heap), three wait
//! lists (getters, putters, joiners) and the counters below.
//!
//! # Invariants (with the lock held, after every operation)
//!
//! 1. `reserved` = the number of getters granted [`GetGrant::Item`] that have not collected
//!    yet, and (until an immediate shutdown drains the store) `reserved <= items.len()`.
//!    An item is *unreserved* when `items.len() > reserved`. Only unreserved items are
//!    counted by `len` (what `try_get` can take); promised ones still take room in the store.
//! 2. Getters are queued only while no item is unreserved: a newcomer never takes an item a
//!    queued getter was promised.
//! 3. `room` = the number of putters granted [`PutGrant::Room`] that have not collected yet.
//!    The store is *full* when `maxsize > 0` and `items.len() + room >= maxsize`, and never
//!    holds more: `items.len() + room <= maxsize` (bounded queues).
//! 4. Putters are queued only while the store is full, and every putter, queued or granted,
//!    holds its item in its wait-list entry: a newcomer never puts ahead of a waiting putter,
//!    and an item enters the store only in the poll that resolves its put.
//!
//! [`State::balance`] restores 2 and 4 after any change: while the store is not full it
//! grants the oldest putter room; while an item is unreserved it grants the oldest getter a
//! reservation.
//!
//! # Protocol
//!
//! - **get**: take an unreserved item, if any (then `balance`: a putter may fit now). Else
//!   fail if shut down, else queue. A granted getter pops an item when it runs (the head at
//!   that moment: the oldest for FIFO, the smallest for a priority queue, as in asyncio, where
//!   a woken getter takes whatever is first when it runs).
//! - **put**: fail if shut down; add the item if the store is not full (then `balance`: a
//!   getter may be waiting); else queue with the item. A putter granted room, when it runs,
//!   gives the room back and adds its item (then `balance`), or fails with its item if the
//!   queue shut down since (puts fail from the shutdown on, as in asyncio, whose woken putter
//!   calls `put_nowait`). So a put that resolved `Ok` put its item, and one dropped before it
//!   resolved did not.
//! - **cancellation**: a queued getter or putter that is dropped just leaves (a putter's item
//!   is dropped with it: it was never put). A granted getter that is dropped gives its
//!   reservation back and `balance` hands it to the next getter; a granted putter that is
//!   dropped gives its room back and `balance` hands it to the next putter, and its item is
//!   dropped with it, never put (a caller that retries a timed-out `put` sends it once). So
//!   no item is lost, none is delivered by a put that did not resolve, and no wake-up is
//!   swallowed.
//! - **task_done / join**: `unfinished` counts admitted items (when the core tracks tasks);
//!   `task_done` decrements it; at 0 every joiner is granted.
//! - **shutdown(immediate)** (Python 3.13): puts fail from now on; queued putters are granted
//!   [`PutGrant::ShutDown`] and get their item back (putters granted room earlier get it back
//!   when they run, see **put**); queued getters (who cannot be promised an
//!   item, by invariant 2) are granted [`GetGrant::ShutDown`]. `immediate` also drains the
//!   store (counting each item as done, waking joiners at 0) and voids the reservations:
//!   granted getters then find the store empty and fail.
//!
//! Wakers are woken, and drained items, removed putters' items and old wakers dropped, only
//! after the lock is released: an item's destructor may use this very queue (a channel that
//! carries its own senders), and so may a task whose last waker is dropped.

use crate::coop;
use crate::loom::sync::Mutex;
use crate::sync::lock;
use crate::sync::wait_list::{WaitKey, WaitList, WakeList};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Where a queue keeps its items: the order `pop` returns them in is the queue's kind.
pub(crate) trait Store: Default {
    type Item;
    fn len(&self) -> usize;
    fn push(&mut self, item: Self::Item);
    fn pop(&mut self) -> Option<Self::Item>;
}

/// First in, first out.
pub(crate) struct Fifo<T>(VecDeque<T>);
/// Last in, first out.
pub(crate) struct Lifo<T>(Vec<T>);
/// Smallest first.
pub(crate) struct Priority<T: Ord>(BinaryHeap<Reverse<T>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> Store for Fifo<T> {
    type Item = T;
    fn len(&self) -> usize {
        self.0.len()
    }
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
}

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T> Store for Lifo<T> {
    type Item = T;
    fn len(&self) -> usize {
        self.0.len()
    }
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
}

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}

impl<T: Ord> Store for Priority<T> {
    type Item = T;
    fn len(&self) -> usize {
        self.0.len()
    }
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
}

/// What a granted getter was given.
#[derive(Debug)]
pub(crate) enum GetGrant {
    /// An item is reserved for it.
    Item,
    /// The queue shut down while it waited.
    ShutDown,
}

/// What a granted putter was given. Either way its item is still in its entry: it goes into
/// the store only when the putter runs (invariant 4).
#[derive(Debug)]
pub(crate) enum PutGrant {
    /// Room in the store, counted in `room` until the putter collects it or is dropped.
    Room,
    /// The queue shut down while it waited.
    ShutDown,
}

/// A put or get failed: the queue is shut down (or, for a channel, closed).
#[derive(Debug)]
pub(crate) struct Closed;

/// A put without waiting failed.
#[derive(Debug)]
pub(crate) enum TryPut<T> {
    Full(T),
    Closed(T),
}

/// A get without waiting failed.
#[derive(Debug)]
pub(crate) enum TryGet {
    Empty,
    Closed,
}

/// The shared state; see the module documentation.
pub(crate) struct Core<S: Store> {
    /// Everything, under one lock (a leaf: nothing else is locked under it).
    state: Mutex<State<S>>,
}

struct State<S: Store> {
    /// The queued items, in the order the store hands them out.
    items: S,
    /// 0: unbounded.
    maxsize: usize,
    /// Items promised to granted getters (invariant 1).
    reserved: usize,
    /// Room promised to granted putters, whose items are not in yet (invariant 3).
    room: usize,
    /// Admitted items not yet marked done (only when `track_tasks`).
    unfinished: usize,
    /// Whether `unfinished` is kept (queues: yes; channels: no).
    track_tasks: bool,
    /// Puts fail; gets fail once nothing unreserved is left.
    shut_down: bool,
    /// An immediate shutdown emptied the store and voided the reservations.
    drained: bool,
    /// Tasks waiting in `get` (invariant 2).
    getters: WaitList<(), GetGrant>,
    /// Tasks waiting in `put`, each with its item until its put resolves (invariant 4).
    putters: WaitList<S::Item, PutGrant>,
    /// Tasks waiting in `join` for `unfinished` to reach 0.
    joiners: WaitList<(), ()>,
}

impl<S: Store> State<S> {
    /// No room for another item: the store's items and the room promised to putters fill
    /// `maxsize` (invariant 3).
    fn is_full(&self) -> bool {
        self.maxsize > 0 && self.items.len() + self.room >= self.maxsize
    }

    fn admit(&mut self, item: S::Item) {
        self.items.push(item);
        if self.track_tasks {
            self.unfinished += 1;
        }
    }

    /// The number of items nobody was promised (invariant 1).
    fn unreserved(&self) -> usize {
        debug_assert!(self.reserved <= self.items.len(), "invariant 1");
        self.items.len() - self.reserved
    }

    /// Takes an item nobody was promised.
    fn take_unreserved(&mut self) -> Option<S::Item> {
        if self.unreserved() > 0 {
            self.items.pop()
        } else {
            None
        }
    }

    /// Restores invariants 2 and 4; see the module documentation.
    fn balance(&mut self, wakers: &mut WakeList) {
        loop {
            if !self.is_full() && self.putters.grant_front(PutGrant::Room, wakers) {
                self.room += 1;
                continue;
            }
            if self.unreserved() > 0 && self.getters.grant_front(GetGrant::Item, wakers) {
                self.reserved += 1;
                continue;
            }
            return;
        }
    }
}

impl<S: Store> Core<S> {
    /// A core holding at most `maxsize` items (0: unbounded).
    pub(crate) fn new(maxsize: usize, track_tasks: bool) -> Core<S> {
        Core {
            state: Mutex::new(State {
                items: S::default(),
                maxsize,
                reserved: 0,
                room: 0,
                unfinished: 0,
                track_tasks,
                shut_down: false,
                drained: false,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
            }),
        }
    }

    /// The items a [`try_get`](Core::try_get) can take now: the unreserved ones. An item
    /// promised to a queued getter is left out, so that `len`, `is_empty` and `get_nowait`
    /// agree (CPython's `while not q.empty(): q.get_nowait()` must not fail).
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).unreserved()
    }

    pub(crate) fn is_full(&self) -> bool {
        lock(&self.state).is_full()
    }

    pub(crate) fn maxsize(&self) -> usize {
        lock(&self.state).maxsize
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        lock(&self.state).shut_down
    }

    /// Puts without waiting.
    pub(crate) fn try_put(&self, item: S::Item) -> Result<(), TryPut<S::Item>> {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        if state.shut_down {
            return Err(TryPut::Closed(item));
        }
        if state.is_full() {
            return Err(TryPut::Full(item));
        }
        state.admit(item);
        state.balance(&mut wakers);
        drop(state);
        wakers.wake_all();
        Ok(())
    }

    /// Gets without waiting.
    pub(crate) fn try_get(&self) -> Result<S::Item, TryGet> {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        let Some(item) = state.take_unreserved() else {
            return Err(if state.shut_down {
                TryGet::Closed
            } else {
                TryGet::Empty
            });
        };
        state.balance(&mut wakers);
        drop(state);
        wakers.wake_all();
        Ok(item)
    }

    /// Polls a get; `key` is the getter's place in line, kept between polls.
    pub(crate) fn poll_get(
        &self,
        key: &mut Option<WaitKey>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<S::Item, Closed>> {
        let coop = ready!(coop::poll_proceed(cx));
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        let mut removed = None;
        let out = match key {
            None => match state.take_unreserved() {
                Some(item) => Ok(item),
                None if state.shut_down => Err(Closed),
                None => {
                    *key = Some(state.getters.push_back((), cx.waker()));
                    return Poll::Pending;
                }
            },
            Some(k) if !state.getters.is_granted(k) => {
                let old = state.getters.set_waker(k, cx.waker());
                drop(state);
                drop(old);
                return Poll::Pending;
            }
            Some(_) => {
                let r = state.getters.remove(key.take().expect("matched Some"));
                let out = match r.grant {
                    Some(GetGrant::Item) => match state.items.pop() {
                        Some(item) => {
                            state.reserved -= 1;
                            Ok(item)
                        }
                        None => {
                            debug_assert!(state.drained, "a reserved item is missing");
                            Err(Closed)
                        }
                    },
                    _ => Err(Closed),
                };
                removed = Some(r);
                out
            }
        };
        state.balance(&mut wakers);
        drop(state);
        drop(removed);
        wakers.wake_all();
        coop.made_progress();
        Poll::Ready(out)
    }

    /// A getter leaves; a reservation it held goes to the next getter.
    pub(crate) fn cancel_get(&self, key: WaitKey) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        let removed = state.getters.remove(key);
        if matches!(removed.grant, Some(GetGrant::Item)) && !state.drained {
            state.reserved -= 1;
            state.balance(&mut wakers);
        }
        drop(state);
        drop(removed);
        wakers.wake_all();
    }

    /// Polls a put. `item` is the item until it is queued (then it lives in the putter's
    /// entry); `key` is the putter's place in line. The item enters the store only in the
    /// poll that returns `Ready(Ok(()))` (invariant 4).
    pub(crate) fn poll_put(
        &self,
        item: &mut Option<S::Item>,
        key: &mut Option<WaitKey>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), S::Item>> {
        let coop = ready!(coop::poll_proceed(cx));
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        let mut old_waker = None;
        let out = match key {
            None => {
                let value = item.take().expect("Put polled after completion");
                if state.shut_down {
                    Err(value)
                } else if state.is_full() {
                    *key = Some(state.putters.push_back(value, cx.waker()));
                    return Poll::Pending;
                } else {
                    state.admit(value);
                    Ok(())
                }
            }
            Some(k) if !state.putters.is_granted(k) => {
                let old = state.putters.set_waker(k, cx.waker());
                drop(state);
                drop(old);
                return Poll::Pending;
            }
            Some(_) => {
                let removed = state.putters.remove(key.take().expect("matched Some"));
                old_waker = removed.waker;
                match removed.grant {
                    Some(PutGrant::Room) => {
                        // The item takes the room promised to it (invariant 3 still holds),
                        // unless puts fail by now.
                        state.room -= 1;
                        if state.shut_down {
                            Err(removed.data)
                        } else {
                            state.admit(removed.data);
                            Ok(())
                        }
                    }
                    Some(PutGrant::ShutDown) | None => Err(removed.data),
                }
            }
        };
        state.balance(&mut wakers);
        drop(state);
        drop(old_waker);
        wakers.wake_all();
        coop.made_progress();
        Poll::Ready(out)
    }

    /// A putter leaves without having put: room it was granted goes to the next putter, and
    /// its item is dropped (outside the lock).
    pub(crate) fn cancel_put(&self, key: WaitKey) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        let removed = state.putters.remove(key);
        if matches!(removed.grant, Some(PutGrant::Room)) {
            state.room -= 1;
            state.balance(&mut wakers);
        }
        drop(state);
        drop(removed);
        wakers.wake_all();
    }

    /// Marks one admitted item as processed.
    ///
    /// # Panics
    /// If more items were marked done than were put.
    #[track_caller]
    pub(crate) fn task_done(&self) {
        let mut wakers = WakeList::new();
        let mut state = lock(&self.state);
        if state.unfinished == 0 {
            drop(state);
            panic!("Queue::task_done() called more times than there were items put");
        }
        state.unfinished -= 1;
        if state.unfinished == 0 {
            state.joiners.grant_all(|_| (), &mut wakers);
        }
        drop(state);
        wakers.wake_all();
    }

    /// Polls a join: ready once every admitted item was marked done.
    pub(crate) fn poll_join(&self, key: &mut Option<WaitKey>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(coop::poll_proceed(cx));
        let mut state = lock(&self.state);
        match key {
            None if state.unfinished == 0 => {}
            None => {
                *key = Some(state.joiners.push_back((), cx.waker()));
                return Poll::Pending;
            }
            Some(k) if !state.joiners.is_granted(k) => {
                let old = state.joiners.set_waker(k, cx.waker());
                drop(state);
                drop(old);
                return Poll::Pending;
            }
            Some(_) => {
                let removed = state.joiners.remove(key.take().expect("matched Some"));
                drop(state);
                drop(removed);
            }
        }
        coop.made_progress();
        Poll::Ready(())
    }

    /// A joiner leaves.
    pub(crate) fn cancel_join(&self, key: WaitKey) {
        let removed = lock(&self.state).joiners.remove(key);
        drop(removed);
    }

    /// Shuts the queue down; see the module documentation.
    pub(crate) fn shutdown(&self, immediate: bool) {
        let mut wakers = WakeList::new();
        let mut drained = S::default();
        let mut state = lock(&self.state);
        state.shut_down = true;
        if immediate && !state.drained {
            state.drained = true;
            drained = std::mem::take(&mut state.items);
            state.reserved = 0;
            if state.track_tasks && state.unfinished > 0 {
                state.unfinished = state.unfinished.saturating_sub(drained.len());
                if state.unfinished == 0 {
                    state.joiners.grant_all(|_| (), &mut wakers);
                }
            }
        }
        state.putters.grant_all(|_| PutGrant::ShutDown, &mut wakers);
        state.getters.grant_all(|_| GetGrant::ShutDown, &mut wakers);
        drop(state);
        wakers.wake_all();
        drop(drained);
    }
}

impl<S: Store> fmt::Debug for Core<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Queue")
            .field("len", &state.unreserved())
            .field("promised", &state.reserved)
            .field("maxsize", &state.maxsize)
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .field("room_promised", &state.room)
            .field("shut_down", &state.shut_down)
            .finish()
    }
}

/// Waits to put an item.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Put<'a, S: Store> {
    /// The queue put into.
    core: &'a Core<S>,
    /// The item, until it is admitted or handed to the putters' line.
    item: Option<S::Item>,
    /// `Some` while in the putters' line.
    key: Option<WaitKey>,
}

impl<'a, S: Store> Put<'a, S> {
    pub(crate) fn new(core: &'a Core<S>, item: S::Item) -> Self {
        Put {
            core,
            item: Some(item),
            key: None,
        }
    }
}

impl<S: Store> Unpin for Put<'_, S> {}

impl<S: Store> Future for Put<'_, S> {
    type Output = Result<(), S::Item>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.core.poll_put(&mut this.item, &mut this.key, cx)
    }
}

impl<S: Store> Drop for Put<'_, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.core.cancel_put(key);
        }
    }
}

/// Waits to get an item.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Get<'a, S: Store> {
    /// The queue taken from.
    core: &'a Core<S>,
    /// `Some` while in the getters' line (queued, or promised an item).
    key: Option<WaitKey>,
}

impl<'a, S: Store> Get<'a, S> {
    pub(crate) fn new(core: &'a Core<S>) -> Self {
        Get { core, key: None }
    }
}

impl<S: Store> Future for Get<'_, S> {
    type Output = Result<S::Item, Closed>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.core.poll_get(&mut this.key, cx)
    }
}

impl<S: Store> Drop for Get<'_, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.core.cancel_get(key);
        }
    }
}

/// Waits until every item put was marked done.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Join<'a, S: Store> {
    /// The queue joined.
    core: &'a Core<S>,
    /// `Some` while in the joiners' line.
    key: Option<WaitKey>,
}

impl<'a, S: Store> Join<'a, S> {
    pub(crate) fn new(core: &'a Core<S>) -> Self {
        Join { core, key: None }
    }
}

impl<S: Store> Future for Join<'_, S> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.core.poll_join(&mut this.key, cx)
    }
}

impl<S: Store> Drop for Join<'_, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.core.cancel_join(key);
        }
    }
}
