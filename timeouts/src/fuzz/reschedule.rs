//! Random reschedule sequences on a [`Timeout`], checked against a model: the timeout fires
//! at the last deadline set, never before, at most once (virtual time). The part shared by
//! the `timeout_reschedule` fuzz target (`arbor_timeouts::fuzz::timeout_reschedule`) and the
//! proptest (`tests/proptest_reschedule.rs`, which includes this file with `#[path]`). The
//! includer brings `Timeout` into its own scope; this file takes it from `super`, so it
//! compiles inside the library and inside a test crate alike.

use super::Timeout;
use arbor_runtime::runtime::Builder;
use arbor_runtime::time::{Instant, sleep};
use std::time::Duration;

/// Deadlines are `start + GRID_MS * k + DEADLINE_OFFSET_MS` ms for `k` below this.
pub const DEADLINE_SLOTS: u64 = 40;
/// Gaps are `GRID_MS * k` ms for `k` below this.
pub const GAP_SLOTS: u64 = 5;
/// The grid deadlines and gaps lie on (ms).
const GRID_MS: u64 = 10;
/// Deadlines sit this far off the gaps' grid (ms): a deadline never ties with the end of a
/// sleep, so the model needs no tie rule.
const DEADLINE_OFFSET_MS: u64 = 5;
/// How long after the run the test waits to see that nothing fires again.
const AFTERWARDS: Duration = Duration::from_secs(10);

/// One step of the owning task: move the deadline (to `start + deadline` ms, or never), then
/// sleep `gap` ms.
#[derive(Debug, Clone)]
pub struct Step {
    pub deadline: Option<u64>,
    pub gap: u64,
}

impl Step {
    /// The step with deadline slot `deadline` (or never) and gap slot `gap`; slots past the
    /// ends wrap.
    pub fn from_slots(deadline: Option<u64>, gap: u64) -> Step {
        Step {
            deadline: deadline.map(|d| (d % DEADLINE_SLOTS) * GRID_MS + DEADLINE_OFFSET_MS),
            gap: (gap % GAP_SLOTS) * GRID_MS,
        }
    }
}

/// When the model fires (ms since start), if it does. A deadline set in the past cancels
/// the scope at once, but the scope reports only when the wrapped future next suspends (the
/// inner future is polled first): a zero sleep does not suspend, so steps may still run.
/// Once cancelled, moving the deadline changes nothing.
pub fn model(steps: &[Step]) -> Option<u64> {
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

/// Runs `steps` inside a `Timeout::never()` on a paused current-thread runtime and checks
/// the result, the firing time and `expired` against [`model`]; `Err` says what differs.
pub fn check_steps(steps: &[Step]) -> Result<(), String> {
    let expected = model(steps);
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .map_err(|e| format!("building the runtime: {e}"))?;
    let steps2 = steps.to_vec();
    let (res, fired_at, expired) = rt.block_on(async move {
        let start = Instant::now();
        let t = Timeout::never();
        let h = t.handle();
        let h2 = h.clone();
        let res = t
            .run(async move {
                for s in steps2 {
                    h2.reschedule(s.deadline.map(|d| start + Duration::from_millis(d)));
                    sleep(Duration::from_millis(s.gap)).await;
                }
            })
            .await;
        let fired_at = start.elapsed();
        // Nothing fires again later.
        sleep(AFTERWARDS).await;
        (res, fired_at, h.expired())
    });
    match expected {
        Some(at) if res.is_ok() => Err(format!("expected to fire at {at} ms, it did not")),
        Some(at) if fired_at != Duration::from_millis(at) => Err(format!(
            "expected to fire at {at} ms, fired at {fired_at:?}"
        )),
        Some(_) if !expired => Err("fired, but expired() is false".into()),
        None if res.is_err() => Err(format!("expected no firing, fired at {fired_at:?}")),
        None if expired => Err("did not fire, but expired() is true".into()),
        _ => Ok(()),
    }
}
