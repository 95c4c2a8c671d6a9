//! The permit counter behind [`Semaphore`](super::Semaphore), [`Mutex`](super::Mutex) and
//! [`RwLock`](super::RwLock): a FIFO-fair counting semaphore with an atomic fast path.
//!
//! # State
//!
//! `state` holds `available << PERMIT_SHIFT | QUEUED`:
//!
//! - `available`: permits no one holds and no waiter has been assigned;
//! - `QUEUED`: the wait list is not empty.
//!
//! The waiters live in a [`WaitList`] under `waiters` (a lock). Each carries a [`Need`]: how
//! many permits it asked for and how many it still lacks.
//!
//! # Invariants
//!
//! 1. `QUEUED` is set exactly when the wait list has a queued waiter, and it changes only
//!    with `waiters` locked.
//! 2. While `QUEUED` is set, `available` is 0: released permits go to the waiters first (the
//!    head may hold part of what it needs), and only what nobody waits for goes back to the
//!    counter.
//! 3. Hence, while `QUEUED` is set, only a holder of `waiters` changes `state`; the fast
//!    paths below bail out when they see it.
//!
//! # Protocol
//!
//! - **try_acquire(n)** (no lock): CAS `available -= n` if `QUEUED` is clear and `available
//!   >= n`; else fail. A newcomer never barges past queued waiters: with waiters queued it
//!   sees `QUEUED` (invariant 2 says nothing is available anyway).
//! - **acquire(n)**: the fast path, else with `waiters` locked: take the permits if now
//!   possible; else take whatever is available, set `QUEUED` (one CAS), and queue for the
//!   rest.
//! - **release(n)** (no lock while `QUEUED` is clear): CAS `available += n`. If `QUEUED` is
//!   set, lock `waiters` and [`assign`](Permits::assign) the permits: the head's need shrinks;
//!   a head whose need reaches 0 is granted and its waker collected; once the list is empty
//!   the rest goes back to `available` and `QUEUED` is cleared, in one CAS. Wakers are woken
//!   after the lock is released.
//! - **cancel** (an [`Acquire`] dropped while queued or granted): remove the entry and
//!   `assign` the permits it held (all of them if granted, the part it had if queued).
//!   Nothing is lost: they go to the next waiter, or back to `available`.
//!
//! Orderings: permit counts move by CAS; taking permits is `Acquire`, giving them back is
//! `Release`, so a `Mutex` holder's writes happen before the next holder's reads. Hand-offs
//! through the wait list are ordered by the `waiters` lock.
//!
//! An uncontended acquire/release pair is two CASes and never touches the lock.
//!
//! # Grants without the lock on the waiter's side
//!
//! A queued waiter takes a ticket (`next_ticket`, under the lock); tickets grow in queue
//! order. The grant of the head takes it out of the list (its slot is freed) and then
//! stores `granted_upto = ticket + 1` (`Release`, under the lock). Every waiter queued
//! before the head has been granted or has left by then (the queue is FIFO and only a grant
//! or the owner removes an entry), so a waiter is granted exactly when
//! `granted_upto > its ticket`. Its poll reads that (`Acquire`) before anything else and,
//! if granted, is done without the lock (the releaser's writes happen before the waiter's
//! reads through the `Release`/`Acquire` pair); its key is stale and is never used again.
//! If not, it locks and reads it again: grants happen under the lock, so that read is
//! final, and only then does it touch its entry. A dropped waiter does the same: granted, it
//! releases its permits as any holder would; still queued, it removes its entry under the
//! lock and passes on what it had been assigned.

use super::lock;
use super::wait_list::{WaitKey, WaitList, WakeList};
use crate::coop;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Set while the wait list has a queued waiter.
const QUEUED: usize = 1;

/// `available` sits above the flag bits.
const PERMIT_SHIFT: u32 = 1;

/// The most permits a counter holds: a few bits short of `usize::MAX`, so that
/// `available << PERMIT_SHIFT` and a sum of two in-range counts never overflow.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// What a queued waiter asked for and still lacks, and its place in line.
#[derive(Debug)]
struct Need {
    wanted: usize,
    remaining: usize,
    ticket: u64,
}

/// The wait list and the next ticket to hand out (see "Grants without the lock").
struct Waiters {
    list: WaitList<Need, ()>,
    next_ticket: u64,
}

/// A FIFO-fair counting semaphore; see the module documentation.
pub(crate) struct Permits {
    /// `available << PERMIT_SHIFT | QUEUED`.
    state: AtomicUsize,
    /// Waiters, oldest first. Lock order: this lock is a leaf (no other lock is taken under it).
    waiters: Mutex<Waiters>,
    /// Every waiter whose ticket is below this has been granted (written under `waiters`).
    granted_upto: AtomicU64,
}

