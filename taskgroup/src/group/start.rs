//! `TaskGroup::start` (Trio's `nursery.start`): a child that reports "ready" with a value.
//!
//! ## Pieces
//! - [`Slot`]: what the child, its [`StartStatus`] and the [`Start`] future share: where the
//!   child stands ([`Progress`]), whether `started` was called, the waiter's waker.
//! - [`StartChild`]: the user's future, wrapped. Before `started`, its end goes to the slot
//!   instead of the group: an `Err` becomes `Failed` (the group never sees it), an `Ok`
//!   `Returned`; being dropped unfinished (the group was cancelled, the child panicked, the
//!   runtime shut down) `Cancelled`. After `started` it passes `Err` to the group like any
//!   child's.
//! - [`Start`]: resolves with the slot's outcome. Dropped while the child has not started,
//!   it cancels the child (its caller no longer waits for it, as Trio's `start` cancels the
//!   child with its caller's scope). An `Err` of the child that no `Start` takes (the child
//!   returns it after the drop, or the drop comes before the poll that would have taken
//!   it) goes to the group: every error before `started` is reported exactly once.
//!
//! The slot's lock orders the races: `started` racing the child's end (impossible in the
//! child's own poll, possible if the status was moved to another task), and `started` racing
//! the `Start` future's drop (the drop cancels the child only if `started` has not come first).

use super::TaskGroup;
use super::error::{SpawnError, StartError};
use super::shared::Shared;
use arbor_runtime::Task;
use arbor_runtime::task::Builder;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Where a started child stands, as its `Start` future sees it.
enum Progress<V, E> {
    /// Running, `started` not called yet.
    Waiting,
    /// `started(v)` was called; the value is not taken yet.
    Started(V),
    /// Ended with `Err` before `started`.
    Failed(E),
    /// Returned `Ok` before `started`.
    Returned,
    /// Dropped unfinished before `started`.
    Cancelled,
    /// The `Start` future took the outcome, or was dropped.
    Taken,
}

struct State<V, E> {
    progress: Progress<V, E>,
    /// `started` was called (a second call panics).
    started: bool,
    /// The `Start` future's waker.
    waker: Option<Waker>,
}

/// What the child, its status and its `Start` future share.
struct Slot<V, E> {
    state: Mutex<State<V, E>>,
}

impl<V, E> Slot<V, E> {
    fn lock(&self) -> MutexGuard<'_, State<V, E>> {
        // A panic while the lock is held leaves a valid state (each update is one store).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The child ended before `started`: records how (unless `started` came first, or the
    /// `Start` future is gone) and wakes the waiter. Returns `Err(progress)` if not recorded.
    fn end(&self, progress: Progress<V, E>) -> Result<(), Progress<V, E>> {
        let waker = {
            let mut state = self.lock();
            if !matches!(state.progress, Progress::Waiting) {
                return Err(progress);
            }
            state.progress = progress;
            state.waker.take()
        };
        if let Some(waker) = waker {
            arbor_runtime::wake::wake(waker);
        }
        Ok(())
    }
}

/// The `started` side of a slot, without its error type (so that `StartStatus` names only
/// the value's).
trait Report<V>: Send + Sync {
    fn started(&self, value: V);
}

impl<V: Send, E: Send> Report<V> for Slot<V, E> {
    fn started(&self, value: V) {
        let (waker, unused) = {
            let mut state = self.lock();
            if state.started {
                drop(state);
                panic!(
                    "StartStatus::started called twice: a child started with \
                     `TaskGroup::start` reports that it is ready exactly once"
                );
            }
            state.started = true;
            if matches!(state.progress, Progress::Waiting) {
                state.progress = Progress::Started(value);
                (state.waker.take(), None)
            } else {
                // Nobody waits any more (the `Start` future is gone); drop it unlocked.
                (None, Some(value))
            }
        };
        drop(unused);
        if let Some(waker) = waker {
            arbor_runtime::wake::wake(waker);
        }
    }
}

/// How a child started with [`TaskGroup::start`] reports that it is ready (Trio's
/// `task_status`): call [`started`](StartStatus::started) once, with the value `start`
/// resolves to.
pub struct StartStatus<V> {
    slot: Arc<dyn Report<V>>,
}

impl<V> StartStatus<V> {
    /// Reports that the child is ready: the `start` call that spawned it resolves to
    /// `Ok(value)`, and the child keeps running in the group. If that `start` future has
    /// been dropped meanwhile, the value is dropped.
    ///
    /// # Panics
    /// If called a second time. In a child, as any child panic, that cancels the group and
    /// the panic resumes in the caller of `TaskGroup::scope`.
    pub fn started(&self, value: V) {
        self.slot.started(value);
    }
}

