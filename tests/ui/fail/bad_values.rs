#[arbor::main(flavor = "multi-thread")]
async fn main() {}

#[arbor::test(flavor = current_thread)]
async fn unquoted_flavor() {}

#[arbor::test(flavor = "foo")]
async fn unknown_flavor() {}

#[arbor::test(flavor = "multi_thread", worker_threads = 0)]
async fn zero_workers() {}

#[arbor::test(flavor = "multi_thread", worker_threads = "4")]
async fn quoted_workers() {}

#[arbor::test(flavor = "multi_thread", worker_threads = 2.5)]
async fn fractional_workers() {}

#[arbor::test(start_paused = "true")]
async fn quoted_bool() {}

#[arbor::test(start_paused)]
async fn missing_value() {}
