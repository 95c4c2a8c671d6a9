//! Cooperative scheduling budget.
//!
//! A task that always finds its resources ready (a join handle of a finished task, a channel
//! with items) would never return `Pending` and could hold its worker forever. Each poll of
//! a task starts with `TASK_BUDGET` (128) units; arbor's leaf futures spend one unit each time
//! they make progress, and once the budget is spent they return `Pending` (after waking the
//! task), so the task goes to the back of the queue and its siblings run.

use crate::context;
use std::cell::Cell;
use std::task::{Context, Poll};

/// Units of progress a task may make in one poll before arbor's leaf futures yield.
pub(crate) const TASK_BUDGET: u8 = 128;

/// `None` means unconstrained (outside a task poll).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget(Option<u8>);

impl Budget {
    pub(crate) const fn unconstrained() -> Budget {
        Budget(None)
    }

    pub(crate) fn initial() -> Budget {
        Budget(Some(TASK_BUDGET))
    }

    /// Spends one unit; `false` if none was left.
    fn decrement(&mut self) -> bool {
        match &mut self.0 {
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
            None => true,
        }
    }
}

/// Restores the budget that was in force before a task poll.
pub(crate) struct ResetGuard(Budget);

/// Gives the task about to be polled a fresh budget.
pub(crate) fn budget_guard() -> ResetGuard {
    ResetGuard(context::set_budget(Budget::initial()))
}

impl Drop for ResetGuard {
    fn drop(&mut self) {
        context::set_budget(self.0);
    }
}

/// Restores the unit spent by [`poll_proceed`] unless the caller made progress.
pub(crate) struct RestoreOnPending(Cell<Budget>);

impl RestoreOnPending {
    pub(crate) fn made_progress(&self) {
        self.0.set(Budget::unconstrained());
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        let budget = self.0.get();
        if budget.0.is_some() {
            context::set_budget(budget);
        }
    }
}

/// Spends one unit of the current task's budget, or wakes the task and returns `Pending`
/// when it is spent.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    let before = context::budget();
    let mut after = before;
    if after.decrement() {
        context::set_budget(after);
        Poll::Ready(RestoreOnPending(Cell::new(before)))
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Whether the current task still has budget left (always `true` outside a task).
pub fn has_budget_remaining() -> bool {
    !matches!(context::budget().0, Some(0))
}
