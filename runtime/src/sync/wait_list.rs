//! The waiter queue every primitive in [`crate::sync`] is built on, and the list of wakers
//! to wake once the primitive's lock is released.
//!
//! # Design
//!
//! A [`WaitList`] is a slab of entries plus a FIFO queue threaded through it by index (a
//! doubly linked list, so a waiter can leave from the middle in O(1)). It lives inside the
//! primitive's `Mutex`; every method runs with that lock held. No `unsafe`: a waiting future
//! holds a [`WaitKey`] (an index), not a pointer into the list.
//!
//! An entry is in one of two states:
//!
//! - **queued**: linked into the FIFO queue, waiting for a grant;
//! - **granted**: taken out of the queue by the primitive, holding the grant (a permit, a
//!   reservation, "the event is set", ...) until its future observes it.
//!
//! # Protocol
//!
//! 1. A future that must wait calls [`WaitList::push_back`] with its waker and keeps the key.
//! 2. The primitive grants in FIFO order: [`WaitList::grant_front`] (or
//!    [`WaitList::grant_all`]) moves the head into the granted state and hands its waker to a
//!    [`WakeList`].
//! 3. The future, when polled, checks [`WaitList::is_granted`]; if granted it
//!    [`removes`](WaitList::remove) the entry and takes the grant, else it refreshes its
//!    waker.
//! 4. A future dropped while it holds a key removes its entry; the [`Removed`] value tells
//!    the primitive whether a grant was lost with it, so the primitive passes it on. This is
//!    what makes every primitive cancellation-safe.
//!
//! The slab keeps the high-water mark of simultaneous waiters allocated (freed slots are
//! reused, never returned), so steady waiting allocates nothing.
//!
//! # Invariants
//!
//! - A [`WaitKey`] is not `Clone`: exactly one future owns each entry, and [`WaitList::remove`]
//!   consumes the key, so an index is never used after its slot is freed. The one
//!   exception is [`WaitList::pop_front`], which frees the head's slot for the primitive;
//!   a primitive that uses it tells the owner through its own atomic, which the owner reads
//!   before it touches the list (`permits.rs`).
//! - Wakers are never woken, and old wakers never dropped, while the list is borrowed: waking
//!   runs user code, and dropping a waker may drop a task, whose future may try to take the
//!   same lock. [`WakeList::wake_all`] runs after the caller released the lock, and the
//!   methods that replace or remove a waker hand the old one back to the caller.

use std::fmt;
use std::task::Waker;

/// "No entry": the end of the queue, or of the free list.
const NIL: usize = usize::MAX;

/// How many wakers a [`WakeList`] holds before it spills into a heap allocation. Most
/// operations wake one waiter; a release of many permits or an `Event::set` may wake more.
const INLINE_WAKERS: usize = 8;

/// A waiter's place in a [`WaitList`]. Owned by exactly one future; consumed by
/// [`WaitList::remove`].
#[derive(Debug)]
pub(crate) struct WaitKey(usize);

/// A FIFO queue of waiters; see the module documentation.
///
/// `W` is what a waiter carries (the permits it still needs, the item it puts), `G` what a
/// grant hands it.
pub(crate) struct WaitList<W, G> {
    /// The slab. Vacant slots form a free list through `next_free`.
    slots: Vec<Slot<W, G>>,
    /// Head of the free list, or `NIL`.
    free: usize,
    /// The oldest queued entry, or `NIL`.
    head: usize,
    /// The newest queued entry, or `NIL`.
    tail: usize,
    /// Number of queued (not granted) entries.
    queued: usize,
}

enum Slot<W, G> {
    Vacant { next_free: usize },
    Occupied(Entry<W, G>),
}

struct Entry<W, G> {
    data: W,
    waker: Option<Waker>,
    state: State<G>,
}

enum State<G> {
    Queued { prev: usize, next: usize },
    Granted(G),
}

/// What [`WaitList::remove`] returns: the waiter's data, its grant if it had one, and its
/// waker (to be dropped after the lock is released).
pub(crate) struct Removed<W, G> {
    /// The data the waiter carried.
    pub(crate) data: W,
    /// `Some` if the entry had been granted and the grant was not yet taken.
    pub(crate) grant: Option<G>,
    /// The stored waker; drop it outside the lock.
    pub(crate) waker: Option<Waker>,
}

impl<W, G> WaitList<W, G> {
    /// An empty list (no allocation).
    pub(crate) const fn new() -> Self {
        WaitList {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            queued: 0,
        }
    }

    /// `true` when no entry is queued (granted entries do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// The number of queued entries.
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    /// Queues a waiter at the back; it will be woken through `waker`.
    pub(crate) fn push_back(&mut self, data: W, waker: &Waker) -> WaitKey {
        let entry = Entry {
            data,
            waker: Some(waker.clone()),
            state: State::Queued {
                prev: self.tail,
                next: NIL,
            },
        };
        let index = if self.free == NIL {
            self.slots.push(Slot::Occupied(entry));
            self.slots.len() - 1
        } else {
            let index = self.free;
            match std::mem::replace(&mut self.slots[index], Slot::Occupied(entry)) {
                Slot::Vacant { next_free } => self.free = next_free,
                Slot::Occupied(_) => unreachable!("the free list points at an occupied slot"),
            }
            index
        };
        if self.tail == NIL {
            self.head = index;
        } else {
            self.set_next(self.tail, index);
        }
        self.tail = index;
        self.queued += 1;
        WaitKey(index)
    }

