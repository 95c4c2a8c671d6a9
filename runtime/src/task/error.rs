//! `JoinError`: why awaiting a `Task<T>` did not give its output.
//!
//! `JoinError` is `Send + Sync + 'static`, so `task.await?` converts into `io::Error`,
//! `Box<dyn Error + Send + Sync>` and the error types built on them. The panic payload it
//! carries is a `Box<dyn Any + Send>`, which is not `Sync`; [`Payload`] makes it so by never
//! lending the payload out through `&self` (see its invariant).

use super::TaskId;
use payload::Payload;
use std::any::Any;
use std::fmt;

/// The task did not produce its output: it was cancelled, or it panicked.
///
/// It is `Send + Sync + 'static`, so `task.await?` converts it into an `io::Error` (kind
/// `Other`, with this error inside: `get_ref`/`into_inner` and a downcast give it back) or a
/// `Box<dyn Error + Send + Sync>`.
///
/// ```
/// let err = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
///     let task = arbor_runtime::spawn(async { panic!("boom") });
///     task.await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
/// ```
pub struct JoinError {
    id: TaskId,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(Payload),
}

mod payload {
    use std::any::Any;

    /// A panic payload that may be shared between threads.
    ///
    /// Invariant: through `&self` the payload is reached only by [`Payload::message`],
    /// which asks for the type id (a constant of the type: nothing of the value is read)
    /// and lends the contents out only as a `Sync` type (`&str`, `String`). Everything else
    /// takes the payload by value ([`Payload::into_inner`]). The field is private to this
    /// module, so no other code can reach it.
    pub(super) struct Payload(Box<dyn Any + Send + 'static>);

    // SAFETY: `Sync` means `&Payload` may be used from several threads at once. By the
    // invariant above, all `&Payload` allows is `message`: `<dyn Any>::downcast_ref` calls
    // `Any::type_id` through the vtable, whose only implementation (core's blanket impl for
    // every `T: 'static`) returns `TypeId::of::<T>()` without touching the value, and on a
    // match it lends `&T` for a `T` that is `Sync` (`&'static str`, `String`), which any
    // number of threads may hold. Nothing reaches the payload's own `!Sync` contents
    // through a shared reference. (tokio's `JoinError` relies on the same argument.)
    unsafe impl Sync for Payload {}

    impl Payload {
        pub(super) fn new(payload: Box<dyn Any + Send + 'static>) -> Payload {
            Payload(payload)
        }

        /// The panic message, when the payload is one (`panic!` with a literal or a
        /// format).
        pub(super) fn message(&self) -> Option<&str> {
            let payload: &(dyn Any + Send) = &*self.0;
            payload
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        }

        pub(super) fn into_inner(self) -> Box<dyn Any + Send + 'static> {
            self.0
        }
    }
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(Payload::new(payload)),
        }
    }

    /// The task was cancelled (by `Task::cancel`, its group, or runtime shutdown).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic message, when the task panicked with one (`panic!` with a literal or a
    /// format).
    pub(crate) fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(payload) => payload.message(),
            Repr::Cancelled => None,
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic payload, to pass to [`std::panic::resume_unwind`].
    ///
    /// # Panics
    /// If the task was cancelled rather than panicking; see [`JoinError::try_into_panic`].
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError::into_panic` on a task that was cancelled, not panicked")
    }

    /// The panic payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload.into_inner()),
            Repr::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic(payload) => match payload.message() {
                Some(msg) => write!(f, "task {} panicked with message {msg:?}", self.id),
                None => write!(f, "task {} panicked", self.id),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Repr::Panic(payload) => match payload.message() {
                Some(msg) => write!(f, "JoinError::Panic({:?}, {msg:?})", self.id),
                None => write!(f, "JoinError::Panic({:?}, ..)", self.id),
            },
        }
    }
}

impl std::error::Error for JoinError {}

/// As tokio's: `io::ErrorKind::Other`. The `JoinError` itself is the inner error (its
/// message says cancelled or panicked), so `get_ref`/`into_inner` and a downcast give it
/// back, payload included.
impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err)
    }
}
