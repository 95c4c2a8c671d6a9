//! One registered IO resource: its readiness word and the tasks waiting on it.
//!
//! ## The readiness word
//! `readiness` packs, from the low bits up:
//! - [`READABLE`], [`WRITABLE`]: the OS reported that this direction may make progress, and
//!   no operation has seen `WouldBlock` in it since;
//! - [`SHUTDOWN`]: the runtime shut down; every operation fails from now on;
//! - the *tick*, from [`TICK_SHIFT`] up: bumped by every dispatch that sets readiness, so an
//!   operation can tell whether readiness was re-reported while its syscall ran.
//!
//! A new resource starts with both directions ready (optimistically): its first operation
//! tries the syscall at once instead of waiting for the poller to report what is usually
//! already true (a fresh connection is writable). A wrong guess costs one `WouldBlock`.
//!
//! ## The protocol (no lost wake-up, no stale clear)
//! An operation (a task, on any thread), in `Registration::poll_ready` and
//! `PollEvented::poll_io`:
//! 1. Loads the word. If its direction is ready (or the runtime shut down), it remembers the
//!    tick and tries the syscall.
//! 2. On `WouldBlock` it calls [`clear_readiness`](ScheduledIo::clear_readiness) with that
//!    tick: a CAS that clears the direction's bit only if the tick did not move. If a
//!    dispatch came in meanwhile, the bit stays set and the operation simply retries.
//! 3. If the direction is not ready, it locks `waiters`, stores its waker, and re-loads the
//!    word *under the lock*: ready now means retry, otherwise it returns `Pending`.
//!
//! The dispatcher (the thread turning the driver), in
//! [`set_readiness`](ScheduledIo::set_readiness) then
//! [`take_wakers`](ScheduledIo::take_wakers):
//! 1. sets the event's bits and bumps the tick (one atomic read-modify-write);
//! 2. locks `waiters`, takes the wakers of the ready directions, unlocks; the caller wakes
//!    them once no lock is held (wakers run user code and may re-enter the reactor).
//!
//! Why no wake-up is lost: the waiter list is only touched under its lock. If the operation
//! locks first, the dispatcher finds its waker. If the dispatcher locks first, it set the
//! bits before locking, so the operation's re-load under the lock (step 3) sees them.
//! Why no readiness is lost: readiness is only cleared by a CAS on the tick the operation
//! saw *before* its syscall; an event reported after that bumps the tick and survives.
//!
//! ## Waiters
//! Each direction has one *owner* slot, for operations that hold the resource exclusively
//! in that direction (`&mut self` stream reads and writes, a split half): `&mut` borrows
//! guarantee at most one at a time, so a single slot suffices and costs no allocation.
//! Operations on `&self` (UDP sends and receives, `accept`, `readable()`) may run in any
//! number of tasks at once; each gets an entry in `shared`, identified by an id that its
//! future keeps and removes on drop ([`SharedWaiter`]). Readiness wakes every waiter of the
//! direction; the ones that lose the race see `WouldBlock` and wait again.
//!
//! ## Oneshot mode
//! Where the poller has no edge-triggered mode, resources are registered *oneshot*: every
//! delivered event disarms the resource in the OS, and it must be re-armed (`modify`) for
//! the directions somebody waits on. `armed` records what is armed; a waiter that needs more
//! re-arms under the waiter lock (so concurrent waiters compute the union consistently), and
//! a dispatch, which disarms everything, wakes *all* waiters of the resource so that the ones
//! whose direction did not fire re-arm themselves.

use super::{Direction, Interest};
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use std::io;
use std::num::NonZeroU64;
use std::task::{Context, Waker};

/// The OS reported the resource readable (or closed, or in error: a read will not block).
pub(crate) const READABLE: usize = 1 << 0;
/// The OS reported the resource writable (or closed, or in error).
pub(crate) const WRITABLE: usize = 1 << 1;
/// The runtime shut down: operations fail with [`shutdown_error`].
pub(crate) const SHUTDOWN: usize = 1 << 2;
/// The tick lives above the flag bits; the gap leaves room for more readiness kinds.
const TICK_SHIFT: u32 = 8;
/// The flag bits below the tick.
const FLAGS_MASK: usize = (1 << TICK_SHIFT) - 1;