    /// The data of the oldest queued waiter.
    pub(crate) fn front_mut(&mut self) -> Option<&mut W> {
        if self.head == NIL {
            return None;
        }
        Some(&mut self.entry_mut(self.head).data)
    }

    /// Grants the oldest queued waiter `grant` and moves its waker into `wakers`. Returns
    /// `false` (and drops `grant`) if nobody is queued.
    pub(crate) fn grant_front(&mut self, grant: G, wakers: &mut WakeList) -> bool {
        let index = self.head;
        if index == NIL {
            return false;
        }
        self.unlink(index);
        let entry = self.entry_mut(index);
        entry.state = State::Granted(grant);
        wakers.push(entry.waker.take());
        true
    }

    /// Takes the oldest queued waiter out of the list, moving its waker into `wakers`, and
    /// returns its data; `None` if nobody is queued. Its slot is freed at once, so its
    /// [`WaitKey`] goes stale: the primitive must tell the key's owner by other means (an
    /// atomic it reads before touching the list) that it may not use the key again.
    pub(crate) fn pop_front(&mut self, wakers: &mut WakeList) -> Option<W> {
        let index = self.head;
        if index == NIL {
            return None;
        }
        self.unlink(index);
        let entry = self.free_slot(index);
        wakers.push(entry.waker);
        Some(entry.data)
    }

    /// Grants every queued waiter, oldest first, what `grant` returns for its data.
    pub(crate) fn grant_all(&mut self, mut grant: impl FnMut(&mut W) -> G, wakers: &mut WakeList) {
        while self.head != NIL {
            let index = self.head;
            let g = grant(&mut self.entry_mut(index).data);
            self.grant_front(g, wakers);
        }
    }

    /// Whether `key`'s entry has been granted.
    pub(crate) fn is_granted(&self, key: &WaitKey) -> bool {
        matches!(self.entry(key.0).state, State::Granted(_))
    }

    /// Makes `waker` the one `key`'s entry is woken through. Returns the replaced waker, for
    /// the caller to drop once the lock is released.
    #[must_use = "drop the replaced waker after releasing the lock"]
    pub(crate) fn set_waker(&mut self, key: &WaitKey, waker: &Waker) -> Option<Waker> {
        let entry = self.entry_mut(key.0);
        match &entry.waker {
            Some(old) if old.will_wake(waker) => None,
            _ => entry.waker.replace(waker.clone()),
        }
    }

    /// Removes `key`'s entry, from the queue if it was still queued.
    pub(crate) fn remove(&mut self, key: WaitKey) -> Removed<W, G> {
        let index = key.0;
        if let State::Queued { .. } = self.entry(index).state {
            self.unlink(index);
        }
        let entry = self.free_slot(index);
        Removed {
            data: entry.data,
            grant: match entry.state {
                State::Granted(g) => Some(g),
                State::Queued { .. } => None,
            },
            waker: entry.waker,
        }
    }

    /// Puts the occupied slot `index` (already unlinked from the queue) on the free list and
    /// returns its entry.
    fn free_slot(&mut self, index: usize) -> Entry<W, G> {
        let vacant = Slot::Vacant {
            next_free: self.free,
        };
        match std::mem::replace(&mut self.slots[index], vacant) {
            Slot::Occupied(entry) => {
                self.free = index;
                entry
            }
            Slot::Vacant { .. } => unreachable!("a WaitKey points at a vacant slot"),
        }
    }

    fn entry(&self, index: usize) -> &Entry<W, G> {
        match &self.slots[index] {
            Slot::Occupied(entry) => entry,
            Slot::Vacant { .. } => unreachable!("a WaitKey points at a vacant slot"),
        }
    }

    fn entry_mut(&mut self, index: usize) -> &mut Entry<W, G> {
        match &mut self.slots[index] {
            Slot::Occupied(entry) => entry,
            Slot::Vacant { .. } => unreachable!("a WaitKey points at a vacant slot"),
        }
    }

    fn set_next(&mut self, index: usize, to: usize) {
        match &mut self.entry_mut(index).state {
            State::Queued { next, .. } => *next = to,
            State::Granted(_) => unreachable!("a granted entry is linked"),
        }
    }

    fn set_prev(&mut self, index: usize, to: usize) {
        match &mut self.entry_mut(index).state {
            State::Queued { prev, .. } => *prev = to,
            State::Granted(_) => unreachable!("a granted entry is linked"),
        }
    }

    /// Takes a queued entry out of the queue (its state is left for the caller to replace).
    fn unlink(&mut self, index: usize) {
        let (prev, next) = match self.entry(index).state {
            State::Queued { prev, next } => (prev, next),
            State::Granted(_) => unreachable!("unlinking a granted entry"),
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.set_next(prev, next);
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.set_prev(next, prev);
        }
        self.queued -= 1;
    }
}

