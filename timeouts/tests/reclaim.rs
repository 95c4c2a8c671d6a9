//! Timeouts made and finished on the `block_on` thread of a multi-thread runtime (the body
//! of `arbor::run` or `#[arbor::main]`), which does not turn the driver, are reclaimed
//! promptly: their timer entries do not wait on the driver's submission queue until its next
//! turn, which on an idle runtime is the earliest deadline (`Handle::num_queued_timers`
//! counts that queue).

mod support;

use support::{WATCHDOG, wait_for_timer_queue};

use arbor_runtime::runtime::{Builder, Runtime};
use arbor_runtime::time::sleep;
use arbor_runtime::yield_now;
use arbor_timeouts::timeout;
use std::future::Future;
use std::task::{Context, Waker};
use std::time::Duration;

/// How many timeouts the test runs: far more than the backlog the driver may leave queued.
const ROUNDS: usize = 20_000;

/// The most entries the queue may hold once it settled (the runtime drains it whenever it
/// holds a thousand or so).
const SETTLED_BOUND: usize = 2048;

#[test]
fn finished_timeouts_of_the_block_on_thread_are_reclaimed() {
    for workers in [1, 4] {
        let rt: Runtime = Builder::new_multi_thread()
            .worker_threads(workers)
            .build()
            .unwrap();
        // A timer far earlier than the timeouts' deadlines, so that none of them needs to
        // wake the driver for its deadline; then every worker goes idle, the one in the
        // driver waiting for it.
        let mut anchor = Box::pin(sleep(Duration::from_secs(600)));
        rt.block_on(async {
            let mut cx = Context::from_waker(Waker::noop());
            assert!(anchor.as_mut().poll(&mut cx).is_pending());
        });
        wait_for_timer_queue(rt.handle(), "anchor", |queued| queued == 0);
        let start = std::time::Instant::now();
        while rt.handle().num_parked_workers() < workers {
            assert!(start.elapsed() < WATCHDOG, "the workers did not go idle");
            std::thread::sleep(Duration::from_millis(1));
        }
        rt.block_on(async {
            for _ in 0..ROUNDS {
                timeout(Duration::from_secs(3600), yield_now())
                    .await
                    .unwrap();
            }
        });
        wait_for_timer_queue(rt.handle(), &format!("{workers} workers"), |queued| {
            queued <= SETTLED_BOUND
        });
    }
}