/// The readiness an operation saw, and the tick it saw it at (for `clear_readiness`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadyEvent {
    tick: usize,
    ready: usize,
}

/// How an operation waits: see "Waiters" in the module header.
#[derive(Debug)]
pub(crate) enum Waiter<'a> {
    /// The direction's owner slot; the caller guarantees it is the only owner-slot user of
    /// this direction (by holding the resource through `&mut`, or a split half).
    Owner,
    /// An entry in the shared list; the id lives in the caller's [`SharedWaiter`].
    Shared(&'a mut SharedWaiter),
}

impl Waiter<'_> {
    /// The same waiter, for one more attempt.
    pub(crate) fn reborrow(&mut self) -> Waiter<'_> {
        match self {
            Waiter::Owner => Waiter::Owner,
            Waiter::Shared(shared) => Waiter::Shared(shared),
        }
    }
}

/// A shared waiter's identity, kept by the future that waits. Dropping it does nothing by
/// itself: its owner calls [`ScheduledIo::remove_waiter`] (the `PollEvented` helpers do).
#[derive(Debug, Default)]
pub(crate) struct SharedWaiter {
    id: Option<NonZeroU64>,
}

impl SharedWaiter {
    pub(crate) fn new() -> SharedWaiter {
        SharedWaiter { id: None }
    }
}

pub(crate) struct ScheduledIo {
    /// See "The readiness word". Written by the dispatcher (`set_readiness`, `shutdown`) and
    /// by operations (`clear_readiness`), always by read-modify-write.
    readiness: AtomicUsize,
    /// Who waits; see "Waiters". Never held while a waker runs.
    waiters: Mutex<Waiters>,
}

struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
    shared: Vec<Shared>,
    /// The next shared waiter id (never 0).
    next_id: u64,
    /// Oneshot mode: the directions armed in the OS since the last event for this resource.
    armed: Interest,
}

struct Shared {
    id: NonZeroU64,
    direction: Direction,
    waker: Waker,
}

