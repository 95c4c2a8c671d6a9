//! Parking threads.
//!
//! - [`Parker`] / [`Unparker`]: how scheduler threads (workers, the current-thread
//!   scheduler) sleep. A thread parks *in the driver* (waiting in the IO poller, with the
//!   next timer as timeout) when no other thread holds the driver, and on its own token
//!   parker (crossbeam-utils) otherwise.
//! - [`ParkThread`]: `block_on` for threads that drive no scheduler: a [`Parker`] with no
//!   driver, which watches its state word for a wake-up for [`BLOCK_ON_SPIN`] (yielding its
//!   CPU between looks) before it sleeps on its token.
//!
//! ## The parker protocol (no lost wake-up)
//! Each parker has a state word: `EMPTY`, `PARKED_CONDVAR`, `PARKED_DRIVER` or `NOTIFIED`.
//!
//! 1. `unpark` swaps in `NOTIFIED` and looks at what it replaced: `PARKED_DRIVER` means the
//!    owner waits in the poller, so it interrupts the poller (`Poller::notify`, which is
//!    sticky: a notify before the wait makes the wait return at once); `PARKED_CONDVAR`
//!    means it sleeps on its token, so it hands it the token; otherwise the owner is awake
//!    and will see `NOTIFIED`.
//! 2. `park` first consumes a pending `NOTIFIED`. Then it tries the driver: holding the
//!    driver lock, it CASes `EMPTY -> PARKED_DRIVER` just before waiting; if the CAS fails
//!    (an unpark came in), it does not wait. Else it CASes `EMPTY -> PARKED_CONDVAR` and
//!    sleeps on its token, with the same rule. Afterwards it swaps the state back to
//!    `EMPTY`.
//!
//! Every unpark either finds the owner registered in one of the two waiting states, and
//! wakes it through the matching mechanism, or makes the owner's CAS fail. The loom tests
//! `park_*` check this with a model driver.

use crate::coop;
use crate::loom::sync::Arc as LoomArc;
use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::token::{TokenParker, TokenUnparker};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// What a parker needs from the driver.
pub(crate) trait DriverPark: Send + Sync + 'static {
    /// Takes the driver if no other thread holds it, and waits in it if `block` (called
    /// with the driver held, just before the wait) returns `true`. Returns `false` without
    /// doing anything if another thread holds the driver.
    fn park_in_driver(&self, block: &mut dyn FnMut() -> bool) -> bool;

    /// Interrupts the wait in the driver (or the next one).
    fn unpark_driver(&self);
}

impl DriverPark for crate::driver::Driver {
    fn park_in_driver(&self, block: &mut dyn FnMut() -> bool) -> bool {
        match self.try_lock() {
            Some(mut core) => {
                self.turn(&mut core, None, block);
                true
            }
            None => false,
        }
    }

    fn unpark_driver(&self) {
        self.unpark();
    }
}

/// A scheduler thread's parker (see the module header). Owned by the thread.
pub(crate) struct Parker<D: DriverPark = crate::driver::Driver> {
    token: TokenParker,
    unparker: Unparker<D>,
}

/// Wakes a [`Parker`]; cheap to clone, usable from any thread.
pub(crate) struct Unparker<D: DriverPark = crate::driver::Driver> {
    inner: LoomArc<ParkState<D>>,
}

struct ParkState<D> {
    state: AtomicUsize,
    token: TokenUnparker,
    driver: std::sync::Arc<D>,
}

impl<D: DriverPark> Clone for Unparker<D> {
    fn clone(&self) -> Self {
        Unparker {
            inner: self.inner.clone(),
        }
    }
}

impl<D: DriverPark> Parker<D> {
    pub(crate) fn new(driver: std::sync::Arc<D>) -> Parker<D> {
        let token = TokenParker::new();
        let unparker = Unparker {
            inner: LoomArc::new(ParkState {
                state: AtomicUsize::new(EMPTY),
                token: token.unparker(),
                driver,
            }),
        };
        Parker { token, unparker }
    }

    pub(crate) fn unparker(&self) -> &Unparker<D> {
        &self.unparker
    }

    /// Consumes a pending unpark, if there is one, without sleeping.
    pub(crate) fn take_notification(&self) -> bool {
        let state = &self.unparker.inner.state;
        state.load(SeqCst) == NOTIFIED
            && state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
    }

    /// Sleeps until unparked. Parked in the driver, it also returns when a timer fires or
    /// IO arrives (the caller re-checks its queues either way).
    pub(crate) fn park(&self) {
        let inner = &*self.unparker.inner;
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        let in_driver = inner.driver.park_in_driver(&mut || {
            inner
                .state
                .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
                .is_ok()
        });
        if !in_driver
            && inner
                .state
                .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
                .is_ok()
        {
            self.token.park();
        }
        // PARKED_*, or NOTIFIED from an unpark that came in: awake now either way.
        inner.state.swap(EMPTY, SeqCst);
    }
}

impl<D: DriverPark> Unparker<D> {
    pub(crate) fn unpark(&self) {
        let inner = &*self.inner;
        match inner.state.swap(NOTIFIED, SeqCst) {
            PARKED_DRIVER => inner.driver.unpark_driver(),
            PARKED_CONDVAR => inner.token.unpark(),
            _ => {}
        }
    }
}

/// How long [`ParkThread`] watches for a wake-up before it sleeps. A `block_on` thread
/// that waits on a busy runtime (a channel's consumer, a task's joiner) is woken again
/// within microseconds; sleeping costs it a futex wait, and costs the worker that wakes it
/// a futex wake, each time. Watching costs at most this much CPU per wait, given up to any
/// other thread that wants it (`sched_yield` between looks), as the workers' search spin.
/// 5 us did as well as 20 us on `mpsc_pipeline` and `mpsc_fanin` (2 workers), with less
/// CPU taken from the workers while nothing comes.
const BLOCK_ON_SPIN: Duration = Duration::from_micros(5);

/// The driver of a [`ParkThread`]: none, so it always sleeps on its token.
pub(crate) struct NoDriver;

impl DriverPark for NoDriver {
    fn park_in_driver(&self, _block: &mut dyn FnMut() -> bool) -> bool {
        false
    }

    fn unpark_driver(&self) {
        unreachable!("a thread parker never parks in a driver")
    }
}

/// A thread parker whose waker unparks it (`block_on` outside the schedulers).
pub(crate) struct ParkThread {
    parker: Parker<NoDriver>,
    waker: Waker,
}

/// The waker of a [`ParkThread`].
struct Unpark(Unparker<NoDriver>);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl ParkThread {
    pub(crate) fn new() -> ParkThread {
        let parker = Parker::new(Arc::new(NoDriver));
        let waker = Waker::from(Arc::new(Unpark(parker.unparker().clone())));
        ParkThread { parker, waker }
    }

    pub(crate) fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Blocks until woken (an earlier wake makes this return at once): watches for the
    /// wake-up for [`BLOCK_ON_SPIN`], then sleeps.
    pub(crate) fn park(&self) {
        let start = Instant::now();
        loop {
            if self.parker.take_notification() {
                return;
            }
            if start.elapsed() >= BLOCK_ON_SPIN {
                break;
            }
            std::thread::yield_now();
        }
        self.parker.park();
    }

    /// Polls `future` to completion, parking between polls.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(&self.waker);
        loop {
            {
                let _budget = coop::budget_guard();
                if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                    return out;
                }
            }
            self.park();
        }
    }
}
