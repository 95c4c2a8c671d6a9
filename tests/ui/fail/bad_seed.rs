#[arbor::test(seed = "42")]
async fn quoted_seed() {}

#[arbor::test(seed = -1)]
async fn negative_seed() {}

#[arbor::test(seed = 18446744073709551616)]
async fn seed_too_large() {}

#[arbor::test(flavor = "multi_thread", seed = 1)]
async fn seed_multi_thread() {}

#[arbor::main(seed = 1)]
async fn main() {}
