//! `#[arbor::test(seed = N)]`: the test runs its ready tasks in the order seed `N` fixes.

#[arbor::test(seed = 42)]
async fn seeded() {
    let task = arbor::spawn(async { 1 });
    assert_eq!(task.await.unwrap(), 1);
}

#[arbor::test(seed = 0, start_paused = true)]
async fn seeded_and_paused() {
    arbor::sleep(std::time::Duration::from_secs(1)).await;
}

fn main() {}
