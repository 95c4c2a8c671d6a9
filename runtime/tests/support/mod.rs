//! Shared test support: the runtime flavours every runtime-level test runs on, counting
//! futures that record their polls and drops, and a quiet panic hook. The test suites of
//! arbor-taskgroup and arbor-timeouts include this module too (`#[path]`).

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

use arbor_runtime::runtime::{Builder, Runtime};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

/// A flavour's name and how to build it.
pub type Flavour = (&'static str, fn() -> Runtime);

/// The flavours: current-thread, one worker, four workers.
pub fn flavours() -> Vec<Flavour> {
    vec![
        ("current_thread", || {
            Builder::new_current_thread().build().unwrap()
        }),
        ("multi_thread_1", || {
            Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap()
        }),
        ("multi_thread_4", || {
            Builder::new_multi_thread()
                .worker_threads(4)
                .build()
                .unwrap()
        }),
    ]
}

/// A current-thread runtime and a two-worker one, built now: for tests that loop over
/// runtimes themselves (each round of a heavy test once per runtime).
pub fn two_runtimes() -> Vec<Runtime> {
    vec![
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

/// Defines one `#[test]` per flavour, in a module named after the test:
/// `rt_test! { fn name(rt: &Runtime) { ... } }`.
#[macro_export]
macro_rules! rt_test {
    ($(#[$meta:meta])* fn $name:ident($rt:ident : &Runtime) $body:block) => {
        mod $name {
            #[allow(unused_imports, reason = "not every test uses everything")]
            use super::*;
            fn body($rt: &arbor_runtime::runtime::Runtime) $body
            #[test]
            $(#[$meta])*
            fn current_thread() {
                body(&arbor_runtime::runtime::Builder::new_current_thread().build().unwrap());
            }
            #[test]
            $(#[$meta])*
            fn multi_thread_1() {
                body(&arbor_runtime::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap());
            }
            #[test]
            $(#[$meta])*
            fn multi_thread_4() {
                body(&arbor_runtime::runtime::Builder::new_multi_thread().worker_threads(4).build().unwrap());
            }
        }
    };
}

/// Counts polls and drops of the futures it makes.
#[derive(Clone, Default, Debug)]
pub struct Counters {
    pub polls: Arc<AtomicUsize>,
    pub drops: Arc<AtomicUsize>,
}

impl Counters {
    pub fn new() -> Counters {
        Counters::default()
    }
    pub fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }
    pub fn drops(&self) -> usize {
        self.drops.load(SeqCst)
    }
    /// Wraps `fut`: every poll and the drop are counted.
    pub fn wrap<F: Future>(&self, fut: F) -> Counting<F> {
        Counting {
            inner: Box::pin(fut),
            counters: self.clone(),
        }
    }
    /// A future that is pending forever, counted.
    pub fn pending(&self) -> Counting<std::future::Pending<()>> {
        self.wrap(std::future::pending())
    }
}

pub struct Counting<F> {
    inner: Pin<Box<F>>,
    counters: Counters,
}

impl<F: Future> Future for Counting<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.counters.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

impl<F> Drop for Counting<F> {
    fn drop(&mut self) {
        self.counters.drops.fetch_add(1, SeqCst);
    }
}

/// Silences the default panic hook for panics whose message starts with `arbor-test:`
/// (tests whose tasks panic on purpose).
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("");
            if !msg.starts_with("arbor-test:") {
                default(info);
            }
        }));
    });
}

/// Polls `fut` once with a no-op waker: a test of something that must not wait fails
/// (`Pending`) instead of hanging.
pub fn poll_once<F: Future>(fut: F) -> Poll<F::Output> {
    let mut fut = std::pin::pin!(fut);
    fut.as_mut()
        .poll(&mut Context::from_waker(std::task::Waker::noop()))
}

/// How long a test under [`within`] may take before it counts as hung: generous, the tests
/// that use it take milliseconds (most run on virtual time).
pub const WATCHDOG: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs `f` on a thread of its own and returns what it returns; fails naming `what` if it
/// has not returned within [`WATCHDOG`] (the thread is left behind: a hang cannot be
/// stopped), so a regression that hangs fails instead of stalling the suite. A panic in `f`
/// passes through.
pub fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let out = f();
        let _ = done.send(());
        out
    });
    match finished.recv_timeout(WATCHDOG) {
        // Disconnected: `f` panicked; `join` passes the panic on.
        Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => thread.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: still running after {WATCHDOG:?}")
        }
    }
}

/// A current-thread runtime whose paused clock stands half a tick past a whole tick (paused
/// time starts on one), where a deadline a little in the past and now round to different
/// ticks.
pub fn paused_mid_tick() -> Runtime {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        arbor_runtime::time::advance(std::time::Duration::from_micros(500)).await
    });
    rt
}

/// Waits (on this thread, which must be no worker) until `settled` holds of the number of
/// timer entries queued for `handle`'s driver, failing with `what` after [`WATCHDOG`].
pub fn wait_for_timer_queue(
    handle: &arbor_runtime::runtime::Handle,
    what: &str,
    settled: impl Fn(usize) -> bool,
) {
    let start = std::time::Instant::now();
    loop {
        let queued = handle.num_queued_timers();
        if settled(queued) {
            return;
        }
        assert!(
            start.elapsed() < WATCHDOG,
            "{what}: {queued} timer entries still queued after {WATCHDOG:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
