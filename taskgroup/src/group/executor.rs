//! `TaskGroup<E>` as hyper's executor (feature `http`): the tasks hyper spawns (HTTP/2
//! streams, a client connection's background work) become children of the group, so they
//! are cancelled with it and never outlive it.

use super::TaskGroup;
use std::future::Future;

/// Spawns each future as a child of the group that returns `Ok(())`.
///
/// Into a finished group (its scope has returned), the future is dropped unpolled, as
/// [`try_spawn`](TaskGroup::try_spawn) does: it would outlive the group otherwise, and
/// hyper's `execute` has no way to report the error.
///
/// ```
/// use arbor_taskgroup::TaskGroup;
/// use hyper::rt::Executor;
/// use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
/// use std::sync::Arc;
///
/// arbor_runtime::run(async {
///     let ran = Arc::new(AtomicBool::new(false));
///     let r = ran.clone();
///     TaskGroup::<()>::scope(|tg| async move {
///         tg.execute(async move { r.store(true, SeqCst) });
///         Ok(())
///     })
///     .await
///     .unwrap();
///     assert!(ran.load(SeqCst), "the scope waited for the child");
/// });
/// ```
impl<E, F> hyper::rt::Executor<F> for TaskGroup<E>
where
    E: Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, fut: F) {
        let child = self.try_spawn(async move {
            fut.await;
            Ok(())
        });
        // The child runs on without its `Task`; a finished group dropped the future.
        drop(child);
    }
}
