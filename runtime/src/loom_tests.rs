//! Loom models of the lock-free protocols: the task state machine (wake vs complete vs
//! cancel vs in-place cancel vs handle drop), the workers' idle protocol, and the parker's
//! hand-off with the driver; tasks as leaves of the cancel tree (`cancel/leaf.rs`): a spawn
//! into a group racing its cancel, and racing its drop (close and cancel in place), and the
//! cancel walk racing a child completing.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p arbor-runtime --release --lib loom`.

use crate::cancel::CancelNode;
use crate::loom::sync::Mutex;
use crate::scheduler::multi_thread::Idle;
use crate::task::{self, Notified, OwnedTask, Schedule, Task, TaskMeta};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A scheduler that queues notified tasks for the test to run.
#[derive(Clone, Default)]
struct Queue(Arc<Mutex<VecDeque<Notified<Queue>>>>);

impl Schedule for Queue {
    fn schedule(&self, task: Notified<Self>) {
        self.0.lock().unwrap().push_back(task);
    }

    fn release(&self, _task: &OwnedTask<Self>) -> Option<OwnedTask<Self>> {
        None
    }
}

impl Queue {
    fn run_all(&self) {
        loop {
            let task = self.0.lock().unwrap().pop_front();
            match task {
                Some(task) => task.run(),
                None => return,
            }
        }
    }
}

/// Ready once `flag` is set; stores its waker for `wake_from` meanwhile. Counts drops.
struct WaitFlag {
    flag: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
    drops: Arc<AtomicUsize>,
}

