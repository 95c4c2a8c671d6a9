//! Loom models of the cancel tree's protocols, on the real [`CancelNode`] (its atomics and
//! locks come through `crate::loom`):
//! - cancel racing a shielded region's exit: the scope waiting for the region is woken or
//!   sees the count at zero (no lost wake-up, invariant 4);
//! - attach racing a region's enter and exit: every count ends at zero (invariant 3, the
//!   early-shield defect of issue 12);
//! - cancel racing the attach of a child (a spawn into a group): the child ends cancelled;
//! - a deadline's expiry racing the scope's completion: `expired()` is final once seen,
//!   and only then;
//! - the deadline timer (`deadline.rs`, the real `DeadlineTimer` on a real driver):
//!   reschedules racing each other and the arming converge on the last deadline; the
//!   driver firing the entry racing a reschedule and the scope's completion leaves no
//!   entry alive and no expiry the scope did not see.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p arbor-runtime --release --lib loom`.

use super::{CancelNode, DeadlineTimer};
use crate::driver::Driver;
use crate::time::Instant;
use crate::time::instant::encode;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Duration;

/// A waker that records that it was woken.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

fn flag() -> (Arc<Flag>, Waker) {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    (flag.clone(), Waker::from(flag))
}

/// A scope's check (`ScopeState::must_drop`).
fn must_drop(node: &CancelNode) -> bool {
    node.is_cancelled() && node.shields() == 0
}

#[test]
fn loom_cancel_races_shield_exit_no_lost_wakeup() {
    loom::model(|| {
        let scope = CancelNode::new(None, false);
        let shield = CancelNode::new(Some(&scope), true);
        let region = shield.enter_shield();
        let canceller = {
            let scope = scope.clone();
            thread::spawn(move || {
                scope.cancel();
            })
        };
        let leaver = thread::spawn(move || drop(region));
        // The scope's poll: register, then check (`ScopeState`'s step 4).
        let (woken, waker) = flag();
        scope.register_waker(&waker);
        let dropped = must_drop(&scope);
        canceller.join().unwrap();
        leaver.join().unwrap();
        // Either this poll saw it could drop, or a wake asks for the poll that will.
        assert!(
            dropped || woken.0.load(SeqCst),
            "the waiting scope was never woken"
        );
        assert!(must_drop(&scope));
        drop(shield);
    });
}

#[test]
fn loom_attach_races_shield_exit_counts_end_at_zero() {
    loom::model(|| {
        let outer = CancelNode::new(None, false);
        let group = CancelNode::new_detached_group();
        let task = CancelNode::new(Some(&group), false);
        let shield = CancelNode::new(Some(&task), true);
        let region = shield.enter_shield();
        let attacher = {
            let (group, outer) = (group.clone(), outer.clone());
            thread::spawn(move || group.attach(Some(outer)))
        };
        drop(region);
        attacher.join().unwrap();
        assert_eq!(
            (outer.shields(), group.shields(), task.shields()),
            (0, 0, 0)
        );
    });
}

#[test]
fn loom_attach_races_shield_enter_and_exit() {
    loom::model(|| {
        let outer = CancelNode::new(None, false);
        let group = CancelNode::new_detached(false);
        let shield = CancelNode::new(Some(&group), true);
        let attacher = {
            let (group, outer) = (group.clone(), outer.clone());
            thread::spawn(move || group.attach(Some(outer)))
        };
        let region = shield.enter_shield();
        // While the region is active, the group counts it, and so does `outer` once the
        // attach is done.
        assert_eq!(group.shields(), 1);
        attacher.join().unwrap();
        assert_eq!(outer.shields(), 1);
        drop(region);
        assert_eq!((outer.shields(), group.shields()), (0, 0));
    });
}

#[test]
fn loom_cancel_races_attach_of_a_child() {
    loom::model(|| {
        let group = CancelNode::new(None, false);
        let canceller = {
            let group = group.clone();
            thread::spawn(move || {
                group.cancel();
            })
        };
        // A child task's node, attached as the child opens its first scope.
        let child = CancelNode::new_detached(false);
        child.attach(Some(group.clone()));
        canceller.join().unwrap();
        assert!(
            child.is_cancelled(),
            "the cancel missed a child attached meanwhile"
        );
    });
}

#[test]
fn loom_expiry_races_the_scope_completing() {
    loom::model(|| {
        let node = CancelNode::new(None, false);
        let timer = {
            let node = node.clone();
            thread::spawn(move || {
                node.expire();
            })
        };
        // The scope's poll: its future completes, unless the poll sees the node cancelled
        // first (then it stays pending and the expiry takes effect: `see_cancel`).
        let saw_cancel = node.is_cancelled();
        if saw_cancel {
            node.see_cancel();
        }
        let before_join = node.is_expired();
        timer.join().unwrap();
        let after = node.is_expired();
        assert_eq!(
            after, saw_cancel,
            "expired() is true exactly when the scope saw it"
        );
        assert!(!before_join || after, "expired() went back to false");
    });
}

/// A timer for a node whose deadline is `deadline`, and a driver of its own to arm it on.
fn deadline_timer(deadline: Instant) -> (Arc<Driver>, Arc<CancelNode>, Arc<DeadlineTimer>) {
    let driver = Driver::new(false, false).expect("a driver");
    let node = CancelNode::new(None, false);
    node.set_deadline(Some(deadline));
    let timer = Arc::new(DeadlineTimer::new(node.clone()));
    (driver, node, timer)
}

/// The wheel tick of `deadline` on `driver`.
fn tick(driver: &Driver, deadline: Instant) -> u64 {
    driver.time.encoded_deadline_tick(encode(Some(deadline)))
}

/// Deadlines an hour away: nothing passes while a model runs.
fn far() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

#[test]
fn loom_deadline_reschedules_racing_the_arming_converge_on_the_last() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let base = far();
        let (driver, node, timer) = deadline_timer(base);
        let later = timer.clone();
        let earlier = timer.clone();
        let t1 = thread::spawn(move || later.reschedule(Some(base + Duration::from_secs(1))));
        let t2 = thread::spawn(move || earlier.reschedule(Some(base - Duration::from_secs(1))));
        timer.arm_on(driver.clone());
        t1.join().unwrap();
        t2.join().unwrap();
        let entry = timer.entry().expect("armed with a finite deadline");
        assert_eq!(
            entry.deadline(),
            tick(&driver, node.deadline().unwrap()),
            "the entry lost the last deadline written"
        );
    });
}

#[test]
fn loom_deadline_firing_races_a_reschedule_and_the_completion() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let base = far();
        let later = base + Duration::from_secs(1);
        let (driver, node, timer) = deadline_timer(base);
        timer.arm_on(driver.clone());
        let entry = timer.entry().expect("armed").clone();
        // The driver reaches the entry's slot at its deadline's tick.
        let at = tick(&driver, base);
        let fire = {
            let entry = entry.clone();
            thread::spawn(move || entry.fire(at))
        };
        let resched = {
            let timer = timer.clone();
            thread::spawn(move || timer.reschedule(Some(later)))
        };
        // The scope's future completes: it won, whatever the timer does.
        timer.disarm();
        let reinsert = fire.join().unwrap();
        resched.join().unwrap();
        assert!(
            entry.is_dropped(),
            "a disarmed timer's entry stays in the wheel"
        );
        assert!(!node.is_expired(), "an expiry the scope never saw counts");
        if let Some(at) = reinsert {
            assert_eq!(at, tick(&driver, later), "re-inserted at a stale deadline");
        }
        assert!(
            !node.is_cancelled() || entry.is_fired(),
            "the node expired without its entry firing"
        );
    });
}
