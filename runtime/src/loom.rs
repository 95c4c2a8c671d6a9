//! One place where the crate's synchronisation primitives come from.
//!
//! Under `cfg(loom)` every atomic, lock, cell and thread the lock-free protocols use is
//! loom's, so the model checker sees every interleaving; otherwise they are std's (or
//! crossbeam's). Code elsewhere imports from here, never from `std::sync` directly, when the
//! primitive is part of a protocol that a loom test models.

#[cfg(not(loom))]
pub(crate) mod std_impl {
    pub(crate) mod sync {
        pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

        pub(crate) mod atomic {
            pub(crate) use std::sync::atomic::{
                AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence,
            };
        }
    }

    pub(crate) mod cell {
        /// `UnsafeCell` with loom's closure-based API, so the same code compiles both ways.
        #[derive(Debug)]
        pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

        impl<T> UnsafeCell<T> {
            pub(crate) const fn new(data: T) -> UnsafeCell<T> {
                UnsafeCell(std::cell::UnsafeCell::new(data))
            }

            #[inline(always)]
            pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
                f(self.0.get())
            }

            #[inline(always)]
            pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
                f(self.0.get())
            }
        }
    }
}

#[cfg(not(loom))]
pub(crate) use std_impl::*;

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{
            AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence,
        };
    }
}

#[cfg(loom)]
pub(crate) mod cell {
    pub(crate) use loom::cell::UnsafeCell;
}

/// A token parker: crossbeam-utils' outside loom, a `Mutex` + `Condvar` one under loom.
pub(crate) mod token {
    #[cfg(not(loom))]
    pub(crate) use std_token::*;

    #[cfg(not(loom))]
    mod std_token {
        pub(crate) struct TokenParker(crossbeam_utils::sync::Parker);
        pub(crate) struct TokenUnparker(crossbeam_utils::sync::Unparker);

        impl TokenParker {
            pub(crate) fn new() -> TokenParker {
                TokenParker(crossbeam_utils::sync::Parker::new())
            }

            pub(crate) fn unparker(&self) -> TokenUnparker {
                TokenUnparker(self.0.unparker().clone())
            }

            pub(crate) fn park(&self) {
                self.0.park();
            }
        }

        impl TokenUnparker {
            pub(crate) fn unpark(&self) {
                self.0.unpark();
            }
        }
    }

    #[cfg(loom)]
    pub(crate) use loom_token::*;

    #[cfg(loom)]
    mod loom_token {
        use loom::sync::{Arc, Condvar, Mutex};

        pub(crate) struct TokenParker(Arc<(Mutex<bool>, Condvar)>);
        pub(crate) struct TokenUnparker(Arc<(Mutex<bool>, Condvar)>);

        impl TokenParker {
            pub(crate) fn new() -> TokenParker {
                TokenParker(Arc::new((Mutex::new(false), Condvar::new())))
            }

            pub(crate) fn unparker(&self) -> TokenUnparker {
                TokenUnparker(self.0.clone())
            }

            pub(crate) fn park(&self) {
                let (lock, cvar) = &*self.0;
                let mut token = lock.lock().unwrap();
                while !*token {
                    token = cvar.wait(token).unwrap();
                }
                *token = false;
            }
        }

        impl TokenUnparker {
            pub(crate) fn unpark(&self) {
                let (lock, cvar) = &*self.0;
                *lock.lock().unwrap() = true;
                cvar.notify_one();
            }
        }
    }
}
