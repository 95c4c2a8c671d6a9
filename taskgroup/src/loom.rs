//! One place where the synchronisation primitives of the group completion protocol come
//! from: loom's under `cfg(loom)`, so the model checker sees every interleaving of
//! `group/completion.rs` (its thread parking too: a dropped scope blocks until its children
//! are gone); std's otherwise.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::Mutex;

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
    }
}

#[cfg(not(loom))]
pub(crate) mod thread {
    pub(crate) use std::thread::{Thread, current, park};
}

#[cfg(loom)]
pub(crate) mod thread {
    pub(crate) use loom::thread::{Thread, current, park};
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::Mutex;

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
    }
}
