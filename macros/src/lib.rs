//! `#[arbor::main]` and `#[arbor::test]` (arrive with the facade issue).
