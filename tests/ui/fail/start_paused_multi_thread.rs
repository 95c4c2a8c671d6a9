#[arbor::test(flavor = "multi_thread", start_paused = true)]
async fn paused_on_workers() {}

fn main() {}
