//! How a task group fails: [`GroupError`], and [`SpawnError`] for spawning into a finished
//! group.

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
