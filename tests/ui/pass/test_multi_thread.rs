//! `#[arbor::test]` with every option that exists today, next to the attributes a test
//! keeps (`#[should_panic]`, `#[ignore]`, doc comments) and a `Result` return type.

/// A test on four workers.
#[arbor::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_four_workers() -> Result<(), arbor::JoinError> {
    let tasks: Vec<_> = (1..=4).map(|i| arbor::spawn(async move { i })).collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await?;
    }
    assert_eq!(sum, 10);
    Ok(())
}

#[arbor::test]
#[should_panic(expected = "boom")]
async fn panics() {
    panic!("boom");
}

#[arbor::test(flavor = "current_thread")]
#[ignore = "shows that `#[ignore]` is kept"]
async fn ignored() {}

fn main() {}
