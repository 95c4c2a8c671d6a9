//! The wake-up hand-off of the epoll backend: `notify` (any thread) against the thread
//! waiting in `epoll_wait`, with at most one eventfd write per wake-up.
//!
//! ## The pieces
//! - An eventfd registered with the epoll instance *edge-triggered* (`EPOLLIN | EPOLLET`),
//!   under the reserved key. Every write to an eventfd wakes its poll queue, and an
//!   edge-triggered item is put back on epoll's ready list by every such wake-up, so each
//!   write makes the current `epoll_wait` return, or if none is in progress, the next one,
//!   with the notification event. Nothing ever needs re-arming.
//! - The `notified` flag ([`Notify`]): set while a write is pending or made and its event
//!   not yet seen by the waiter. It elides the writes (syscalls) of redundant notifications:
//!   a burst of `notify` calls while the waiter sleeps costs one write.
//!
//! ## The protocol
//! Notifier ([`Notify::notify`]), after publishing whatever it notifies about:
//! 1. swaps `notified` to `true`;
//! 2. if it swapped it from `false`, writes the eventfd; otherwise a write is already
//!    made or coming, and its event not yet consumed.
//!
//! Waiter (the thread in the poller, [`Notify::consumed`]):
//! 1. waits in `epoll_wait`;
//! 2. only if the returned events include the notification event, swaps `notified` back
//!    to `false`; then (its caller) looks at the published state.
//!
//! Why no notification is lost: a notifier that swaps `false` writes, and the write's
//! edge wakes the current or the next wait. A notifier that swaps `true` finds a write
//! made or coming whose event the waiter has not consumed yet (the waiter clears the flag
//! only after seeing that event). If that event is still to come, it wakes the current or
//! the next wait. If the waiter has already returned with it but not yet cleared the flag,
//! the notification is merged into that wake-up, and the waiter still sees what the
//! notifier published: every access to `notified` is a read-modify-write, so the waiter's
//! clear reads the notifier's swap (or a later one) and acquires what it released. A wait
//! that returns without the notification event (IO, timeout, a full event buffer) leaves
//! the flag set, and the still-pending edge makes a later wait return at once. The loom
//! models `loom_notify_*` below check this with a fake edge-triggered eventfd.
//!
//! (A plain load could skip the swap when the flag is already set, but then the clear and
//! that load would order the notifier's publish only under sequential consistency, which
//! loom cannot check; a redundant notification is rare and costs an uncontended swap.)
//!
//! The eventfd is never drained: its counter only grows by one per write (per wake-up),
//! and draining is not needed for edges. Should the counter ever be full (after 2^64 - 2
//! writes), the write fails with `EAGAIN`; the backend then drains it and writes again.

use crate::loom::sync::atomic::{AtomicBool, Ordering::AcqRel};

/// The `notified` flag; see the module header.
#[derive(Debug)]
pub(crate) struct Notify {
    /// Set by the notifier that writes the eventfd, cleared by the waiter that saw the
    /// notification event. Only swapped (AcqRel: see "Why no notification is lost").
    notified: AtomicBool,
}

impl Notify {
    pub(crate) fn new() -> Notify {
        Notify {
            notified: AtomicBool::new(false),
        }
    }

    /// Notifier steps 1 and 2: runs `write` (makes the eventfd readable) unless a
    /// notification is already pending.
    pub(crate) fn notify(&self, write: impl FnOnce()) {
        if !self.notified.swap(true, AcqRel) {
            write();
        }
    }

    /// Waiter step 2: the wait returned the notification event.
    pub(crate) fn consumed(&self) {
        self.notified.swap(false, AcqRel);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The protocol under loom, against a fake eventfd with epoll's edge-triggered
    //! semantics: a write leaves an edge pending; a wait consumes the pending edge.
    use super::*;
    use loom::sync::atomic::Ordering::{Acquire, Release};
    use loom::sync::{Arc, Condvar, Mutex};

    /// An edge-triggered eventfd in an epoll instance with nothing else registered.
    struct FakePoller {
        notify: Notify,
        /// Whether an edge (a write not yet reported by a wait) is pending.
        edge: Mutex<bool>,
        cv: Condvar,
    }

    impl FakePoller {
        fn new() -> FakePoller {
            FakePoller {
                notify: Notify::new(),
                edge: Mutex::new(false),
                cv: Condvar::new(),
            }
        }

        fn notify(&self) {
            self.notify.notify(|| {
                *self.edge.lock().unwrap() = true;
                self.cv.notify_all();
            });
        }

        /// `epoll_wait` without a timeout: returns once an edge is pending, reporting it.
        fn wait(&self) {
            let mut edge = self.edge.lock().unwrap();
            while !*edge {
                edge = self.cv.wait(edge).unwrap();
            }
            *edge = false;
            drop(edge);
            self.notify.consumed();
        }

        /// `epoll_wait` with a zero timeout (or woken by IO): reports a pending edge if
        /// there is one.
        fn poll(&self) {
            let mut edge = self.edge.lock().unwrap();
            let seen = std::mem::take(&mut *edge);
            drop(edge);
            if seen {
                self.notify.consumed();
            }
        }
    }

    /// Bounds the model's preemptions (the unbounded model takes minutes, and found
    /// nothing more when it was run).
    const PREEMPTION_BOUND: usize = 3;

    /// Each notifier publishes a message and notifies; the waiter waits until it has seen
    /// both messages. A lost notification leaves the waiter blocked (a loom deadlock).
    fn model(zero_timeout_turn_first: bool) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(PREEMPTION_BOUND);
        builder.check(move || {
            let poller = Arc::new(FakePoller::new());
            let msgs = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
            let notifiers: Vec<_> = (0..2)
                .map(|i| {
                    let (poller, msgs) = (poller.clone(), msgs.clone());
                    loom::thread::spawn(move || {
                        msgs[i].store(true, Release);
                        poller.notify();
                    })
                })
                .collect();
            if zero_timeout_turn_first {
                poller.poll();
            }
            while !(msgs[0].load(Acquire) && msgs[1].load(Acquire)) {
                poller.wait();
            }
            for n in notifiers {
                n.join().unwrap();
            }
        });
    }

    #[test]
    fn loom_notify_two_notifiers_one_waiter() {
        model(false);
    }

    #[test]
    fn loom_notify_after_a_wait_without_the_event() {
        model(true);
    }
}
