//! The default `main` (multi-thread) with `worker_threads`: the body runs on the main
//! thread, spawned tasks on the runtime's workers, and the body need not be `Send`.

use std::rc::Rc;
use std::thread;

#[arbor::main(worker_threads = 3)]
async fn main() {
    let not_send = Rc::new(5);
    let on_worker = arbor::spawn(async { thread::current().name().map(str::to_owned) })
        .await
        .unwrap();
    let name = on_worker.expect("arbor names its workers");
    assert!(name.starts_with("arbor-worker-"), "{name}");
    arbor::yield_now().await;
    assert_eq!(*not_send, 5);
    assert_eq!(thread::current().name(), Some("main"));
}
