//! [`Event`]: a flag that tasks wait on (asyncio's `Event`).
//!
//! # Protocol
//!
//! - `flag` mirrors "set"; it is written only with `waiters` locked, so a waiter that checks
//!   it under the lock and queues is either seen by the `set` that follows, or sees the flag.
//! - `set` (with the lock): store `true`, grant every queued waiter, release the lock, wake
//!   them. A granted waiter resolves even if `clear` runs before it is polled: it was woken
//!   by that `set`, as in asyncio.
//! - `wait` and `is_set` read the flag without the lock first (one `Acquire` load); `set` on
//!   a set event is one load too.
//! - Dropping a waiter removes its entry; a broadcast grant owes nothing to anyone else.

use super::lock;
use super::wait_list::{WaitKey, WaitList, WakeList};
use crate::coop;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// A flag tasks can wait on (asyncio's `Event`): `wait` resolves once the event is set.
///
/// `set` wakes every waiter; the event stays set (later `wait`s resolve at once) until
/// `clear`.
///
/// ```
/// use arbor_runtime::sync::Event;
/// use std::sync::Arc;
///
/// arbor_runtime::run(async {
///     let ready = Arc::new(Event::new());
///     let waiters: Vec<_> = (0..3)
///         .map(|i| {
///             let ready = ready.clone();
///             arbor_runtime::spawn(async move {
///                 ready.wait().await;
///                 i
///             })
///         })
///         .collect();
///     ready.set();
///     for (i, w) in waiters.into_iter().enumerate() {
///         assert_eq!(w.await.unwrap(), i);
///     }
/// });
/// ```
pub struct Event {
    /// "Set"; written with `waiters` locked, read without.
    flag: AtomicBool,
    /// Tasks waiting for the flag.
    waiters: Mutex<WaitList<(), ()>>,
}

impl Event {
    /// A new, unset event.
    pub fn new() -> Event {
        Event {
            flag: AtomicBool::new(false),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Whether the event is set.
    ///
    /// ```
    /// let e = arbor_runtime::sync::Event::new();
    /// assert!(!e.is_set());
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Sets the event and wakes every task waiting for it.
    pub fn set(&self) {
        if self.is_set() {
            return;
        }
        let mut wakers = WakeList::new();
        let mut waiters = lock(&self.waiters);
        // Release: what the setter did before `set` is visible to whoever sees the flag.
        self.flag.store(true, Ordering::Release);
        waiters.grant_all(|_| (), &mut wakers);
        drop(waiters);
        wakers.wake_all();
    }

    /// Unsets the event: later `wait`s block until the next `set`. Waiters already woken by
    /// a `set` still resolve.
    ///
    /// ```
    /// let e = arbor_runtime::sync::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        let waiters = lock(&self.waiters);
        self.flag.store(false, Ordering::Relaxed);
        drop(waiters);
    }

    /// Waits until the event is set (at once if it is).
    ///
    /// Cancellation-safe: dropping the future has no effect on the event.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let e = arbor_runtime::sync::Event::new();
    ///     e.set();
    ///     e.wait().await;
    /// });
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            key: None,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

/// The future of [`Event::wait`].
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'a> {
    /// The event waited for.
    event: &'a Event,
    /// `Some` while queued or woken-but-unobserved.
    key: Option<WaitKey>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(coop::poll_proceed(cx));
        let this = &mut *self;
        let event = this.event;
        if this.key.is_none() && event.is_set() {
            coop.made_progress();
            return Poll::Ready(());
        }
        let mut waiters = lock(&event.waiters);
        match &this.key {
            None if event.flag.load(Ordering::Acquire) => {}
            None => {
                this.key = Some(waiters.push_back((), cx.waker()));
                return Poll::Pending;
            }
            Some(key) if !waiters.is_granted(key) => {
                let old = waiters.set_waker(key, cx.waker());
                drop(waiters);
                drop(old);
                return Poll::Pending;
            }
            Some(_) => {
                let removed = waiters.remove(this.key.take().expect("matched Some"));
                drop(waiters);
                drop(removed);
            }
        }
        coop.made_progress();
        Poll::Ready(())
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let removed = lock(&self.event.waiters).remove(key);
            drop(removed);
        }
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("queued", &self.key.is_some())
            .finish()
    }
}
