//! `TaskGroup`: asyncio's `TaskGroup`, Trio's nursery.
//!
//! ## Pieces
//! | file | what |
//! |---|---|
//! | `mod.rs` | [`TaskGroup`] (the handle), [`GroupScope`] (the scope future) |
//! | `shared.rs` | what they share: the group's cancel node (its leaves are the children), outcome |
//! | `child.rs` | the future each child task runs: the user's, wrapped |
//! | `start.rs` | [`TaskGroup::start`]: [`StartStatus`], the [`Start`] future, the child's wrapper |
//! | `builder.rs` | [`ChildBuilder`]: children with a name |
//! | `completion.rs` | the live-children count and the wait for it to reach zero (loom-checked) |
//! | `error.rs` | [`GroupError`], [`SpawnError`], [`StartError`] |
//! | `executor.rs` | `TaskGroup` as `hyper::rt::Executor` (feature `http`) |
//!
//! ## The scope future, step by step
//! 1. `TaskGroup::scope(body)` makes the group (a detached cancel node) and calls `body`
//!    with a handle; nothing runs yet.
//! 2. First poll: the group's node is attached below the current node (an enclosing scope,
//!    group, or the task's own node), so cancellation from outside reaches it and, through
//!    it, every child.
//! 3. Each poll: the body is polled with the group's node current. If the group is
//!    cancelled (by `tg.cancel()`, a failure, or an enclosing scope) and no shielded region
//!    is active inside it, the body is dropped instead. The body's `Err` is recorded like a
//!    child's; its panic is caught and recorded too.
//! 4. Once the body is gone, the future waits until the last child's future has been
//!    dropped, then closes the group (later spawns fail) and resolves: a recorded panic
//!    resumes; recorded errors give `Err(GroupError)` in the order they happened; a group
//!    cancelled by its own `cancel()` gives `Err(GroupError)` with `is_cancelled()`; a
//!    group cancelled only because an enclosing scope was stays pending, so that the
//!    outermost cancelled scope catches (DESIGN.md section 3, rule 3); else the body's value.
//! 5. Dropped before step 4 finished: the body is dropped, the group node's leaves (the
//!    children) are closed and each is cancelled in place, children spawned meanwhile are
//!    cancelled in place by their spawner, and the destructor returns only once every
//!    child's future has been dropped (`Shared::drop_children` says how, and why its short
//!    wait cannot deadlock).
//!
//! ## The children
//! A child is a leaf task of the group's cancel node (the runtime's `cancel/leaf.rs`), listed
//! from before it can run until it completes: the group keeps no registry of its own.
//! Cancelling the group's node (`cancel`, a failure, an enclosing scope) wakes each child,
//! whose wrapper (`child.rs`) drops its future at that poll; a child spawned after the
//! cancel reads the flag at its first poll.

mod builder;
mod child;
mod completion;
mod error;
#[cfg(feature = "http")]
mod executor;
mod shared;
mod start;

pub use builder::ChildBuilder;
pub use error::{GroupError, SpawnError, StartError};
pub use start::{Start, StartStatus};

use arbor_runtime::Task;
use arbor_runtime::cancel::ScopeState;
use child::Child;
use pin_project_lite::pin_project;
use shared::Shared;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

#[cfg(loom)]
pub(crate) use completion::Completion;

/// A handle to a task group: spawn children into it, or cancel it (asyncio's `TaskGroup`
/// inside `async with`, Trio's nursery).
///
/// A group exists for the length of one [`TaskGroup::scope`] call. The scope waits for
/// every child, including children spawned late or by other children through a clone of
/// the handle. The first failure (a child or the body returning `Err`, or panicking)
/// cancels the body and every other child; the scope then reports every error, in the order
/// they happened, as a [`GroupError`], or resumes the panic. Children never outlive the
/// scope: when its future resolves, or is dropped, every child's future has been dropped.
///
/// Dropping the scope future is not a cancellation: the drop cannot wait for async work, so
/// it drops every child at once, shielded regions inside them included
/// ([`CancelScope::shielded`](crate::CancelScope::shielded)), also a region a child enters in
/// the very poll during which the drop claims it (that poll runs to its end on its worker
/// first; the drop returns once the child's future is gone). To let children finish their
/// shielded cleanup, cancel the group (or a scope around it) and await it instead.
///
/// Children are `Send + 'static` tasks, spawned on the runtime the group was made in; they
/// run in parallel with each other and with the body. `TaskGroup` is `Clone + Send + Sync`.
/// With the `http` feature it is also a `hyper::rt::Executor`: what hyper spawns becomes a
/// child of the group.
///
/// ```
/// use arbor_taskgroup::TaskGroup;
///
/// let total = arbor_runtime::run(async {
///     TaskGroup::<std::io::Error>::scope(|tg| async move {
///         let a = tg.spawn(async { Ok(20) });
///         let b = tg.spawn(async { Ok(22) });
///         Ok(a.await.unwrap() + b.await.unwrap())
///     })
///     .await
/// });
/// assert_eq!(total.unwrap(), 42);
/// ```
pub struct TaskGroup<E> {
    shared: Arc<Shared<E>>,
}