impl Permits {
    /// A counter holding `permits`.
    ///
    /// # Panics
    /// If `permits` exceeds [`MAX_PERMITS`].
    #[track_caller]
    pub(crate) fn new(permits: usize) -> Permits {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits, asked for {permits}"
        );
        Permits {
            state: AtomicUsize::new(permits << PERMIT_SHIFT),
            waiters: Mutex::new(Waiters {
                list: WaitList::new(),
                next_ticket: 0,
            }),
            granted_upto: AtomicU64::new(0),
        }
    }

    /// Permits available now.
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) >> PERMIT_SHIFT
    }

    /// Takes `n` permits if they are available and nobody is queued.
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            if cur & QUEUED != 0 || cur >> PERMIT_SHIFT < n {
                return false;
            }
            let new = cur - (n << PERMIT_SHIFT);
            // Acquire: the permits' previous holder released them (Release); its writes
            // happen before what we do with them.
            match self
                .state
                .compare_exchange_weak(cur, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Waits for `n` permits, in FIFO order behind the queued waiters.
    ///
    /// # Panics
    /// If `n` exceeds [`MAX_PERMITS`] (it could never be satisfied).
    #[track_caller]
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        assert!(
            n <= MAX_PERMITS,
            "cannot acquire {n} permits: a semaphore holds at most {MAX_PERMITS}"
        );
        Acquire {
            permits: self,
            wanted: n,
            key: None,
        }
    }

    /// Gives back `n` permits: to the queued waiters first, in order, then to the counter.
    ///
    /// # Panics
    /// If the counter plus `n` would exceed [`MAX_PERMITS`], counted before any waiter is
    /// served. The check comes before any change: a panicking release has granted nobody.
    #[track_caller]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        if n > MAX_PERMITS {
            // Checked up front: with `QUEUED` set `available` is 0 (invariant 2), so this is
            // the only way `assign` could overflow, and it would do so after granting (and
            // before waking) the waiters. With `QUEUED` clear the fast path's
            // `add_available` panics before its CAS, and `assign` with an empty list grants
            // nobody before its CAS.
            overflow();
        }
        let mut cur = self.state.load(Ordering::Relaxed);
        while cur & QUEUED == 0 {
            let new = add_available(cur, n);
            // Release: our writes under these permits happen before the next taker's reads.
            match self
                .state
                .compare_exchange_weak(cur, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        let mut wakers = WakeList::new();
        let mut waiters = lock(&self.waiters);
        self.assign(n, &mut waiters.list, &mut wakers);
        drop(waiters);
        wakers.wake_all();
    }

    /// With `waiters` locked: hands `n` permits to the queued waiters in order, and the rest
    /// (if nobody is left queued) back to `available`, clearing `QUEUED`. Also restores
    /// invariant 1 after a waiter left, so it runs even with `n == 0`.
    ///
    /// Never panics after granting a waiter: with a waiter queued, `QUEUED` is set and
    /// `available` is 0, and callers pass `n <= MAX_PERMITS` (`release` checks it; a dropped
    /// `Acquire` holds at most what it asked for), so the rest fits. Only with an empty list
    /// can the final `add_available` panic, and then nothing was granted.
    fn assign(&self, mut n: usize, waiters: &mut WaitList<Need, ()>, wakers: &mut WakeList) {
        while n > 0 {
            let Some(need) = waiters.front_mut() else {
                break;
            };
            if need.remaining <= n {
                n -= need.remaining;
                let ticket = need.ticket;
                waiters.pop_front(wakers);
                // Release: our writes under these permits happen before the waiter's reads.
                self.granted_upto.store(ticket + 1, Ordering::Release);
            } else {
                need.remaining -= n;
                n = 0;
            }
        }
        if !waiters.is_empty() {
            // Invariant 2: everything went to the waiters.
            debug_assert_eq!(n, 0);
            return;
        }
        // No queued waiter: clear `QUEUED` and return the rest. With `QUEUED` set, state is
        // exactly `QUEUED` (invariant 3); with it clear (an already-empty list), the fast
        // paths race us, hence the CAS loop.
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            let new = add_available(cur & !QUEUED, n);
            // Release: as in `release`, for the permits that go back to the counter.
            match self
                .state
                .compare_exchange_weak(cur, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }
}

/// `state` with `n` more available permits.
///
/// # Panics
/// If that is more than [`MAX_PERMITS`]; `state` is not changed (the caller has not stored
/// anything yet).
#[track_caller]
fn add_available(state: usize, n: usize) -> usize {
    let available = (state >> PERMIT_SHIFT)
        .checked_add(n)
        .filter(|&a| a <= MAX_PERMITS)
        .unwrap_or_else(|| overflow());
    available << PERMIT_SHIFT | (state & QUEUED)
}

/// The panic of a release that would take the counter past [`MAX_PERMITS`].
#[cold]
#[track_caller]
fn overflow() -> ! {
    panic!("a semaphore holds at most {MAX_PERMITS} permits: too many were added")
}

impl fmt::Debug for Permits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Permits")
            .field("available", &(state >> PERMIT_SHIFT))
            .field("queued", &(state & QUEUED != 0))
            .finish()
    }
}

