//! `#[arbor::test(start_paused = true)]`: the test's clock starts paused.

#[arbor::test(start_paused = true)]
async fn an_hour_in_no_time() {
    let start = arbor::time::Instant::now();
    arbor::sleep(std::time::Duration::from_secs(3600)).await;
    assert!(start.elapsed() >= std::time::Duration::from_secs(3600));
}

fn main() {}