impl<E: Send + 'static> TaskGroup<E> {
    /// Opens a group, runs `body` with a handle to it, and waits for the body and every child
    /// (asyncio's `async with TaskGroup() as tg:`).
    ///
    /// Resolves to the body's value if nothing failed; to `Err(GroupError)` holding every
    /// error (the body's own among them) in the order they happened; or to
    /// `Err(GroupError)` with [`is_cancelled`](GroupError::is_cancelled) after
    /// [`cancel`](TaskGroup::cancel). A child's panic cancels the rest and resumes here once
    /// every child is gone (as `std::thread::scope` does).
    ///
    /// Cancelling one child's `Task` is not a failure: the group goes on. If an enclosing
    /// cancel scope is cancelled, the group's body and children are cancelled with it and
    /// the enclosing scope reports the cancellation.
    ///
    /// ```
    /// use arbor_taskgroup::TaskGroup;
    ///
    /// let err = arbor_runtime::run(async {
    ///     TaskGroup::scope(|tg| async move {
    ///         tg.spawn(async { Err::<(), _>("first") });
    ///         // The failure cancels the body: it never gets past this point.
    ///         std::future::pending::<()>().await;
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap_err()
    /// });
    /// assert_eq!(err.into_errors(), vec!["first"]);
    /// ```
    pub fn scope<B, Fut, T>(body: B) -> GroupScope<Fut, T, E>
    where
        B: FnOnce(TaskGroup<E>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let shared = Shared::new();
        let body = body(TaskGroup {
            shared: shared.clone(),
        });
        GroupScope {
            scope: ScopeState::new(shared.node.clone()),
            shared,
            body: Body::Running { fut: body },
            value: None,
            phase: Phase::Init,
        }
    }

    /// Spawns a child into the group (asyncio's `tg.create_task`). Its `Ok` value is the
    /// returned [`Task`]'s output; its `Err` fails the group (and its `Task` then reports
    /// cancelled: the error went to the group).
    ///
    /// Into a group that is being cancelled, the child is cancelled before its first poll.
    ///
    /// # Panics
    /// If the group has finished (its scope returned or was dropped): spawn from inside the
    /// scope, or use [`try_spawn`](TaskGroup::try_spawn). Also outside a runtime, if the
    /// group was made outside one.
    #[track_caller]
    pub fn spawn<F, T>(&self, fut: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        match self.try_spawn(fut) {
            Ok(task) => task,
            Err(_) => panic!(
                "TaskGroup::spawn into a finished group: its scope has already returned (or \
                 was dropped), so the child would outlive it; spawn children from inside the \
                 scope, or use `try_spawn` to handle this case"
            ),
        }
    }

    /// As [`spawn`](TaskGroup::spawn), but into a finished group returns [`SpawnError`]
    /// (the future is dropped unpolled) instead of panicking.
    ///
    /// ```
    /// use arbor_taskgroup::TaskGroup;
    ///
    /// arbor_runtime::run(async {
    ///     let mut kept = None;
    ///     TaskGroup::<()>::scope(|tg| {
    ///         kept = Some(tg.clone());
    ///         async { Ok(()) }
    ///     })
    ///     .await
    ///     .unwrap();
    ///     assert!(kept.unwrap().try_spawn(async { Ok(1) }).is_err());
    /// });
    /// ```
    #[track_caller]
    pub fn try_spawn<F, T>(&self, fut: F) -> Result<Task<T>, SpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_child(fut, arbor_runtime::task::Builder::new())
    }

    /// Spawns `fut` as a child, with the task options of `builder` (a name).
    #[track_caller]
    pub(crate) fn spawn_child<F, T>(
        &self,
        fut: F,
        builder: arbor_runtime::task::Builder,
    ) -> Result<Task<T>, SpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        let shared = &self.shared;
        if !shared.completion.try_add() {
            return Err(SpawnError::finished());
        }
        let child = Child::new(fut, shared.clone());
        let builder = builder.cancel_node(shared.node.clone());
        // The child is a leaf of the group's node from before it can run (the group keeps no
        // list of its own; see `shared.rs`).
        let task = match shared.handle.get() {
            Some(handle) => builder.spawn_on(child, handle),
            None => builder.spawn(child),
        };
        Ok(task)
    }

    /// Spawns a child that reports when it is ready, and waits for that report (Trio's
    /// `nursery.start`, AnyIO's `tg.start`): the standard way for a server task to say "I am
    /// listening on this address" before the parent goes on.
    ///
    /// `f` gets a [`StartStatus`]; the future it returns runs as a child of the group.
    /// `start` resolves to `Ok(v)` once the child calls [`status.started(v)`](StartStatus::started);
    /// the child keeps running in the group, which from then on treats it as any other
    /// child (its `Err` fails the group; its `Ok` value is dropped). If the child ends before
    /// calling `started`, `start` resolves to why, and the group does **not** count it as its
    /// failure: [`StartError::Failed`] with its `Err`, [`StartError::Returned`] if it
    /// returned `Ok`, [`StartError::Cancelled`] if it was cancelled (the group was cancelled,
    /// or the child panicked: the panic still goes to the group).
    ///
    /// The child is spawned when `start` is called. Dropping the returned future before the
    /// child has called `started` (its caller was cancelled, say) cancels the child; once
    /// `started` has been called the child keeps running, and the value is dropped. An `Err`
    /// from before `started` that the dropped future did not return goes to the group
    /// instead: no error is lost.
    ///
    /// ```
    /// use arbor_runtime::net::{TcpListener, TcpStream};
    /// use arbor_taskgroup::TaskGroup;
    ///
    /// arbor_runtime::run(async {
    ///     TaskGroup::<std::io::Error>::scope(|tg| async move {
    ///         let addr = tg
    ///             .start(|status| async move {
    ///                 let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///                 status.started(listener.local_addr()?);
    ///                 let (_conn, _peer) = listener.accept().await?; // serve one client
    ///                 Ok(())
    ///             })
    ///             .await
    ///             .expect("the server started");
    ///         // The server is listening: connecting cannot be refused.
    ///         TcpStream::connect(addr).await?;
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    ///
    /// # Panics
    /// If the group has finished, as [`spawn`](TaskGroup::spawn). A second call of
    /// `started` panics in the child, as any child panic: the group is cancelled and the
    /// panic resumes in the caller of [`scope`](TaskGroup::scope).
    #[track_caller]
    pub fn start<F, Fut, V, T>(&self, f: F) -> Start<V, E>
    where
        F: FnOnce(StartStatus<V>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        V: Send + 'static,
        T: Send + 'static,
    {
        match start::start(self, f, arbor_runtime::task::Builder::new()) {
            Ok(start) => start,
            Err(_) => panic!(
                "TaskGroup::start into a finished group: its scope has already returned (or \
                 was dropped), so the child would outlive it; start children from inside the \
                 scope"
            ),
        }
    }

    /// Spawns children with options: a name, shown by `Task::name`, `task::dump`, the
    /// task's tracing span and slow-poll warnings (asyncio's `tg.create_task(c, name=..)`).
    ///
    /// ```
    /// use arbor_taskgroup::TaskGroup;
    ///
    /// arbor_runtime::run(async {
    ///     TaskGroup::<()>::scope(|tg| async move {
    ///         let conn = tg.builder().name("conn 10.0.0.7:55012").spawn(async { Ok(7) });
    ///         assert_eq!(conn.name(), Some("conn 10.0.0.7:55012"));
    ///         assert_eq!(conn.await.unwrap(), 7);
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    pub fn builder(&self) -> ChildBuilder<'_, E> {
        ChildBuilder::new(self)
    }

    /// Cancels the body and every child (Trio's `nursery.cancel_scope.cancel()`). The scope
    /// then resolves to `Err(GroupError)` with [`is_cancelled`](GroupError::is_cancelled),
    /// unless real errors happened, which win. Children spawned from now on are cancelled
    /// before their first poll.
    ///
    /// ```
    /// use arbor_taskgroup::TaskGroup;
    ///
    /// let res = arbor_runtime::run(async {
    ///     TaskGroup::<()>::scope(|tg| async move {
    ///         tg.spawn(std::future::pending::<Result<(), ()>>());
    ///         tg.cancel();
    ///         Ok(())
    ///     })
    ///     .await
    /// });
    /// assert!(res.unwrap_err().is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.shared.node.cancel();
    }

    /// Whether the group is cancelled: by [`cancel`](TaskGroup::cancel), a failure, or an
    /// enclosing scope.
    pub fn is_cancelled(&self) -> bool {
        self.shared.node.is_cancelled()
    }
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> TaskGroup<E> {
        TaskGroup {
            shared: self.shared.clone(),
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("cancelled", &self.shared.node.is_cancelled())
            .field("completion", &self.shared.completion)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not polled yet: the group's node is detached.
    Init,
    /// The body is being polled.
    Body,
    /// The body is gone; waiting for the children.
    Children,
    /// Cancelled by an enclosing scope and finished: pending until that scope drops it.
    Parked,
    /// Resolved.
    Done,
}

pin_project! {
    #[project = BodyProj]
    enum Body<Fut> {
        Running { #[pin] fut: Fut },
        Gone,
    }
}

pin_project! {
    /// The future of [`TaskGroup::scope`]: resolves once the body and every child are done.
    #[must_use = "futures do nothing unless you `.await` them"]
    pub struct GroupScope<Fut, T, E> {
        shared: Arc<Shared<E>>,
        #[pin]
        body: Body<Fut>,
        // The body's `Ok` value, until the children are done too.
        value: Option<T>,
        phase: Phase,
        // The scope protocol's state over the group's node.
        scope: ScopeState,
    }

    impl<Fut, T, E> PinnedDrop for GroupScope<Fut, T, E> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if matches!(*this.phase, Phase::Done | Phase::Parked) {
                return;
            }
            let body_panic = catch_unwind(AssertUnwindSafe(|| this.body.set(Body::Gone))).err();
            this.shared.drop_children();
            this.scope.finish();
            if let Some(payload) = body_panic {
                if !std::thread::panicking() {
                    resume_unwind(payload);
                }
            }
        }
    }
}

