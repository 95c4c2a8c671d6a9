//! Reschedule sequences on a `Timeout` against a model: it fires at the last deadline set,
//! never before, at most once (virtual time).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    arbor_timeouts::fuzz::timeout_reschedule(data);
});
