#[arbor::main]
fn main() {}

#[arbor::test]
fn sync_test() {}
