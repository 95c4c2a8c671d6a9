//! Scheduler scripts: spawn, yield, wake from other threads, cancel, drop handles, await,
//! panic; every task completes or is dropped exactly once.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    arbor_runtime::fuzz::scheduler_script(data);
});
