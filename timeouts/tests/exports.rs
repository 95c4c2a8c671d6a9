//! arbor-timeouts's public surface: what its root declares, hidden items included
//! (`tests/support/exports.rs` at the workspace root reads them). Adding, dropping or hiding
//! an item is a deliberate change to this list.

#[path = "../../tests/support/exports.rs"]
mod exports;

#[test]
fn the_root_exports_exactly_the_listed_items() {
    exports::check(
        env!("CARGO_MANIFEST_DIR"),
        "arbor_timeouts",
        &["src/lib.rs"],
        &[
            "MoveOn",
            "Timed",
            "TimedOut",
            "Timeout",
            "TimeoutHandle",
            "fail_after",
            "fail_at",
            "hidden fuzz",
            "move_on_after",
            "move_on_at",
            "timeout",
            "timeout_at",
            "wait_for",
        ],
    );
}
