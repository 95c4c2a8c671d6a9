//! `Builder::unhandled_panic`: what a panic nobody will see does to the runtime.
//!
//! A task whose `Task` handle was dropped (detached) has nobody to read its output, so a
//! panic in it would vanish. The harness (`task/harness.rs`) checks the output it drops
//! unread: when it is a panic, it logs a `tracing` error (target
//! [`UNHANDLED_PANIC_TARGET`](crate::task::UNHANDLED_PANIC_TARGET)) naming the task, in
//! every mode, and calls the scheduler's `unhandled_panic` hook. Under
//! [`UnhandledPanic::ShutdownRuntime`] the hook trips the runtime's [`Tripwire`]: every
//! `block_on` on the runtime watches it and panics, naming the task, once it is tripped.
//! The check runs only where an output is dropped unread, and there it reads the stage's
//! discriminant: a task that completes normally pays nothing more.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Waker};

/// What a panic in a detached task (its `Task` dropped) does to the runtime; see
/// [`Builder::unhandled_panic`](super::Builder::unhandled_panic).
///
/// In every mode the panic is logged as a `tracing` error naming the task (asyncio's
/// "exception was never retrieved").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// The runtime keeps running (the default).
    #[default]
    Ignore,
    /// Every `block_on` on the runtime panics, naming the task: the program ends unless
    /// the caller catches the panic.
    ShutdownRuntime,
}

/// Set once by the first unhandled panic under `ShutdownRuntime`; watched by `block_on`.
#[derive(Default)]
pub(crate) struct Tripwire {
    tripped: AtomicBool,
    state: Mutex<TripState>,
}

#[derive(Default)]
struct TripState {
    message: Option<String>,
    watchers: Vec<(u64, Waker)>,
    next_id: u64,
}

impl Tripwire {
    fn lock(&self) -> std::sync::MutexGuard<'_, TripState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the first unhandled panic and wakes every `block_on`.
    pub(crate) fn trip(&self, message: String) {
        let watchers = {
            let mut state = self.lock();
            if state.message.is_some() {
                return;
            }
            state.message = Some(message);
            self.tripped.store(true, Ordering::Release);
            state
                .watchers
                .iter()
                .map(|(_, w)| w.clone())
                .collect::<Vec<_>>()
        };
        watchers.into_iter().for_each(Waker::wake);
    }

    /// Called at every poll of a watched `block_on` future: panics once tripped, otherwise
    /// keeps the caller's waker registered under `slot`.
    #[track_caller]
    pub(crate) fn check(&self, cx: &Context<'_>, slot: &mut Option<u64>) {
        let message = {
            let mut state = self.lock();
            match &state.message {
                Some(message) => Some(message.clone()),
                None => {
                    let waker = cx.waker();
                    match *slot {
                        Some(id) => {
                            if let Some((_, w)) = state.watchers.iter_mut().find(|(i, _)| *i == id)
                            {
                                if !w.will_wake(waker) {
                                    w.clone_from(waker);
                                }
                            }
                        }
                        None => {
                            let id = state.next_id;
                            state.next_id += 1;
                            state.watchers.push((id, waker.clone()));
                            *slot = Some(id);
                        }
                    }
                    None
                }
            }
        };
        if let Some(message) = message {
            panic!("{message}");
        }
    }

    /// A watched `block_on` ended.
    pub(crate) fn unwatch(&self, slot: Option<u64>) {
        if let Some(id) = slot {
            self.lock().watchers.retain(|(i, _)| *i != id);
        }
    }
}
