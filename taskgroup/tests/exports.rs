//! arbor-taskgroup's public surface: what its root declares, hidden items included
//! (`tests/support/exports.rs` at the workspace root reads them). Adding, dropping or hiding
//! an item is a deliberate change to this list.

#[path = "../../tests/support/exports.rs"]
mod exports;

#[test]
fn the_root_exports_exactly_the_listed_items() {
    exports::check(
        env!("CARGO_MANIFEST_DIR"),
        "arbor_taskgroup",
        &["src/lib.rs"],
        &[
            "CancelHandle",
            "CancelScope",
            "Cancelled",
            "ChildBuilder",
            "GroupError",
            "GroupScope",
            "Scoped",
            "Shield",
            "SpawnError",
            "Start",
            "StartError",
            "StartStatus",
            "TaskGroup",
            "hidden fuzz",
            "shield",
        ],
    );
}
