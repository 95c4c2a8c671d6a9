//! Shared test support: virtual-time runtimes, plus the runtime's (counting futures among
//! it).

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

#[path = "../../../runtime/tests/support/mod.rs"]
mod runtime_support;
#[allow(
    unused_imports,
    reason = "each test binary uses a different part of it"
)]
pub use runtime_support::*;

use arbor_runtime::runtime::Builder;
use std::future::Future;
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