impl<W, G> Default for WaitList<W, G> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl<W, G> fmt::Debug for WaitList<W, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("queued", &self.queued)
            .finish_non_exhaustive()
    }
}

/// Wakers collected under a primitive's lock, woken after it is released.
pub(crate) struct WakeList {
    inline: [Option<Waker>; INLINE_WAKERS],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    /// An empty list (no allocation).
    pub(crate) const fn new() -> WakeList {
        WakeList {
            inline: [const { None }; INLINE_WAKERS],
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Adds a waker to wake (`None` is ignored: a waiter that was never polled has none).
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if self.len < INLINE_WAKERS {
            self.inline[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    /// Wakes every collected waker. Call it with no lock held. A waker that panics does not
    /// stop the others (see `crate::wake`).
    pub(crate) fn wake_all(self) {
        let WakeList { inline, spill, .. } = self;
        inline.into_iter().flatten().for_each(crate::wake::wake);
        spill.into_iter().for_each(crate::wake::wake);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn grants_in_fifo_order_and_reuses_slots() {
        let mut list: WaitList<u32, u32> = WaitList::new();
        let noop = Waker::noop();
        let keys: Vec<_> = (0..4).map(|i| list.push_back(i, noop)).collect();
        assert_eq!(list.len(), 4);
        let mut wakers = WakeList::new();
        // Grant the first two; the data seen is in push order.
        let first = *list.front_mut().unwrap();
        assert!(list.grant_front(first * 10, &mut wakers));
        let second = *list.front_mut().unwrap();
        assert!(list.grant_front(second * 10, &mut wakers));
        assert_eq!((first, second), (0, 1));
        let mut keys = keys.into_iter();
        let (k0, k1, k2, k3) = (
            keys.next().unwrap(),
            keys.next().unwrap(),
            keys.next().unwrap(),
            keys.next().unwrap(),
        );
        assert!(list.is_granted(&k0) && list.is_granted(&k1) && !list.is_granted(&k2));
        assert_eq!(list.remove(k1).grant, Some(10));
        // Removing a queued entry from the middle keeps the rest in order.
        let removed = list.remove(k2);
        assert_eq!((removed.data, removed.grant), (2, None));
        assert_eq!(list.front_mut().copied(), Some(3));
        // Freed slots are reused.
        let k4 = list.push_back(4, noop);
        assert!(k4.0 < 4);
        list.grant_all(|d| *d, &mut wakers);
        assert!(list.is_empty());
        assert_eq!(list.remove(k3).grant, Some(3));
        assert_eq!(list.remove(k4).grant, Some(4));
        assert_eq!(list.remove(k0).grant, Some(0));
        wakers.wake_all();
    }

    #[test]
    fn pop_front_takes_the_head_frees_its_slot_and_hands_over_its_waker() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut list: WaitList<u32, ()> = WaitList::new();
        let mut wakers = WakeList::new();
        assert_eq!(list.pop_front(&mut wakers), None);
        let _k0 = list.push_back(0, &waker);
        let k1 = list.push_back(1, &waker);
        let _k2 = list.push_back(2, &waker);
        // A queued entry in the middle leaves; the rest pop in order.
        assert_eq!(list.remove(k1).data, 1);
        assert_eq!(list.pop_front(&mut wakers), Some(0));
        assert_eq!(list.len(), 1);
        // The popped head's slot is the next one reused.
        let k3 = list.push_back(3, &waker);
        assert_eq!(k3.0, 0);
        assert_eq!(list.pop_front(&mut wakers), Some(2));
        assert_eq!(list.pop_front(&mut wakers), Some(3));
        assert!(list.is_empty());
        assert_eq!(count.0.load(SeqCst), 0, "nothing is woken before wake_all");
        wakers.wake_all();
        assert_eq!(count.0.load(SeqCst), 3);
    }

    #[test]
    fn wake_list_wakes_past_the_inline_capacity() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut wakers = WakeList::new();
        for _ in 0..INLINE_WAKERS * 2 + 1 {
            wakers.push(Some(waker.clone()));
        }
        wakers.push(None);
        assert_eq!(count.0.load(SeqCst), 0, "nothing is woken before wake_all");
        wakers.wake_all();
        assert_eq!(count.0.load(SeqCst), INLINE_WAKERS * 2 + 1);
    }

    #[test]
    fn set_waker_replaces_only_a_different_waker() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let other = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut list: WaitList<(), ()> = WaitList::new();
        let key = list.push_back((), &other);
        assert!(
            list.set_waker(&key, &other.clone()).is_none(),
            "same task: kept"
        );
        assert!(
            list.set_waker(&key, &waker).is_some(),
            "another task: replaced"
        );
        let mut wakers = WakeList::new();
        list.grant_front((), &mut wakers);
        wakers.wake_all();
        assert_eq!(count.0.load(SeqCst), 1);
        assert!(list.remove(key).waker.is_none(), "the grant took the waker");
    }
}
