//! [`Mutex`]: an async mutual-exclusion lock (asyncio's `Lock`, holding the data it guards).
//!
//! A [`Permits`](super::permits) counter with one permit, beside the data. Locking takes the
//! permit, the guard's drop gives it back.
//!
//! Fairness: strict FIFO with hand-off. When the lock is released with waiters queued, it
//! passes directly to the oldest waiter (it never becomes free in between), so a newcomer
//! cannot barge in. The price is a convoy under heavy contention: the next holder must be
//! scheduled before anyone else makes progress. Uncontended lock and unlock are one atomic
//! compare-and-swap each.

use super::permits::Permits;
use std::cell::UnsafeCell;
use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// An async mutex (asyncio's `Lock`) that owns the data it protects.
///
/// `lock().await` waits (without blocking the thread) until the lock is free and returns a
/// guard; the lock is released when the guard drops. The guard may be held across `.await`
/// points and moved between threads.
///
/// Waiters acquire the lock in the order they asked. Cancellation-safe: a `lock()` future
/// dropped while it waits (even after the lock was handed to it) passes the lock on to the
/// next waiter.
///
/// ```
/// use arbor_runtime::sync::Mutex;
/// use std::sync::Arc;
///
/// let total = arbor_runtime::run(async {
///     let counter = Arc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let counter = counter.clone();
///             arbor_runtime::spawn(async move {
///                 let mut n = counter.lock().await;
///                 arbor_runtime::yield_now().await; // held across an await
///                 *n += 1;
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     *counter.lock().await
/// });
/// assert_eq!(total, 10);
/// ```
pub struct Mutex<T: ?Sized> {
    /// One permit: whoever holds it may touch `data`.
    permits: Permits,
    /// Accessed only through a guard, i.e. while holding the permit.
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `data` to one guard at a time (the single permit),
// possibly on another thread, so `T: Send` is all sharing it needs (as for std's Mutex).
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: moving the mutex moves the data; `T: Send` allows that.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

/// [`Mutex::try_lock`] (or [`RwLock`](super::RwLock)'s `try_read`/`try_write`) found the lock
/// held, or waiters queued for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(pub(super) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held or contended")
    }
}

impl Error for TryLockError {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// ```
    /// let m = arbor_runtime::sync::Mutex::new(vec![1]);
    /// assert_eq!(m.into_inner(), vec![1]);
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            permits: Permits::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// The data, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock (FIFO among waiters) and returns its guard.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let m = arbor_runtime::sync::Mutex::new(1);
    ///     *m.lock().await += 1;
    ///     assert_eq!(*m.lock().await, 2);
    /// });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.permits.acquire(1).await;
        MutexGuard::new(self)
    }

    /// Takes the lock if it is free and nobody is queued for it.
    ///
    /// ```
    /// let m = arbor_runtime::sync::Mutex::new(());
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        if self.permits.try_acquire(1) {
            Ok(MutexGuard::new(self))
        } else {
            Err(TryLockError(()))
        }
    }

    /// The data, through a unique borrow of the mutex (no locking needed).
    ///
    /// ```
    /// let mut m = arbor_runtime::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Access to a [`Mutex`]'s data; the lock is released when it drops.
#[must_use = "dropping the guard releases the lock at once"]
pub struct MutexGuard<'a, T: ?Sized> {
    /// The mutex whose permit this guard holds.
    lock: &'a Mutex<T>,
    /// Not `Sync` by default: see the impl below.
    _not_sync: PhantomData<std::cell::Cell<()>>,
}

// SAFETY: sharing the guard shares `&T` across threads, which needs `T: Sync`; the guard
// itself is `Send` when `T: Send` (through `&Mutex<T>: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    fn new(lock: &'a Mutex<T>) -> Self {
        MutexGuard {
            lock,
            _not_sync: PhantomData,
        }
    }

    /// The mutex this guard locks (for example to lock it again after a
    /// [`Condvar::wait`](super::Condvar::wait)).
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no other reference to the data
        // exists while it lives; the permit's acquire synchronised with the previous release.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
