//! Shared test support: virtual-time runtimes and a future that counts its polls and drops.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

use arbor_runtime::runtime::Builder;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs `fut` on a current-thread runtime whose clock starts paused: the clock jumps to the
/// next timer whenever every task is idle, so no wall time passes.
pub fn virtual_time<F: Future>(fut: F) -> F::Output {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(fut)
}

/// `n` milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Counts how often the future it wraps was polled and whether it was dropped.
#[derive(Clone, Default)]
pub struct Counts {
    pub polls: Arc<AtomicUsize>,
    pub drops: Arc<AtomicUsize>,
}

impl Counts {
    /// A future that is pending forever and records its polls and its drop.
    pub fn pending(&self) -> Counted {
        Counted {
            counts: self.clone(),
        }
    }

    pub fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }

    pub fn drops(&self) -> usize {
        self.drops.load(SeqCst)
    }
}

/// See [`Counts::pending`].
pub struct Counted {
    counts: Counts,
}

impl Future for Counted {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.counts.polls.fetch_add(1, SeqCst);
        Poll::Pending
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.counts.drops.fetch_add(1, SeqCst);
    }
}
