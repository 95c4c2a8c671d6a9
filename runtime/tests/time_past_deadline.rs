//! A deadline at or before now completes a `Sleep` at its first poll, whatever its offset
//! within the driver's 1 ms tick; a deadline in the future never completes before it.
//! Deterministic cases run on virtual time, moved to the middle of a tick; the sweeps on the
//! OS clock poll each sleep once, with no timing assertion.

mod support;

use support::{paused_mid_tick, poll_once};

use arbor_runtime::time::{Instant, sleep, sleep_until};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[test]
fn a_deadline_within_the_current_tick_completes_at_the_first_poll() {
    paused_mid_tick().block_on(async {
        let now = Instant::now();
        for back in [0, 1, 100, 250, 499, 500] {
            let deadline = now - Duration::from_micros(back);
            assert_eq!(
                poll_once(sleep_until(deadline)),
                Poll::Ready(()),
                "a deadline {back} us before now (mid-tick) is pending at its first poll"
            );
        }
        assert_eq!(poll_once(sleep(Duration::ZERO)), Poll::Ready(()));
    });
}

#[test]
fn a_deadline_in_the_future_is_pending_at_the_first_poll_and_never_early() {
    paused_mid_tick().block_on(async {
        let start = Instant::now();
        for ahead in [1, 400, 499, 500, 501, 1000] {
            let deadline = start + Duration::from_micros(ahead);
            assert_eq!(
                poll_once(sleep_until(deadline)),
                Poll::Pending,
                "a deadline {ahead} us ahead is ready at its first poll"
            );
        }
        // Awaited: it completes at its deadline or later, never before.
        let deadline = start + Duration::from_millis(1);
        sleep_until(deadline).await;
        assert!(Instant::now() >= deadline, "fired before its deadline");
    });
}

#[test]
fn reset_to_a_deadline_within_the_current_tick_completes_at_the_next_poll() {
    paused_mid_tick().block_on(async {
        let now = Instant::now();
        let mut s = pin!(sleep(Duration::from_secs(60)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(s.as_mut().poll(&mut cx).is_pending());
        s.as_mut().reset(now - Duration::from_micros(100));
        assert!(s.is_elapsed());
        assert_eq!(s.as_mut().poll(&mut cx), Poll::Ready(()));
    });
}

rt_test! {
    fn deadlines_up_to_a_millisecond_in_the_past_complete_at_the_first_poll(rt: &Runtime) {
        rt.block_on(async {
            for back in 0..1000 {
                if back % 64 == 0 {
                    // A completed sleep spends the task's cooperative budget (128 polls):
                    // a fresh poll of the task refills it.
                    arbor_runtime::yield_now().await;
                }
                let deadline = Instant::now() - Duration::from_micros(back);
                assert_eq!(
                    poll_once(sleep_until(deadline)),
                    Poll::Ready(()),
                    "a deadline {back} us in the past is pending at its first poll"
                );
            }
        });
    }
}
