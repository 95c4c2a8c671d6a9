//! [`RwLock`]: an async reader-writer lock with FIFO fairness.
//!
//! A [`Permits`](super::permits) counter with [`MAX_READERS`] permits: a reader takes one, a
//! writer takes them all. Because the counter serves waiters in order and assigns released
//! permits to the head of the queue, a queued writer collects permits as readers leave and
//! readers that arrive after it queue behind it: neither side starves.

use super::mutex::TryLockError;
use super::permits::Permits;
use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// How many readers may hold an [`RwLock`] at once. A writer takes this many permits.
const MAX_READERS: usize = (u32::MAX >> 3) as usize;

/// An async reader-writer lock: many readers or one writer.
///
/// Requests are served in the order they are made: a writer waits for the readers ahead of
/// it, and readers that come after a queued writer wait for it. Cancellation-safe: a dropped
/// `read()`/`write()` future gives back whatever part of the lock it had been assigned.
///
/// ```
/// use arbor_runtime::sync::RwLock;
///
/// arbor_runtime::run(async {
///     let lock = RwLock::new(5);
///     {
///         let r1 = lock.read().await;
///         let r2 = lock.read().await; // readers share
///         assert_eq!(*r1 + *r2, 10);
///         assert!(lock.try_write().is_err());
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    /// `MAX_READERS` permits: a reader holds one, a writer all of them.
    permits: Permits,
    /// Read through read guards (one permit each), written through the write guard (all).
    data: UnsafeCell<T>,
}

// SAFETY: readers on many threads share `&T` (needs `T: Sync`); a writer on any thread gets
// `&mut T` (needs `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: moving the lock moves the data.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    ///
    /// ```
    /// let lock = arbor_runtime::sync::RwLock::new("x");
    /// assert_eq!(lock.into_inner(), "x");
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            permits: Permits::new(MAX_READERS),
            data: UnsafeCell::new(value),
        }
    }

    /// The data, consuming the lock.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let lock = arbor_runtime::sync::RwLock::new(vec![1, 2]);
    ///     assert_eq!(lock.read().await.len(), 2);
    /// });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.permits.acquire(1).await;
        RwLockReadGuard { lock: self }
    }

    /// Waits for exclusive access.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let lock = arbor_runtime::sync::RwLock::new(vec![1, 2]);
    ///     lock.write().await.push(3);
    ///     assert_eq!(*lock.read().await, [1, 2, 3]);
    /// });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.permits.acquire(MAX_READERS).await;
        RwLockWriteGuard { lock: self }
    }

    /// Shared access if no writer holds or waits for the lock.
    ///
    /// ```
    /// let lock = arbor_runtime::sync::RwLock::new(0);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_ok());
    /// drop(r);
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        if self.permits.try_acquire(1) {
            Ok(RwLockReadGuard { lock: self })
        } else {
            Err(TryLockError(()))
        }
    }

    /// Exclusive access if nobody holds or waits for the lock.
    ///
    /// ```
    /// let lock = arbor_runtime::sync::RwLock::new(0);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// *lock.try_write().unwrap() = 1;
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        if self.permits.try_acquire(MAX_READERS) {
            Ok(RwLockWriteGuard { lock: self })
        } else {
            Err(TryLockError(()))
        }
    }

    /// The data, through a unique borrow of the lock.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Shared access to an [`RwLock`]'s data; released on drop.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    /// The lock whose one permit this guard holds.
    lock: &'a RwLock<T>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read guard holds one permit; a writer needs all of them, so no `&mut T`
        // exists while this guard lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.permits.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to an [`RwLock`]'s data; released on drop.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    /// The lock whose every permit this guard holds.
    lock: &'a RwLock<T>,
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns exclusive access into shared access without letting a writer in between.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let lock = arbor_runtime::sync::RwLock::new(1);
    ///     let mut w = lock.write().await;
    ///     *w = 2;
    ///     let r = w.downgrade();
    ///     assert_eq!((*r, *lock.try_read().unwrap()), (2, 2));
    /// });
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        // Keep one permit as the reader's; the others go to whoever waits.
        lock.permits.release(MAX_READERS - 1);
        RwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a write guard holds every permit: no other guard exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.permits.release(MAX_READERS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
