//! [`Limiter`]: at most `n` calls of a kind on the blocking pool at once (AnyIO's
//! `CapacityLimiter`, asyncio's `run_in_executor` with a pool of `n`).

use crate::sync::{OwnedSemaphorePermit, Semaphore};
use std::fmt;
use std::sync::Arc;

/// Runs blocking calls on the runtime's blocking pool, at most `n` at once; the rest queue
/// in FIFO order (AnyIO's `CapacityLimiter`).
///
/// Use one per kind of work that must not flood a resource: a database driver with 4
/// connections, a CPU-heavy library that should take at most 2 threads. The blocking pool
/// itself stays shared; the limiter only holds calls back.
///
/// Cancellation-safe both ways: a [`run`](Limiter::run) dropped while it waits for its
/// turn never runs its function and gives its place to the next; one dropped while its
/// function runs lets the function finish on the pool, and its place frees only then (so
/// `n` is never exceeded).
///
/// Cheap to clone; clones share the places.
///
/// ```
/// use arbor_runtime::blocking::Limiter;
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
/// use std::sync::Arc;
///
/// arbor_runtime::run(async {
///     let db = Limiter::new(2);
///     let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
///     let tasks: Vec<_> = (0..10)
///         .map(|i| {
///             let (db, now, most) = (db.clone(), now.clone(), most.clone());
///             arbor_runtime::spawn(async move {
///                 db.run(move || {
///                     most.fetch_max(now.fetch_add(1, SeqCst) + 1, SeqCst);
///                     std::thread::sleep(std::time::Duration::from_millis(5));
///                     now.fetch_sub(1, SeqCst);
///                     i * 10
///                 })
///                 .await
///             })
///         })
///         .collect();
///     for (i, task) in tasks.into_iter().enumerate() {
///         assert_eq!(task.await.unwrap(), i * 10);
///     }
///     assert!(most.load(SeqCst) <= 2);
/// });
/// ```
#[derive(Clone)]
pub struct Limiter {
    places: Arc<Semaphore>,
    capacity: usize,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("capacity", &self.capacity)
            .field("available", &self.available())
            .finish()
    }
}

impl Limiter {
    /// A limiter allowing `n` calls at once.
    ///
    /// # Panics
    /// If `n` is 0 (no call could ever run), or above the semaphore's maximum.
    pub fn new(n: usize) -> Limiter {
        assert!(
            n > 0,
            "arbor::blocking::Limiter::new(0): at least one call must be allowed"
        );
        Limiter {
            places: Arc::new(Semaphore::new(n)),
            capacity: n,
        }
    }

    /// How many calls may run at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many more calls could start now.
    pub fn available(&self) -> usize {
        self.places.available_permits()
    }

    /// Waits for a place (FIFO), then runs `f` on the blocking pool and returns its result,
    /// as [`to_thread`](crate::to_thread) does: a panic in `f` resumes here.
    ///
    /// # Panics
    /// Outside a runtime; if `f` panics; if the runtime shuts down before `f` ran.
    pub async fn run<F, R>(&self, f: F) -> R
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let place: OwnedSemaphorePermit = self.places.clone().acquire_owned().await;
        // The place travels with the call: it frees when `f` returns (or is dropped unrun),
        // not when this future is dropped.
        super::to_thread(move || {
            let _place = place;
            f()
        })
        .await
    }
}
