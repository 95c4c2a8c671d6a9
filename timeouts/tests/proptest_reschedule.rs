//! A proptest of random reschedule sequences against a model: the timeout fires at the last
//! deadline set, never before, at most once (virtual time).

mod support;

use arbor_runtime::time::{Instant, sleep};
use arbor_timeouts::Timeout;
use proptest::prelude::*;
use std::time::Duration;
use support::{ms, virtual_time};

/// One step of the owning task: move the deadline (to `start + offset`, or never), then
/// sleep `gap`.
#[derive(Debug, Clone)]
struct Step {
    deadline: Option<u64>,
    gap: u64,
}

fn step() -> impl Strategy<Value = Step> {
    // Gaps are multiples of 10 ms and deadlines 5 ms off that grid: a deadline never ties
    // with the end of a sleep, so the model needs no tie rule.
    (prop::option::weighted(0.8, 0..40u64), 0..5u64).prop_map(|(d, g)| Step {
        deadline: d.map(|d| d * 10 + 5),
        gap: g * 10,
    })
}

/// When the model fires (ms since start), if it does. A deadline set in the past cancels
/// the scope at once, but the scope reports only when the wrapped future next suspends (the
/// inner future is polled first): a zero sleep does not suspend, so steps may still run.
/// Once cancelled, moving the deadline changes nothing.
fn model(steps: &[Step]) -> Option<u64> {
    let mut now = 0;
    let mut cancelled = false;
    for s in steps {
        if let (false, Some(d)) = (cancelled, s.deadline) {
            if d <= now {
                cancelled = true;
            } else if d <= now + s.gap {
                return Some(d);
            }
        }
        if cancelled && s.gap > 0 {
            return Some(now);
        }
        now += s.gap;
    }
    None
}

proptest! {
    #[test]
    fn reschedule_sequences_match_the_model(steps in prop::collection::vec(step(), 1..12)) {
        let expected = model(&steps);
        let (res, fired_at, expired) = virtual_time(async {
            let start = Instant::now();
            let t = Timeout::never();
            let h = t.handle();
            let h2 = h.clone();
            let steps2 = steps.clone();
            let res = t
                .run(async move {
                    for s in steps2 {
                        h2.reschedule(s.deadline.map(|d| start + ms(d)));
                        sleep(ms(s.gap)).await;
                    }
                })
                .await;
            let fired_at = start.elapsed();
            // Nothing fires again later.
            sleep(Duration::from_secs(10)).await;
            (res, fired_at, h.expired())
        });
        match expected {
            Some(at) => {
                prop_assert!(res.is_err());
                prop_assert_eq!(fired_at, ms(at));
                prop_assert!(expired);
            }
            None => {
                prop_assert!(res.is_ok());
                prop_assert!(!expired);
            }
        }
    }
}