/// What [`ScheduledIo::register`] found.
pub(crate) enum Registered {
    /// The direction became ready (or the runtime shut down) while registering: retry.
    Ready(ReadyEvent),
    /// The waker is stored. In oneshot mode, the directions to arm in the OS now (still
    /// under the lock: the caller passes a closure).
    Waiting,
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(READABLE | WRITABLE),
            waiters: Mutex::new(Waiters {
                reader: None,
                writer: None,
                shared: Vec::new(),
                next_id: 1,
                armed: Interest::NONE,
            }),
        }
    }

    fn lock(&self) -> crate::loom::sync::MutexGuard<'_, Waiters> {
        // A panic never happens under this lock (only pushes, takes and `will_wake`), but a
        // poisoned lock is still a usable list.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Step 1 of an operation: the direction's readiness, if it is ready or shut down.
    pub(crate) fn ready(&self, direction: Direction) -> Option<ReadyEvent> {
        // Acquire: pairs with the dispatcher's release, so the syscall that follows runs
        // after the event was recorded (the OS state behind it is what the syscall sees).
        ready_in(self.readiness.load(Ordering::Acquire), direction)
    }

    /// Step 3 of an operation: stores the waker, then re-checks readiness under the lock.
    /// `arm` runs under the lock, in oneshot mode, with the directions to arm; its error is
    /// returned.
    pub(crate) fn register(
        &self,
        cx: &Context<'_>,
        direction: Direction,
        waiter: Waiter<'_>,
        arm: Option<&dyn Fn(Interest) -> io::Result<()>>,
    ) -> io::Result<Registered> {
        let mut waiters = self.lock();
        let waker = cx.waker();
        match waiter {
            Waiter::Owner => {
                let slot = match direction {
                    Direction::Read => &mut waiters.reader,
                    Direction::Write => &mut waiters.writer,
                };
                match slot {
                    Some(old) if old.will_wake(waker) => {}
                    _ => *slot = Some(waker.clone()),
                }
            }
            Waiter::Shared(shared) => {
                let existing = shared
                    .id
                    .and_then(|id| waiters.shared.iter_mut().find(|w| w.id == id));
                match existing {
                    Some(entry) => {
                        if !entry.waker.will_wake(waker) {
                            entry.waker = waker.clone();
                        }
                    }
                    None => {
                        let id = NonZeroU64::new(waiters.next_id).expect("ids start at 1");
                        waiters.next_id += 1;
                        waiters.shared.push(Shared {
                            id,
                            direction,
                            waker: waker.clone(),
                        });
                        shared.id = Some(id);
                    }
                }
            }
        }
        // Under the lock: see "Why no wake-up is lost".
        if let Some(event) = ready_in(self.readiness.load(Ordering::Acquire), direction) {
            return Ok(Registered::Ready(event));
        }
        if let Some(arm) = arm {
            let wanted = waiters.interest();
            if !waiters.armed.contains(wanted) {
                arm(wanted)?;
                waiters.armed = wanted;
            }
        }
        Ok(Registered::Waiting)
    }

    /// Step 2 of an operation: it saw `WouldBlock`, so the direction is not ready after all,
    /// unless readiness was reported again since `event` (the tick moved).
    pub(crate) fn clear_readiness(&self, event: ReadyEvent, direction: Direction) {
        let bit = direction.bit() & event.ready;
        // Orderings: the word carries no data of its own (the waker hand-off is ordered by
        // the `waiters` lock); Acquire/AcqRel keep each step ordered with the syscalls
        // around it, which is all the protocol needs.
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            if current >> TICK_SHIFT != event.tick || current & bit == 0 {
                return;
            }
            match self.readiness.compare_exchange_weak(
                current,
                current & !bit,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// Dispatcher step 1: records that the OS reported `ready` (`READABLE` / `WRITABLE`
    /// bits) and bumps the tick.
    pub(crate) fn set_readiness(&self, ready: usize) {
        // AcqRel: released to the operation's Acquire load in `ready`/`register` (see the
        // ordering note on `clear_readiness`).
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            let tick = (current >> TICK_SHIFT).wrapping_add(1);
            let next = (tick << TICK_SHIFT) | (current & FLAGS_MASK) | ready;
            match self.readiness.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// Dispatcher step 2: moves the wakers of the directions in `ready` (every waker if
    /// `all`, as oneshot mode needs) into `wakers`. Marks the resource disarmed (oneshot
    /// mode: the OS disarmed it by delivering the event).
    pub(crate) fn take_wakers(&self, ready: usize, all: bool, wakers: &mut WakeList) {
        let mut waiters = self.lock();
        waiters.armed = Interest::NONE;
        let read = all || ready & READABLE != 0;
        let write = all || ready & WRITABLE != 0;
        if read {
            wakers.extend(waiters.reader.take());
        }
        if write {
            wakers.extend(waiters.writer.take());
        }
        if !waiters.shared.is_empty() {
            waiters.shared.retain_mut(|w| {
                let fire = match w.direction {
                    Direction::Read => read,
                    Direction::Write => write,
                };
                if fire {
                    wakers.push(w.waker.clone());
                }
                !fire
            });
        }
    }

    /// Runtime shutdown: every operation fails from now on; wakes every waiter.
    pub(crate) fn shutdown(&self, wakers: &mut WakeList) {
        self.readiness.fetch_or(SHUTDOWN, Ordering::AcqRel);
        self.take_wakers(READABLE | WRITABLE, true, wakers);
    }

    /// Forgets a shared waiter (its future completed or was dropped).
    pub(crate) fn remove_waiter(&self, waiter: &mut SharedWaiter) {
        if let Some(id) = waiter.id.take() {
            let mut waiters = self.lock();
            if let Some(at) = waiters.shared.iter().position(|w| w.id == id) {
                waiters.shared.swap_remove(at);
            }
        }
    }
}

impl ReadyEvent {
    /// Whether this readiness is the runtime shutting down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.ready & SHUTDOWN != 0
    }
}

impl Waiters {
    /// The directions somebody waits on.
    fn interest(&self) -> Interest {
        let mut interest = Interest {
            read: self.reader.is_some(),
            write: self.writer.is_some(),
        };
        for w in &self.shared {
            match w.direction {
                Direction::Read => interest.read = true,
                Direction::Write => interest.write = true,
            }
        }
        interest
    }
}

/// The readiness `word` reports for `direction`, if ready or shut down.
fn ready_in(word: usize, direction: Direction) -> Option<ReadyEvent> {
    let ready = word & (direction.bit() | SHUTDOWN);
    (ready != 0).then_some(ReadyEvent {
        tick: word >> TICK_SHIFT,
        ready,
    })
}

/// The error of an operation on a resource whose runtime shut down.
pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other("the arbor runtime this IO resource belongs to has shut down")
}

