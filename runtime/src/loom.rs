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

/// A spin-wait hint: std's, or under loom a yield to the other threads (a spin on another
/// thread's progress would otherwise be explored forever).
pub(crate) mod hint {
    #[cfg(not(loom))]
    pub(crate) use std::hint::spin_loop;

    #[cfg(loom)]
    pub(crate) use loom::hint::spin_loop;
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

/// A value set at most once and then read without a lock (`OnceLock`'s `get` and a racing
/// `set`), published through an atomic pointer that comes from this module, so that loom
/// sees the publication: protocol code that reads a lazily made value (`DeadlineTimer`'s
/// driver and timer entry) uses it instead of `OnceLock`, which loom cannot model.
pub(crate) struct SetOnce<T> {
    /// Null, or a `Box::into_raw` pointer that this cell owns until it drops. Set once, by
    /// the `AcqRel` compare-and-swap in `get_or_set`; read with `Acquire`, so a reader sees
    /// the value fully made.
    ptr: sync::atomic::AtomicPtr<T>,
}

impl<T> SetOnce<T> {
    pub(crate) fn new() -> SetOnce<T> {
        SetOnce {
            ptr: sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The value, once set.
    pub(crate) fn get(&self) -> Option<&T> {
        let ptr = self.ptr.load(sync::atomic::Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `get_or_set`, is never
        // replaced, and is freed only by `drop`, which needs `&mut self`: it lives as long
        // as the borrow of `self`.
        unsafe { ptr.as_ref() }
    }

    /// Sets the value unless one is set already. Returns the value the cell holds (`value`,
    /// or the one set first, `value` being dropped then) and whether it is `value`.
    pub(crate) fn get_or_set(&self, value: T) -> (&T, bool) {
        let new = Box::into_raw(Box::new(value));
        match self.ptr.compare_exchange(
            std::ptr::null_mut(),
            new,
            sync::atomic::Ordering::AcqRel,
            sync::atomic::Ordering::Acquire,
        ) {
            // SAFETY: `new` is now owned by the cell and lives as long as it (see `get`).
            Ok(_) => (unsafe { &*new }, true),
            Err(current) => {
                // SAFETY: `new` was not published: this call still owns it.
                drop(unsafe { Box::from_raw(new) });
                // SAFETY: as in `get`.
                (unsafe { &*current }, false)
            }
        }
    }
}

impl<T> Drop for SetOnce<T> {
    fn drop(&mut self) {
        let ptr = self
            .ptr
            .swap(std::ptr::null_mut(), sync::atomic::Ordering::Acquire);
        if !ptr.is_null() {
            // SAFETY: the cell owned the `Box::into_raw` pointer, and `&mut self` means no
            // borrow from `get` is alive.
            drop(unsafe { Box::from_raw(ptr) });
        }
    }
}

// SAFETY: the cell hands out `&T` to any thread that shares it (so `T: Sync`) and drops
// the `T` on whichever thread drops the cell (so `T: Send`); it is otherwise a pointer.
unsafe impl<T: Send + Sync> Send for SetOnce<T> {}
// SAFETY: as above; `get_or_set` moves a `T` in from any thread (`T: Send`).
unsafe impl<T: Send + Sync> Sync for SetOnce<T> {}
