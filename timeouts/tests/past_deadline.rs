//! A timeout whose deadline is at or before now fires at its first poll (DESIGN.md: "A
//! deadline at or before now fires at the first poll"), whatever its offset within the time
//! driver's 1 ms tick; one in the future never fires before it. Deterministic cases run on
//! virtual time moved to the middle of a tick; the sweeps on the OS clock poll once, with no
//! timing assertion.

mod support;

use support::{paused_mid_tick, poll_once};

use arbor_runtime::time::Instant;
use arbor_timeouts::{TimedOut, Timeout, timeout, timeout_at, wait_for};
use std::future::{Future, pending};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[test]
fn timeout_at_now_times_out_at_the_first_poll() {
    paused_mid_tick().block_on(async {
        assert_eq!(
            poll_once(timeout_at(Instant::now(), pending::<()>())),
            Poll::Ready(Err(TimedOut))
        );
        assert_eq!(
            poll_once(wait_for(Duration::ZERO, pending::<()>())),
            Poll::Ready(Err(TimedOut))
        );
        for back in [1, 100, 499, 500] {
            let deadline = Instant::now() - Duration::from_micros(back);
            assert_eq!(
                poll_once(timeout_at(deadline, pending::<()>())),
                Poll::Ready(Err(TimedOut)),
                "a deadline {back} us before now (mid-tick) did not fire at the first poll"
            );
        }
    });
}

#[test]
fn a_deadline_in_the_future_does_not_fire_at_the_first_poll_nor_early() {
    paused_mid_tick().block_on(async {
        let start = Instant::now();
        for ahead in [1, 499, 500, 501, 1000] {
            let deadline = start + Duration::from_micros(ahead);
            assert_eq!(
                poll_once(timeout_at(deadline, pending::<()>())),
                Poll::Pending,
                "a deadline {ahead} us ahead fired at the first poll"
            );
        }
        let deadline = start + Duration::from_millis(1);
        assert_eq!(timeout_at(deadline, pending::<()>()).await, Err(TimedOut));
        assert!(Instant::now() >= deadline, "fired before its deadline");
    });
}

#[test]
fn rescheduled_into_the_past_within_the_same_tick_fires_at_the_next_poll() {
    paused_mid_tick().block_on(async {
        let now = Instant::now();
        // Armed at now + 0.4 ms, in the same tick as now: moving the deadline to now does
        // not change its tick, and must fire all the same.
        let t = Timeout::at(now + Duration::from_micros(400));
        let h = t.handle();
        let mut run = pin!(t.run(pending::<()>()));
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(run.as_mut().poll(&mut cx), Poll::Pending);
        h.reschedule(Some(now));
        assert_eq!(run.as_mut().poll(&mut cx), Poll::Ready(Err(TimedOut)));
        assert!(h.expired());
    });
}

rt_test! {
    fn deadlines_up_to_a_millisecond_in_the_past_fire_at_the_first_poll(rt: &Runtime) {
        rt.block_on(async {
            assert_eq!(
                poll_once(wait_for(Duration::ZERO, pending::<()>())),
                Poll::Ready(Err(TimedOut))
            );
            assert_eq!(
                poll_once(timeout(Duration::ZERO, pending::<()>())),
                Poll::Ready(Err(TimedOut))
            );
            for back in 0..1000 {
                let deadline = Instant::now() - Duration::from_micros(back);
                assert_eq!(
                    poll_once(timeout_at(deadline, pending::<()>())),
                    Poll::Ready(Err(TimedOut)),
                    "a deadline {back} us in the past did not fire at the first poll"
                );
            }
        });
    }
}
