// The checked-in seed corpus of a fuzz target, for the tests that run every seed as an
// ordinary test on stable: `include!`d into the `fuzz::tests` modules of arbor-runtime,
// arbor-taskgroup and arbor-timeouts (each crate sits one directory below the workspace
// root, next to `fuzz/`). Not a fuzz target: cargo-fuzz builds only `fuzz_targets/`.

/// The seeds of `target`, sorted; panics if there are none.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}
