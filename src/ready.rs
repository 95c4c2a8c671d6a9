//! Which of many futures polled in place were woken: so that `gather(iter)` and
//! `as_completed` poll only those, not all of them, on each wake.
//!
//! Each index gets its own waker. Waking it queues the index (once) and wakes the task
//! that polls the set. One lock guards the queue; wakers are never called under it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Wake, Waker};

pub(crate) struct ReadySet {
    shared: Arc<Shared>,
    wakers: Box<[Waker]>,
    /// The indices taken by the last `drain` (kept to reuse its allocation).
    batch: Vec<usize>,
}

struct Shared {
    queue: Mutex<Queue>,
}

struct Queue {
    ready: Vec<usize>,
    queued: Vec<bool>,
    parent: Option<Waker>,
}

struct IndexWaker {
    index: usize,
    shared: Arc<Shared>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Wake for IndexWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut q = self.shared.lock();
            if q.queued[self.index] {
                return;
            }
            q.queued[self.index] = true;
            q.ready.push(self.index);
            q.parent.take()
        };
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl ReadySet {
    /// A set of `n` indices, all ready to be polled first.
    pub(crate) fn new(n: usize) -> ReadySet {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                ready: (0..n).collect(),
                queued: vec![true; n],
                parent: None,
            }),
        });
        let wakers = (0..n)
            .map(|index| {
                Waker::from(Arc::new(IndexWaker {
                    index,
                    shared: shared.clone(),
                }))
            })
            .collect();
        ReadySet {
            shared,
            wakers,
            batch: Vec::new(),
        }
    }

    /// Takes the indices woken since the last call (in wake order), and remembers `cx`'s
    /// waker to wake when more are. The caller polls each with [`waker`](Self::waker).
    pub(crate) fn drain(&mut self, cx: &Context<'_>) -> Vec<usize> {
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        let mut q = self.shared.lock();
        match &q.parent {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => q.parent = Some(cx.waker().clone()),
        }
        std::mem::swap(&mut batch, &mut q.ready);
        for &i in &batch {
            q.queued[i] = false;
        }
        batch
    }

    /// Gives back the vector `drain` returned, to reuse its allocation.
    pub(crate) fn recycle(&mut self, batch: Vec<usize>) {
        self.batch = batch;
    }

    /// The waker of index `i`.
    pub(crate) fn waker(&self, i: usize) -> &Waker {
        &self.wakers[i]
    }
}
