//! Random trees of task groups, cancel scopes, shielded scopes and timeouts (deadlines moved
//! from inside and from other tasks, shields entered at any point, groups dropped mid-flight)
//! on virtual time, against the reference model: every scope's report, `expired()`, no child
//! outliving its group, no shield cut short by cancellation, no leak, no hang.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    arbor_timeouts::fuzz::scope_tree(data);
});
