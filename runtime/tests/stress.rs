//! Stress: many tasks, many timers, cancellation storms and spawn storms, each bounded so
//! that the whole binary stays well under two minutes in a debug build on two cores
//! (CI runs `cargo test --workspace` in debug).
//!
//! ## Sizing
//! Every load is a named constant below, at the sizes the reliability issue asks for (one
//! million tasks, a hundred thousand timers). They are not scaled down for debug builds:
//! the whole binary takes about 6 s in a debug build on two cores (each test 0.1-2 s), so
//! CI's debug `cargo test --workspace` stays far from its budget.
//!
//! ## Memory
//! Peak memory is read from `/proc/self/status` (`VmHWM`, the resident high-water mark),
//! after resetting the mark through `/proc/self/clear_refs`. Where that is not available
//! (not Linux) the memory bounds are not checked and the test says so on stderr; the rest
//! of each test still runs. The tests of this binary take one lock for their whole run,
//! so no other test's allocations count against a measured one.
//!
//! Not here yet: the 10k-deep chain of nested task groups (needs `TaskGroup`) and the 10k
//! loopback TCP connections (needs `arbor::net`).

mod support;
use arbor_runtime::runtime::{Builder, Handle, Runtime};
use arbor_runtime::sync::Event;
use arbor_runtime::time::{Instant, sleep};
use arbor_runtime::{Task, spawn, yield_now};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Tasks spawned and completed, in waves, by the million-task test.
const TASKS: usize = 1_000_000;
/// Tasks per wave: spawned together, then all awaited.
const WAVE: usize = 10_000;
/// Tasks alive at the same time in the all-at-once test (about 60 MB of them).
const LIVE_TASKS: usize = 200_000;
/// The memory a live task may cost: its allocation, its handle, its queue entries and the
/// wait-list entry it waits in. A task costs about 300 bytes in a debug build.
const BYTES_PER_LIVE_TASK: u64 = 512;
/// Growth allowed on top of the per-task bound: allocator arenas, thread stacks touched for
/// the first time, queue blocks.
const MEMORY_SLACK: u64 = 16 << 20;
/// Timers in each timer test.
const TIMERS: usize = 100_000;
/// Tasks per cancellation-storm round, and rounds per runtime flavour.
const STORM_TASKS: usize = 2_000;
const STORM_ROUNDS: usize = 100;
/// Polls a storm task needs before it completes (so it is woken twice).
const STORM_POLLS: usize = 3;
/// OS threads in the spawn storm, and tasks each spawns.
const SPAWN_THREADS: usize = 8;
const SPAWNS_PER_THREAD: usize = 25_000;

/// One test at a time (see the module header).
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// How long a completed task may take to leave the owned list: a generous bound on a step
/// that follows its completion at once, only there so that a leak fails instead of hanging.
const LEAVE_BOUND: Duration = Duration::from_secs(10);

/// Every task of the runtime is gone. A task leaves the owned list just after it wakes its
/// handle, so the last ones may still be on their way out when the caller gets here.
fn assert_no_task_left(handle: &Handle) {
    let start = std::time::Instant::now();
    while handle.num_alive_tasks() > 0 {
        assert!(
            start.elapsed() < LEAVE_BOUND,
            "{} tasks still alive",
            handle.num_alive_tasks()
        );
        std::thread::yield_now();
    }
}

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

/// A field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Measures how far the resident set grows above its level at `start` while a load runs.
struct PeakGrowth {
    baseline: u64,
}

impl PeakGrowth {
    /// Resets the high-water mark to the current resident set; `None` if the platform
    /// cannot (the caller then skips its memory bound).
    fn start() -> Option<PeakGrowth> {
        // Writing 5 resets VmHWM to VmRSS (Linux 4.0 and later).
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
        let baseline = status_bytes("VmRSS:")?;
        Some(PeakGrowth { baseline })
    }

    fn growth(&self) -> u64 {
        status_bytes("VmHWM:")
            .unwrap_or(0)
            .saturating_sub(self.baseline)
    }
}

fn skip_memory_bound(test: &str) {
    eprintln!(
        "{test}: /proc/self/clear_refs or /proc/self/status unavailable; peak memory not \
         checked on this platform"
    );
}

// ---------------------------------------------------------------------------------------
// (a) Many tasks
// ---------------------------------------------------------------------------------------

