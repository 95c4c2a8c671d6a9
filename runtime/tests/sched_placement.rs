//! Where and when the multi-thread scheduler runs tasks: a worker keeps a message-passing
//! pair it spawned to itself, shares a backlog with an idle peer even while it is blocked,
//! and runs a task woken from outside after one long poll of a CPU-heavy neighbour.
//!
//! Each test starts from a known state: it waits (with a generous bound, so a bug fails
//! instead of hanging) until every worker but the one running the test's root task is
//! parked. Nothing in these tests uses timers or IO, so a parked worker wakes only when the
//! scheduler notifies it.

use arbor_runtime::runtime::{Builder, Handle, Runtime};
use arbor_runtime::sync::oneshot;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
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

/// Two CPU-heavy tasks on `rt`: each polls for about 1 ms of spinning, counts the poll in
/// `polls`, and yields, until stopped.
struct Burners {
    polls: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    tasks: Vec<arbor_runtime::Task<()>>,
}

impl Burners {
    /// A multi-thread runtime with one worker, the burners started on it.
    fn on_one_worker() -> (Runtime, Burners) {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let burners = Burners::start(&rt);
        (rt, burners)
    }

    fn start(rt: &Runtime) -> Burners {
        let polls = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..2)
            .map(|_| {
                let (polls, stop) = (polls.clone(), stop.clone());
                rt.spawn(async move {
                    while !stop.load(SeqCst) {
                        let slice = Instant::now();
                        while slice.elapsed() < Duration::from_millis(1) {
                            std::hint::spin_loop();
                        }
                        polls.fetch_add(1, SeqCst);
                        arbor_runtime::yield_now().await;
                    }
                })
            })
            .collect();
        Burners { polls, stop, tasks }
    }

    async fn stop(self) {
        self.stop.store(true, SeqCst);
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

/// A task woken from outside the workers (here, by this test's thread) while CPU-heavy
/// tasks poll for about 1 ms each waits for the poll in progress, and runs at the worker's
/// next scheduling decision: it does not wait for a second long poll. (Before the fix, the
/// short tick of such a task let the injector's look interval double, so the next task
/// woken from outside waited for two long polls: `latency`'s p99 was about two slices.)
/// Counted in long polls, not in time, so a slow machine only makes the polls longer.
#[test]
fn a_task_woken_from_outside_waits_for_one_long_poll_not_two() {
    const PROBES: usize = 24;
    const WARM_UP: usize = 4;
    let (rt, burners) = Burners::on_one_worker();
    let polls = burners.polls.clone();
    let event = Arc::new(arbor_runtime::sync::Event::new());
    let woken_at = Arc::new(AtomicUsize::new(0));
    let (ack, acks) = std::sync::mpsc::channel();
    let probe = {
        let (event, polls, woken_at) = (event.clone(), polls.clone(), woken_at.clone());
        rt.spawn(async move {
            for _ in 0..PROBES {
                event.wait().await;
                event.clear();
                // Long polls that ended between the wake and this poll.
                ack.send(polls.load(SeqCst) - woken_at.load(SeqCst))
                    .unwrap();
            }
        })
    };
    let mut waited = Vec::with_capacity(PROBES);
    for _ in 0..PROBES {
        // Let the probe go back to waiting, so that the wake below lands during a long poll
        // (set earlier, the probe would find the event set in the poll that acked, and
        // wait for nothing: that only makes the count lower).
        thread::sleep(Duration::from_micros(300));
        woken_at.store(polls.load(SeqCst), SeqCst);
        event.set();
        waited.push(acks.recv_timeout(BOUND).expect("the probe never ran"));
    }
    rt.block_on(async {
        probe.await.unwrap();
        burners.stop().await;
    });
    let late = waited[WARM_UP..].iter().filter(|&&n| n >= 2).count();
    assert!(
        late <= (PROBES - WARM_UP) / 4,
        "a task woken from outside waited for two long polls or more {late} times out of {}: \
         {waited:?}",
        PROBES - WARM_UP
    );
}

/// A task woken by another thread *while it runs* is queued as a wake that found it idle
/// would be (the injector, looked at every tick while polls are long), not behind its
/// worker's queue as a `yield_now` is: with two CPU-heavy tasks queued on the only
/// worker, it runs again before either of them polls (it used to wait for both).
#[test]
fn a_task_woken_by_another_thread_while_running_does_not_wait_behind_the_queue() {
    const ROUNDS: usize = 8;
    let (rt, burners) = Burners::on_one_worker();
    let polls = burners.polls.clone();
    // The task hands its waker to this thread and spins, inside its poll, until this
    // thread has woken it; then it returns `Pending`. Each later poll records how many
    // burner polls ended since the previous one returned.
    let (to_waker, wakers) = std::sync::mpsc::channel::<std::task::Waker>();
    let woken = Arc::new(AtomicBool::new(false));
    let waited = Arc::new(Mutex::new(Vec::new()));
    let task = {
        let (polls, woken, waited) = (polls.clone(), woken.clone(), waited.clone());
        rt.spawn(async move {
            let mut returned_at = None;
            let mut round = 0;
            std::future::poll_fn(|cx| {
                if let Some(at) = returned_at {
                    waited.lock().unwrap().push(polls.load(SeqCst) - at);
                }
                if round == ROUNDS {
                    return std::task::Poll::Ready(());
                }
                round += 1;
                woken.store(false, SeqCst);
                to_waker.send(cx.waker().clone()).unwrap();
                let start = Instant::now();
                while !woken.load(SeqCst) {
                    assert!(start.elapsed() < BOUND, "never woken");
                    std::hint::spin_loop();
                }
                returned_at = Some(polls.load(SeqCst));
                std::task::Poll::Pending
            })
            .await;
        })
    };
    for _ in 0..ROUNDS {
        let waker = wakers.recv_timeout(BOUND).expect("the task never ran");
        waker.wake();
        woken.store(true, SeqCst);
    }
    rt.block_on(async {
        task.await.unwrap();
        burners.stop().await;
    });
    let waited = waited.lock().unwrap().clone();
    assert_eq!(waited.len(), ROUNDS);
    let behind = waited.iter().filter(|&&n| n >= 2).count();
    assert!(
        behind <= ROUNDS / 4,
        "a task woken while running waited behind both queued tasks {behind} times out of \
         {ROUNDS}: {waited:?}"
    );
}

/// A task that wakes itself (`yield_now`) still goes behind every task queued on its
/// worker: only wakes from elsewhere take the injector.
#[test]
fn a_task_that_yields_runs_after_the_tasks_queued_on_its_worker() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    for _ in 0..20 {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        rt.block_on(async move {
            arbor_runtime::spawn(async move {
                let others: Vec<_> = (0..3)
                    .map(|i| {
                        let l = l.clone();
                        arbor_runtime::spawn(async move { l.lock().unwrap().push(i) })
                    })
                    .collect();
                arbor_runtime::yield_now().await;
                l.lock().unwrap().push(99);
                for other in others {
                    other.await.unwrap();
                }
            })
            .await
            .unwrap();
        });
        let log = log.lock().unwrap().clone();
        assert_eq!(log.len(), 4);
        assert_eq!(
            log.last(),
            Some(&99),
            "the yielding task ran first: {log:?}"
        );
    }
}
