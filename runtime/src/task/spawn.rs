//! Spawning: the free functions and `task::Builder`.

use super::{Task, TaskMeta};
use crate::cancel::CancelNode;
use crate::context;
use crate::runtime::{Handle, panic_no_runtime};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Spawns a task onto the current runtime (asyncio's `create_task`).
///
/// From a worker thread the task goes to that worker's own queue (LIFO slot first); from
/// elsewhere, to the runtime's global queue. The returned [`Task`] can be awaited for the
/// output, cancelled, or dropped to detach the task.
///
/// # Panics
/// Outside a runtime: call it from inside `arbor::run(...)`, a `#[arbor::main]` function,
/// or `Runtime::block_on`.
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let task = arbor_runtime::spawn(async { "done" });
///     assert_eq!(task.await.unwrap(), "done");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Builder::new().spawn(future)
}

/// Spawns tasks with options (asyncio's `create_task(coro, name=...)`).
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let task = arbor_runtime::task::Builder::new().name("fetch").spawn(async { 1 });
///     assert_eq!(task.name(), Some("fetch"));
///     assert_eq!(task.await.unwrap(), 1);
/// });
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a `Builder` does nothing until `spawn` is called"]
pub struct Builder {
    name: Option<Arc<str>>,
    cancel: Option<Arc<CancelNode>>,
}

impl Builder {
    /// A builder with no options set.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task; the name shows in `Task::name`, traces and task dumps.
    pub fn name(mut self, name: &str) -> Builder {
        self.name = Some(Arc::from(name));
        self
    }

    /// Spawns the task under `node` in the cancel tree (used by task groups): the task is a
    /// leaf of `node` until it completes (cancelling `node` wakes it; closing its leaves
    /// cancels it in place), and scopes the task opens hang below `node`, through the
    /// task's own node (see `cancel`).
    #[doc(hidden)]
    pub fn cancel_node(mut self, node: Arc<CancelNode>) -> Builder {
        self.cancel = Some(node);
        self
    }

    fn meta(self) -> TaskMeta {
        TaskMeta {
            name: self.name,
            cancel: self.cancel,
            parent: None,
        }
    }

    /// Spawns onto the current runtime.
    ///
    /// # Panics
    /// Outside a runtime, as [`spawn`].
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = self.meta();
        let task = context::with_handle(move |handle| match handle {
            Some(handle) => handle.spawn(future, meta),
            None => panic_no_runtime("arbor::spawn"),
        });
        task.cancel_if_leaves_closed();
        task
    }

    /// Spawns onto the runtime of `handle`.
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = handle.inner.spawn(future, self.meta());
        task.cancel_if_leaves_closed();
        task
    }
}

/// The id of the task being polled on this thread, if any (asyncio's
/// `id(asyncio.current_task())`).
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     assert_eq!(arbor_runtime::task::try_id(), None); // block_on's future is no task
///     let task = arbor_runtime::spawn(async { arbor_runtime::task::try_id() });
///     let id = task.id();
///     assert_eq!(task.await.unwrap(), Some(id));
/// });
/// ```
pub fn try_id() -> Option<super::TaskId> {
    context::current_task().map(|task| task.id())
}

/// Yields to the scheduler once (asyncio's `await asyncio.sleep(0)`): the task goes to the
/// back of its worker's queue and the others run first.
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let task = arbor_runtime::spawn(async { 1 });
///     arbor_runtime::yield_now().await; // the spawned task runs meanwhile
///     assert!(task.is_finished());
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` them"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
