//! Async synchronisation primitives: asyncio's `Lock`, `Event`, `Condition`, `Semaphore`,
//! `Barrier` and queues, plus channels.
//!
//! | asyncio | arbor |
//! |---|---|
//! | `Lock` | [`Mutex<T>`](Mutex) (owns the data it guards); also [`RwLock<T>`](RwLock) |
//! | `Event` | [`Event`] |
//! | `Condition` | [`Condvar`], used with a [`Mutex`] |
//! | `Semaphore`, `BoundedSemaphore` | [`Semaphore`] (permits are given back by dropping them) |
//! | `Barrier` | [`Barrier`] |
//! | `Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] |
//! | `Future` as a one-shot result | [`oneshot::channel`] |
//! | (no asyncio equivalent) | [`mpsc::channel`], [`mpsc::unbounded_channel`] |
//!
//! # Guarantees, for every primitive
//!
//! - **FIFO**: waiters are served in the order they started waiting, and a newcomer does
//!   not barge past queued waiters (`try_lock`, `try_acquire`, `put_nowait`... fail while
//!   others wait). A lock released with waiters queued is handed to the oldest one.
//! - **Cancellation safety**: Rust cancels a future by dropping it. A waiter dropped at any
//!   point, even after it was granted a permit, a lock, a notification, an item or room in a
//!   queue but before it observed it, passes the grant on (to the next waiter, or back to the
//!   primitive). Nothing is lost. A `put` or `send` hands its item over only in the poll that
//!   resolves it: one dropped before did not put or send, and its item is never delivered.
//! - **No user code under a lock**: wakers are woken, and items and old wakers dropped, after
//!   the primitive's internal lock is released.
//! - **Cooperative**: each wait spends one unit of the task's [budget](crate::coop), so a
//!   task that always finds its lock free or its channel full still yields to the others.
//!
//! # Design
//!
//! Every primitive keeps its waiters in one `WaitList`: a slab-indexed
//! FIFO list inside a `Mutex` (the std one, or loom's under `cfg(loom)`), where a waiting
//! future owns a key rather than a pointer, so no `unsafe` is needed. A waiter moves from
//! *queued* to *granted* under the lock, and a dropped future returns what it was granted.
//!
//! [`Semaphore`], [`Mutex`] and [`RwLock`] share one permit counter with an atomic fast path
//! (`permits`): uncontended acquire and release are a compare-and-swap each, and the waiter
//! lock is only taken when someone has to wait. [`Event::wait`] on a set event and
//! [`Event::is_set`] are one atomic load. The queues share one queue core (`queue::core`).
//! [`mpsc`] takes no lock on the value path: a lock-free queue of values, the permit counter
//! for room (FIFO senders), and an atomic waker for the receiver. [`oneshot`] is a small
//! state under a lock.
//!
//! Only `Mutex`/`RwLock` data access needs `unsafe` (an `UnsafeCell` behind the permit).

mod atomic_waker;
mod barrier;
mod condvar;
mod event;
pub mod mpsc;
mod mutex;
pub mod oneshot;
mod permits;
pub(crate) mod queue;
mod rwlock;
mod semaphore;
pub(crate) mod wait_list;

#[cfg(all(test, loom))]
mod loom_tests;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use condvar::Condvar;
pub use event::{Event, Wait};
pub use mutex::{Mutex, MutexGuard, TryLockError};
pub use queue::{LifoQueue, PriorityQueue, Queue, QueueShutDown, TryGetError, TryPutError};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError};

use crate::loom::sync::{Mutex as StdMutex, MutexGuard as StdMutexGuard};

/// Locks an internal lock. Poisoning is ignored: no primitive here panics while its lock is
/// held with its invariants broken (user code never runs under it), so the state is sound.
fn lock<T>(mutex: &StdMutex<T>) -> StdMutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
