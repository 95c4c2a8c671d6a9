#[arbor::main(start_paused = true)]
async fn main() {}

#[arbor::test(workers = 4)]
async fn near_miss() {}

#[arbor::test(bogus = 1)]
async fn bogus_option() {}

#[arbor::test(tokio::flavor = "multi_thread")]
async fn path_option() {}
