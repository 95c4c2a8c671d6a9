//! Random trees of task groups (bodies, failing / panicking / sleeping / shielded children,
//! spawned siblings, nested groups, cancellers) against the reference model: outcome, no
//! child outliving its group, no leak.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    arbor_taskgroup::fuzz::group_tree(data);
});
