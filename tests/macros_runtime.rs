//! The code `#[arbor::test]` and `#[arbor::main]` generate, run for real: the flavor and
//! worker count asked for, `Result` returns, kept attributes, and shutdown on return.

use std::error::Error;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::thread;

/// The worker count the multi-thread tests ask for.
const WORKERS: usize = 4;

/// Which worker of the runtime the calling thread is, from arbor's worker thread names
/// (`arbor-worker-<index>`); `None` off the workers.
fn worker_index() -> Option<usize> {
    thread::current()
        .name()?
        .strip_prefix("arbor-worker-")?
        .parse()
        .ok()
}

#[arbor::test]
async fn default_flavor_runs_tasks_on_the_test_thread() {
    let test_thread = thread::current().id();
    assert_eq!(worker_index(), None);
    let tasks: Vec<_> = (0..16u32)
        .map(|i| arbor::spawn(async move { (i * i, thread::current().id()) }))
        .collect();
    for (i, task) in (0..16u32).zip(tasks) {
        let (square, ran_on) = task.await.unwrap();
        assert_eq!(square, i * i);
        assert_eq!(
            ran_on, test_thread,
            "the current-thread runtime has no other thread"
        );
    }
}

#[arbor::test(flavor = "multi_thread", worker_threads = 4)]
async fn multi_thread_spawns_onto_the_workers() {
    assert_eq!(
        worker_index(),
        None,
        "the body itself runs on the test thread"
    );
    let tasks: Vec<_> = (0..64u64)
        .map(|i| {
            arbor::spawn(async move {
                arbor::yield_now().await;
                (i * 3, worker_index())
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        let (value, worker) = task.await.unwrap();
        sum += value;
        let worker = worker.expect("every task runs on a worker thread");
        assert!(
            worker < WORKERS,
            "worker {worker} of a {WORKERS}-worker runtime"
        );
    }
    assert_eq!(sum, 3 * (63 * 64 / 2));
}

#[arbor::test(flavor = "multi_thread", worker_threads = 4)]
async fn tasks_sum_on_four_workers() -> Result<(), arbor::JoinError> {
    let tasks: Vec<_> = (1..=4).map(|i| arbor::spawn(async move { i })).collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await?;
    }
    assert_eq!(sum, 10);
    Ok(())
}

#[arbor::test]
async fn returning_result_converts_errors_with_question_mark() -> Result<(), Box<dyn Error>> {
    let text = arbor::spawn(async { String::from("42") }).await?;
    let n: u64 = arbor::to_thread(move || text.parse()).await?;
    assert_eq!(n, 42);
    let err = "x".parse::<u64>().map_err(Box::<dyn Error>::from);
    assert!(err.is_err());
    Ok(())
}

#[arbor::test]
#[should_panic(expected = "from the test body")]
async fn a_panic_in_the_body_fails_the_test() {
    arbor::yield_now().await;
    panic!("from the test body");
}

#[arbor::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "in a task")]
async fn a_task_panic_resumed_in_the_body_fails_the_test() {
    let err = arbor::spawn(async { panic!("in a task") })
        .await
        .unwrap_err();
    assert!(err.is_panic());
    std::panic::resume_unwind(err.into_panic());
}

/// Sets its flag when dropped.
struct SetOnDrop(&'static AtomicBool);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

static ABANDONED_TASK_DROPPED: AtomicBool = AtomicBool::new(false);

/// Spawns a task that never finishes and returns without awaiting it.
#[arbor::main(worker_threads = 2)]
async fn abandon_a_task() -> u32 {
    let guard = SetOnDrop(&ABANDONED_TASK_DROPPED);
    drop(arbor::spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    }));
    7
}

#[test]
fn main_returns_after_shutting_the_runtime_down() {
    assert_eq!(abandon_a_task(), 7);
    assert!(
        ABANDONED_TASK_DROPPED.load(SeqCst),
        "the runtime cancelled the task left alive before the function returned"
    );
}

/// `start_paused = true`: the clock jumps to each timer, so an hour of sleeps takes no
/// wall time, and virtual time is exact to the tick.
#[arbor::test(start_paused = true)]
async fn start_paused_runs_on_virtual_time() {
    let wall = std::time::Instant::now();
    let start = arbor::time::Instant::now();
    for _ in 0..60 {
        arbor::sleep(std::time::Duration::from_secs(60)).await;
    }
    assert_eq!(start.elapsed(), std::time::Duration::from_secs(3600));
    assert!(wall.elapsed() < std::time::Duration::from_secs(60));
}
