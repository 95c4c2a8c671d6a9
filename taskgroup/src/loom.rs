//! One place where the synchronisation primitives of the group completion protocol come
//! from: loom's under `cfg(loom)`, so the model checker sees every interleaving of
//! `group/completion.rs`; std's otherwise.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::Mutex;

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
    }
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::Mutex;

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
    }
}
