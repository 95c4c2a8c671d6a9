//! Exhaustive combinations of a task's life: a fault (none, panic in poll, panic in drop),
//! what happens to its handle (awaited, dropped before completion, dropped after), and when
//! it is cancelled (never, before its first poll, while idle, while running) — on every
//! runtime flavour. Counting futures assert the exact number of polls and drops, and a
//! token shared by the future and its output proves nothing leaks.

mod support;
use arbor_runtime::runtime::Builder;
use arbor_runtime::{JoinError, Task, spawn, yield_now};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    None,
    PanicInPoll,
    PanicInDrop,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum HandleFate {
    Awaited,
    DroppedBeforeCompletion,
    DroppedAfterCompletion,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cancel {
    Never,
    BeforeFirstPoll,
    WhileIdle,
    WhileRunning,
}

/// An event the test opens once.
#[derive(Default)]
struct Gate {
    open: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    fn open(&self) {
        self.open.store(true, SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

type Slot = Arc<Mutex<Option<Task<Arc<()>>>>>;

struct Scripted {
    fault: Fault,
    cancel: Cancel,
    fate: HandleFate,
    polls: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
    gate: Arc<Gate>,
    slot: Slot,
    token: Arc<()>,
}

impl Future for Scripted {
    type Output = Arc<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Arc<()>> {
        let n = self.polls.fetch_add(1, SeqCst) + 1;
        // The first poll always waits on the gate, so every case has an idle phase.
        if n == 1 || !self.gate.open.load(SeqCst) {
            *self.gate.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.gate.open.load(SeqCst) {
                cx.waker().wake_by_ref();
            }
            return Poll::Pending;
        }
        if self.cancel == Cancel::WhileRunning {
            let mut slot = self.slot.lock().unwrap();
            let task = slot.as_ref().expect("handle in the slot");
            assert!(
                task.cancel(),
                "cancel of a running task reports it unfinished"
            );
            if self.fate == HandleFate::DroppedBeforeCompletion {
                drop(slot.take());
            }
            drop(slot);
            if self.fault == Fault::PanicInPoll {
                panic!("arbor-test: panic in poll");
            }
            return Poll::Pending;
        }
        if self.fault == Fault::PanicInPoll {
            panic!("arbor-test: panic in poll");
        }
        Poll::Ready(self.token.clone())
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        if self.fault == Fault::PanicInDrop && !std::thread::panicking() {
            panic!("arbor-test: panic in drop");
        }
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Output,
    Cancelled,
    Panicked,
}

fn outcome(res: Result<Arc<()>, JoinError>) -> Outcome {
    match res {
        Ok(_) => Outcome::Output,
        Err(e) if e.is_cancelled() => Outcome::Cancelled,
        Err(e) => {
            assert!(e.is_panic());
            Outcome::Panicked
        }
    }
}

fn expected(fault: Fault, cancel: Cancel) -> (usize, Outcome) {
    let polls = match cancel {
        Cancel::BeforeFirstPoll => 0,
        Cancel::WhileIdle => 1,
        Cancel::Never | Cancel::WhileRunning => 2,
    };
    let outcome = match (cancel, fault) {
        (Cancel::BeforeFirstPoll | Cancel::WhileIdle, Fault::PanicInPoll) => Outcome::Cancelled,
        (_, Fault::PanicInPoll | Fault::PanicInDrop) => Outcome::Panicked,
        (Cancel::Never, Fault::None) => Outcome::Output,
        (_, Fault::None) => Outcome::Cancelled,
    };
    (polls, outcome)
}

/// Yields (and lets other OS threads run) until `cond` holds.
async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..10_000_000u64 {
        if cond() {
            return;
        }
        yield_now().await;
        std::thread::yield_now();
    }
    panic!("timed out waiting until {what}");
}

fn run_case(
    workers: usize,
    make: fn() -> arbor_runtime::runtime::Runtime,
    fault: Fault,
    fate: HandleFate,
    cancel: Cancel,
) {
    let case = format!("workers={workers} {fault:?} {fate:?} {cancel:?}");
    let rt = make();
    let token = Arc::new(());
    let polls = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Gate::default());
    let slot: Slot = Arc::new(Mutex::new(None));
    let fut = Scripted {
        fault,
        cancel,
        fate,
        polls: polls.clone(),
        drops: drops.clone(),
        gate: gate.clone(),
        slot: slot.clone(),
        token: token.clone(),
    };
    let result = rt.block_on(async {
        // To cancel before the first poll on a multi-thread runtime, keep every worker busy.
        let release = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicUsize::new(0));
        let mut blockers = Vec::new();
        if cancel == Cancel::BeforeFirstPoll {
            for _ in 0..workers {
                let (release, started) = (release.clone(), started.clone());
                blockers.push(spawn(async move {
                    started.fetch_add(1, SeqCst);
                    while !release.load(SeqCst) {
                        std::thread::yield_now();
                    }
                }));
            }
            wait_until("every worker is blocked", || {
                started.load(SeqCst) == workers
            })
            .await;
        }
        let task = spawn(fut);
        if cancel == Cancel::BeforeFirstPoll {
            assert!(task.cancel(), "{case}: an unstarted task is unfinished");
            assert!(
                task.cancel(),
                "{case}: cancel is idempotent before completion"
            );
            release.store(true, SeqCst);
        }
        for b in blockers {
            b.await.unwrap();
        }
        if cancel == Cancel::WhileIdle {
            wait_until("the first poll", || polls.load(SeqCst) == 1).await;
            assert!(task.cancel(), "{case}: an idle task is unfinished");
        }
        let mut task = Some(task);
        if fate == HandleFate::DroppedBeforeCompletion && cancel != Cancel::WhileRunning {
            drop(task.take());
        } else if cancel == Cancel::WhileRunning {
            *slot.lock().unwrap() = task.take();
        }
        gate.open();
        wait_until("the future is dropped", || drops.load(SeqCst) == 1).await;
        let handle = arbor_runtime::runtime::Handle::current();
        wait_until("the task completes", || handle.num_alive_tasks() == 0).await;
        let task = task.or_else(|| slot.lock().unwrap().take());
        match (fate, task) {
            (HandleFate::Awaited, Some(task)) => Some(outcome(task.await)),
            (HandleFate::DroppedAfterCompletion, Some(task)) => {
                wait_until("completion", || task.is_finished()).await;
                assert!(
                    !task.cancel(),
                    "{case}: cancel after completion reports finished"
                );
                drop(task);
                None
            }
            (HandleFate::DroppedBeforeCompletion, None) => None,
            (fate, task) => panic!("{case}: handle {fate:?} but present={}", task.is_some()),
        }
    });
    let (want_polls, want_outcome) = expected(fault, cancel);
    assert_eq!(polls.load(SeqCst), want_polls, "{case}: polls");
    assert_eq!(drops.load(SeqCst), 1, "{case}: drops");
    if let Some(got) = result {
        assert_eq!(got, want_outcome, "{case}: outcome");
    }
    drop(rt);
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "{case}: the future or its output leaked"
    );
}

#[test]
fn every_combination_on_every_flavour() {
    support::quiet_panics();
    type Make = fn() -> arbor_runtime::runtime::Runtime;
    let flavours: [(usize, Make); 3] = [
        (0, || Builder::new_current_thread().build().unwrap()),
        (1, || {
            Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap()
        }),
        (4, || {
            Builder::new_multi_thread()
                .worker_threads(4)
                .build()
                .unwrap()
        }),
    ];
    let mut cases = 0;
    for (workers, make) in flavours {
        for fault in [Fault::None, Fault::PanicInPoll, Fault::PanicInDrop] {
            for fate in [
                HandleFate::Awaited,
                HandleFate::DroppedBeforeCompletion,
                HandleFate::DroppedAfterCompletion,
            ] {
                for cancel in [
                    Cancel::Never,
                    Cancel::BeforeFirstPoll,
                    Cancel::WhileIdle,
                    Cancel::WhileRunning,
                ] {
                    run_case(workers, make, fault, fate, cancel);
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 3 * 3 * 3 * 4);
}
