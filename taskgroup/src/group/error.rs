//! How a task group fails: [`GroupError`]; [`SpawnError`] for spawning into a finished
//! group; [`StartError`] for a child that ended before it started.

use std::error::Error;
use std::fmt;

/// Why a [`TaskGroup`](crate::TaskGroup)'s scope did not return the body's value
/// (asyncio's `ExceptionGroup` from a `TaskGroup`).
///
/// Either real errors happened (children or the body returned `Err`), which
/// [`errors`](GroupError::errors) lists in the order they happened, or the group was
/// cancelled with [`TaskGroup::cancel`](crate::TaskGroup::cancel) and nothing failed:
/// [`is_cancelled`](GroupError::is_cancelled). Real errors win over cancellation.
///
/// ```
/// use arbor_taskgroup::TaskGroup;
///
/// let err = arbor_runtime::run(async {
///     TaskGroup::scope(|tg| async move {
///         tg.spawn(async { Err::<(), _>("disk full") });
///         Ok(())
///     })
///     .await
///     .unwrap_err()
/// });
/// assert_eq!(err.errors(), &["disk full"]);
/// assert!(!err.is_cancelled());
/// assert_eq!(err.to_string(), "a task group failed: disk full");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct GroupError<E> {
    /// Every real error, in the order they happened; empty if the group was cancelled.
    errors: Vec<E>,
}

impl<E> GroupError<E> {
    pub(crate) fn failed(errors: Vec<E>) -> GroupError<E> {
        debug_assert!(!errors.is_empty());
        GroupError { errors }
    }

    pub(crate) fn cancelled() -> GroupError<E> {
        GroupError { errors: Vec::new() }
    }

    /// The errors, in the order they happened (the body's own error among them).
    pub fn errors(&self) -> &[E] {
        &self.errors
    }

    /// The errors, in the order they happened.
    pub fn into_errors(self) -> Vec<E> {
        self.errors
    }

    /// Whether the group was cancelled (with `TaskGroup::cancel`) rather than failing: then
    /// there are no errors.
    pub fn is_cancelled(&self) -> bool {
        self.errors.is_empty()
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_cancelled() {
            f.write_str("GroupError::Cancelled")
        } else {
            f.debug_tuple("GroupError::Failed")
                .field(&self.errors)
                .finish()
        }
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [] => f.write_str("the task group was cancelled"),
            [one] => write!(f, "a task group failed: {one}"),
            [first, rest @ ..] => write!(
                f,
                "a task group failed with {} errors; the first: {first}",
                rest.len() + 1
            ),
        }
    }
}

impl<E: Error + 'static> Error for GroupError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.errors.first().map(|e| e as &(dyn Error + 'static))
    }
}

/// [`TaskGroup::try_spawn`](crate::TaskGroup::try_spawn) into a group whose scope has
/// finished: the future was dropped unpolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnError(());

impl SpawnError {
    pub(crate) fn finished() -> SpawnError {
        SpawnError(())
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the task group has finished (its scope returned or was dropped) and takes no new \
             children",
        )
    }
}

impl Error for SpawnError {}

/// Why [`TaskGroup::start`](crate::TaskGroup::start) did not get a value: the child ended
/// before calling [`StartStatus::started`](crate::StartStatus::started). The group does not
/// count any of these as its failure.
///
/// ```
/// use arbor_taskgroup::{StartError, TaskGroup};
///
/// arbor_runtime::run(async {
///     TaskGroup::<&str>::scope(|tg| async move {
///         let res = tg
///             .start(|_status: arbor_taskgroup::StartStatus<u16>| async { Err::<(), _>("no port") })
///             .await;
///         assert_eq!(res, Err(StartError::Failed("no port")));
///         assert_eq!(
///             res.unwrap_err().to_string(),
///             "a child failed before it started: no port"
///         );
///         Ok(()) // the group goes on: the error was `start`'s, not the group's
///     })
///     .await
///     .unwrap();
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError<E> {
    /// The child returned this `Err` before it started.
    Failed(E),
    /// The child returned `Ok` before it started.
    Returned,
    /// The child was cancelled before it started: the group was cancelled (a failure, its
    /// `cancel`, an enclosing scope), or the child panicked (the panic goes to the group),
    /// or the runtime shut down.
    Cancelled,
}

impl<E> StartError<E> {
    /// The child's error, if it failed.
    pub fn into_failed(self) -> Option<E> {
        match self {
            StartError::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the child was cancelled before it started.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, StartError::Cancelled)
    }
}

impl<E: fmt::Display> fmt::Display for StartError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Failed(e) => write!(f, "a child failed before it started: {e}"),
            StartError::Returned => f.write_str("a child returned before it started"),
            StartError::Cancelled => f.write_str("a child was cancelled before it started"),
        }
    }
}

impl<E: Error + 'static> Error for StartError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StartError::Failed(e) => Some(e),
            _ => None,
        }
    }
}