impl Future for WaitFlag {
    type Output = Arc<AtomicUsize>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.flag.load(SeqCst) {
            Poll::Ready(self.drops.clone())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for WaitFlag {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

struct Setup {
    queue: Queue,
    task: Task<Arc<AtomicUsize>>,
    flag: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
    drops: Arc<AtomicUsize>,
}

fn setup() -> Setup {
    let queue = Queue::default();
    let flag = Arc::new(AtomicBool::new(false));
    let waker = Arc::new(Mutex::new(None));
    let drops = Arc::new(AtomicUsize::new(0));
    let fut = WaitFlag {
        flag: flag.clone(),
        waker: waker.clone(),
        drops: drops.clone(),
    };
    let (owned, notified, task) = task::new_task(fut, queue.clone(), TaskMeta::default());
    // No owned list in these models: `release` returns `None`.
    drop(owned);
    queue.schedule(notified);
    Setup {
        queue,
        task,
        flag,
        waker,
        drops,
    }
}

fn wake_from(flag: &AtomicBool, waker: &Mutex<Option<Waker>>) {
    flag.store(true, SeqCst);
    if let Some(w) = waker.lock().unwrap().take() {
        w.wake();
    }
}

/// Polls a handle once with a no-op waker.
fn poll_once<T>(task: &mut Task<T>) -> Poll<Result<T, crate::JoinError>> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(task).poll(&mut cx)
}

#[test]
fn loom_wake_from_another_thread_races_the_poll() {
    loom::model(|| {
        let Setup {
            queue,
            mut task,
            flag,
            waker,
            drops,
        } = setup();
        let waker2 = waker.clone();
        let th = thread::spawn(move || wake_from(&flag, &waker2));
        queue.run_all();
        th.join().unwrap();
        queue.run_all();
        // Drop any waker still stored so the task's references all go.
        drop(waker.lock().unwrap().take());
        match poll_once(&mut task) {
            Poll::Ready(Ok(_)) => {}
            other => panic!("the task did not complete: {:?}", other.is_ready()),
        }
        assert_eq!(drops.load(SeqCst), 1);
    });
}

#[test]
fn loom_cancel_races_wake_and_completion() {
    loom::model(|| {
        let Setup {
            queue,
            task,
            flag,
            waker,
            drops,
        } = setup();
        let task = Arc::new(task);
        let t2 = task.clone();
        let canceller = thread::spawn(move || {
            t2.cancel();
        });
        // The first poll races the cancel; then the wake races it too.
        queue.run_all();
        wake_from(&flag, &waker);
        queue.run_all();
        canceller.join().unwrap();
        queue.run_all();
        drop(waker.lock().unwrap().take());
        let mut task = Arc::try_unwrap(task).unwrap_or_else(|_| panic!("handle still shared"));
        match poll_once(&mut task) {
            // Completed before the cancel landed, or cancelled: both are fine; nothing else.
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            Poll::Pending => panic!("neither completed nor cancelled"),
        }
        assert_eq!(drops.load(SeqCst), 1, "the future is dropped exactly once");
    });
}

#[test]
fn loom_cancel_in_place_races_the_poll_and_a_wake() {
    loom::model(|| {
        let Setup {
            queue,
            mut task,
            flag,
            waker,
            drops,
        } = setup();
        // A task group's dropped scope cancels a child in place while a worker runs it.
        let child = task.task_ref();
        let dropper = thread::spawn(move || child.cancel_in_place());
        queue.run_all();
        wake_from(&flag, &waker);
        queue.run_all();
        dropper.join().unwrap();
        queue.run_all();
        drop(waker.lock().unwrap().take());
        match poll_once(&mut task) {
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            Poll::Pending => panic!("neither completed nor cancelled"),
        }
        assert_eq!(drops.load(SeqCst), 1, "the future is dropped exactly once");
    });
}

#[test]
fn loom_handle_drop_races_completion() {
    loom::model(|| {
        let Setup {
            queue,
            mut task,
            flag,
            waker,
            drops,
        } = setup();
        // First poll: pending, the task's waker stored; the handle registers its own waker.
        queue.run_all();
        assert!(poll_once(&mut task).is_pending());
        // The handle goes away while the task completes and reads the join waker.
        let handle_thread = thread::spawn(move || drop(task));
        wake_from(&flag, &waker);
        queue.run_all();
        handle_thread.join().unwrap();
        drop(waker.lock().unwrap().take());
        // The output (an Arc clone of `drops`) was dropped by whichever side owned it.
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!(Arc::strong_count(&drops), 1, "the output leaked");
    });
}

/// A parker for the idle-protocol model, with crossbeam's token semantics.
#[derive(Clone, Default)]
struct Parker(Arc<(loom::sync::Mutex<bool>, loom::sync::Condvar)>);

impl Parker {
    fn park(&self) {
        let mut token = self.0.0.lock().unwrap();
        while !*token {
            token = self.0.1.wait(token).unwrap();
        }
        *token = false;
    }

    fn unpark(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_one();
    }
}

/// The shared state of the idle-protocol model.
struct Model {
    idle: Idle,
    queue: Mutex<VecDeque<u32>>,
    parkers: Vec<Parker>,
    got: AtomicUsize,
    total: usize,
    done: AtomicBool,
}

impl Model {
    fn new(workers: usize, total: usize) -> Arc<Model> {
        Arc::new(Model {
            idle: Idle::new(workers),
            queue: Mutex::new(VecDeque::new()),
            parkers: (0..workers).map(|_| Parker::default()).collect(),
            got: AtomicUsize::new(0),
            total,
            done: AtomicBool::new(false),
        })
    }

    fn notify(&self) {
        if let Some(i) = self.idle.worker_to_notify() {
            self.parkers[i].unpark();
        }
    }

    /// The producer: push, then notify (as `Handle::schedule_task` from outside).
    fn produce(&self, item: u32) {
        self.queue.lock().unwrap().push_back(item);
        self.notify();
    }

    /// One worker, as `worker.rs` runs: take work, else search, else park. The worker that
    /// takes the last item wakes the others to exit (shutdown). A lost wake-up leaves an
    /// item queued and every worker parked: loom reports the deadlock.
    fn worker(&self, index: usize) {
        let mut searching = false;
        loop {
            let item = self.queue.lock().unwrap().pop_front();
            if item.is_some() {
                if searching {
                    searching = false;
                    // As `worker.rs`: the last searcher wakes another only for work it
                    // still sees queued.
                    if self.idle.transition_worker_from_searching()
                        && !self.queue.lock().unwrap().is_empty()
                    {
                        self.notify();
                    }
                }
                if self.got.fetch_add(1, SeqCst) + 1 == self.total {
                    self.done.store(true, SeqCst);
                    self.parkers.iter().for_each(Parker::unpark);
                    return;
                }
                continue;
            }
            if self.done.load(SeqCst) {
                return;
            }
            if !searching && self.idle.transition_worker_to_searching() {
                searching = true;
                continue;
            }
            let last = self.idle.transition_worker_to_parked(index, searching);
            if last && !self.queue.lock().unwrap().is_empty() {
                self.notify();
            }
            loop {
                self.parkers[index].park();
                if self.done.load(SeqCst) {
                    return;
                }
                if !self.idle.is_parked(index) {
                    // Woken by a producer, which counted this worker as searching.
                    break;
                }
            }
            searching = true;
        }
    }
}

fn idle_model(workers: usize, items: u32) {
    let model = Model::new(workers, items as usize);
    let threads: Vec<_> = (0..workers)
        .map(|index| {
            let model = model.clone();
            thread::spawn(move || model.worker(index))
        })
        .collect();
    for item in 0..items {
        model.produce(item);
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(model.got.load(SeqCst), items as usize);
}

#[test]
fn loom_idle_no_lost_wakeup_one_worker() {
    loom::model(|| idle_model(1, 2));
}

#[test]
fn loom_idle_no_lost_wakeup_two_workers() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| idle_model(2, 2));
}

// ---- the parker: a wake while the owner is inside the driver is never lost ----

use crate::park::{self, DriverPark};
use loom::sync::Condvar;

/// A model driver: a try-lock, and a sticky notification like `Poller::notify`. Its wait
/// returns only when notified (a real poller may also return on a timer or IO), so a lost
/// wake-up shows up as a deadlock.
#[derive(Default)]
struct ModelDriver {
    held: AtomicBool,
    notified: Mutex<bool>,
    cv: Condvar,
}

impl DriverPark for ModelDriver {
    fn park_in_driver(&self, block: &mut dyn FnMut() -> bool) -> bool {
        if self
            .held
            .compare_exchange(false, true, SeqCst, SeqCst)
            .is_err()
        {
            return false;
        }
        if block() {
            let mut notified = self.notified.lock().unwrap();
            while !*notified {
                notified = self.cv.wait(notified).unwrap();
            }
            *notified = false;
        }
        self.held.store(false, SeqCst);
        true
    }