impl<Fut, T, E> Future for GroupScope<Fut, T, E>
where
    Fut: Future<Output = Result<T, E>>,
    E: Send + 'static,
{
    type Output = Result<T, GroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let shared = &**this.shared;
        let node = &shared.node;
        let scope = this.scope;
        match *this.phase {
            Phase::Init => {
                scope.attach();
                shared.capture_runtime();
                *this.phase = Phase::Body;
            }
            Phase::Body | Phase::Children => {}
            Phase::Parked => return Poll::Pending,
            Phase::Done => panic!("`GroupScope` polled after it returned"),
        }
        scope.register(cx);

        if *this.phase == Phase::Body {
            if scope.must_drop() {
                drop_body(this.body.as_mut(), shared);
            } else if let BodyProj::Running { fut } = this.body.as_mut().project() {
                let polled = scope.enter(|| catch_unwind(AssertUnwindSafe(|| fut.poll(cx))));
                match polled {
                    Ok(Poll::Ready(Ok(value))) => {
                        *this.value = Some(value);
                        drop_body(this.body.as_mut(), shared);
                    }
                    Ok(Poll::Ready(Err(error))) => {
                        drop_body(this.body.as_mut(), shared);
                        shared.record_error(error);
                    }
                    Ok(Poll::Pending) => {
                        if scope.must_drop() {
                            drop_body(this.body.as_mut(), shared);
                        }
                    }
                    Err(payload) => {
                        drop_body(this.body.as_mut(), shared);
                        shared.record_panic(payload);
                    }
                }
            }
            if let Body::Running { .. } = *this.body {
                return Poll::Pending;
            }
            *this.phase = Phase::Children;
        }

        ready!(shared.completion.poll_closed(cx));
        scope.finish();
        let outcome = shared.take_outcome();
        if let Some(payload) = outcome.panic {
            *this.phase = Phase::Done;
            resume_unwind(payload);
        }
        if !outcome.errors.is_empty() {
            *this.phase = Phase::Done;
            return Poll::Ready(Err(GroupError::failed(outcome.errors)));
        }
        if node.is_cancelled() {
            if node.catches() {
                *this.phase = Phase::Done;
                return Poll::Ready(Err(GroupError::cancelled()));
            }
            // An enclosing scope is cancelled: it reports, and drops this future.
            *this.phase = Phase::Parked;
            return Poll::Pending;
        }
        *this.phase = Phase::Done;
        let value = this.value.take();
        Poll::Ready(Ok(
            value.expect("a group that was not cancelled has its body's value")
        ))
    }
}

/// Drops the body in place; a panic in its destructor goes to the group.
fn drop_body<Fut, E>(mut body: Pin<&mut Body<Fut>>, shared: &Shared<E>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| body.set(Body::Gone))) {
        shared.record_panic(payload);
    }
}

impl<Fut, T, E> fmt::Debug for GroupScope<Fut, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupScope")
            .field("phase", &self.phase)
            .field("cancelled", &self.shared.node.is_cancelled())
            .field("completion", &self.shared.completion)
            .finish()
    }
}
