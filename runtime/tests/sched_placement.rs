//! Where the multi-thread scheduler runs tasks: a worker keeps a message-passing pair it
//! spawned to itself, and shares a backlog with an idle peer even while it is blocked.
//!
//! Each test starts from a known state: it waits (with a generous bound, so a bug fails
//! instead of hanging) until every worker but the one running the test's root task is
//! parked. Nothing in these tests uses timers or IO, so a parked worker wakes only when the
//! scheduler notifies it.

use arbor_runtime::runtime::{Builder, Handle, Runtime};
use arbor_runtime::sync::oneshot;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// How long a step that should take microseconds may take before the test fails.
const BOUND: Duration = Duration::from_secs(20);

fn two_workers() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Blocks this thread until `handle` has `parked` workers parked.
fn wait_for_parked(handle: &Handle, parked: usize) {
    let start = Instant::now();
    while handle.num_parked_workers() != parked {
        assert!(start.elapsed() < BOUND, "workers never parked");
        thread::sleep(Duration::from_millis(1));
    }
}

/// The threads a set of tasks were polled on.
#[derive(Clone, Default)]
struct Threads(Arc<Mutex<HashSet<ThreadId>>>);

impl Threads {
    fn record(&self) {
        self.0.lock().unwrap().insert(thread::current().id());
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

#[test]
fn a_message_passing_pair_spawned_together_stays_on_its_worker() {
    const ROUNDS: usize = 200;
    let rt = two_workers();
    wait_for_parked(rt.handle(), 2);
    let threads = Threads::default();
    let seen = threads.clone();
    let handle = rt.handle().clone();
    rt.block_on(rt.spawn(async move {
        // The worker running this task, waking as the last searcher, woke its peer; let the
        // peer find nothing and park again.
        wait_for_parked(&handle, 1);
        for _ in 0..ROUNDS {
            seen.record();
            let (ping_tx, ping_rx) = oneshot::channel::<()>();
            let (pong_tx, pong_rx) = oneshot::channel::<()>();
            let (a, b) = (seen.clone(), seen.clone());
            let pinger = arbor_runtime::spawn(async move {
                a.record();
                ping_tx.send(()).unwrap();
                pong_rx.await.unwrap();
                a.record();
            });
            let ponger = arbor_runtime::spawn(async move {
                b.record();
                ping_rx.await.unwrap();
                b.record();
                pong_tx.send(()).unwrap();
            });
            pinger.await.unwrap();
            ponger.await.unwrap();
        }
        seen.record();
        // Nobody was woken for a lone queued task.
        assert_eq!(handle.num_parked_workers(), 1);
    }))
    .unwrap();
    assert_eq!(threads.count(), 1, "the pairs were split across workers");
}

#[test]
fn a_backlog_is_shared_while_its_worker_is_blocked() {
    const TASKS: usize = 8;
    let rt = two_workers();
    wait_for_parked(rt.handle(), 2);
    let done = Arc::new(AtomicUsize::new(0));
    let handle = rt.handle().clone();
    let count = done.clone();
    rt.block_on(rt.spawn(async move {
        wait_for_parked(&handle, 1);
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let count = count.clone();
                arbor_runtime::spawn(async move {
                    count.fetch_add(1, SeqCst);
                })
            })
            .collect();
        // Block this worker (as a misbehaving task would): the peer must run the queued
        // tasks meanwhile. Only the task in this worker's LIFO slot, and at most one lone
        // task in its queue (`LOCAL_BACKLOG_TO_SHARE`), wait for it.
        let start = Instant::now();
        while count.load(SeqCst) < TASKS - 2 {
            assert!(start.elapsed() < BOUND, "the backlog was never shared");
            thread::sleep(Duration::from_millis(1));
        }
        for task in tasks {
            task.await.unwrap();
        }
    }))
    .unwrap();
    assert_eq!(done.load(SeqCst), TASKS);
}

#[test]
fn the_parked_worker_count_is_zero_on_a_current_thread_runtime() {
    let rt = Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.handle().num_parked_workers(), 0);
}