    fn unpark_driver(&self) {
        *self.notified.lock().unwrap() = true;
        self.cv.notify_all();
    }
}

/// Parks until `flag` is set.
fn park_until(parker: &park::Parker<ModelDriver>, flag: &AtomicBool) {
    while !flag.load(SeqCst) {
        parker.park();
    }
}

/// A thread that sets a flag and then unparks `parker`: the flag, and the thread.
fn flag_then_unpark<D: DriverPark>(
    parker: &park::Parker<D>,
) -> (Arc<AtomicBool>, thread::JoinHandle<()>) {
    let unparker = parker.unparker().clone();
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let th = thread::spawn(move || {
        f.store(true, SeqCst);
        unparker.unpark();
    });
    (flag, th)
}

#[test]
fn loom_park_in_driver_no_lost_wakeup() {
    loom::model(|| {
        let parker = park::Parker::new(std::sync::Arc::new(ModelDriver::default()));
        let (flag, th) = flag_then_unpark(&parker);
        park_until(&parker, &flag);
        th.join().unwrap();
    });
}

#[test]
fn loom_park_two_parkers_one_driver() {
    // One parker waits in the driver, the other on its token (whichever gets the driver
    // first); wakes for both, from a third thread, reach each of them.
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let driver = std::sync::Arc::new(ModelDriver::default());
        let a = park::Parker::new(driver.clone());
        let b = park::Parker::new(driver);
        let (ua, ub) = (a.unparker().clone(), b.unparker().clone());
        let flag_a = Arc::new(AtomicBool::new(false));
        let flag_b = Arc::new(AtomicBool::new(false));
        let (fa, fb) = (flag_a.clone(), flag_b.clone());
        let waker = thread::spawn(move || {
            fa.store(true, SeqCst);
            ua.unpark();
            fb.store(true, SeqCst);
            ub.unpark();
        });
        let tb = thread::spawn(move || park_until(&b, &flag_b));
        park_until(&a, &flag_a);
        tb.join().unwrap();
        waker.join().unwrap();
    });
}

#[test]
fn loom_park_watching_for_the_wakeup_then_sleeping_loses_none() {
    // `ParkThread`'s shape, on its parker (no driver): look for a pending wake-up without
    // sleeping (its spin), then sleep on the token.
    loom::model(|| {
        let parker = park::Parker::new(std::sync::Arc::new(park::NoDriver));
        let (flag, th) = flag_then_unpark(&parker);
        while !flag.load(SeqCst) {
            if parker.take_notification() {
                // The only unpark comes after the flag.
                assert!(flag.load(SeqCst), "a notification nobody sent");
            } else {
                parker.park();
            }
        }
        th.join().unwrap();
    });
}

/// Explores the leaf models with at most this many preemptions: the races need one or two
/// (the lost cancel of a load-only wake showed at three); five keeps each model under a
/// second.
const LEAF_PREEMPTION_BOUND: usize = 5;

fn leaf_model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(LEAF_PREEMPTION_BOUND);
    builder.check(f);
}