/// Waits for permits; resolves once they are this future's. Dropping it before then gives
/// back whatever it had been assigned.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Acquire<'a> {
    /// The counter acquired from.
    permits: &'a Permits,
    /// Permits asked for.
    wanted: usize,
    /// `Some` while queued or granted-but-unobserved: the entry and the ticket.
    key: Option<(WaitKey, u64)>,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(coop::poll_proceed(cx));
        let this = &mut *self;
        let permits = this.permits;
        let Some((key, ticket)) = &this.key else {
            if this.wanted == 0 || permits.try_acquire(this.wanted) {
                coop.made_progress();
                return Poll::Ready(());
            }
            return match permits.acquire_slow(this.wanted, cx) {
                None => {
                    coop.made_progress();
                    Poll::Ready(())
                }
                Some(key) => {
                    this.key = Some(key);
                    Poll::Pending
                }
            };
        };
        if !permits.is_granted(*ticket) {
            let mut waiters = lock(&permits.waiters);
            // Under the lock the answer is final (grants happen under it).
            if !permits.is_granted(*ticket) {
                let old = waiters.list.set_waker(key, cx.waker());
                drop(waiters);
                drop(old);
                return Poll::Pending;
            }
        }
        // The grant freed our entry: the key is stale.
        this.key = None;
        coop.made_progress();
        Poll::Ready(())
    }
}

impl Permits {
    /// Whether the waiter holding `ticket` has been granted (see "Grants without the lock").
    fn is_granted(&self, ticket: u64) -> bool {
        // Acquire: pairs with the grant's Release.
        self.granted_upto.load(Ordering::Acquire) > ticket
    }

    /// The slow path of [`Acquire`]: takes the permits if possible now (`None`), else queues
    /// a waiter holding whatever was available (`Some(key)`).
    fn acquire_slow(&self, wanted: usize, cx: &Context<'_>) -> Option<(WaitKey, u64)> {
        let mut waiters = lock(&self.waiters);
        let mut cur = self.state.load(Ordering::Acquire);
        let remaining = loop {
            if cur & QUEUED != 0 {
                // Invariant 2: nothing is available; queue for everything.
                break wanted;
            }
            let available = cur >> PERMIT_SHIFT;
            let (new, remaining) = if available >= wanted {
                (cur - (wanted << PERMIT_SHIFT), 0)
            } else {
                // Take what there is and queue for the rest (`QUEUED` set under the lock).
                (QUEUED, wanted - available)
            };
            // Acquire: as in `try_acquire`.
            match self
                .state
                .compare_exchange_weak(cur, new, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) if remaining == 0 => return None,
                Ok(_) => break remaining,
                Err(actual) => cur = actual,
            }
        };
        let ticket = waiters.next_ticket;
        waiters.next_ticket += 1;
        let need = Need {
            wanted,
            remaining,
            ticket,
        };
        Some((waiters.list.push_back(need, cx.waker()), ticket))
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some((key, ticket)) = self.key.take() else {
            return;
        };
        let permits = self.permits;
        if !permits.is_granted(ticket) {
            let mut waiters = lock(&permits.waiters);
            // Under the lock the answer is final (grants happen under it).
            if !permits.is_granted(ticket) {
                // Still queued: the key is ours. Pass on the part of what we wanted that
                // was already assigned to us.
                let removed = waiters.list.remove(key);
                debug_assert!(removed.grant.is_none(), "permit grants leave the list");
                let held = removed.data.wanted - removed.data.remaining;
                let mut wakers = WakeList::new();
                permits.assign(held, &mut waiters.list, &mut wakers);
                drop(waiters);
                drop(removed);
                wakers.wake_all();
                return;
            }
        }
        // Granted and never observed: the permits are ours to give back (the lock, if
        // taken, is released by now).
        permits.release(self.wanted);
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("wanted", &self.wanted)
            .field("queued", &self.key.is_some())
            .finish()
    }
}