impl<V> fmt::Debug for StartStatus<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartStatus").finish_non_exhaustive()
    }
}

pin_project! {
    /// The user's future, as a started child runs it.
    struct StartChild<F, V, E> {
        #[pin]
        fut: F,
        slot: Arc<Slot<V, E>>,
    }

    impl<F, V, E> PinnedDrop for StartChild<F, V, E> {
        fn drop(this: Pin<&mut Self>) {
            // Finished or not, a child that never started was cancelled as far as `start`
            // can tell (a finished one has recorded its end already, which wins).
            let _ = this.slot.end(Progress::Cancelled);
        }
    }
}

impl<F, T, V, E> Future for StartChild<F, V, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<(), E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let this = self.project();
        match std::task::ready!(this.fut.poll(cx)) {
            // Before `started`, `start` reports the end; after, it is an ordinary child's.
            Ok(_) => {
                let _ = this.slot.end(Progress::Returned);
                Poll::Ready(Ok(()))
            }
            Err(error) => match this.slot.end(Progress::Failed(error)) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(Progress::Failed(error)) => Poll::Ready(Err(error)),
                Err(_) => unreachable!("`end` hands back what it was given"),
            },
        }
    }
}

pin_project! {
    /// The future of [`TaskGroup::start`]: resolves once the child has called
    /// [`StartStatus::started`], or has ended without doing so.
    ///
    /// Dropping it before the child called `started` cancels the child.
    #[must_use = "futures do nothing unless you `.await` them; dropping this one cancels the child"]
    pub struct Start<V, E> {
        slot: Arc<Slot<V, E>>,
        task: Option<Task<()>>,
        // Where an error nobody took goes.
        group: Arc<Shared<E>>,
    }

    impl<V, E> PinnedDrop for Start<V, E> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let (cancel, progress) = {
                let mut state = this.slot.lock();
                let cancel = matches!(state.progress, Progress::Waiting);
                state.waker = None;
                (cancel, mem::replace(&mut state.progress, Progress::Taken))
            };
            match progress {
                // Reported exactly once: nobody takes it here, so the group does.
                Progress::Failed(error) => this.group.record_error(error),
                // A value nobody takes: dropped outside the lock (user code).
                other => drop(other),
            }
            if cancel {
                if let Some(task) = this.task.take() {
                    task.cancel();
                }
            }
        }
    }
}

impl<V, E> Future for Start<V, E> {
    type Output = Result<V, StartError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = {
            let mut state = this.slot.lock();
            match mem::replace(&mut state.progress, Progress::Taken) {
                Progress::Waiting => {
                    state.progress = Progress::Waiting;
                    match &state.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => state.waker = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
                Progress::Started(value) => Ok(value),
                Progress::Failed(error) => Err(StartError::Failed(error)),
                Progress::Returned => Err(StartError::Returned),
                Progress::Cancelled => Err(StartError::Cancelled),
                Progress::Taken => panic!("`Start` polled after it resolved"),
            }
        };
        // Resolved: the child (if it runs on) is the group's alone; detach its handle.
        this.task.take();
        Poll::Ready(out)
    }
}

impl<V, E> fmt::Debug for Start<V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.slot.lock();
        let progress = match state.progress {
            Progress::Waiting => "waiting",
            Progress::Started(_) => "started",
            Progress::Failed(_) => "failed",
            Progress::Returned => "returned",
            Progress::Cancelled => "cancelled",
            Progress::Taken => "taken",
        };
        f.debug_struct("Start")
            .field("progress", &progress)
            .finish()
    }
}

/// Spawns `f`'s future into `group` as a started child, with `builder`'s options.
#[track_caller]
pub(super) fn start<F, Fut, V, T, E>(
    group: &TaskGroup<E>,
    f: F,
    builder: Builder,
) -> Result<Start<V, E>, SpawnError>
where
    F: FnOnce(StartStatus<V>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    V: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            progress: Progress::Waiting,
            started: false,
            waker: None,
        }),
    });
    let status = StartStatus {
        slot: slot.clone() as Arc<dyn Report<V>>,
    };
    let child = StartChild {
        fut: f(status),
        slot: slot.clone(),
    };
    let task = group.spawn_child(child, builder)?;
    Ok(Start {
        slot,
        task: Some(task),
        group: group.shared.clone(),
    })
}
