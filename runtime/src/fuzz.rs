//! Fuzz targets' logic, as library functions so that the seed corpus also runs as ordinary
//! tests (`cargo test -p arbor-runtime --lib fuzz`) and the fuzz crate stays thin.
//!
//! - [`scheduler_script`]: bytes decode to a script of spawns, yields, wakes from other
//!   threads, cancels, handle drops, awaits and panics on a runtime of a chosen flavour.
//!   Invariant: every task's future is dropped exactly once (counted), every awaited
//!   outcome is one its script allows, and once the runtime is gone nothing is alive.
//! - [`wheel_ops`]: bytes decode to timer-wheel operations checked against a `BTreeMap`
//!   model (`time/wheel/model.rs`).

use crate::runtime::{Builder, Runtime};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// The most tasks one script spawns (bounds a run's time).
const MAX_TASKS: usize = 64;
/// The most operations one script runs.
const MAX_OPS: usize = 256;

/// Runs the wheel model check on `data`.
pub fn wheel_ops(data: &[u8]) {
    let ops = crate::time::wheel::model::ops_from_bytes(data);
    crate::time::wheel::model::check_ops(&ops);
}

/// A gate a task can wait on; opened from the script's thread or another thread.
#[derive(Default)]
struct Gate {
    open: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    fn open(&self) {
        self.open.store(true, SeqCst);
        let waker = self.waker.lock().unwrap().take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// What a scripted task does.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Returns its value at once.
    Ready,
    /// Yields `n` times, then returns.
    Yield(u8),
    /// Waits for its gate, then returns.
    Gate,
    /// Panics at its first poll.
    PanicInPoll,
    /// Yields once, then returns; its drop guard panics.
    PanicInDrop,
}

/// Counts the drops of a task's future; panics in drop when asked to.
struct DropGuard {
    drops: Arc<AtomicUsize>,
    panic: bool,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        if self.panic && !std::thread::panicking() {
            std::panic::panic_any(FuzzPanic);
        }
    }
}

/// The payload of scripted panics (so that a test can tell them from real failures).
struct FuzzPanic;

struct Scripted {
    kind: Kind,
    value: usize,
    yields_left: u8,
    gate: Arc<Gate>,
    _guard: DropGuard,
}

impl Future for Scripted {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        match self.kind {
            Kind::Ready => Poll::Ready(self.value),
            Kind::PanicInPoll => std::panic::panic_any(FuzzPanic),
            Kind::Yield(_) | Kind::PanicInDrop if self.yields_left > 0 => {
                self.yields_left -= 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Kind::Yield(_) | Kind::PanicInDrop => Poll::Ready(self.value),
            Kind::Gate => {
                if self.gate.open.load(SeqCst) {
                    return Poll::Ready(self.value);
                }
                *self.gate.waker.lock().unwrap() = Some(cx.waker().clone());
                if self.gate.open.load(SeqCst) {
                    return Poll::Ready(self.value);
                }
                Poll::Pending
            }
        }
    }
}

struct Spawned {
    kind: Kind,
    value: usize,
    handle: Option<crate::Task<usize>>,
    gate: Arc<Gate>,
    cancelled: bool,
}

/// Reads the next byte, or 0 once the input is exhausted.
fn next(data: &mut &[u8]) -> u8 {
    match data.split_first() {
        Some((&b, rest)) => {
            *data = rest;
            b
        }
        None => 0,
    }
}

