//! Compile tests of `#[arbor::main]` and `#[arbor::test]` (trybuild).
//!
//! - `ui/pass/*.rs` must compile, and run to a successful exit: each is a program whose
//!   `main` asserts what the expansion did.
//! - `ui/fail/*.rs` must fail to compile with exactly the errors in the `.stderr` next to
//!   them: the macros' guiding errors, each pointing at the offending token. After an
//!   intended change to a message, regenerate them with
//!   `TRYBUILD=overwrite cargo test -p arbor --test macros` and read the diff.
//!
//! trybuild builds the files as binaries, not with `--test`, so a `#[arbor::test]`
//! function in them is expanded and checked by the macro, then removed with its `#[test]`;
//! `tests/macros_runtime.rs` runs the generated tests for real.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
