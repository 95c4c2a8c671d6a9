//! [`ChildBuilder`]: group children with task options (a name).

use super::TaskGroup;
use super::error::SpawnError;
use super::start::{self, Start, StartStatus};
use arbor_runtime::Task;
use arbor_runtime::task::Builder;
use std::fmt;
use std::future::Future;

/// Spawns children into a group with options (asyncio's `tg.create_task(coro, name=...)`);
/// made by [`TaskGroup::builder`].
///
/// A name shows in `Task::name`, `task::dump()` (on the child's line), the task's tracing
/// span and slow-poll warnings, as for a task spawned with the runtime's `task::Builder`.
#[must_use = "a `ChildBuilder` does nothing until `spawn` is called"]
pub struct ChildBuilder<'a, E> {
    group: &'a TaskGroup<E>,
    task: Builder,
}

impl<'a, E: Send + 'static> ChildBuilder<'a, E> {
    pub(super) fn new(group: &'a TaskGroup<E>) -> ChildBuilder<'a, E> {
        ChildBuilder {
            group,
            task: Builder::new(),
        }
    }

    /// Names the child.
    pub fn name(mut self, name: &str) -> ChildBuilder<'a, E> {
        self.task = self.task.name(name);
        self
    }

    /// Spawns the child, as [`TaskGroup::spawn`].
    ///
    /// # Panics
    /// As [`TaskGroup::spawn`]: into a finished group.
    #[track_caller]
    pub fn spawn<F, T>(self, fut: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        match self.try_spawn(fut) {
            Ok(task) => task,
            Err(_) => panic!(
                "TaskGroup::builder().spawn into a finished group: its scope has already \
                 returned (or was dropped), so the child would outlive it; spawn children \
                 from inside the scope, or use `try_spawn` to handle this case"
            ),
        }
    }

    /// Spawns the child, as [`TaskGroup::try_spawn`].
    #[track_caller]
    pub fn try_spawn<F, T>(self, fut: F) -> Result<Task<T>, SpawnError>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.group.spawn_child(fut, self.task)
    }

    /// Starts the child, as [`TaskGroup::start`].
    ///
    /// ```
    /// use arbor_taskgroup::TaskGroup;
    ///
    /// arbor_runtime::run(async {
    ///     TaskGroup::<()>::scope(|tg| async move {
    ///         let ready = tg
    ///             .builder()
    ///             .name("worker")
    ///             .start(|status| async move {
    ///                 status.started("ready");
    ///                 Ok(())
    ///             })
    ///             .await;
    ///         assert_eq!(ready, Ok("ready"));
    ///         Ok(())
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    ///
    /// # Panics
    /// As [`TaskGroup::start`].
    #[track_caller]
    pub fn start<F, Fut, V, T>(self, f: F) -> Start<V, E>
    where
        F: FnOnce(StartStatus<V>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        V: Send + 'static,
        T: Send + 'static,
    {
        match start::start(self.group, f, self.task) {
            Ok(start) => start,
            Err(_) => panic!(
                "TaskGroup::builder().start into a finished group: its scope has already \
                 returned (or was dropped), so the child would outlive it; start children \
                 from inside the scope"
            ),
        }
    }
}

impl<E> fmt::Debug for ChildBuilder<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildBuilder")
            .field("task", &self.task)
            .finish()
    }
}