/// A group child in miniature: completes once it sees `group` cancelled at a poll, and
/// registers no waker of its own, so only the group's leaf walk (or its first poll) can
/// get it to see the cancel. Counts its polls and its drop.
struct UntilCancelled {
    group: std::sync::Arc<CancelNode>,
    polls: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl Future for UntilCancelled {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, SeqCst);
        if self.group.is_cancelled() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for UntilCancelled {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// Spawns an `UntilCancelled` under `group` on `queue`, as `task::Builder::cancel_node` does:
/// `new_task` lists it as a leaf of `group` before it is submitted.
fn spawn_leaf(
    queue: &Queue,
    group: &std::sync::Arc<CancelNode>,
) -> (Task<()>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (polls, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let fut = UntilCancelled {
        group: group.clone(),
        polls: polls.clone(),
        drops: drops.clone(),
    };
    let meta = TaskMeta {
        cancel: Some(group.clone()),
        ..TaskMeta::default()
    };
    let (owned, notified, task) = task::new_task(fut, queue.clone(), meta);
    // No owned list in these models: `release` returns `None`.
    drop(owned);
    queue.schedule(notified);
    (task, polls, drops)
}

#[test]
fn loom_spawn_into_a_group_races_its_cancel() {
    leaf_model(|| {
        let group = CancelNode::new(None, false);
        let canceller = {
            let group = group.clone();
            thread::spawn(move || {
                group.cancel();
            })
        };
        let queue = Queue::default();
        let (mut task, _polls, drops) = spawn_leaf(&queue, &group);
        // A worker runs the child, maybe before the cancel, maybe after.
        queue.run_all();
        canceller.join().unwrap();
        queue.run_all();
        // The cancel's walk found the leaf and woke it, or the child's first poll (after its
        // registration) read the flag: either way it saw the cancel and completed.
        assert!(
            poll_once(&mut task).is_ready(),
            "a child spawned during the cancel never saw it"
        );
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!(group.leaf_count(), 0, "a completed child stayed listed");
        assert_eq!(group.leaves_listed(), 0, "a completed child stayed unswept");
    });
}

#[test]
fn loom_spawn_into_a_group_races_its_drop() {
    leaf_model(|| {
        let group = CancelNode::new(None, false);
        // The group's scope future is dropped (`Shared::drop_children`): close the leaves,
        // cancel, and cancel each listed child in place.
        let dropper = {
            let group = group.clone();
            thread::spawn(move || {
                let children = group.close_leaves();
                group.cancel();
                for child in &children {
                    child.cancel_in_place();
                }
            })
        };
        // A sibling spawns a child meanwhile (`task::Builder::spawn`): list, submit, then
        // check whether the leaves were closed before the spawn returned.
        let queue = Queue::default();
        let (mut task, polls, drops) = spawn_leaf(&queue, &group);
        task.cancel_if_leaves_closed();
        dropper.join().unwrap();
        // No worker ran anything: the child was cancelled in place by the dropper or by its
        // spawner, never leaked, never polled.
        assert_eq!(drops.load(SeqCst), 1, "a child outlived its dropped group");
        assert_eq!(polls.load(SeqCst), 0);
        queue.run_all();
        match poll_once(&mut task) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            _ => panic!("the child did not complete as cancelled"),
        }
        assert_eq!((group.leaf_count(), group.leaves_listed()), (0, 0));
    });
}

#[test]
fn loom_cancel_walk_races_a_child_completing() {
    leaf_model(|| {
        let group = CancelNode::new(None, false);
        let queue = Queue::default();
        let (mut task, _polls, drops) = spawn_leaf(&queue, &group);
        queue.run_all();
        // The child is idle and listed. A cancel walks the leaves while a runtime shutdown
        // completes the child on this thread (its list entry leaves under the node's lock).
        let canceller = {
            let group = group.clone();
            thread::spawn(move || {
                group.cancel();
            })
        };
        task.task_ref().cancel_in_place();
        canceller.join().unwrap();
        queue.run_all();
        assert!(poll_once(&mut task).is_ready());
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!((group.leaf_count(), group.leaves_listed()), (0, 0));
    });
}

#[test]
fn loom_leaves_racing_each_other_and_a_spawn_are_all_swept_and_freed() {
    // Three threads: a bound of three keeps it to seconds (five took minutes).
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let group = CancelNode::new(None, false);
        let queue = Queue::default();
        let (a, _, a_drops) = spawn_leaf(&queue, &group);
        let (b, _, b_drops) = spawn_leaf(&queue, &group);
        queue.run_all();
        // Two listed children end on two threads (each leaves without the node's lock, and
        // whichever counts last sweeps), while this thread spawns and ends a third.
        let enders: Vec<_> = [a.task_ref(), b.task_ref()]
            .into_iter()
            .map(|child| thread::spawn(move || child.cancel_in_place()))
            .collect();
        let (c, _, c_drops) = spawn_leaf(&queue, &group);
        c.task_ref().cancel_in_place();
        for ender in enders {
            ender.join().unwrap();
        }
        queue.run_all();
        for drops in [a_drops, b_drops, c_drops] {
            assert_eq!(drops.load(SeqCst), 1);
        }
        assert_eq!(
            (group.leaf_count(), group.leaves_listed()),
            (0, 0),
            "a finished child stayed listed"
        );
        drop((a, b, c));
        assert_eq!(
            std::sync::Arc::strong_count(&group),
            1,
            "a finished child was never freed"
        );
    });
}
