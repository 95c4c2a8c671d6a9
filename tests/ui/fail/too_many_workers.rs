#[arbor::main(worker_threads = 100_000)]
async fn main() {}