/// Spawns `n` tasks from inside a task (so they go to the local queues and get stolen),
/// each yielding once and holding a clone of `token`; awaits them all; returns their sum.
async fn wave(n: usize, token: &Arc<()>) -> usize {
    let token = token.clone();
    spawn(async move {
        let tasks: Vec<Task<usize>> = (0..n)
            .map(|i| {
                let token = token.clone();
                spawn(async move {
                    yield_now().await;
                    drop(token);
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        sum
    })
    .await
    .unwrap()
}

#[test]
fn a_million_tasks_complete_in_waves_in_bounded_memory() {
    let _serial = serial();
    let rt = multi_thread(4);
    let token = Arc::new(());
    // Warm-up: the allocator and the queues reach their steady size.
    rt.block_on(wave(WAVE, &token));
    let peak = PeakGrowth::start();
    let mut total = 0;
    rt.block_on(async {
        for _ in 0..TASKS / WAVE {
            total += wave(WAVE, &token).await;
        }
    });
    assert_eq!(total, TASKS / WAVE * (WAVE * (WAVE - 1) / 2));
    assert_eq!(Arc::strong_count(&token), 1, "a future was never dropped");
    assert_no_task_left(rt.handle());
    match peak {
        Some(peak) => {
            // Completed tasks give their memory back: the peak is one wave's worth, not
            // proportional to the million.
            let bound = WAVE as u64 * BYTES_PER_LIVE_TASK + MEMORY_SLACK;
            let growth = peak.growth();
            eprintln!("peak RSS growth {growth} bytes (bound {bound})");
            assert!(
                growth < bound,
                "peak RSS grew {growth} bytes over {TASKS} tasks in waves of {WAVE}; bound {bound}"
            );
        }
        None => skip_memory_bound("a_million_tasks_complete_in_waves_in_bounded_memory"),
    }
}

#[test]
fn concurrently_live_tasks_cost_a_bounded_amount_of_memory_each() {
    let _serial = serial();
    let rt = multi_thread(4);
    let token = Arc::new(());
    // Warm-up, as above.
    rt.block_on(wave(WAVE, &token));
    let peak = PeakGrowth::start();
    let gate = Arc::new(Event::new());
    let waiting = Arc::new(AtomicUsize::new(0));
    let sum = rt.block_on(async {
        let (g, w, t) = (gate.clone(), waiting.clone(), token.clone());
        let tasks: Vec<Task<usize>> = spawn(async move {
            (0..LIVE_TASKS)
                .map(|i| {
                    let (g, w, t) = (g.clone(), w.clone(), t.clone());
                    spawn(async move {
                        w.fetch_add(1, SeqCst);
                        g.wait().await;
                        drop(t);
                        i
                    })
                })
                .collect()
        })
        .await
        .unwrap();
        // Every task is alive and waiting before any may finish.
        while waiting.load(SeqCst) < LIVE_TASKS {
            sleep(Duration::from_millis(1)).await;
        }
        // (The task that spawned them may not have left the owned list yet.)
        assert!(Handle::current().num_alive_tasks() >= LIVE_TASKS);
        gate.set();
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, LIVE_TASKS * (LIVE_TASKS - 1) / 2);
    assert_eq!(Arc::strong_count(&token), 1);
    assert_no_task_left(rt.handle());
    match peak {
        Some(peak) => {
            let bound = LIVE_TASKS as u64 * BYTES_PER_LIVE_TASK + MEMORY_SLACK;
            let growth = peak.growth();
            eprintln!("peak RSS growth {growth} bytes (bound {bound})");
            assert!(
                growth < bound,
                "peak RSS grew {growth} bytes with {LIVE_TASKS} live tasks; bound {bound} \
                 ({BYTES_PER_LIVE_TASK} bytes a task + {MEMORY_SLACK})"
            );
        }
        None => skip_memory_bound("concurrently_live_tasks_cost_a_bounded_amount_of_memory_each"),
    }
}

// ---------------------------------------------------------------------------------------
// (b) Many timers
// ---------------------------------------------------------------------------------------

/// The sleep of timer `i`: spread over `1..=max_ms` milliseconds, many sharing a tick.
fn timer_duration(i: usize, max_ms: usize) -> Duration {
    Duration::from_millis(1 + (i * 7919 % max_ms) as u64)
}

#[test]
fn a_hundred_thousand_timers_on_virtual_time_fire_exactly_on_time() {
    let _serial = serial();
    const MAX_MS: usize = 10_000;
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let (fired, total) = rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<Task<bool>> = (0..TIMERS)
            .map(|i| {
                spawn(async move {
                    let d = timer_duration(i, MAX_MS);
                    sleep(d).await;
                    // Virtual time stands still while tasks run: each timer fires on its
                    // deadline's tick, never early and never late.
                    start.elapsed() == d
                })
            })
            .collect();
        let mut on_time = 0;
        for task in tasks {
            on_time += usize::from(task.await.unwrap());
        }
        (on_time, start.elapsed())
    });
    assert_eq!(fired, TIMERS, "timers fired off their deadline");
    assert_eq!(total, Duration::from_millis(MAX_MS as u64));
}

#[test]
fn a_hundred_thousand_real_timers_on_the_multi_thread_runtime() {
    let _serial = serial();
    const MAX_MS: usize = 10;
    let rt = multi_thread(4);
    let early = rt.block_on(async {
        let tasks: Vec<Task<bool>> = (0..TIMERS)
            .map(|i| {
                spawn(async move {
                    let d = timer_duration(i, MAX_MS);
                    let start = Instant::now();
                    sleep(d).await;
                    start.elapsed() < d
                })
            })
            .collect();
        let mut early = 0;
        for task in tasks {
            early += usize::from(task.await.unwrap());
        }
        early
    });
    assert_eq!(early, 0, "timers fired before their deadline");
    assert_no_task_left(rt.handle());
}

#[test]
fn a_hundred_thousand_timers_dropped_before_they_fire_do_not_stall_the_wheel() {
    let _serial = serial();
    let rt = multi_thread(2);
    rt.block_on(async {
        // Registered, then dropped before firing: each removal goes through the driver.
        let mut sleeps: Vec<Pin<Box<arbor_runtime::time::Sleep>>> = (0..TIMERS)
            .map(|i| Box::pin(sleep(Duration::from_secs(60) + timer_duration(i, 1000))))
            .collect();
        let waker = Waker::noop();
        for s in &mut sleeps {
            assert!(
                s.as_mut()
                    .poll(&mut Context::from_waker(waker))
                    .is_pending()
            );
        }
        drop(sleeps);
        // The wheel still fires new timers promptly after the mass removal.
        let start = Instant::now();
        sleep(Duration::from_millis(2)).await;
        assert!(start.elapsed() >= Duration::from_millis(2));
    });
}

// ---------------------------------------------------------------------------------------
// (c) Cancellation storms
// ---------------------------------------------------------------------------------------

/// Where a storm task leaves its waker for the waking threads.
#[derive(Default)]
struct Slot {
    waker: Mutex<Option<Waker>>,
}

/// Completes after `STORM_POLLS` polls; counts its drops in `drops[index]`.
struct StormFuture {
    index: usize,
    polls: usize,
    slot: Arc<Slot>,
    drops: Arc<Vec<AtomicUsize>>,
    _token: Arc<()>,
}

impl Future for StormFuture {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls += 1;
        if self.polls >= STORM_POLLS {
            return Poll::Ready(self.index);
        }
        *self.slot.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for StormFuture {
    fn drop(&mut self) {
        self.drops[self.index].fetch_add(1, SeqCst);
    }
}

/// A small xorshift generator, so every thread walks the tasks in its own order.
struct Rand(u32);
impl Rand {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 as usize % n
    }
}

/// One round: `STORM_TASKS` tasks wait on wakers that two OS threads wake (one by value,
/// one by reference) while a third cancels every even-numbered task.
fn storm_round(rt: &Runtime, round: usize) {
    let slots: Arc<Vec<Arc<Slot>>> = Arc::new((0..STORM_TASKS).map(|_| Arc::default()).collect());
    let drops: Arc<Vec<AtomicUsize>> =
        Arc::new((0..STORM_TASKS).map(|_| AtomicUsize::new(0)).collect());
    let token = Arc::new(());
    let tasks: Arc<Vec<Task<usize>>> = Arc::new(
        (0..STORM_TASKS)
            .map(|index| {
                rt.spawn(StormFuture {
                    index,
                    polls: 0,
                    slot: slots[index].clone(),
                    drops: drops.clone(),
                    _token: token.clone(),
                })
            })
            .collect(),
    );
    let all_dropped = {
        let drops = drops.clone();
        move || drops.iter().all(|d| d.load(SeqCst) > 0)
    };
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for by_value in [true, false] {
        let (slots, stop) = (slots.clone(), stop.clone());
        let mut rand = Rand(0x9E37_79B9 ^ ((round as u32) << 1) ^ u32::from(by_value));
        threads.push(std::thread::spawn(move || {
            while !stop.load(SeqCst) {
                let slot = &slots[rand.below(slots.len())];
                if by_value {
                    let waker = slot.waker.lock().unwrap().take();
                    if let Some(w) = waker {
                        w.wake();
                    }
                } else {
                    let waker = slot.waker.lock().unwrap().clone();
                    if let Some(w) = waker {
                        w.wake_by_ref();
                    }
                }
            }
        }));
    }
    {
        let tasks = tasks.clone();
        let mut rand = Rand(0x85EB_CA6B ^ round as u32);
        threads.push(std::thread::spawn(move || {
            let evens: Vec<usize> = (0..tasks.len()).step_by(2).collect();
            // A random walk over the even tasks, so cancels land at every stage.
            for _ in 0..evens.len() * 2 {
                tasks[evens[rand.below(evens.len())]].cancel();
            }
            for &i in &evens {
                tasks[i].cancel();
            }
        }));
    }
    let handle = rt.handle().clone();
    // The current-thread runtime only runs inside `block_on`: drive it until every future
    // is gone.
    rt.block_on(async {
        while !all_dropped() {
            yield_now().await;
        }
    });
    stop.store(true, SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    let tasks = Arc::try_unwrap(tasks).unwrap_or_else(|_| panic!("a thread kept the tasks"));
    let results = rt.block_on(async {
        let mut results = Vec::with_capacity(tasks.len());
        for task in tasks {
            results.push(task.await);
        }
        results
    });
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(out) => assert_eq!(out, i, "round {round}"),
            Err(err) => {
                assert!(err.is_cancelled(), "round {round}: task {i}: {err}");
                assert_eq!(i % 2, 0, "round {round}: task {i} was never cancelled");
            }
        }
        assert_eq!(
            drops[i].load(SeqCst),
            1,
            "round {round}: task {i}'s future dropped twice"
        );
    }
    drop(slots); // the wakers the slots still hold
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "round {round}: a future leaked"
    );
    assert_no_task_left(&handle);
}

#[test]
fn cancellation_storms_drop_every_future_exactly_once() {
    let _serial = serial();
    for (name, make) in [
        (
            "current_thread",
            (|| Builder::new_current_thread().build().unwrap()) as fn() -> Runtime,
        ),
        ("multi_thread_4", || multi_thread(4)),
    ] {
        let rt = make();
        for round in 0..STORM_ROUNDS {
            storm_round(&rt, round);
        }
        drop(rt);
        eprintln!("{name}: {STORM_ROUNDS} storm rounds of {STORM_TASKS} tasks");
    }
}

// ---------------------------------------------------------------------------------------
// (d) Spawn storms
// ---------------------------------------------------------------------------------------

/// `SPAWN_THREADS` OS threads spawn into one runtime through its `Handle` at once: awaited
/// tasks, tasks that spawn a child on their worker, and detached tasks.
fn spawn_storm(rt: &Runtime) {
    let handle = rt.handle().clone();
    let detached_done = Arc::new(AtomicUsize::new(0));
    let finished_threads = Arc::new(AtomicUsize::new(0));
    let collected: Arc<Mutex<Vec<Task<usize>>>> = Arc::default();
    let threads: Vec<_> = (0..SPAWN_THREADS)
        .map(|t| {
            let handle = handle.clone();
            let (detached_done, finished, collected) = (
                detached_done.clone(),
                finished_threads.clone(),
                collected.clone(),
            );
            std::thread::spawn(move || {
                let mut mine = Vec::with_capacity(SPAWNS_PER_THREAD);
                for i in 0..SPAWNS_PER_THREAD {
                    let value = t * SPAWNS_PER_THREAD + i;
                    match i % 3 {
                        0 => mine.push(handle.spawn(async move { value })),
                        1 => mine.push(handle.spawn(async move {
                            // Spawned from the worker: the local queue, then stolen.
                            spawn(async move { value }).await.unwrap()
                        })),
                        _ => {
                            let done = detached_done.clone();
                            drop(handle.spawn(async move {
                                yield_now().await;
                                done.fetch_add(1, SeqCst);
                            }));
                        }
                    }
                }
                collected.lock().unwrap().extend(mine);
                finished.fetch_add(1, SeqCst);
            })
        })
        .collect();
    let detached = (0..SPAWNS_PER_THREAD).filter(|i| i % 3 == 2).count() * SPAWN_THREADS;
    let sum = rt.block_on(async {
        // Drive the runtime (the current-thread one only runs here) while the storm lasts.
        while finished_threads.load(SeqCst) < SPAWN_THREADS {
            sleep(Duration::from_millis(1)).await;
        }
        let tasks = std::mem::take(&mut *collected.lock().unwrap());
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        while detached_done.load(SeqCst) < detached {
            yield_now().await;
        }
        sum
    });
    for t in threads {
        t.join().unwrap();
    }
    let expected: usize = (0..SPAWN_THREADS * SPAWNS_PER_THREAD)
        .filter(|v| v % SPAWNS_PER_THREAD % 3 != 2)
        .sum();
    assert_eq!(sum, expected);
    assert_eq!(detached_done.load(SeqCst), detached);
    assert_no_task_left(&handle);
}

#[test]
fn spawn_storms_from_many_threads_through_a_handle() {
    let _serial = serial();
    for (name, make) in support::flavours() {
        let rt = make();
        spawn_storm(&rt);
        eprintln!("{name}: {SPAWN_THREADS} threads x {SPAWNS_PER_THREAD} spawns");
    }
}