/// Runs the script `data` describes; panics if an invariant breaks.
pub fn scheduler_script(mut data: &[u8]) {
    let rt: Runtime = match next(&mut data) % 3 {
        0 => Builder::new_current_thread().build(),
        1 => Builder::new_multi_thread().worker_threads(1).build(),
        _ => Builder::new_multi_thread().worker_threads(3).build(),
    }
    .expect("building the runtime");
    let drops = Arc::new(AtomicUsize::new(0));
    let mut tasks: Vec<Spawned> = Vec::new();
    let mut threads = Vec::new();
    quiet_scripted_panics();
    for _ in 0..MAX_OPS {
        if data.is_empty() {
            break;
        }
        let op = next(&mut data);
        let arg = usize::from(next(&mut data));
        match op % 8 {
            0 | 1 if tasks.len() < MAX_TASKS => {
                let kind = match arg % 5 {
                    0 => Kind::Ready,
                    1 => Kind::Yield(next(&mut data) % 8),
                    2 => Kind::Gate,
                    3 => Kind::PanicInPoll,
                    _ => Kind::PanicInDrop,
                };
                let gate = Arc::new(Gate::default());
                let value = tasks.len();
                let fut = Scripted {
                    kind,
                    value,
                    yields_left: match kind {
                        Kind::Yield(n) => n,
                        Kind::PanicInDrop => 1,
                        _ => 0,
                    },
                    gate: gate.clone(),
                    _guard: DropGuard {
                        drops: drops.clone(),
                        panic: matches!(kind, Kind::PanicInDrop),
                    },
                };
                // op 1: spawned from another OS thread through the handle.
                let handle = if op % 8 == 0 {
                    rt.spawn(fut)
                } else {
                    let h = rt.handle().clone();
                    std::thread::spawn(move || h.spawn(fut)).join().unwrap()
                };
                tasks.push(Spawned {
                    kind,
                    value,
                    handle: Some(handle),
                    gate,
                    cancelled: false,
                });
            }
            2 if !tasks.is_empty() => {
                let t = &tasks[arg % tasks.len()];
                let gate = t.gate.clone();
                threads.push(std::thread::spawn(move || gate.open()));
            }
            3 if !tasks.is_empty() => tasks[arg % tasks.len()].gate.open(),
            4 if !tasks.is_empty() => {
                let i = arg % tasks.len();
                let t = &mut tasks[i];
                if let Some(h) = &t.handle {
                    let was_running = h.cancel();
                    t.cancelled |= was_running;
                }
            }
            5 if !tasks.is_empty() => {
                let i = arg % tasks.len();
                tasks[i].handle = None;
            }
            6 if !tasks.is_empty() => {
                let i = arg % tasks.len();
                let t = &mut tasks[i];
                if let Some(h) = t.handle.take() {
                    t.gate.open();
                    let outcome = rt.block_on(h);
                    check_outcome(t, outcome);
                }
            }
            _ => rt.block_on(crate::yield_now()),
        }
    }
    for t in &tasks {
        t.gate.open();
    }
    for th in threads {
        th.join().unwrap();
    }
    drop(rt);
    assert_eq!(
        drops.load(SeqCst),
        tasks.len(),
        "every task's future is dropped exactly once"
    );
    // Handles still held after shutdown: every task finished or was cancelled.
    for t in &mut tasks {
        if let Some(h) = t.handle.take() {
            assert!(h.is_finished(), "a task outlived its runtime");
        }
    }
}

fn check_outcome(t: &Spawned, outcome: Result<usize, crate::JoinError>) {
    match outcome {
        Ok(v) => {
            assert_eq!(v, t.value);
            assert!(!matches!(t.kind, Kind::PanicInPoll));
        }
        Err(e) if e.is_cancelled() => assert!(t.cancelled, "cancelled without a cancel"),
        Err(e) => {
            assert!(e.is_panic());
            assert!(
                matches!(t.kind, Kind::PanicInPoll | Kind::PanicInDrop),
                "a task panicked that was not scripted to: {:?}",
                t.kind
            );
        }
    }
}

/// Keeps scripted panics out of the output: a panic hook, installed once, that skips
/// [`FuzzPanic`] payloads and hands everything else to the hook it replaced.
fn quiet_scripted_panics() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<FuzzPanic>().is_none() {
                prev(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    include!("../../fuzz/seed_corpus.rs");

    #[test]
    fn fuzz_seeds_scheduler_script() {
        for seed in corpus("scheduler_script") {
            super::scheduler_script(&seed);
        }
    }

    #[test]
    fn fuzz_seeds_wheel_ops() {
        for seed in corpus("wheel_ops") {
            super::wheel_ops(&seed);
        }
    }
}
