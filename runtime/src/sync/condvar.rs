//! [`Condvar`]: asyncio's `Condition`, paired with arbor's [`Mutex`](super::Mutex).
//!
//! # Protocol
//!
//! - `wait(guard)` queues a waiter *before* it releases the mutex, so a `notify` made by
//!   anyone who takes the mutex after it is never missed. Then it waits for a grant, then
//!   locks the mutex again.
//! - `notify_one` grants the oldest queued waiter; `notify_all` every queued waiter.
//!   Notifications are not stored: with nobody waiting they do nothing (as in asyncio).
//! - A waiter dropped after it was notified, before it observed the notification, passes it
//!   on to the next queued waiter (asyncio does the same since Python 3.13), so a
//!   `notify_one` is never swallowed by a cancelled task.

use super::lock;
use super::mutex::MutexGuard;
use super::wait_list::{WaitKey, WaitList, WakeList};
use crate::coop;
use crate::loom::sync::Mutex as StdMutex;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

/// A condition variable for async code (asyncio's `Condition`), used with an arbor
/// [`Mutex`](super::Mutex).
///
/// Unlike asyncio, `notify_one`/`notify_all` may be called without holding the mutex;
/// holding it while changing the condition and notifying is still what makes the pattern
/// correct. Waiters are woken in FIFO order.
///
/// ```
/// use arbor_runtime::sync::{Condvar, Mutex};
/// use std::sync::Arc;
///
/// arbor_runtime::run(async {
///     let pair = Arc::new((Mutex::new(false), Condvar::new()));
///     let pair2 = pair.clone();
///     let waiter = arbor_runtime::spawn(async move {
///         let (ready, cv) = &*pair2;
///         let mut guard = ready.lock().await;
///         while !*guard {
///             guard = cv.wait(guard).await;
///         }
///     });
///     let (ready, cv) = &*pair;
///     *ready.lock().await = true;
///     cv.notify_all();
///     waiter.await.unwrap();
/// });
/// ```
pub struct Condvar {
    /// Waiters not yet notified (queued) or notified but not yet resumed (granted).
    waiters: StdMutex<WaitList<(), ()>>,
}

impl Condvar {
    /// A condition variable with nobody waiting.
    pub fn new() -> Condvar {
        Condvar {
            waiters: StdMutex::new(WaitList::new()),
        }
    }

    /// Releases `guard`'s mutex, waits for a notification, then locks the mutex again.
    ///
    /// Wake-ups may be spurious from the caller's point of view (another task may have
    /// changed the condition back before this one runs): check the condition in a loop, or
    /// use [`wait_while`](Condvar::wait_while).
    ///
    /// If the future is dropped, the guard has been (or is) released and is not given back;
    /// a notification it had received goes to the next waiter.
    pub async fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex = MutexGuard::mutex(&guard);
        // Queued with a no-op waker: the `.await` below polls it at once, in this same poll,
        // and installs the task's waker; a notification in between is kept as a grant.
        let notified = self.register(Waker::noop());
        drop(guard);
        notified.await;
        mutex.lock().await
    }

    /// Waits until `condition` returns `false`, re-checking it after every notification
    /// (std's `Condvar::wait_while`; asyncio's `Condition.wait_for(predicate)` with the
    /// predicate negated).
    ///
    /// ```
    /// use arbor_runtime::sync::{Condvar, Mutex};
    /// use std::sync::Arc;
    ///
    /// arbor_runtime::run(async {
    ///     let state = Arc::new((Mutex::new(0), Condvar::new()));
    ///     let s2 = state.clone();
    ///     let producer = arbor_runtime::spawn(async move {
    ///         for _ in 0..5 {
    ///             *s2.0.lock().await += 1;
    ///             s2.1.notify_all();
    ///             arbor_runtime::yield_now().await;
    ///         }
    ///     });
    ///     let guard = state.0.lock().await;
    ///     let guard = state.1.wait_while(guard, |n| *n < 5).await;
    ///     assert_eq!(*guard, 5);
    ///     drop(guard);
    ///     producer.await.unwrap();
    /// });
    /// ```
    pub async fn wait_while<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while condition(&mut *guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes the oldest waiter, if any.
    ///
    /// ```
    /// let cv = arbor_runtime::sync::Condvar::new();
    /// cv.notify_one(); // nobody waits: nothing happens, nothing is stored
    /// ```
    pub fn notify_one(&self) {
        let mut wakers = WakeList::new();
        let mut waiters = lock(&self.waiters);
        waiters.grant_front((), &mut wakers);
        drop(waiters);
        wakers.wake_all();
    }

    /// Wakes every waiter queued now.
    pub fn notify_all(&self) {
        let mut wakers = WakeList::new();
        let mut waiters = lock(&self.waiters);
        waiters.grant_all(|_| (), &mut wakers);
        drop(waiters);
        wakers.wake_all();
    }

    /// Queues a waiter now (before the caller releases its mutex).
    fn register(&self, waker: &Waker) -> Notified<'_> {
        let key = lock(&self.waiters).push_back((), waker);
        Notified {
            condvar: self,
            key: Some(key),
        }
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

/// A queued condvar waiter.
struct Notified<'a> {
    condvar: &'a Condvar,
    /// `Some` until the notification is observed.
    key: Option<WaitKey>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(coop::poll_proceed(cx));
        let this = &mut *self;
        let key = this.key.as_ref().expect("Notified polled after completion");
        let mut waiters = lock(&this.condvar.waiters);
        if waiters.is_granted(key) {
            let removed = waiters.remove(this.key.take().expect("checked above"));
            drop(waiters);
            drop(removed);
            coop.made_progress();
            Poll::Ready(())
        } else {
            let old = waiters.set_waker(key, cx.waker());
            drop(waiters);
            drop(old);
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wakers = WakeList::new();
        let mut waiters = lock(&self.condvar.waiters);
        let removed = waiters.remove(key);
        if removed.grant.is_some() {
            // Notified but never observed: the notification is someone else's now.
            waiters.grant_front((), &mut wakers);
        }
        drop(waiters);
        drop(removed);
        wakers.wake_all();
    }
}
