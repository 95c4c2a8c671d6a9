//! `flavor = "current_thread"`: every task runs on the main thread.

use std::thread;

#[arbor::main(flavor = "current_thread")]
async fn main() {
    let main_thread = thread::current().id();
    let tasks: Vec<_> = (0..10)
        .map(|i| arbor::spawn(async move { (i, thread::current().id()) }))
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let (n, ran_on) = task.await.unwrap();
        assert_eq!(n, i);
        assert_eq!(ran_on, main_thread);
    }
}
