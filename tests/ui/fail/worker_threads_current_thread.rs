#[arbor::main(flavor = "current_thread", worker_threads = 2)]
async fn main() {}

#[arbor::test(worker_threads = 2)]
async fn workers_without_flavor() {}
