//! arbor's structured concurrency: `TaskGroup`, `CancelScope`, `shield` (built on
//! `arbor_runtime::cancel`; arrives with the structured-concurrency issue).
