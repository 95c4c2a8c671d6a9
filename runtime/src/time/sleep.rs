//! [`sleep`], [`sleep_until`] and the [`Sleep`] future.

use super::Instant;
use super::entry::TimerEntry;
use crate::driver::Driver;
use crate::{context, coop};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed (`asyncio.sleep`). `Duration::MAX` waits forever.
///
/// Time is read from the current runtime's clock, so a paused clock makes this
/// instantaneous in tests (see [`pause`](crate::time::pause)).
///
/// ```
/// use std::time::Duration;
///
/// arbor_runtime::run(async {
///     let start = arbor_runtime::time::Instant::now();
///     arbor_runtime::time::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now() + duration)
}

/// Waits until `deadline`. A deadline in the past completes at the first poll.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future of [`sleep`] and [`sleep_until`].
///
/// A `Sleep` touches no timer until it is first polled, and a `Sleep` whose deadline has
/// passed by then completes without ever touching one. [`reset`](Sleep::reset) moves the
/// deadline in O(1): moving it later costs no timer operation until the old deadline.
///
/// # Panics
/// Polling it outside a runtime, or after its runtime has shut down.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    /// Set at the first poll that has to wait.
    timer: Option<Registered>,
}

struct Registered {
    entry: Arc<TimerEntry>,
    driver: Arc<Driver>,
}

impl Sleep {
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            timer: None,
        }
    }

    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed (on the current runtime's clock).
    pub fn is_elapsed(&self) -> bool {
        match &self.timer {
            Some(t) if t.entry.is_fired() => true,
            _ => Instant::now() >= self.deadline,
        }
    }

    /// Moves the deadline to `deadline`, earlier or later; a completed sleep becomes
    /// pending again if `deadline` is in the future. O(1), no lock shared with other timers.
    ///
    /// ```
    /// use arbor_runtime::time::{sleep, Instant};
    /// use std::time::Duration;
    ///
    /// arbor_runtime::run(async {
    ///     let mut s = sleep(Duration::from_secs(3600));
    ///     s.reset(Instant::now() + Duration::from_millis(1));
    ///     s.await; // an hour became a millisecond
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        let Some(timer) = &self.timer else {
            return;
        };
        let time = &timer.driver.time;
        let when = time.deadline_tick(deadline);
        // The instants, not their ticks: a deadline earlier in the current tick has passed.
        let passed = deadline <= timer.driver.clock.now();
        let reset = timer.entry.reset(when, passed);
        if time.after_reset(&timer.entry, reset, when) {
            timer.driver.unpark();
        }
    }

    fn register(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let driver = context::with_handle(|h| h.map(|h| h.driver().clone()))
            .unwrap_or_else(|| crate::runtime::panic_no_runtime("polling arbor::time::Sleep"));
        // The instants, not their ticks: a deadline rounds up to a tick and now rounds
        // down, so a deadline earlier in the current tick is in a later tick than now.
        if self.deadline <= driver.clock.now() {
            return Poll::Ready(());
        }
        let time = &driver.time;
        // After now, so after now's tick: the wheel cannot fire it before the deadline.
        let when = time.deadline_tick(self.deadline);
        assert!(!time.is_shutdown(), "{SHUT_DOWN}");
        let entry = Arc::new(TimerEntry::new_queued(when, cx.waker().clone()));
        if time.submit(entry.clone(), when) {
            driver.unpark();
        }
        self.timer = Some(Registered { entry, driver });
        Poll::Pending
    }
}

const SHUT_DOWN: &str = "an arbor::time::Sleep was polled after its runtime shut down";

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = std::task::ready!(coop::poll_proceed(cx));
        let this = &mut *self;
        let poll = match &this.timer {
            None => this.register(cx),
            Some(timer) => {
                if timer.entry.register_waker(cx.waker()) {
                    Poll::Ready(())
                } else {
                    assert!(!timer.driver.time.is_shutdown(), "{SHUT_DOWN}");
                    Poll::Pending
                }
            }
        };
        if poll.is_ready() {
            coop.made_progress();
        }
        poll
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            // The driver removes it from the wheel; it is woken only if the queue is
            // backlogged (see `time/driver.rs`, "Bounding the queue").
            if timer.entry.mark_dropped() && timer.driver.time.submit_removal(timer.entry) {
                timer.driver.unpark();
            }
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.timer.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_is_send_sync_unpin() {
        fn check<T: Send + Sync + Unpin>() {}
        check::<Sleep>();
    }
}
