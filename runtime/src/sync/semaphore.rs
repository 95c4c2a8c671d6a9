//! [`Semaphore`]: a counting semaphore with FIFO waiters (asyncio's `Semaphore`).
//!
//! A thin layer over [`Permits`](super::permits): see there for the protocol, the atomic
//! fast path and why a dropped `acquire` never loses a permit.

use super::permits::{self, Permits};
use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A counting semaphore (asyncio's `Semaphore`): `acquire` waits for a permit, dropping the
/// permit gives it back.
///
/// Waiters are served first come, first served: a waiter asking for many permits at the
/// head of the queue holds back later waiters, even ones asking for fewer, so a large
/// request is never starved. `try_acquire` fails while anyone is queued.
///
/// Cancellation-safe: an `acquire` future dropped while it waits gives back any permit it
/// had been assigned, to the next waiter or to the semaphore.
///
/// Uncontended `acquire`/`try_acquire` and permit drops are one atomic compare-and-swap each;
/// the waiter lock is taken only when someone has to wait.
///
/// ```
/// use arbor_runtime::sync::Semaphore;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// arbor_runtime::run(async {
///     // At most two tasks inside at once.
///     let sem = Arc::new(Semaphore::new(2));
///     let inside = Arc::new(AtomicUsize::new(0));
///     let tasks: Vec<_> = (0..8)
///         .map(|_| {
///             let (sem, inside) = (sem.clone(), inside.clone());
///             arbor_runtime::spawn(async move {
///                 let _permit = sem.acquire().await;
///                 assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
///                 arbor_runtime::yield_now().await;
///                 inside.fetch_sub(1, Ordering::SeqCst);
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(sem.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    /// The counter and its waiters (atomic fast path, waiter list under a lock).
    permits: Permits,
}

/// [`Semaphore::try_acquire`] found too few permits, or waiters queued ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryAcquireError(());

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no permits available")
    }
}

impl Error for TryAcquireError {}

impl Semaphore {
    /// The most permits a semaphore can hold.
    pub const MAX_PERMITS: usize = permits::MAX_PERMITS;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// let sem = arbor_runtime::sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            permits: Permits::new(permits),
        }
    }

    /// Permits available now.
    ///
    /// ```
    /// let sem = arbor_runtime::sync::Semaphore::new(2);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.permits.available()
    }

    /// Waits for a permit. Waiters are served in FIFO order.
    ///
    /// Cancellation-safe: dropping the future before it resolves leaves the semaphore as if
    /// it had never been called.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let sem = arbor_runtime::sync::Semaphore::new(1);
    ///     let permit = sem.acquire().await;
    ///     assert_eq!(sem.available_permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once (`n == 0` resolves at once). A request for more
    /// permits than the semaphore will ever hold waits forever (and holds back the waiters
    /// behind it): the semaphore does not know its total.
    ///
    /// # Panics
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let sem = arbor_runtime::sync::Semaphore::new(5);
    ///     let permit = sem.acquire_many(3).await;
    ///     assert_eq!((permit.num_permits(), sem.available_permits()), (3, 2));
    /// });
    /// ```
    #[track_caller]
    pub fn acquire_many(&self, n: usize) -> impl Future<Output = SemaphorePermit<'_>> {
        let acquire = self.permits.acquire(n);
        async move {
            acquire.await;
            SemaphorePermit { sem: self, n }
        }
    }

    /// Takes a permit if one is available and nobody is queued.
    ///
    /// ```
    /// let sem = arbor_runtime::sync::Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// drop(permit);
    /// assert!(sem.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available and nobody is queued.
    ///
    /// ```
    /// let sem = arbor_runtime::sync::Semaphore::new(2);
    /// assert!(sem.try_acquire_many(3).is_err());
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        if self.permits.try_acquire(n) {
            Ok(SemaphorePermit { sem: self, n })
        } else {
            Err(TryAcquireError(()))
        }
    }

    /// Waits for a permit that owns a reference to the semaphore, so it can move into a
    /// spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// arbor_runtime::run(async {
    ///     let sem = Arc::new(arbor_runtime::sync::Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await;
    ///     let task = arbor_runtime::spawn(async move {
    ///         drop(permit);
    ///     });
    ///     task.await.unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> OwnedSemaphorePermit {
        self.permits.acquire(1).await;
        OwnedSemaphorePermit { sem: self, n: 1 }
    }

    /// [`try_acquire`](Semaphore::try_acquire) for an [`OwnedSemaphorePermit`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(arbor_runtime::sync::Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// drop(permit);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        if self.permits.try_acquire(1) {
            Ok(OwnedSemaphorePermit { sem: self, n: 1 })
        } else {
            Err(TryAcquireError(()))
        }
    }

    /// Adds `n` permits (asyncio's `Semaphore.release()` without an acquire); queued waiters
    /// are served first.
    ///
    /// # Panics
    /// If the available permits plus `n` would exceed [`Semaphore::MAX_PERMITS`] (counted
    /// before queued waiters are served, so whether it panics does not depend on who
    /// waits). It panics before changing anything: no waiter has been served.
    ///
    /// ```
    /// let sem = arbor_runtime::sync::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.permits.release(n);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it gives them back.
#[must_use = "dropping the permit gives it back at once"]
pub struct SemaphorePermit<'a> {
    /// Where the permits go back to.
    sem: &'a Semaphore,
    /// How many are held (0 after `forget`).
    n: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Keeps the permits out of the semaphore for good (they are not given back).
    ///
    /// ```
    /// let sem = arbor_runtime::sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.permits.release(self.n);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}

/// A permit that owns an `Arc` of its [`Semaphore`]; dropping it gives the permit back.
#[must_use = "dropping the permit gives it back at once"]
pub struct OwnedSemaphorePermit {
    /// Where the permits go back to.
    sem: Arc<Semaphore>,
    /// How many are held (0 after `forget`).
    n: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.permits.release(self.n);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.n)
            .finish()
    }
}
