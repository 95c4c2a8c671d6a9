//! Timer-wheel operations against a `BTreeMap` model.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    arbor_runtime::fuzz::wheel_ops(data);
});