/// How many wakers a [`WakeList`] holds without allocating.
const INLINE_WAKERS: usize = 32;

/// Wakers collected under locks, woken after every lock is released. Holds
/// [`INLINE_WAKERS`] inline and spills into a `Vec` beyond that.
pub(crate) struct WakeList {
    inline: [Option<Waker>; INLINE_WAKERS],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn new() -> WakeList {
        WakeList {
            inline: [const { None }; INLINE_WAKERS],
            len: 0,
            spill: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        if self.len < INLINE_WAKERS {
            self.inline[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    fn extend(&mut self, waker: Option<Waker>) {
        if let Some(waker) = waker {
            self.push(waker);
        }
    }

    /// Wakes and forgets every waker; returns how many there were.
    pub(crate) fn wake_all(&mut self) -> usize {
        let count = self.len + self.spill.len();
        for slot in &mut self.inline[..self.len] {
            if let Some(waker) = slot.take() {
                crate::wake::wake(waker);
            }
        }
        self.len = 0;
        for waker in self.spill.drain(..) {
            crate::wake::wake(waker);
        }
        count
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize as Count;
    use std::task::Wake;

    struct Counter(Count);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(Count::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    fn wakes(c: &Counter) -> usize {
        c.0.load(Ordering::SeqCst)
    }

    #[test]
    fn a_clear_after_a_new_event_keeps_readiness() {
        let io = ScheduledIo::new();
        let seen = io.ready(Direction::Read).expect("optimistically ready");
        io.set_readiness(READABLE); // reported while the syscall ran
        io.clear_readiness(seen, Direction::Read);
        let again = io.ready(Direction::Read).expect("the new event survives");
        io.clear_readiness(again, Direction::Read);
        assert!(io.ready(Direction::Read).is_none());
        assert!(
            io.ready(Direction::Write).is_some(),
            "only one direction cleared"
        );
    }

    #[test]
    fn a_registered_waiter_is_woken_by_its_direction_only() {
        let io = ScheduledIo::new();
        let (count, w) = waker();
        let cx = Context::from_waker(&w);
        io.clear_readiness(io.ready(Direction::Read).unwrap(), Direction::Read);
        assert!(matches!(
            io.register(&cx, Direction::Read, Waiter::Owner, None),
            Ok(Registered::Waiting)
        ));
        let mut list = WakeList::new();
        io.set_readiness(WRITABLE);
        io.take_wakers(WRITABLE, false, &mut list);
        assert_eq!(list.wake_all(), 0);
        io.set_readiness(READABLE);
        io.take_wakers(READABLE, false, &mut list);
        assert_eq!(list.wake_all(), 1);
        assert_eq!(wakes(&count), 1);
    }

    #[test]
    fn registering_while_ready_reports_ready() {
        let io = ScheduledIo::new();
        let (_count, w) = waker();
        let cx = Context::from_waker(&w);
        assert!(matches!(
            io.register(&cx, Direction::Write, Waiter::Owner, None),
            Ok(Registered::Ready(_))
        ));
    }

    #[test]
    fn shared_waiters_are_all_woken_and_can_be_removed() {
        let io = ScheduledIo::new();
        io.clear_readiness(io.ready(Direction::Read).unwrap(), Direction::Read);
        let (c1, w1) = waker();
        let (c2, w2) = waker();
        let (mut s1, mut s2) = (SharedWaiter::new(), SharedWaiter::new());
        for (w, s) in [(&w1, &mut s1), (&w2, &mut s2)] {
            let cx = Context::from_waker(w);
            assert!(matches!(
                io.register(&cx, Direction::Read, Waiter::Shared(s), None),
                Ok(Registered::Waiting)
            ));
        }
        // Re-registering the same waiter does not add an entry.
        let cx = Context::from_waker(&w1);
        let _ = io.register(&cx, Direction::Read, Waiter::Shared(&mut s1), None);
        io.remove_waiter(&mut s2);
        let mut list = WakeList::new();
        io.set_readiness(READABLE);
        io.take_wakers(READABLE, false, &mut list);
        assert_eq!(list.wake_all(), 1);
        assert_eq!((wakes(&c1), wakes(&c2)), (1, 0));
    }

    #[test]
    fn oneshot_arms_the_union_of_waiting_directions_once() {
        let io = ScheduledIo::new();
        io.clear_readiness(io.ready(Direction::Read).unwrap(), Direction::Read);
        io.clear_readiness(io.ready(Direction::Write).unwrap(), Direction::Write);
        let armed = std::cell::RefCell::new(Vec::new());
        let arm = |i: Interest| {
            armed.borrow_mut().push(i);
            Ok(())
        };
        let (_c, w) = waker();
        let cx = Context::from_waker(&w);
        let _ = io.register(&cx, Direction::Read, Waiter::Owner, Some(&arm));
        let _ = io.register(&cx, Direction::Read, Waiter::Owner, Some(&arm));
        let _ = io.register(&cx, Direction::Write, Waiter::Owner, Some(&arm));
        let both = Interest {
            read: true,
            write: true,
        };
        assert_eq!(*armed.borrow(), [Interest::READ, both]);
        // An event disarms; the next waiter re-arms.
        let mut list = WakeList::new();
        io.set_readiness(WRITABLE);
        io.take_wakers(WRITABLE, true, &mut list);
        assert_eq!(list.wake_all(), 2, "oneshot wakes every waiter");
        let _ = io.register(&cx, Direction::Read, Waiter::Owner, Some(&arm));
        assert_eq!(armed.borrow().len(), 3);
    }

    #[test]
    fn shutdown_wakes_everyone_and_is_sticky() {
        let io = ScheduledIo::new();
        io.clear_readiness(io.ready(Direction::Read).unwrap(), Direction::Read);
        let (c, w) = waker();
        let cx = Context::from_waker(&w);
        let _ = io.register(&cx, Direction::Read, Waiter::Owner, None);
        let mut list = WakeList::new();
        io.shutdown(&mut list);
        assert_eq!(list.wake_all(), 1);
        assert_eq!(wakes(&c), 1);
        let event = io.ready(Direction::Read).expect("shutdown reads as ready");
        assert!(event.is_shutdown());
        io.clear_readiness(event, Direction::Read);
        assert!(
            io.ready(Direction::Read).unwrap().is_shutdown(),
            "shutdown is never cleared"
        );
    }

    #[test]
    fn a_wake_list_spills_past_its_inline_capacity() {
        let mut list = WakeList::new();
        let (count, w) = waker();
        for _ in 0..INLINE_WAKERS + 5 {
            list.push(w.clone());
        }
        assert_eq!(list.wake_all(), INLINE_WAKERS + 5);
        assert_eq!(wakes(&count), INLINE_WAKERS + 5);
        assert_eq!(list.wake_all(), 0);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The readiness protocol under loom: a dispatch racing an operation's
    //! WouldBlock-clear-register sequence never leaves the operation asleep while ready.
    use super::*;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicBool;
    use std::task::Wake;

    struct Flag(AtomicBool);
    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn loom_io_dispatch_vs_wait() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            // The operation saw readiness, tried the syscall, got WouldBlock.
            let seen = io.ready(Direction::Read).unwrap();
            let dispatcher = {
                let io = io.clone();
                loom::thread::spawn(move || {
                    io.set_readiness(READABLE);
                    let mut list = WakeList::new();
                    io.take_wakers(READABLE, false, &mut list);
                    list.wake_all();
                })
            };
            io.clear_readiness(seen, Direction::Read);
            let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let cx = Context::from_waker(&waker);
            let outcome = match io.ready(Direction::Read) {
                Some(_) => true,
                None => matches!(
                    io.register(&cx, Direction::Read, Waiter::Owner, None),
                    Ok(Registered::Ready(_))
                ),
            };
            dispatcher.join().unwrap();
            // Either the operation saw the readiness, or it was woken.
            assert!(outcome || flag.0.load(Ordering::SeqCst));
            assert!(io.ready(Direction::Read).is_some(), "readiness was lost");
        });
    }
}
