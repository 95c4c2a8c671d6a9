//! The owned-task list: every live task of a runtime, so that shutdown can cancel them all.
//!
//! Sharded by task id to keep spawn and completion off a single lock; each shard is a small
//! slab (slots plus a free list). A task's slot index lives in its trailer and is only read
//! or written under its shard's lock; `NOT_LISTED` marks a task that shutdown has already
//! taken out, so a late `remove` finds nothing (and never touches a reused slot).

use super::{Notified, OwnedTask, RawTask, Schedule, Task, TaskMeta, new_task};
use crossbeam_utils::CachePadded;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Mutex, MutexGuard};

/// The trailer's slot index for a task that is in no list.
pub(crate) const NOT_LISTED: usize = usize::MAX;

/// Shards per worker: enough that spawning workers rarely meet on a lock.
const SHARDS_PER_WORKER: usize = 4;

pub(crate) struct OwnedTasks<S: 'static> {
    /// `shards.len()` is a power of two; a task lives in shard `id & mask`.
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    mask: usize,
    _scheduler: PhantomData<S>,
}

#[derive(Default)]
struct Shard {
    slots: Vec<Option<RawTask>>,
    free: Vec<usize>,
    len: usize,
    /// How many tasks were ever bound here (`RuntimeMetrics::spawned`): written under the
    /// lock bind takes anyway, so counting costs no shared write of its own.
    spawned: u64,
    /// Set by shutdown; binding into a closed shard cancels the task at once.
    closed: bool,
}

impl<S: Schedule> OwnedTasks<S> {
    pub(crate) fn new(workers: usize) -> OwnedTasks<S> {
        let n = (workers.max(1) * SHARDS_PER_WORKER).next_power_of_two();
        let shards = (0..n)
            .map(|_| CachePadded::new(Mutex::new(Shard::default())))
            .collect();
        OwnedTasks {
            shards,
            mask: n - 1,
            _scheduler: PhantomData,
        }
    }

    fn shard(&self, raw: RawTask) -> MutexGuard<'_, Shard> {
        let index = raw.id().as_u64() as usize & self.mask;
        // A poisoned shard only means a panic elsewhere; the slab stays consistent.
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a task and lists it. Returns its handle and, unless the list is closed, the
    /// `Notified` to submit; a task bound into a closed list is cancelled before its first
    /// poll.
    pub(crate) fn bind<F>(
        &self,
        future: F,
        scheduler: S,
        meta: TaskMeta,
    ) -> (Task<F::Output>, Option<Notified<S>>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (owned, notified, join) = new_task(future, scheduler, meta);
        let raw = owned.raw();
        let mut shard = self.shard(raw);
        shard.spawned += 1;
        if shard.closed {
            drop(shard);
            drop(notified);
            owned.shutdown();
            return (join, None);
        }
        let index = match shard.free.pop() {
            Some(index) => {
                shard.slots[index] = Some(raw);
                index
            }
            None => {
                shard.slots.push(Some(raw));
                shard.slots.len() - 1
            }
        };
        shard.len += 1;
        raw.trailer().owned_slot.store(index, Relaxed);
        drop(shard);
        // The list keeps the owned reference.
        std::mem::forget(owned);
        (join, Some(notified))
    }

    /// Removes a completed task, returning the list's reference.
    pub(crate) fn remove(&self, task: &OwnedTask<S>) -> Option<OwnedTask<S>> {
        let raw = task.raw();
        let mut shard = self.shard(raw);
        let index = raw.trailer().owned_slot.load(Relaxed);
        if index == NOT_LISTED {
            return None;
        }
        let taken = shard.slots[index].take();
        debug_assert!(taken == Some(raw));
        shard.free.push(index);
        shard.len -= 1;
        raw.trailer().owned_slot.store(NOT_LISTED, Relaxed);
        Some(OwnedTask::from_raw(raw))
    }

    /// Closes the list and cancels every task in it. Tasks whose futures are dropped here
    /// may spawn or wake others: those spawns find the list closed and are cancelled at once.
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            let tasks: Vec<OwnedTask<S>> = {
                let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
                shard.closed = true;
                shard.len = 0;
                shard.free.clear();
                std::mem::take(&mut shard.slots)
                    .into_iter()
                    .flatten()
                    .map(|raw| {
                        raw.trailer().owned_slot.store(NOT_LISTED, Relaxed);
                        OwnedTask::from_raw(raw)
                    })
                    .collect()
            };
            // Outside the lock: cancelling runs user destructors.
            for task in tasks {
                task.shutdown();
            }
        }
    }

    /// Calls `f` with each listed task, holding one shard's lock at a time (the list's
    /// reference keeps each task alive meanwhile). `f` must not touch the list, and must run
    /// no user code: it may only read the task's immutable fields.
    pub(crate) fn for_each(&self, mut f: impl FnMut(RawTask)) {
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for raw in shard.slots.iter().flatten() {
                f(*raw);
            }
        }
    }

    /// How many tasks were ever spawned into the list (closed or not).
    pub(crate) fn spawned(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).spawned)
            .sum()
    }

    /// How many tasks are alive.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len)
            .sum()
    }
}
