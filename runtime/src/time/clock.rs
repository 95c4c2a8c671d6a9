//! The runtime's clock: the OS clock until a test pauses it, then virtual time.
//!
//! `virtualized` is false until the clock is first paused; until then [`Clock::now`] is
//! `std::time::Instant::now()` and takes no lock. Once virtualized, time is
//! `base + (OS time since unfrozen)` while running, and `base` while paused; `advance`
//! moves `base`. The lock is only taken on that path, which only tests use.

use super::Instant;
use crate::context;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Set (forever) when any clock in the process is first paused; until then [`now`] reads
/// the OS clock without looking up the current runtime. Release/Acquire: a reader that sees
/// it set goes on to the runtime's clock, whose own flag is set after this one.
static ANY_VIRTUALIZED: AtomicBool = AtomicBool::new(false);

pub(crate) struct Clock {
    /// Set (once, under the lock) by the first `pause`; Acquire/Release so a reader that
    /// sees it also sees the `inner` the pause wrote.
    virtualized: AtomicBool,
    /// Whether `pause` is allowed (current-thread runtimes only).
    can_pause: bool,
    /// When the clock was created: tick 0 of the runtime's timer wheel.
    origin: std::time::Instant,
    inner: Mutex<Inner>,
}

struct Inner {
    /// Virtual now at the moment `unfrozen` was taken (or while paused).
    base: std::time::Instant,
    /// When the clock last resumed; `None` while paused.
    unfrozen: Option<std::time::Instant>,
}

impl Clock {
    pub(crate) fn new(can_pause: bool, start_paused: bool) -> Clock {
        let now = std::time::Instant::now();
        let clock = Clock {
            virtualized: AtomicBool::new(false),
            can_pause,
            origin: now,
            inner: Mutex::new(Inner {
                base: now,
                unfrozen: Some(now),
            }),
        };
        if start_paused {
            clock.pause();
        }
        clock
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tick 0 of the runtime's timer wheel.
    pub(crate) fn origin(&self) -> std::time::Instant {
        self.origin
    }

    pub(crate) fn now(&self) -> Instant {
        if !self.virtualized.load(Ordering::Acquire) {
            return super::instant::os_now();
        }
        let inner = self.lock();
        Instant::from_std(match inner.unfrozen {
            Some(since) => inner.base + since.elapsed(),
            None => inner.base,
        })
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.virtualized.load(Ordering::Acquire) && self.lock().unfrozen.is_none()
    }

    #[track_caller]
    pub(crate) fn pause(&self) {
        assert!(
            self.can_pause,
            "arbor::time::pause needs a current-thread runtime (Builder::new_current_thread, \
             or #[arbor::test], which is current-thread by default)"
        );
        let mut inner = self.lock();
        let since = inner
            .unfrozen
            .take()
            .expect("arbor::time::pause: the clock is already paused");
        // Paused time starts on a whole tick, so that `advance(d)` fires exactly the timers
        // due `d` later (deadlines round up to ticks).
        let virtual_now = inner.base + since.elapsed();
        let ticks = virtual_now
            .saturating_duration_since(self.origin)
            .as_nanos()
            .div_ceil(1_000_000);
        inner.base = self.origin + Duration::from_millis(u64::try_from(ticks).unwrap_or(u64::MAX));
        ANY_VIRTUALIZED.store(true, Ordering::Release);
        self.virtualized.store(true, Ordering::Release);
    }

    #[track_caller]
    pub(crate) fn resume(&self) {
        let mut inner = self.lock();
        assert!(
            inner.unfrozen.is_none(),
            "arbor::time::resume: the clock is not paused"
        );
        inner.unfrozen = Some(std::time::Instant::now());
    }

    /// Moves a paused clock forward by `d`.
    #[track_caller]
    pub(crate) fn advance(&self, d: Duration) {
        let mut inner = self.lock();
        assert!(
            inner.unfrozen.is_none(),
            "arbor::time::advance: the clock is not paused (call arbor::time::pause first)"
        );
        inner.base = inner.base.checked_add(d).unwrap_or(inner.base);
    }

    /// Moves a paused clock forward to `t`, if `t` is later.
    pub(crate) fn advance_to(&self, t: Instant) {
        let mut inner = self.lock();
        if inner.unfrozen.is_none() && t.into_std() > inner.base {
            inner.base = t.into_std();
        }
    }
}

/// Now on the current runtime's clock, or the OS clock outside a runtime.
pub(crate) fn now() -> Instant {
    // Until some runtime in the process pauses its clock, every clock is the OS clock:
    // skip the thread-local lookup of the current runtime.
    if !ANY_VIRTUALIZED.load(Ordering::Acquire) {
        return super::instant::os_now();
    }
    context::with_handle(|h| match h {
        Some(h) => h.driver().clock.now(),
        None => super::instant::os_now(),
    })
}

/// Pauses the current runtime's clock (Trio's `MockClock`, tokio's `time::pause`).
///
/// While paused, time only moves through [`advance`] — or by itself: when every task is
/// idle and no blocking call is running, the clock jumps to the next timer, so tests of
/// timeouts take no wall time.
///
/// # Panics
/// Outside a runtime, on a multi-thread runtime, or if the clock is already paused.
///
/// ```
/// use arbor_runtime::time::{self, Instant};
/// use std::time::Duration;
///
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // returns at once: the clock jumps
///     assert!(start.elapsed() >= Duration::from_secs(3600));
/// });
/// ```
#[track_caller]
pub fn pause() {
    with_clock("arbor::time::pause", Clock::pause);
}

/// Resumes a paused clock: time runs again from where it stood.
///
/// # Panics
/// Outside a runtime, or if the clock is not paused.
#[track_caller]
pub fn resume() {
    with_clock("arbor::time::resume", Clock::resume);
}

/// Moves a paused clock forward by `d`, then yields so that the timers due by then fire
/// before the caller continues.
///
/// # Panics
/// Outside a runtime, or if the clock is not paused.
///
/// ```
/// use arbor_runtime::time::{self, Instant};
/// use std::time::Duration;
///
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     time::advance(Duration::from_millis(250)).await;
///     assert_eq!(start.elapsed(), Duration::from_millis(250));
/// });
/// ```
#[track_caller]
pub fn advance(d: Duration) -> impl std::future::Future<Output = ()> + Send {
    with_clock("arbor::time::advance", |clock| clock.advance(d));
    context::with_handle(|h| {
        if let Some(h) = h {
            h.driver().process_timers();
        }
    });
    crate::task::yield_now()
}

#[track_caller]
fn with_clock(what: &str, f: impl FnOnce(&Clock)) {
    let handle = context::with_handle(|h| h.cloned());
    match handle {
        Some(h) => f(&h.driver().clock),
        None => crate::runtime::panic_no_runtime(what),
    }
}
