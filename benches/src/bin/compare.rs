//! `compare`: the same workloads on arbor, tokio and smol, side by side.
//!
//! # Method
//!
//! * **Same worker count.** Every runtime gets `--workers N` worker threads (default 2):
//!   arbor and tokio through their multi-thread builders, smol as one shared
//!   `async_executor::Executor` driven by N threads that each run
//!   `smol::block_on(executor.run(shutdown))`. In all three, the thread that calls
//!   `block_on` is *not* a worker, so "remote" spawns really come from outside.
//! * **Built once, outside the timer.** For each workload the three runtimes are built
//!   once, before any round, and dropped after the last; building and shutting down are
//!   never timed.
//! * **Alternating order.** A workload runs one untimed warm-up round and then `--rounds`
//!   timed rounds (10 by default, 3 with `--quick`; `--quick` never shrinks a workload,
//!   only the number of rounds). Round `r` visits the runtimes in the order
//!   arbor, tokio, smol rotated by `r`, so no runtime always goes first (cold caches,
//!   frequency ramps) or last.
//! * **Settled before each timed round.** Every timed round is preceded by an untimed
//!   round of the same runtime. Without it a round inherits the heap the previous
//!   runtime's round left: the allocator may just have returned freed pages to the OS
//!   (glibc trims its heap top), and a workload allocating 10k tasks then pays a page fault
//!   per page, which on a VM swung `spawn_many_local` by 2x for every runtime, depending on
//!   which runtime ran before it (the rotation above always puts the same one before).
//! * **Medians.** A round is timed from inside `block_on`, around the whole workload
//!   (or, for a workload that measures one phase, around that phase: `group_cancel` times
//!   from the cancel to the last child dropped), with `std::time::Instant`. The
//!   reported figure is the median of the per-round times divided by the workload's
//!   number of operations: `ns_per_op`.
//! * **Same code.** A workload is written once, generic over [`Spawner`]; each runtime
//!   supplies only spawn / spawn_blocking / yield, and its structured group for the group
//!   workloads (arbor's `TaskGroup`, tokio's `JoinSet`, smol's tasks collected in a `Vec`).
//!   Message passing in the scheduling workloads uses the small portable
//!   [`oneshot`] in this file for all three runtimes, so no runtime is flattered or
//!   penalised by its own channel. The synchronisation workloads (`mpsc_*`,
//!   `mutex_contention`, `semaphore_permits`, `queue_workers`) measure exactly that: each
//!   runtime's own bounded channel, mutex, semaphore and (for arbor) `Queue`, behind
//!   [`Spawner`] methods, doing the same steps on each.
//! * **No less work.** A workload does the same work on every runtime; where a runtime
//!   lacks a primitive, its version is built from that runtime's parts and does the same
//!   steps (tokio's and smol's asyncio-style queue in `queue_workers`), or its column is
//!   left blank (`ON_SMOL`).
//!
//! # Workloads
//!
//! Scheduling: `spawn_many_local`, `spawn_many_remote`, `yield_many`, `ping_pong`,
//! `chained_spawn`, `group_fanout`, `group_cancel`, `latency`, and the scale curves
//! `spawn_scale_{1k,100k,1m}` and `yield_scale_{1k,100k,1m}` (ns per task at 1k, 100k and
//! 1M tasks). Synchronisation: `mpsc_pipeline`, `mpsc_fanin`, `mutex_contention`,
//! `semaphore_permits`, `queue_workers`. Timers: `timer_fanout`, `timeout_ready`,
//! `timeout_reschedule`, `timer_reschedule_many`. I/O: `tcp_echo`, `blocking`,
//! `fs_read_small`, `process_spawn`, `http_hello` (feature `http`). Memory:
//! `idle_task_memory`, below. Each workload's doc comment says what it does and what an
//! op is.
//!
//! # Memory per idle task
//!
//! `idle_task_memory` is not timed: on a fresh runtime per measurement it spawns 100k
//! tasks, each blocked in a one-hour sleep on the runtime's timer, and reports the bytes
//! they hold per task, counted by this binary's global allocator (the system allocator
//! plus a live-bytes counter that is only on during that measurement; the sizes asked
//! for, without malloc's per-chunk overhead). It prints as its own table (bytes per task
//! and ratios), or in `--json` mode as
//! `{"bench": "idle_task_memory", "runtime": "arbor", "workers": 2, "bytes_per_task": 364.0}`.
//!
//! # Usage and output
//!
//! `cargo run --release -p arbor-benches --bin compare -- [--workers N] [--rounds N]
//! [--quick] [--json] [--bench NAME[,NAME...]]...` prints a table (ratios below 1.0 mean
//! arbor is faster), `idle_task_memory`'s table, and, for `spawn_many_local`, arbor's
//! spawn+complete cost; `--json`
//! prints one object per line instead:
//! `{"bench": "NAME", "runtime": "arbor", "workers": 2, "ns_per_op": 123.4}`.
//!
//! **Adding a workload:** a unit struct implementing [`Workload`], plus `entry::<It>()` in
//! [`WORKLOADS`]. Something runtime-specific (a timer, a socket) becomes a [`Spawner`]
//! method with one implementation per runtime.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Debug;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use std::{env, process};

/// Worker threads per runtime when `--workers` is not given.
const DEFAULT_WORKERS: usize = 2;
/// Timed rounds per workload when neither `--rounds` nor `--quick` is given.
const DEFAULT_ROUNDS: usize = 10;
/// Timed rounds per workload with `--quick` (workload sizes stay the same).
const QUICK_ROUNDS: usize = 3;
/// Untimed rounds per runtime before the timed ones (thread pools, allocator warm-up).
const WARMUP_ROUNDS: usize = 1;
/// Runtime names, in the order of the `[f64; 3]` results.
const RUNTIMES: [&str; 3] = ["arbor", "tokio", "smol"];

/// The table's header; rows are formatted to the same widths in `main`.
const HEADER: &str = "bench                  workers  arbor ns/op  tokio ns/op   smol ns/op  arbor/tokio  arbor/smol";
/// The header of `idle_task_memory`'s table: bytes allocated per idle task.
const MEMORY_HEADER: &str = "memory                 workers  arbor B/task tokio B/task  smol B/task  arbor/tokio  arbor/smol";
const USAGE: &str = "usage: compare [--workers N] [--rounds N] [--quick] [--json] \
                     [--bench NAME[,NAME...]]...";

// ====== What a workload may ask of a runtime ===========================================

/// A future a runtime can spawn: `Send + 'static`, with a `Send + 'static` output.
trait Spawnable: Future<Output: Send + 'static> + Send + 'static {}
impl<F: Future<Output: Send + 'static> + Send + 'static> Spawnable for F {}

/// The per-runtime operations a workload uses. Cheap to clone and movable into tasks.
trait Spawner: Clone + Send + Sync + 'static {
    /// This runtime's place in [`RUNTIMES`] (`latency` and `http_hello` file their
    /// latencies under it).
    const INDEX: usize;
    /// Serves hyper's hello world on `listener` until dropped (`http_hello`): arbor's
    /// `http::serve`, hyper-util's auto builder on tokio; smol has no hyper server.
    #[cfg(feature = "http")]
    fn http_hello_server(listener: std::net::TcpListener) -> impl Future<Output = ()> + Send;
    /// A running task (or blocking call): resolves to its output, panicking if it failed.
    type Join<T: Send + 'static>: Future<Output = T> + Send + 'static;
    /// Spawns `fut` as a task.
    fn spawn<F: Spawnable>(&self, fut: F) -> Self::Join<F::Output>;
    /// Spawns `fut` and lets it run to completion on its own.
    fn spawn_detached(&self, fut: impl Future<Output = ()> + Send + 'static);
    /// Runs `f` on the runtime's blocking pool.
    fn spawn_blocking<R: Send + 'static>(&self, f: impl BlockingFn<R>) -> Self::Join<R>;
    /// Reads a whole file with the runtime's own file API.
    fn read_file(path: Arc<PathBuf>) -> impl Future<Output = Vec<u8>> + Send + 'static;
    /// Runs `true` as a child process with the runtime's process API and waits for it.
    fn run_true() -> impl Future<Output = ()> + Send + 'static;
    /// Yields once to the scheduler.
    fn yield_now(&self) -> impl Future<Output = ()> + Send;
    /// Sleeps for `d` on the runtime's timer.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send + 'static;
    /// `fut` under a timeout of `d` that does not pass (arbor's `timeout`, tokio's
    /// `time::timeout`, smol: `future::or` with a `Timer`); its output.
    fn timeout<F: Future<Output: Send> + Send>(
        d: Duration,
        fut: F,
    ) -> impl Future<Output = F::Output> + Send;
    /// Registers a timer an hour away, then moves its deadline later `n` times (arbor's
    /// `TimeoutHandle::reschedule`, tokio's `Sleep::reset`, smol's `Timer::set_at`).
    fn reschedule_later(n: usize) -> impl Future<Output = ()> + Send;

    /// The runtime's TCP listener and stream types, for `tcp_echo`.
    type Listener: Send + Sync + 'static;
    type Stream: Send + 'static;
    /// Binds a listener to a free loopback port; returns it and its address.
    fn tcp_bind(&self) -> impl Future<Output = (Self::Listener, SocketAddr)> + Send;
    /// Accepts one connection.
    fn tcp_accept(listener: &Self::Listener) -> impl Future<Output = Self::Stream> + Send;
    /// Connects to `addr`, with `TCP_NODELAY` set (as on accepted streams).
    fn tcp_connect(addr: SocketAddr) -> impl Future<Output = Self::Stream> + Send;
    /// Writes all of `buf`.
    fn write_all(stream: &mut Self::Stream, buf: &[u8]) -> impl Future<Output = ()> + Send;
    /// Fills `buf`.
    fn read_exact(stream: &mut Self::Stream, buf: &mut [u8]) -> impl Future<Output = ()> + Send;
    /// Runs `n` children made by `child` in one structured group (arbor's `TaskGroup`,
    /// tokio's `JoinSet`, smol: its tasks collected and awaited) and waits for all of them.
    fn group_fanout<C: Spawnable<Output = ()>>(
        &self,
        n: usize,
        child: impl Fn() -> C + Send,
    ) -> impl Future<Output = ()> + Send;
    /// Runs `n` children made by `child` (they never finish, and count themselves in
    /// `started` when they start) in one group, waits until all have started, then cancels
    /// them all and waits until every child's future has been dropped. Returns the time
    /// from the cancel to the last drop.
    fn group_cancel<C: Spawnable<Output = ()>>(
        &self,
        n: usize,
        child: impl Fn() -> C + Send,
        started: Arc<AtomicUsize>,
    ) -> impl Future<Output = Duration> + Send;

    /// The runtime's own bounded mpsc channel (arbor's `sync::mpsc`, tokio's `sync::mpsc`,
    /// smol's `channel`, i.e. async-channel): its sender and receiver.
    type Tx<T: Send + 'static>: Clone + Send + Sync + 'static;
    type Rx<T: Send + 'static>: Send + 'static;
    /// A channel holding at most `capacity` values.
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Tx<T>, Self::Rx<T>);
    /// Sends `value`, waiting while the channel is full (panics if the receiver is gone).
    fn send<T: Send + 'static>(tx: &Self::Tx<T>, value: T) -> impl Future<Output = ()> + Send;
    /// The next value; `None` once every sender is gone and the channel is empty.
    fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> impl Future<Output = Option<T>> + Send;

    /// The runtime's async mutex (arbor's `sync::Mutex`, tokio's `sync::Mutex`, smol's
    /// `lock::Mutex`, i.e. async-lock).
    type Mutex<T: Send + 'static>: Send + Sync + 'static;
    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T>;
    /// Locks `mutex`, runs `f` on the value, unlocks.
    fn with_lock<T: Send + 'static, R: Send>(
        mutex: &Self::Mutex<T>,
        f: impl FnOnce(&mut T) -> R + Send,
    ) -> impl Future<Output = R> + Send;

    /// The runtime's async semaphore (arbor's `sync::Semaphore`, tokio's `sync::Semaphore`,
    /// smol's `lock::Semaphore`).
    type Semaphore: Send + Sync + 'static;
    fn semaphore(permits: usize) -> Self::Semaphore;
    /// Acquires one permit, runs `fut` holding it, releases it.
    fn with_permit<F: Future<Output: Send> + Send>(
        semaphore: &Self::Semaphore,
        fut: F,
    ) -> impl Future<Output = F::Output> + Send;

    /// asyncio's `Queue` as a worker pool uses it (`queue_workers`): the putting side
    /// (`put`, `join`; dropping it shuts the queue down) and the getting side the workers
    /// share (`get`, `task_done`). arbor: its `sync::Queue`; tokio and smol: built from
    /// their bounded channel, an unfinished-items counter and a wake-up for `join` (see
    /// their implementations).
    type QueuePut: Send + Sync + 'static;
    type QueueGet: Clone + Send + Sync + 'static;
    fn work_queue(maxsize: usize) -> (Self::QueuePut, Self::QueueGet);
    /// Puts `item`, waiting while the queue is full.
    fn put(queue: &Self::QueuePut, item: u64) -> impl Future<Output = ()> + Send;
    /// Waits until every item put has been marked done.
    fn join(queue: &Self::QueuePut) -> impl Future<Output = ()> + Send;
    /// Takes an item, waiting while the queue is empty; `None` once it is shut down and
    /// empty.
    fn get(queue: &Self::QueueGet) -> impl Future<Output = Option<u64>> + Send;
    /// Marks one item taken by `get` as processed.
    fn task_done(queue: &Self::QueueGet);

    /// A timer (arbor's and tokio's `Sleep`, smol's `Timer`) `d` from now, and moving a
    /// registered one's deadline to `d` from now (a clock read and a reset:
    /// `Sleep::reset` on arbor and tokio, `Timer::set_after` on smol).
    type Timer: Future + Send + 'static;
    fn timer(d: Duration) -> Self::Timer;
    fn reset_timer(timer: Pin<&mut Self::Timer>, d: Duration);
}

/// A closure for a blocking pool.
trait BlockingFn<R>: FnOnce() -> R + Send + 'static {}
impl<R, F: FnOnce() -> R + Send + 'static> BlockingFn<R> for F {}

/// A runtime under test: built once per workload, then asked to `block_on` each round.
trait Rt {
    type Spawner: Spawner;
    fn build(workers: usize) -> Self;
    fn spawner(&self) -> Self::Spawner;
    fn block_on<F: Future>(&self, fut: F) -> F::Output;
}

/// Adapts a join handle that resolves to `Result<T, E>` into one that resolves to `T`.
#[derive(Debug)]
struct Joined<J>(J);

impl<J: Future<Output = Result<T, E>> + Unpin, T, E: Debug> Future for Joined<J> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|res| res.expect("benchmark task failed"))
    }
}

// ====== arbor ===========================================================================

type ArborRt = arbor::runtime::Runtime;

#[derive(Clone, Copy, Debug)]
struct ArborSpawner;

impl Rt for ArborRt {
    type Spawner = ArborSpawner;
    fn build(workers: usize) -> Self {
        let builder = arbor::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .build();
        builder.expect("building the arbor runtime")
    }
    fn spawner(&self) -> ArborSpawner {
        ArborSpawner
    }
    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        ArborRt::block_on(self, fut) // the inherent method
    }
}

impl Spawner for ArborSpawner {
    const INDEX: usize = 0;
    #[cfg(feature = "http")]
    async fn http_hello_server(listener: std::net::TcpListener) {
        use arbor::http::hyper::service::service_fn;
        let listener = arbor::net::TcpListener::from_std(listener).unwrap();
        arbor::http::serve(listener, service_fn(http_bench::hello))
            .await
            .unwrap();
    }
    type Join<T: Send + 'static> = Joined<arbor::Task<T>>;
    fn spawn<F: Spawnable>(&self, fut: F) -> Self::Join<F::Output> {
        Joined(arbor::spawn(fut))
    }
    fn spawn_detached(&self, fut: impl Future<Output = ()> + Send + 'static) {
        drop(arbor::spawn(fut)); // dropping an arbor `Task` detaches it
    }
    fn spawn_blocking<R: Send + 'static>(&self, f: impl BlockingFn<R>) -> Self::Join<R> {
        Joined(arbor::task::spawn_blocking(f))
    }
    async fn read_file(path: Arc<PathBuf>) -> Vec<u8> {
        arbor::fs::read(&*path).await.unwrap()
    }
    async fn run_true() {
        let status = arbor::process::Command::new("true").status().await;
        assert!(status.unwrap().success());
    }
    fn yield_now(&self) -> impl Future<Output = ()> + Send {
        arbor::yield_now()
    }
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send + 'static {
        arbor::sleep(d)
    }
    async fn timeout<F: Future<Output: Send> + Send>(d: Duration, fut: F) -> F::Output {
        arbor::timeout(d, fut).await.expect("no timeout")
    }
    async fn reschedule_later(n: usize) {
        let start = arbor::time::Instant::now();
        let t = arbor::Timeout::after(RESCHEDULE_FIRST);
        let h = t.handle();
        t.run(async move {
            arbor::yield_now().await; // the timer registers at the first Pending
            for i in 0..n {
                h.reschedule(Some(
                    start + RESCHEDULE_FIRST + Duration::from_millis(i as u64),
                ));
            }
        })
        .await
        .expect("no timeout");
    }
    type Listener = arbor::net::TcpListener;
    type Stream = arbor::net::TcpStream;
    async fn tcp_bind(&self) -> (Self::Listener, SocketAddr) {
        let listener = arbor::net::TcpListener::bind(LOOPBACK).await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        (listener, addr)
    }
    async fn tcp_accept(listener: &Self::Listener) -> Self::Stream {
        let (stream, _) = listener.accept().await.expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        stream
    }
    async fn tcp_connect(addr: SocketAddr) -> Self::Stream {
        let stream = arbor::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
    }
    async fn write_all(stream: &mut Self::Stream, buf: &[u8]) {
        stream.write_all(buf).await.expect("write");
    }
    async fn read_exact(stream: &mut Self::Stream, buf: &mut [u8]) {
        stream.read_exact(buf).await.expect("read");
    }
    async fn group_fanout<C: Spawnable<Output = ()>>(
        &self,
        n: usize,
        child: impl Fn() -> C + Send,
    ) {
        arbor::TaskGroup::<()>::scope(|tg| async move {
            for _ in 0..n {
                let child = child();
                drop(tg.spawn(async move {
                    child.await;
                    Ok(())
                }));
            }
            Ok(())
        })
        .await
        .expect("the group failed");
    }
    async fn group_cancel<C: Spawnable<Output = ()>>(
        &self,
        n: usize,
        child: impl Fn() -> C + Send,
        started: Arc<AtomicUsize>,
    ) -> Duration {
        let mut cancelled_at = None;
        let res = arbor::TaskGroup::<()>::scope(|tg| {
            let cancelled_at = &mut cancelled_at;
            async move {
                for _ in 0..n {
                    let child = child();
                    drop(tg.spawn(async move {
                        child.await;
                        Ok(())
                    }));
                }
                wait_until_started(&started, n, arbor::yield_now).await;
                *cancelled_at = Some(Instant::now());
                tg.cancel();
                Ok(())
            }
        })
        .await;
        // The scope resolves once every child's future has been dropped.
        assert!(res.expect_err("the group was cancelled").is_cancelled());
        cancelled_at.expect("the body ran").elapsed()
    }
    type Tx<T: Send + 'static> = arbor::sync::mpsc::Sender<T>;
    type Rx<T: Send + 'static> = arbor::sync::mpsc::Receiver<T>;
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        arbor::sync::mpsc::channel(capacity)
    }
    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, value: T) {
        assert!(tx.send(value).await.is_ok(), "the receiver is gone");
    }
    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await
    }
    type Mutex<T: Send + 'static> = arbor::sync::Mutex<T>;
    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        arbor::sync::Mutex::new(value)
    }
    async fn with_lock<T: Send + 'static, R: Send>(
        mutex: &Self::Mutex<T>,
        f: impl FnOnce(&mut T) -> R + Send,
    ) -> R {
        f(&mut *mutex.lock().await)
    }
    type Semaphore = arbor::sync::Semaphore;
    fn semaphore(permits: usize) -> Self::Semaphore {
        arbor::sync::Semaphore::new(permits)
    }
    async fn with_permit<F: Future<Output: Send> + Send>(
        semaphore: &Self::Semaphore,
        fut: F,
    ) -> F::Output {
        let _permit = semaphore.acquire().await;
        fut.await
    }
    type QueuePut = ArborQueuePut;
    type QueueGet = Arc<arbor::sync::Queue<u64>>;
    fn work_queue(maxsize: usize) -> (Self::QueuePut, Self::QueueGet) {
        let queue = Arc::new(arbor::sync::Queue::new(maxsize));
        (ArborQueuePut(queue.clone()), queue)
    }
    async fn put(queue: &Self::QueuePut, item: u64) {
        queue.0.put(item).await.expect("the queue is not shut down");
    }
    async fn join(queue: &Self::QueuePut) {
        queue.0.join().await;
    }
    async fn get(queue: &Self::QueueGet) -> Option<u64> {
        queue.get().await.ok()
    }
    fn task_done(queue: &Self::QueueGet) {
        queue.task_done();
    }
    type Timer = arbor::time::Sleep;
    fn timer(d: Duration) -> Self::Timer {
        arbor::sleep(d)
    }
    fn reset_timer(timer: Pin<&mut Self::Timer>, d: Duration) {
        timer.get_mut().reset(arbor::time::Instant::now() + d);
    }
}

/// The putting side of `queue_workers`' arbor `Queue`: dropping it shuts the queue down
/// (so the workers' `get` fails once it is empty, as asyncio's `Queue.shutdown()`).
#[derive(Debug)]
struct ArborQueuePut(Arc<arbor::sync::Queue<u64>>);

impl Drop for ArborQueuePut {
    fn drop(&mut self) {
        self.0.shutdown(false);
    }
}

// ====== tokio (multi-thread runtime) ====================================================

type TokioRt = tokio::runtime::Runtime;

#[derive(Clone, Copy, Debug)]
struct TokioSpawner;

impl Rt for TokioRt {
    type Spawner = TokioSpawner;
    fn build(workers: usize) -> Self {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        let rt = builder.worker_threads(workers).enable_all().build();
        rt.expect("building the tokio runtime")
    }
    fn spawner(&self) -> TokioSpawner {
        TokioSpawner
    }
    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        TokioRt::block_on(self, fut) // the inherent method
    }
}

impl Spawner for TokioSpawner {
    const INDEX: usize = 1;
    #[cfg(feature = "http")]
    async fn http_hello_server(listener: std::net::TcpListener) {
        use hyper::service::service_fn;
        use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap(); // as arbor's serve does
            tokio::spawn(async move {
                // The same work as arbor's `serve`: HTTP/1's header read timeout (30 s) on
                // the runtime's timer.
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                builder
                    .http1()
                    .timer(TokioTimer::new())
                    .header_read_timeout(http_bench::HEADER_READ_TIMEOUT);
                builder.http2().timer(TokioTimer::new());
                let conn =
                    builder.serve_connection(TokioIo::new(stream), service_fn(http_bench::hello));
                let _ = conn.await;
            });
        }
    }
    type Join<T: Send + 'static> = Joined<tokio::task::JoinHandle<T>>;
    fn spawn<F: Spawnable>(&self, fut: F) -> Self::Join<F::Output> {
        Joined(tokio::spawn(fut))
    }
    fn spawn_detached(&self, fut: impl Future<Output = ()> + Send + 'static) {
        drop(tokio::spawn(fut)); // dropping a tokio `JoinHandle` detaches the task
    }
    fn spawn_blocking<R: Send + 'static>(&self, f: impl BlockingFn<R>) -> Self::Join<R> {
        Joined(tokio::task::spawn_blocking(f))
    }
    async fn read_file(path: Arc<PathBuf>) -> Vec<u8> {
        tokio::fs::read(&*path).await.unwrap()
    }
    async fn run_true() {
        let status = tokio::process::Command::new("true").status().await;
        assert!(status.unwrap().success());
    }
    fn yield_now(&self) -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep(d)
    }
    async fn timeout<F: Future<Output: Send> + Send>(d: Duration, fut: F) -> F::Output {
        tokio::time::timeout(d, fut).await.expect("no timeout")
    }
    async fn reschedule_later(n: usize) {
        let start = tokio::time::Instant::now();
        let mut sleep = Box::pin(tokio::time::sleep(RESCHEDULE_FIRST));
        poll_once(sleep.as_mut()).await;
        for i in 0..n {
            sleep
                .as_mut()
                .reset(start + RESCHEDULE_FIRST + Duration::from_millis(i as u64));
        }
    }
    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;
    async fn tcp_bind(&self) -> (Self::Listener, SocketAddr) {
        let listener = tokio::net::TcpListener::bind(LOOPBACK).await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        (listener, addr)
    }
    async fn tcp_accept(listener: &Self::Listener) -> Self::Stream {
        let (stream, _) = listener.accept().await.expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        stream
    }
    async fn tcp_connect(addr: SocketAddr) -> Self::Stream {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
    }
    async fn write_all(stream: &mut Self::Stream, buf: &[u8]) {
        tokio::io::AsyncWriteExt::write_all(stream, buf)
            .await
            .expect("write");
    }
    async fn read_exact(stream: &mut Self::Stream, buf: &mut [u8]) {
        tokio::io::AsyncReadExt::read_exact(stream, buf)
            .await
            .expect("read");
    }
    async fn group_fanout<C: Spawnable<Output = ()>>(
        &self,
        n: usize,
        child: impl Fn() -> C + Send,
    ) {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            set.spawn(child());
        }
        while let Some(res) = set.join_next().await {
            res.expect("a child failed");
        }
    }
    async fn group_cancel<C: Spawnable<Output = ()>>(
        &self,
        n: usize,
        child: impl Fn() -> C + Send,
        started: Arc<AtomicUsize>,
    ) -> Duration {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            set.spawn(child());
        }
        wait_until_started(&started, n, tokio::task::yield_now).await;
        let cancelled_at = Instant::now();
        set.abort_all();
        // `join_next` returns a task once its future has been dropped.
        while let Some(res) = set.join_next().await {
            assert!(res.expect_err("the child was aborted").is_cancelled());
        }
        cancelled_at.elapsed()
    }
    type Tx<T: Send + 'static> = tokio::sync::mpsc::Sender<T>;
    type Rx<T: Send + 'static> = tokio::sync::mpsc::Receiver<T>;
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        tokio::sync::mpsc::channel(capacity)
    }
    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, value: T) {
        assert!(tx.send(value).await.is_ok(), "the receiver is gone");
    }
    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await
    }
    type Mutex<T: Send + 'static> = tokio::sync::Mutex<T>;
    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        tokio::sync::Mutex::new(value)
    }
    async fn with_lock<T: Send + 'static, R: Send>(
        mutex: &Self::Mutex<T>,
        f: impl FnOnce(&mut T) -> R + Send,
    ) -> R {
        f(&mut *mutex.lock().await)
    }
    type Semaphore = tokio::sync::Semaphore;
    fn semaphore(permits: usize) -> Self::Semaphore {
        tokio::sync::Semaphore::new(permits)
    }
    async fn with_permit<F: Future<Output: Send> + Send>(
        semaphore: &Self::Semaphore,
        fut: F,
    ) -> F::Output {
        let _permit = semaphore.acquire().await.expect("the semaphore is open");
        fut.await
    }
    type QueuePut = TokioQueuePut;
    type QueueGet = Arc<TokioQueueGet>;
    fn work_queue(maxsize: usize) -> (Self::QueuePut, Self::QueueGet) {
        let (tx, rx) = tokio::sync::mpsc::channel(maxsize);
        let unfinished = Arc::new(Unfinished::default());
        let get = TokioQueueGet {
            rx: tokio::sync::Mutex::new(rx),
            unfinished: unfinished.clone(),
        };
        (TokioQueuePut { tx, unfinished }, Arc::new(get))
    }
    async fn put(queue: &Self::QueuePut, item: u64) {
        // Counted before it can be taken, as asyncio counts at `put`.
        queue.unfinished.count.fetch_add(1, Relaxed);
        assert!(queue.tx.send(item).await.is_ok(), "the workers are gone");
    }
    async fn join(queue: &Self::QueuePut) {
        let all_done = &queue.unfinished.all_done;
        loop {
            let mut notified = std::pin::pin!(all_done.notified());
            notified.as_mut().enable(); // registered before the check: no lost wake-up
            if queue.unfinished.count.load(Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
    async fn get(queue: &Self::QueueGet) -> Option<u64> {
        // tokio's mpsc has one receiver: the workers take turns at it through a mutex.
        queue.rx.lock().await.recv().await
    }
    fn task_done(queue: &Self::QueueGet) {
        if queue.unfinished.count.fetch_sub(1, AcqRel) == 1 {
            queue.unfinished.all_done.notify_waiters();
        }
    }
    type Timer = tokio::time::Sleep;
    fn timer(d: Duration) -> Self::Timer {
        tokio::time::sleep(d)
    }
    fn reset_timer(timer: Pin<&mut Self::Timer>, d: Duration) {
        timer.reset(tokio::time::Instant::now() + d);
    }
}

/// asyncio's `Queue` for `queue_workers`, built from tokio's parts: a bounded mpsc channel
/// (the items; dropping its sender is the shutdown), its receiver behind a tokio `Mutex`
/// (several workers share it), and asyncio's unfinished-items count with a `Notify` that
/// `task_done` rings when the count reaches zero (`join` waits for it). The same steps as
/// arbor's `Queue`: a put, a get and a `task_done` per item, a `join` at the end.
#[derive(Debug)]
struct TokioQueuePut {
    tx: tokio::sync::mpsc::Sender<u64>,
    unfinished: Arc<Unfinished<tokio::sync::Notify>>,
}

/// The getting side of [`TokioQueuePut`]'s queue.
#[derive(Debug)]
struct TokioQueueGet {
    rx: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<u64>>,
    unfinished: Arc<Unfinished<tokio::sync::Notify>>,
}

/// asyncio's count of items put and not yet marked done, and how `join` is woken.
#[derive(Debug, Default)]
struct Unfinished<W> {
    count: AtomicUsize,
    all_done: W,
}

// ====== smol (one async-executor driven by N threads) ===================================

/// The executor (inside its spawner), the channel whose closing tells every worker thread
/// to return, and those threads, joined on drop.
struct SmolRt(SmolSpawner, smol::channel::Sender<()>, Vec<JoinHandle<()>>);

#[derive(Clone, Debug)]
struct SmolSpawner(Arc<async_executor::Executor<'static>>);

impl Rt for SmolRt {
    type Spawner = SmolSpawner;
    fn build(workers: usize) -> Self {
        let executor = Arc::new(async_executor::Executor::new());
        let (shutdown, stop) = smol::channel::unbounded::<()>();
        let spawn_worker = |i: usize| {
            let (executor, stop) = (Arc::clone(&executor), stop.clone());
            // `recv` fails once the sender is dropped: then `run` returns.
            let work = move || {
                let _ = smol::block_on(executor.run(stop.recv()));
            };
            let name = format!("smol-worker-{i}");
            thread::Builder::new()
                .name(name)
                .spawn(work)
                .expect("spawning a smol worker")
        };
        let workers = (0..workers).map(spawn_worker).collect();
        Self(SmolSpawner(executor), shutdown, workers)
    }
    fn spawner(&self) -> SmolSpawner {
        self.0.clone()
    }
    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        smol::block_on(fut)
    }
}

impl Drop for SmolRt {
    fn drop(&mut self) {
        self.1.close();
        for worker in self.2.drain(..) {
            worker.join().expect("a smol worker thread panicked");
        }
    }
}

impl Spawner for SmolSpawner {
    const INDEX: usize = 2;
    #[cfg(feature = "http")]
    async fn http_hello_server(_: std::net::TcpListener) {
        unreachable!("http_hello does not run on smol")
    }
    // smol's tasks resolve to their output directly (a panic resumes in the awaiter).
    type Join<T: Send + 'static> = smol::Task<T>;
    fn spawn<F: Spawnable>(&self, fut: F) -> Self::Join<F::Output> {
        self.0.spawn(fut)
    }
    fn spawn_detached(&self, fut: impl Future<Output = ()> + Send + 'static) {
        self.0.spawn(fut).detach(); // dropping an async-executor `Task` would cancel it
    }
    fn spawn_blocking<R: Send + 'static>(&self, f: impl BlockingFn<R>) -> Self::Join<R> {
        smol::unblock(f)
    }
    async fn read_file(path: Arc<PathBuf>) -> Vec<u8> {
        smol::fs::read(&*path).await.unwrap()
    }
    async fn run_true() {
        let status = smol::process::Command::new("true").status().await;
        assert!(status.unwrap().success());
    }
    fn yield_now(&self) -> impl Future<Output = ()> + Send {
        smol::future::yield_now()
    }
    async fn sleep(d: Duration) {
        smol::Timer::after(d).await;
    }
    fn timeout<F: Future<Output: Send> + Send>(
        d: Duration,
        fut: F,
    ) -> impl Future<Output = F::Output> + Send {
        smol::future::or(fut, async move {
            smol::Timer::after(d).await;
            panic!("no timeout")
        })
    }
    async fn reschedule_later(n: usize) {
        let start = std::time::Instant::now();
        let mut timer = smol::Timer::after(RESCHEDULE_FIRST);
        poll_once(Pin::new(&mut timer)).await;
        for i in 0..n {
            timer.set_at(start + RESCHEDULE_FIRST + Duration::from_millis(i as u64));
        }
    }
    type Listener = smol::net::TcpListener;
    type Stream = smol::net::TcpStream;
    async fn tcp_bind(&self) -> (Self::Listener, SocketAddr) {
        let listener = smol::net::TcpListener::bind(LOOPBACK).await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        (listener, addr)
    }
    async fn tcp_accept(listener: &Self::Listener) -> Self::Stream {
        let (stream, _) = listener.accept().await.expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        stream
    }
    async fn tcp_connect(addr: SocketAddr) -> Self::Stream {
        let stream = smol::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
    }
    async fn write_all(stream: &mut Self::Stream, buf: &[u8]) {
        smol::io::AsyncWriteExt::write_all(stream, buf)
            .await
            .expect("write");
    }
    async fn read_exact(stream: &mut Self::Stream, buf: &mut [u8]) {
        smol::io::AsyncReadExt::read_exact(stream, buf)
            .await
            .expect("read");
    }
    async fn group_fanout<C: Spawnable<Output = ()>>(
        &self,
        n: usize,
        child: impl Fn() -> C + Send,
    ) {
        let tasks: Vec<_> = (0..n).map(|_| self.0.spawn(child())).collect();
        for task in tasks {
            task.await;
        }
    }
    async fn group_cancel<C: Spawnable<Output = ()>>(
        &self,
        n: usize,
        child: impl Fn() -> C + Send,
        started: Arc<AtomicUsize>,
    ) -> Duration {
        let dropped = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (child, guard) = (child(), CountDrop(dropped.clone()));
                self.0.spawn(async move {
                    let _guard = guard;
                    child.await;
                })
            })
            .collect();
        wait_until_started(&started, n, smol::future::yield_now).await;
        let cancelled_at = Instant::now();
        // Dropping an async-executor `Task` cancels it; its executor drops the future.
        drop(tasks);
        while dropped.load(Relaxed) < n {
            smol::future::yield_now().await;
        }
        cancelled_at.elapsed()
    }
    type Tx<T: Send + 'static> = smol::channel::Sender<T>;
    type Rx<T: Send + 'static> = smol::channel::Receiver<T>;
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        smol::channel::bounded(capacity)
    }
    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, value: T) {
        assert!(tx.send(value).await.is_ok(), "the receiver is gone");
    }
    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
    }
    type Mutex<T: Send + 'static> = smol::lock::Mutex<T>;
    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        smol::lock::Mutex::new(value)
    }
    async fn with_lock<T: Send + 'static, R: Send>(
        mutex: &Self::Mutex<T>,
        f: impl FnOnce(&mut T) -> R + Send,
    ) -> R {
        f(&mut *mutex.lock().await)
    }
    type Semaphore = smol::lock::Semaphore;
    fn semaphore(permits: usize) -> Self::Semaphore {
        smol::lock::Semaphore::new(permits)
    }
    async fn with_permit<F: Future<Output: Send> + Send>(
        semaphore: &Self::Semaphore,
        fut: F,
    ) -> F::Output {
        let _permit = semaphore.acquire().await;
        fut.await
    }
    type QueuePut = SmolQueuePut;
    type QueueGet = SmolQueueGet;
    fn work_queue(maxsize: usize) -> (Self::QueuePut, Self::QueueGet) {
        let (tx, rx) = smol::channel::bounded(maxsize);
        let unfinished = Arc::new(Unfinished {
            count: AtomicUsize::new(0),
            all_done: smol::channel::bounded(1),
        });
        let get = SmolQueueGet {
            rx,
            unfinished: unfinished.clone(),
        };
        (SmolQueuePut { tx, unfinished }, get)
    }
    async fn put(queue: &Self::QueuePut, item: u64) {
        // Counted before it can be taken, as asyncio counts at `put`.
        queue.unfinished.count.fetch_add(1, Relaxed);
        assert!(queue.tx.send(item).await.is_ok(), "the workers are gone");
    }
    async fn join(queue: &Self::QueuePut) {
        // A token left by an earlier return to zero only makes this look again.
        while queue.unfinished.count.load(Acquire) != 0 {
            let _ = queue.unfinished.all_done.1.recv().await;
        }
    }
    async fn get(queue: &Self::QueueGet) -> Option<u64> {
        queue.rx.recv().await.ok() // async-channel is multi-consumer
    }
    fn task_done(queue: &Self::QueueGet) {
        if queue.unfinished.count.fetch_sub(1, AcqRel) == 1 {
            let _ = queue.unfinished.all_done.0.try_send(()); // full: a token is waiting
        }
    }
    type Timer = smol::Timer;
    fn timer(d: Duration) -> Self::Timer {
        smol::Timer::after(d)
    }
    fn reset_timer(timer: Pin<&mut Self::Timer>, d: Duration) {
        timer.get_mut().set_after(d);
    }
}

/// asyncio's `Queue` for `queue_workers`, built from smol's parts: a bounded async-channel
/// (the items; multi-consumer, so the workers share its receiver; dropping the sender is
/// the shutdown), the unfinished-items count, and a one-slot channel on which `task_done`
/// leaves a token when the count reaches zero (`join` waits for one and looks again).
#[derive(Debug)]
struct SmolQueuePut {
    tx: smol::channel::Sender<u64>,
    unfinished: Arc<Unfinished<SmolAllDone>>,
}

/// The getting side of [`SmolQueuePut`]'s queue.
#[derive(Clone, Debug)]
struct SmolQueueGet {
    rx: smol::channel::Receiver<u64>,
    unfinished: Arc<Unfinished<SmolAllDone>>,
}

/// The one-slot channel `task_done` leaves its "all done" token on.
type SmolAllDone = (smol::channel::Sender<()>, smol::channel::Receiver<()>);

/// Counts its drop (smol's tasks give no other way to learn their future was dropped).
struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// Yields (with the runtime's `yield_now`) until `started` reaches `n`.
async fn wait_until_started<Y: Future<Output = ()>>(
    started: &AtomicUsize,
    n: usize,
    yield_now: impl Fn() -> Y,
) {
    while started.load(Relaxed) < n {
        yield_now().await;
    }
}

// ====== A portable oneshot channel, used on all three runtimes =========================

mod oneshot {
    use super::{Arc, Context, Future, Mutex, Pin, Poll, Waker};

    /// The value (once sent), the receiver's waker, and whether the sender is gone.
    type Slot<T> = Arc<Mutex<(Option<T>, Option<Waker>, bool)>>;

    #[derive(Debug)]
    pub(super) struct Sender<T>(Slot<T>);

    /// Resolves to the sent value; panics if the sender was dropped without sending.
    #[derive(Debug)]
    pub(super) struct Receiver<T>(Slot<T>);

    pub(super) fn channel<T>() -> (Sender<T>, Receiver<T>) {
        let slot = Arc::new(Mutex::new((None, None, false)));
        (Sender(Arc::clone(&slot)), Receiver(slot))
    }

    impl<T> Sender<T> {
        /// Stores `value`; dropping `self` right after wakes the receiver.
        pub(super) fn send(self, value: T) {
            self.0.lock().unwrap().0 = Some(value);
        }
    }

    impl<T> Drop for Sender<T> {
        fn drop(&mut self) {
            let waker = {
                let mut slot = self.0.lock().unwrap();
                slot.2 = true;
                slot.1.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    impl<T> Future for Receiver<T> {
        type Output = T;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
            let mut slot = self.0.lock().unwrap();
            if let Some(value) = slot.0.take() {
                return Poll::Ready(value);
            }
            assert!(!slot.2, "oneshot sender dropped without sending");
            slot.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

// ====== Workloads =======================================================================

/// One benchmark: a name, how many operations one round performs, and the round itself.
trait Workload {
    const NAME: &'static str;
    const OPS: usize;
    /// Whether smol has the primitive (its column is blank otherwise).
    const ON_SMOL: bool = true;
    /// One round. Runs inside `block_on`, on the caller's thread (not a worker).
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()>;
    /// One round and the time it counts: by default the whole round; a workload that
    /// measures one phase (group_cancel: from the cancel to the last drop) overrides it.
    fn run_timed<S: Spawner>(sp: S) -> impl Future<Output = Duration> {
        async move {
            let start = Instant::now();
            Self::run(sp).await;
            start.elapsed()
        }
    }
}

/// Starts every task (driving `tasks` to the end where this is first polled), then awaits
/// each in order.
async fn join_all<J: Future>(tasks: impl IntoIterator<Item = J>) {
    let tasks: Vec<J> = tasks.into_iter().collect();
    for task in tasks {
        task.await;
    }
}

/// 10k empty tasks spawned from a task running on a worker, then awaited.
struct SpawnManyLocal;
impl Workload for SpawnManyLocal {
    const NAME: &'static str = "spawn_many_local";
    const OPS: usize = 10_000;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let inner = sp.clone();
        sp.spawn(async move {
            join_all((0..Self::OPS).map(|_| inner.spawn(async {}))).await;
        })
    }
}

/// 10k empty tasks spawned from the `block_on` thread, each awaited.
struct SpawnManyRemote;
impl Workload for SpawnManyRemote {
    const NAME: &'static str = "spawn_many_remote";
    const OPS: usize = 10_000;
    async fn run<S: Spawner>(sp: S) {
        join_all((0..Self::OPS).map(|_| sp.spawn(async {}))).await;
    }
}

/// 200 tasks spawned from the `block_on` thread, each yielding 1000 times.
struct YieldMany;
const YIELD_TASKS: usize = 200;
const YIELDS_PER_TASK: usize = 1000;
impl Workload for YieldMany {
    const NAME: &'static str = "yield_many";
    const OPS: usize = YIELD_TASKS * YIELDS_PER_TASK;
    async fn run<S: Spawner>(sp: S) {
        let yielder = |me: S| async move {
            for _ in 0..YIELDS_PER_TASK {
                me.yield_now().await;
            }
        };
        join_all((0..YIELD_TASKS).map(|_| sp.spawn(yielder(sp.clone())))).await;
    }
}

/// 1000 sequential rounds, driven from a worker; each spawns two tasks that exchange a
/// ping and a pong through oneshots, and waits for both.
struct PingPong;
impl Workload for PingPong {
    const NAME: &'static str = "ping_pong";
    const OPS: usize = 1000;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let inner = sp.clone();
        sp.spawn(async move {
            for _ in 0..Self::OPS {
                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                let pinger = inner.spawn(async move {
                    ping_tx.send(());
                    pong_rx.await;
                });
                let ponger = inner.spawn(async move {
                    ping_rx.await;
                    pong_tx.send(());
                });
                pinger.await;
                ponger.await;
            }
        })
    }
}

/// A chain of 1000 tasks, each spawning the next; the last one signals completion.
struct ChainedSpawn;
impl Workload for ChainedSpawn {
    const NAME: &'static str = "chained_spawn";
    const OPS: usize = 1000;
    async fn run<S: Spawner>(sp: S) {
        /// Spawns the rest of the chain: `left` tasks, the first spawned right now.
        fn link<S: Spawner>(sp: &S, left: usize, done: oneshot::Sender<()>) {
            let next = sp.clone();
            sp.spawn_detached(async move {
                match left {
                    1 => done.send(()),
                    _ => link(&next, left - 1, done),
                }
            });
        }
        let (done, finished) = oneshot::channel();
        link(&sp, Self::OPS, done);
        finished.await;
    }
}

/// 10k trivial closures sent to the blocking pool from a worker task, then awaited.
struct Blocking;
impl Workload for Blocking {
    const NAME: &'static str = "blocking";
    const OPS: usize = 10_000;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let inner = sp.clone();
        sp.spawn(async move {
            let call = |i: usize| inner.spawn_blocking(move || std::hint::black_box(i));
            join_all((0..Self::OPS).map(call)).await;
        })
    }
}

/// Scheduling latency under CPU-heavy neighbours (issue 16's `latency`): 4 tasks burn CPU
/// in 1 ms slices between `yield_now`s, while a pacer thread outside the runtime sends a
/// message every 50 us to a relay task, which forwards it to a sink task (a wake from
/// outside, then a task-to-task wake, through the same small waker-based channel on every
/// runtime); the sink records each message's age. `ns_per_op` is the round's time per
/// message (the pace, 50 us, plus the tail), and `main` prints p50/p99/p999 of the ages.
struct Latency;
const LATENCY_MESSAGES: usize = 2000;
const LATENCY_PACE: Duration = Duration::from_micros(50);
const LATENCY_BURNERS: usize = 4;
const LATENCY_SLICE: Duration = Duration::from_millis(1);
impl Workload for Latency {
    const NAME: &'static str = "latency";
    const OPS: usize = LATENCY_MESSAGES;
    async fn run<S: Spawner>(sp: S) {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let burners: Vec<_> = (0..LATENCY_BURNERS)
            .map(|_| {
                let (me, stop) = (sp.clone(), stop.clone());
                sp.spawn(async move {
                    while !stop.load(Relaxed) {
                        let slice = Instant::now();
                        while slice.elapsed() < LATENCY_SLICE {
                            std::hint::spin_loop();
                        }
                        me.yield_now().await;
                    }
                })
            })
            .collect();
        let (to_relay, mut relay_rx) = latency::channel();
        let (to_sink, mut sink_rx) = latency::channel();
        let relay = sp.spawn(async move {
            while let Some(sent) = relay_rx.recv().await {
                to_sink.send(sent);
            }
        });
        let sink = sp.spawn(async move {
            let mut ages = Vec::with_capacity(LATENCY_MESSAGES);
            while let Some(sent) = sink_rx.recv().await {
                ages.push(sent.elapsed());
            }
            ages
        });
        let pacer = thread::spawn(move || {
            let start = Instant::now();
            for i in 0..LATENCY_MESSAGES {
                let due = start + LATENCY_PACE * i as u32;
                while Instant::now() < due {
                    std::hint::spin_loop();
                }
                to_relay.send(Instant::now());
            }
            // `to_relay` dropped: the relay ends, then the sink.
        });
        let ages = sink.await;
        relay.await;
        pacer.join().unwrap();
        stop.store(true, Relaxed);
        join_all(burners).await;
        assert_eq!(ages.len(), LATENCY_MESSAGES);
        latency::record(S::INDEX, ages);
    }
}

/// `latency`'s channel (one consumer; the same code on every runtime, woken through the
/// `Waker`) and the ages it measured.
mod latency {
    use super::{Duration, Instant, Mutex, RUNTIMES};
    use std::collections::VecDeque;
    use std::future::poll_fn;
    use std::sync::Arc;
    use std::task::{Poll, Waker};

    struct State {
        queue: VecDeque<Instant>,
        waker: Option<Waker>,
        closed: bool,
    }

    pub(super) struct Sender(Arc<Mutex<State>>);
    pub(super) struct Receiver(Arc<Mutex<State>>);

    pub(super) fn channel() -> (Sender, Receiver) {
        let state = Arc::new(Mutex::new(State {
            queue: VecDeque::new(),
            waker: None,
            closed: false,
        }));
        (Sender(state.clone()), Receiver(state))
    }

    impl Sender {
        pub(super) fn send(&self, sent: Instant) {
            let waker = {
                let mut state = self.0.lock().unwrap();
                state.queue.push_back(sent);
                state.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    impl Drop for Sender {
        fn drop(&mut self) {
            let waker = {
                let mut state = self.0.lock().unwrap();
                state.closed = true;
                state.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    impl Receiver {
        pub(super) async fn recv(&mut self) -> Option<Instant> {
            poll_fn(|cx| {
                let mut state = self.0.lock().unwrap();
                if let Some(sent) = state.queue.pop_front() {
                    return Poll::Ready(Some(sent));
                }
                if state.closed {
                    return Poll::Ready(None);
                }
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            })
            .await
        }
    }

    /// Every message's age, per runtime, over all rounds.
    static AGES: Mutex<[Vec<Duration>; 3]> = Mutex::new([Vec::new(), Vec::new(), Vec::new()]);

    pub(super) fn record(runtime: usize, ages: Vec<Duration>) {
        AGES.lock().unwrap()[runtime].extend(ages);
    }

    /// `(runtime, p50, p99, p999)` for each runtime.
    pub(super) fn percentiles() -> Vec<(&'static str, Duration, Duration, Duration)> {
        let mut all = AGES.lock().unwrap();
        let mut out = Vec::new();
        for (i, ages) in all.iter_mut().enumerate() {
            if ages.is_empty() {
                continue;
            }
            ages.sort_unstable();
            let at = |q: f64| ages[((ages.len() as f64 * q) as usize).min(ages.len() - 1)];
            out.push((RUNTIMES[i], at(0.50), at(0.99), at(0.999)));
        }
        out
    }
}

/// 1000 tasks, spawned from a worker, each reading a whole 4 KiB file (a different one
/// each) with the runtime's file API (`arbor::fs::read`, `tokio::fs::read`,
/// `smol::fs::read`), then awaited. The files are made once, before the first round.
struct FsReadSmall;
const FS_FILE_SIZE: usize = 4096;
impl Workload for FsReadSmall {
    const NAME: &'static str = "fs_read_small";
    const OPS: usize = 1000;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let files = small_files(Self::OPS);
        let inner = sp.clone();
        sp.spawn(async move {
            let read = |path: &Arc<PathBuf>| {
                let path = path.clone();
                inner.spawn(async move {
                    assert_eq!(S::read_file(path).await.len(), FS_FILE_SIZE);
                })
            };
            join_all(files.iter().map(read)).await;
        })
    }
}

/// Where [`small_files`] puts its files; `main` removes it at the end.
fn small_files_dir() -> PathBuf {
    env::temp_dir().join(format!("arbor-compare-fs-{}", process::id()))
}

/// `n` files of [`FS_FILE_SIZE`] bytes in [`small_files_dir`], made on first use.
fn small_files(n: usize) -> &'static [Arc<PathBuf>] {
    static FILES: std::sync::OnceLock<Vec<Arc<PathBuf>>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let dir = small_files_dir();
        std::fs::create_dir_all(&dir).unwrap();
        (0..n)
            .map(|i| {
                let path = dir.join(format!("f{i}"));
                std::fs::write(&path, vec![i as u8; FS_FILE_SIZE]).unwrap();
                Arc::new(path)
            })
            .collect()
    })
}

/// 200 tasks, spawned from a worker, each running the `true` program as a child process
/// and waiting for it (`arbor::process`, `tokio::process`, `smol::process`).
struct ProcessSpawn;
impl Workload for ProcessSpawn {
    const NAME: &'static str = "process_spawn";
    const OPS: usize = 200;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let inner = sp.clone();
        sp.spawn(async move {
            join_all((0..Self::OPS).map(|_| inner.spawn(S::run_true()))).await;
        })
    }
}

/// hyper's hello world served by each runtime (arbor: `arbor::http::serve`; tokio:
/// hyper-util's auto builder with a task per connection, as its examples do; both with
/// `TCP_NODELAY` and a 30 s HTTP/1 header read timeout on the runtime's timer), loaded by one generator that is the same for both: [`http_bench::load`],
/// 64 keep-alive HTTP/1.1 connections on one thread of its own (a smol `LocalExecutor`, so
/// neither runtime drives its own load), each sending [`http_bench::REQUESTS_PER_CONN`]
/// GETs one after the other. A request's latency is from its first byte written to its
/// response's last byte read; `ns_per_op` is the round's time per request (so requests per
/// second are 1e9 / ns_per_op), and `main` prints p50/p99 over every round's requests.
#[cfg(feature = "http")]
struct HttpHello;
#[cfg(feature = "http")]
impl Workload for HttpHello {
    const NAME: &'static str = "http_hello";
    const OPS: usize = http_bench::CONNECTIONS * http_bench::REQUESTS_PER_CONN;
    const ON_SMOL: bool = false;
    async fn run<S: Spawner>(sp: S) {
        let listener = std::net::TcpListener::bind(LOOPBACK).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = sp.spawn(async move {
            let mut serve = std::pin::pin!(S::http_hello_server(listener));
            let mut stopped = std::pin::pin!(stopped);
            std::future::poll_fn(|cx| {
                if serve.as_mut().poll(cx).is_ready() {
                    panic!("the hello server stopped by itself");
                }
                stopped.as_mut().poll(cx)
            })
            .await;
        });
        let (done, latencies) = oneshot::channel();
        thread::spawn(move || done.send(http_bench::load(addr)));
        let latencies = latencies.await;
        http_bench::record(S::INDEX, latencies);
        stop.send(());
        server.await;
    }
}

/// The `http_hello` service, its load generator, and the latencies it measured.
#[cfg(feature = "http")]
mod http_bench {
    use super::{Duration, Instant, Mutex, RUNTIMES, SocketAddr};
    use http_body_util::Full;
    use hyper::body::{Bytes, Incoming};
    use hyper::{Request, Response};
    use std::convert::Infallible;

    /// Keep-alive connections the generator opens.
    pub(super) const CONNECTIONS: usize = 64;
    /// GETs each connection sends, one after the other.
    pub(super) const REQUESTS_PER_CONN: usize = 300;
    /// HTTP/1's header read timeout on both servers (arbor's `serve` default).
    pub(super) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: bench\r\n\r\n";
    const BODY: &[u8] = b"Hello, World!";

    /// The service: the same on both runtimes.
    pub(super) async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        Ok(Response::new(Full::new(Bytes::from_static(BODY))))
    }

    /// Every request's latency, per runtime, over all rounds.
    static LATENCIES: Mutex<[Vec<Duration>; 3]> = Mutex::new([Vec::new(), Vec::new(), Vec::new()]);

    pub(super) fn record(runtime: usize, latencies: Vec<Duration>) {
        LATENCIES.lock().unwrap()[runtime].extend(latencies);
    }

    /// `(runtime, p50, p99)` for each runtime that served `http_hello`.
    pub(super) fn percentiles() -> Vec<(&'static str, Duration, Duration)> {
        let mut all = LATENCIES.lock().unwrap();
        let mut out = Vec::new();
        for (i, lat) in all.iter_mut().enumerate() {
            if lat.is_empty() {
                continue;
            }
            lat.sort_unstable();
            let at = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
            out.push((RUNTIMES[i], at(0.50), at(0.99)));
        }
        out
    }

    /// Runs the load on this (non-runtime) thread: [`CONNECTIONS`] connections to `addr`,
    /// each sending [`REQUESTS_PER_CONN`] GETs in turn and checking each response. Returns
    /// every request's latency.
    pub(super) fn load(addr: SocketAddr) -> Vec<Duration> {
        let ex = smol::LocalExecutor::new();
        smol::block_on(ex.run(async {
            let conns: Vec<_> = (0..CONNECTIONS)
                .map(|_| ex.spawn(connection(addr)))
                .collect();
            let mut all = Vec::with_capacity(CONNECTIONS * REQUESTS_PER_CONN);
            for conn in conns {
                all.extend(conn.await);
            }
            all
        }))
    }

    async fn connection(addr: SocketAddr) -> Vec<Duration> {
        use smol::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = smol::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut latencies = Vec::with_capacity(REQUESTS_PER_CONN);
        let mut buf = vec![0u8; 4096];
        for _ in 0..REQUESTS_PER_CONN {
            let start = Instant::now();
            stream.write_all(REQUEST).await.unwrap();
            // Read until the head and a body of the announced length are in.
            let mut have = 0;
            loop {
                let n = stream.read(&mut buf[have..]).await.unwrap();
                assert!(n > 0, "the server closed the connection");
                have += n;
                if let Some(total) = response_len(&buf[..have]) {
                    assert_eq!(have, total, "one response, no more");
                    assert!(buf[..have].ends_with(BODY));
                    break;
                }
            }
            latencies.push(start.elapsed());
        }
        latencies
    }

    /// The whole response's length once its head is in `buf` (head + content-length).
    fn response_len(buf: &[u8]) -> Option<usize> {
        let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let head = std::str::from_utf8(&buf[..head_end]).unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let len = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().unwrap())
            })
            .expect("a content-length");
        (buf.len() >= head_end + len).then_some(head_end + len)
    }
}

/// 100k tasks, spawned from a worker, each sleeping 1-10 ms, then awaited. The 10 ms floor
/// is the same for every runtime; the ratio shows the timer's overhead on top of it.
struct TimerFanout;
const TIMER_FANOUT_MAX_MS: usize = 10;
impl Workload for TimerFanout {
    const NAME: &'static str = "timer_fanout";
    const OPS: usize = 100_000;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let inner = sp.clone();
        sp.spawn(async move {
            let sleeper = |i: usize| {
                let d = Duration::from_millis(1 + (i % TIMER_FANOUT_MAX_MS) as u64);
                inner.spawn(S::sleep(d))
            };
            join_all((0..Self::OPS).map(sleeper)).await;
        })
    }
}

/// Polls `fut` once, ignoring the result (registers a timer).
async fn poll_once<F: Future>(mut fut: Pin<&mut F>) {
    std::future::poll_fn(|cx| {
        let _ = fut.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await;
}

/// `timeout_reschedule`'s first deadline: an hour away, so it never passes.
const RESCHEDULE_FIRST: Duration = Duration::from_secs(3600);
/// `timeout_ready`'s timeout: long enough never to pass.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// 100k timeouts, each around a future that is ready at its first poll, in one task: the
/// cost of a timeout that does not fire (a clock read and a poll, ideally).
struct TimeoutReady;
impl Workload for TimeoutReady {
    const NAME: &'static str = "timeout_ready";
    const OPS: usize = 100_000;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        sp.spawn(async move {
            let mut sum = 0usize;
            for i in 0..Self::OPS {
                sum += S::timeout(READY_TIMEOUT, std::future::ready(std::hint::black_box(i))).await;
            }
            std::hint::black_box(sum);
        })
    }
}

/// One registered timer whose deadline moves later 100k times, in one task.
struct TimeoutReschedule;
impl Workload for TimeoutReschedule {
    const NAME: &'static str = "timeout_reschedule";
    const OPS: usize = 100_000;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        sp.spawn(S::reschedule_later(Self::OPS))
    }
}

/// Where `tcp_echo` listens: loopback, a port the OS picks.
const LOOPBACK: &str = "127.0.0.1:0";
/// `tcp_echo`: concurrent connections, round trips per connection, bytes per message.
const ECHO_CONNECTIONS: usize = 64;
const ECHO_ROUNDS: usize = 100;
const ECHO_MESSAGE: usize = 64;

/// 64 loopback connections, each making 100 round trips of a 64-byte message through an
/// echo server (a task per connection) on the same runtime. An op is one round trip; the
/// round includes binding, connecting and accepting (64 of each, next to 6400 round trips).
struct TcpEcho;
impl Workload for TcpEcho {
    const NAME: &'static str = "tcp_echo";
    const OPS: usize = ECHO_CONNECTIONS * ECHO_ROUNDS;
    async fn run<S: Spawner>(sp: S) {
        let (listener, addr) = sp.tcp_bind().await;
        let inner = sp.clone();
        let server = sp.spawn(async move {
            let echo = |mut stream: S::Stream| async move {
                let mut buf = [0; ECHO_MESSAGE];
                for _ in 0..ECHO_ROUNDS {
                    S::read_exact(&mut stream, &mut buf).await;
                    S::write_all(&mut stream, &buf).await;
                }
            };
            let mut conns = Vec::with_capacity(ECHO_CONNECTIONS);
            for _ in 0..ECHO_CONNECTIONS {
                conns.push(inner.spawn(echo(S::tcp_accept(&listener).await)));
            }
            join_all(conns).await;
        });
        let client = |i: usize| async move {
            let mut stream = S::tcp_connect(addr).await;
            let msg = [i as u8; ECHO_MESSAGE];
            let mut back = [0; ECHO_MESSAGE];
            for _ in 0..ECHO_ROUNDS {
                S::write_all(&mut stream, &msg).await;
                S::read_exact(&mut stream, &mut back).await;
            }
            assert_eq!(back, msg, "the echo came back wrong");
        };
        join_all((0..ECHO_CONNECTIONS).map(|i| sp.spawn(client(i)))).await;
        server.await;
    }
}

/// Children per round of the group workloads.
const GROUP_CHILDREN: usize = 100_000;

/// 100k children that complete at once, in one structured group, spawned from a worker,
/// all awaited (arbor's `TaskGroup` vs tokio's `JoinSet` vs smol's collected tasks).
struct GroupFanout;
impl Workload for GroupFanout {
    const NAME: &'static str = "group_fanout";
    const OPS: usize = GROUP_CHILDREN;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let inner = sp.clone();
        sp.spawn(async move { inner.group_fanout(Self::OPS, || async {}).await })
    }
}

/// 100k children sleeping for an hour on the runtime's timer, in one group spawned from a
/// worker; once all have started (and registered their timers) they are cancelled.
/// Only the cancel is timed: from `cancel` until every child's future has been dropped.
struct GroupCancel;
/// How long `group_cancel`'s children would sleep: far longer than any round.
const GROUP_CANCEL_SLEEP: Duration = Duration::from_secs(3600);
impl Workload for GroupCancel {
    const NAME: &'static str = "group_cancel";
    const OPS: usize = GROUP_CHILDREN;
    async fn run<S: Spawner>(sp: S) {
        Self::run_timed(sp).await;
    }
    async fn run_timed<S: Spawner>(sp: S) -> Duration {
        let inner = sp.clone();
        sp.spawn(async move {
            let started = Arc::new(AtomicUsize::new(0));
            let count = started.clone();
            let sleeper = move || {
                let started = count.clone();
                async move {
                    let sleep = S::sleep(GROUP_CANCEL_SLEEP);
                    started.fetch_add(1, Relaxed);
                    sleep.await;
                }
            };
            inner.group_cancel(Self::OPS, sleeper, started).await
        })
        .await
    }
}

/// `mpsc_pipeline`: messages pushed through the pipeline per round.
const PIPELINE_MESSAGES: usize = 100_000;
/// `mpsc_pipeline`: stages (a source, relays, a sink), one channel between each two.
const PIPELINE_STAGES: usize = 8;
/// Capacity of every bounded channel in `mpsc_pipeline` and `mpsc_fanin`.
const CHANNEL_CAPACITY: usize = 64;

/// 100k messages through 8 stages (a source task, 6 relay tasks that each add one, and the
/// sink: the round itself, on the `block_on` thread) connected by 7 bounded channels of 64,
/// each runtime's own (`arbor::sync::mpsc`, `tokio::sync::mpsc`, smol's async-channel).
/// An op is one message through the whole pipeline (7 sends and 7 receives). Issue 16
/// asks for 1M messages; 100k keeps a round (about 0.1 s on a 2-core VM; 1M took about
/// 1 s) short enough for CI's `--quick` smoke run (24 rounds per workload), and the cost
/// per message does not depend on the count.
struct MpscPipeline;
impl Workload for MpscPipeline {
    const NAME: &'static str = "mpsc_pipeline";
    const OPS: usize = PIPELINE_MESSAGES;
    async fn run<S: Spawner>(sp: S) {
        let (source_tx, mut rx) = S::bounded::<u64>(CHANNEL_CAPACITY);
        let source = sp.spawn(async move {
            for i in 0..PIPELINE_MESSAGES as u64 {
                S::send(&source_tx, i).await;
            }
        });
        let mut relays = Vec::with_capacity(PIPELINE_STAGES - 2);
        for _ in 0..PIPELINE_STAGES - 2 {
            let (tx, next_rx) = S::bounded::<u64>(CHANNEL_CAPACITY);
            let mut from = std::mem::replace(&mut rx, next_rx);
            relays.push(sp.spawn(async move {
                while let Some(v) = S::recv(&mut from).await {
                    S::send(&tx, v + 1).await;
                }
            }));
        }
        let mut sum = 0u64;
        while let Some(v) = S::recv(&mut rx).await {
            sum += v;
        }
        source.await;
        join_all(relays).await;
        let n = PIPELINE_MESSAGES as u64;
        let relays = (PIPELINE_STAGES - 2) as u64;
        assert_eq!(
            sum,
            n * (n - 1) / 2 + n * relays,
            "messages lost or changed"
        );
    }
}

/// `mpsc_fanin`: producers, and messages each sends.
const FANIN_PRODUCERS: usize = 64;
const FANIN_PER_PRODUCER: usize = 4_000;

/// 64 producer tasks each sending 4,000 messages into one bounded channel of 64 (each
/// runtime's own, as in `mpsc_pipeline`), received by one consumer (the round, on the
/// `block_on` thread). An op is one message.
struct MpscFanin;
impl Workload for MpscFanin {
    const NAME: &'static str = "mpsc_fanin";
    const OPS: usize = FANIN_PRODUCERS * FANIN_PER_PRODUCER;
    async fn run<S: Spawner>(sp: S) {
        let (tx, mut rx) = S::bounded::<u64>(CHANNEL_CAPACITY);
        let producers: Vec<_> = (0..FANIN_PRODUCERS)
            .map(|_| {
                let tx = tx.clone();
                sp.spawn(async move {
                    for i in 0..FANIN_PER_PRODUCER as u64 {
                        S::send(&tx, i).await;
                    }
                })
            })
            .collect();
        drop(tx);
        let (mut count, mut sum) = (0, 0u64);
        while let Some(v) = S::recv(&mut rx).await {
            (count, sum) = (count + 1, sum + v);
        }
        join_all(producers).await;
        let per = FANIN_PER_PRODUCER as u64;
        assert_eq!(count, Self::OPS, "messages lost");
        assert_eq!(sum, FANIN_PRODUCERS as u64 * per * (per - 1) / 2);
    }
}

/// `mutex_contention`: tasks, and increments each makes.
const MUTEX_TASKS: usize = 64;
const MUTEX_INCREMENTS: usize = 2_000;

/// 64 tasks, spawned from the `block_on` thread, each locking the runtime's async mutex
/// (`arbor::sync::Mutex`, `tokio::sync::Mutex`, smol's async-lock `Mutex`) 2,000 times to
/// increment a shared counter (lock, increment, unlock; nothing awaited under the lock).
/// An op is one lock/unlock.
struct MutexContention;
impl Workload for MutexContention {
    const NAME: &'static str = "mutex_contention";
    const OPS: usize = MUTEX_TASKS * MUTEX_INCREMENTS;
    async fn run<S: Spawner>(sp: S) {
        let counter = Arc::new(S::mutex(0usize));
        let incrementer = |counter: Arc<S::Mutex<usize>>| async move {
            for _ in 0..MUTEX_INCREMENTS {
                S::with_lock(&counter, |n| *n += 1).await;
            }
        };
        join_all((0..MUTEX_TASKS).map(|_| sp.spawn(incrementer(counter.clone())))).await;
        assert_eq!(S::with_lock(&counter, |n| *n).await, Self::OPS);
    }
}

/// `semaphore_permits`: tasks, permits, and acquisitions per task.
const SEMAPHORE_TASKS: usize = 256;
const SEMAPHORE_PERMITS: usize = 16;
const SEMAPHORE_ACQUIRES: usize = 200;

/// 256 tasks, spawned from the `block_on` thread, sharing a semaphore of 16 permits (each
/// runtime's own: arbor's, tokio's, smol's async-lock `Semaphore`); each acquires a permit
/// 200 times and yields once while holding it (so at most 16 hold one and the other 240
/// wait, as when a semaphore bounds concurrent requests). An op is one acquire, yield and
/// release.
struct SemaphorePermits;
impl Workload for SemaphorePermits {
    const NAME: &'static str = "semaphore_permits";
    const OPS: usize = SEMAPHORE_TASKS * SEMAPHORE_ACQUIRES;
    async fn run<S: Spawner>(sp: S) {
        let semaphore = Arc::new(S::semaphore(SEMAPHORE_PERMITS));
        let holding = Arc::new(AtomicUsize::new(0));
        let user = |me: S, semaphore: Arc<S::Semaphore>, holding: Arc<AtomicUsize>| async move {
            for _ in 0..SEMAPHORE_ACQUIRES {
                S::with_permit(&semaphore, async {
                    let now = holding.fetch_add(1, Relaxed) + 1;
                    assert!(now <= SEMAPHORE_PERMITS, "more holders than permits");
                    me.yield_now().await;
                    holding.fetch_sub(1, Relaxed);
                })
                .await;
            }
        };
        let spawn = |_| sp.spawn(user(sp.clone(), semaphore.clone(), holding.clone()));
        join_all((0..SEMAPHORE_TASKS).map(spawn)).await;
    }
}

/// `queue_workers`: items, workers, and the queue's bound.
const QUEUE_ITEMS: usize = 100_000;
const QUEUE_WORKERS: usize = 8;
const QUEUE_MAXSIZE: usize = 64;

/// asyncio's worker-pool pattern: 8 worker tasks loop `get`, process the item (add it to
/// their sum), `task_done`; the round (on the `block_on` thread) `put`s 100k items into a
/// queue bounded at 64, `join`s the queue, shuts it down (the workers' `get` then fails and
/// they return their sums). arbor: `sync::Queue`; tokio and smol: the same steps built from
/// their own channel, counter and wake-up (see [`TokioQueuePut`], [`SmolQueuePut`]). An op
/// is one item (put, get, task_done).
struct QueueWorkers;
impl Workload for QueueWorkers {
    const NAME: &'static str = "queue_workers";
    const OPS: usize = QUEUE_ITEMS;
    async fn run<S: Spawner>(sp: S) {
        let (put, get) = S::work_queue(QUEUE_MAXSIZE);
        let worker = |queue: S::QueueGet| async move {
            let mut sum = 0u64;
            while let Some(item) = S::get(&queue).await {
                sum += std::hint::black_box(item);
                S::task_done(&queue);
            }
            sum
        };
        let workers: Vec<_> = (0..QUEUE_WORKERS)
            .map(|_| sp.spawn(worker(get.clone())))
            .collect();
        drop(get);
        for i in 0..QUEUE_ITEMS as u64 {
            S::put(&put, i).await;
        }
        S::join(&put).await;
        drop(put); // the shutdown
        let mut sum = 0;
        for w in workers {
            sum += w.await;
        }
        let n = QUEUE_ITEMS as u64;
        assert_eq!(sum, n * (n - 1) / 2, "items lost");
    }
}

/// `timer_reschedule_many`: connections, messages each, and the idle timeout.
const KEEPALIVE_CONNECTIONS: usize = 10_000;
const KEEPALIVE_MESSAGES: usize = 20;
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);

/// The keep-alive pattern: 10k tasks (connections), spawned from a worker, each with an
/// idle timer 60 s away on the runtime's timer; 20 times each waits for a "message" (a
/// `yield_now`), then moves its idle deadline to 60 s from now (a clock read and
/// `Sleep::reset` on arbor and tokio, `Timer::set_after` on smol) and polls the timer, as
/// a `select!` over the connection and the timer would. An op is one message.
struct TimerRescheduleMany;
impl Workload for TimerRescheduleMany {
    const NAME: &'static str = "timer_reschedule_many";
    const OPS: usize = KEEPALIVE_CONNECTIONS * KEEPALIVE_MESSAGES;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let inner = sp.clone();
        sp.spawn(async move {
            let connection = |me: S| async move {
                let mut idle = std::pin::pin!(S::timer(KEEPALIVE_IDLE));
                poll_once(idle.as_mut()).await; // registers the timer
                for _ in 0..KEEPALIVE_MESSAGES {
                    me.yield_now().await;
                    S::reset_timer(idle.as_mut(), KEEPALIVE_IDLE);
                    poll_once(idle.as_mut()).await;
                }
            };
            let spawn = |_| inner.spawn(connection(inner.clone()));
            join_all((0..KEEPALIVE_CONNECTIONS).map(spawn)).await;
        })
    }
}

/// Scale curves: `spawn_scale_*` and `yield_scale_*` at these task counts (`N`).
const SCALE_1K: usize = 1_000;
const SCALE_100K: usize = 100_000;
const SCALE_1M: usize = 1_000_000;
/// Yields per task in `yield_scale_*` (the same at every scale).
const SCALE_YIELDS: usize = 4;

/// The name of a scale workload at `n` tasks.
const fn scale_name(spawn: bool, n: usize) -> &'static str {
    match (spawn, n) {
        (true, SCALE_1K) => "spawn_scale_1k",
        (true, SCALE_100K) => "spawn_scale_100k",
        (true, SCALE_1M) => "spawn_scale_1m",
        (false, SCALE_1K) => "yield_scale_1k",
        (false, SCALE_100K) => "yield_scale_100k",
        (false, SCALE_1M) => "yield_scale_1m",
        _ => panic!("no scale workload at this size"),
    }
}

/// `N` empty tasks spawned from a task running on a worker, then awaited (as
/// `spawn_many_local`, at 1k, 100k and 1M tasks: the ns/task curve). An op is one task.
struct SpawnScale<const N: usize>;
impl<const N: usize> Workload for SpawnScale<N> {
    const NAME: &'static str = scale_name(true, N);
    const OPS: usize = N;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let inner = sp.clone();
        sp.spawn(async move {
            join_all((0..N).map(|_| inner.spawn(async {}))).await;
        })
    }
}

/// `N` tasks spawned from a task running on a worker, each yielding 4 times, then awaited
/// (at 1k, 100k and 1M tasks all runnable at once). An op is one task (a spawn, 5 polls).
struct YieldScale<const N: usize>;
impl<const N: usize> Workload for YieldScale<N> {
    const NAME: &'static str = scale_name(false, N);
    const OPS: usize = N;
    fn run<S: Spawner>(sp: S) -> impl Future<Output = ()> {
        let inner = sp.clone();
        sp.spawn(async move {
            let yielder = |me: S| async move {
                for _ in 0..SCALE_YIELDS {
                    me.yield_now().await;
                }
            };
            join_all((0..N).map(|_| inner.spawn(yielder(inner.clone())))).await;
        })
    }
}

/// A workload as the driver sees it: its name, and how to measure it on all runtimes
/// (ns/op for arbor, tokio and smol, in the order of [`RUNTIMES`]).
type Entry = (&'static str, fn(&Config) -> [f64; 3]);

const fn entry<W: Workload>() -> Entry {
    (W::NAME, measure::<W>)
}

/// Every workload, in the order they run.
const WORKLOADS: &[Entry] = &[
    entry::<SpawnManyLocal>(),
    entry::<SpawnManyRemote>(),
    entry::<YieldMany>(),
    entry::<PingPong>(),
    entry::<ChainedSpawn>(),
    entry::<TcpEcho>(),
    entry::<Blocking>(),
    entry::<FsReadSmall>(),
    entry::<ProcessSpawn>(),
    entry::<TimerFanout>(),
    entry::<TimeoutReady>(),
    entry::<TimeoutReschedule>(),
    entry::<GroupFanout>(),
    entry::<GroupCancel>(),
    entry::<Latency>(),
    entry::<MpscPipeline>(),
    entry::<MpscFanin>(),
    entry::<MutexContention>(),
    entry::<SemaphorePermits>(),
    entry::<QueueWorkers>(),
    entry::<TimerRescheduleMany>(),
    entry::<SpawnScale<SCALE_1K>>(),
    entry::<SpawnScale<SCALE_100K>>(),
    entry::<SpawnScale<SCALE_1M>>(),
    entry::<YieldScale<SCALE_1K>>(),
    entry::<YieldScale<SCALE_100K>>(),
    entry::<YieldScale<SCALE_1M>>(),
    #[cfg(feature = "http")]
    entry::<HttpHello>(),
];

// ====== Memory per idle task ============================================================

/// `idle_task_memory`: idle tasks per measurement, spawned in batches of
/// [`IDLE_BATCH`] (so no run queue ever holds more than a batch), and how long each sleeps.
const IDLE_TASKS: usize = 100_000;
const IDLE_BATCH: usize = 1_000;
const IDLE_SLEEP: Duration = Duration::from_secs(3600);
/// The name `--bench` and `--json` know the idle-task measurement by.
const IDLE_MEMORY: &str = "idle_task_memory";

/// The global allocator: the system's, which also counts the bytes allocated minus the
/// bytes freed in [`LIVE_BYTES`] while [`COUNTING`] is on (only during `idle_task_memory`;
/// otherwise the cost is one relaxed load of a flag nobody writes, per call). It counts the
/// sizes asked for, not malloc's own per-chunk overhead.
#[derive(Debug)]
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// Adds `delta` to [`LIVE_BYTES`] if counting is on.
#[inline]
fn count_bytes(delta: isize) {
    if COUNTING.load(Relaxed) {
        LIVE_BYTES.fetch_add(delta, Relaxed);
    }
}

// SAFETY: every method passes its arguments on to `System` unchanged and returns what
// `System` returned, so `System`'s compliance with `GlobalAlloc`'s contract carries over;
// the counting only touches two atomics and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract (a non-zero-sized layout).
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count_bytes(layout.size() as isize);
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count_bytes(layout.size() as isize);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so from `System`)
        // with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        count_bytes(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract, with `ptr` from `System`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count_bytes(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// An idle task: sleeps for an hour on the runtime's timer, counting itself in `started`
/// once its timer is registered (its first poll returned `Pending`).
async fn idle_task<S: Spawner>(started: Arc<AtomicUsize>) {
    let mut sleep = std::pin::pin!(S::sleep(IDLE_SLEEP));
    let mut counted = false;
    std::future::poll_fn(|cx| {
        let poll = sleep.as_mut().poll(cx);
        if !counted {
            counted = true;
            started.fetch_add(1, Relaxed);
        }
        poll
    })
    .await;
}

/// Bytes per idle task on a fresh runtime `R`: a first batch of idle tasks (spawned from a
/// worker, detached) sizes the runtime's structures (queues, timer wheel); then, counting,
/// [`IDLE_TASKS`] more in batches, each batch waited for until all its tasks are blocked in
/// their sleeps. The runtime, and its tasks with it, is dropped after, uncounted.
fn idle_bytes_per_task<R: Rt>(workers: usize) -> f64 {
    let rt = R::build(workers);
    let sp = rt.spawner();
    let inner = sp.clone();
    let idle = async move {
        let sp = inner;
        let started = Arc::new(AtomicUsize::new(0));
        let mut spawned = 0;
        for batch in 0..=IDLE_TASKS / IDLE_BATCH {
            if batch == 1 {
                LIVE_BYTES.store(0, Relaxed);
                COUNTING.store(true, Relaxed);
            }
            for _ in 0..IDLE_BATCH {
                sp.spawn_detached(idle_task::<R::Spawner>(started.clone()));
            }
            spawned += IDLE_BATCH;
            wait_until_started(&started, spawned, || sp.yield_now()).await;
        }
        COUNTING.store(false, Relaxed);
        LIVE_BYTES.load(Relaxed)
    };
    let live = rt.block_on(async move { sp.spawn(idle).await });
    drop(rt);
    live as f64 / IDLE_TASKS as f64
}

/// `idle_task_memory` on each runtime: `rounds` measurements in rotating order, medians.
fn measure_idle_memory(cfg: &Config) -> [f64; 3] {
    let mut samples: [Vec<f64>; 3] = Default::default();
    for round in 0..cfg.rounds {
        for slot in 0..RUNTIMES.len() {
            let which = (round + slot) % RUNTIMES.len();
            samples[which].push(match which {
                0 => idle_bytes_per_task::<ArborRt>(cfg.workers),
                1 => idle_bytes_per_task::<TokioRt>(cfg.workers),
                _ => idle_bytes_per_task::<SmolRt>(cfg.workers),
            });
        }
    }
    samples.map(|mut s| {
        s.sort_unstable_by(f64::total_cmp);
        let mid = s.len() / 2;
        match s.len() % 2 {
            1 => s[mid],
            _ => (s[mid - 1] + s[mid]) / 2.0,
        }
    })
}

// ====== Measurement =====================================================================

/// Times one round of `W` on `rt`, from inside `block_on`.
fn time_round<W: Workload, R: Rt>(rt: &R) -> Duration {
    let sp = rt.spawner();
    rt.block_on(W::run_timed(sp))
}

/// Builds the three runtimes, runs the rounds in rotating order, returns median ns/op.
fn measure<W: Workload>(cfg: &Config) -> [f64; 3] {
    let arbor = ArborRt::build(cfg.workers);
    let tokio = TokioRt::build(cfg.workers);
    let smol = SmolRt::build(cfg.workers);
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for round in 0..WARMUP_ROUNDS + cfg.rounds {
        for slot in 0..RUNTIMES.len() {
            let which = (round + slot) % RUNTIMES.len();
            if which == 2 && !W::ON_SMOL {
                continue;
            }
            let timed = || match which {
                0 => time_round::<W, _>(&arbor),
                1 => time_round::<W, _>(&tokio),
                _ => time_round::<W, _>(&smol),
            };
            // Settle: see the module header.
            timed();
            let took = timed();
            if round >= WARMUP_ROUNDS {
                samples[which].push(took);
            }
        }
    }
    samples.map(|mut rounds| {
        if rounds.is_empty() {
            return f64::NAN; // not run on this runtime
        }
        rounds.sort_unstable();
        let mid = rounds.len() / 2;
        let median = match rounds.len() % 2 {
            1 => rounds[mid],
            _ => (rounds[mid - 1] + rounds[mid]) / 2,
        };
        median.as_secs_f64() * 1e9 / W::OPS as f64
    })
}

// ====== Command line and output =========================================================

#[derive(Debug, Default)]
struct Config {
    workers: usize,
    /// Timed rounds per workload (always at least 1).
    rounds: usize,
    json: bool,
    /// Workload names to run; empty means all.
    benches: Vec<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Config, String> {
    let (mut rounds, mut quick) = (None, false);
    let mut cfg = Config {
        workers: DEFAULT_WORKERS,
        ..Config::default()
    };
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.into(), Some(value.into())),
            _ => (arg, None),
        };
        let missing = format!("{flag}: no value");
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(missing.clone())
        };
        let count = |text: String| match text.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{flag} wants a positive integer, got `{text}`")),
        };
        match flag.as_str() {
            "--workers" => cfg.workers = count(value()?)?,
            "--rounds" => rounds = Some(count(value()?)?),
            "--quick" => quick = true,
            "--json" => cfg.json = true,
            "--bench" => {
                for name in value()?.split(',').filter(|n| !n.is_empty()) {
                    if name != IDLE_MEMORY && !WORKLOADS.iter().any(|w| w.0 == name) {
                        let mut known: Vec<_> = WORKLOADS.iter().map(|w| w.0).collect();
                        known.push(IDLE_MEMORY);
                        let known = known.join(", ");
                        return Err(format!("unknown bench `{name}`; known: {known}"));
                    }
                    cfg.benches.push(name.to_owned());
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    cfg.rounds = rounds.unwrap_or(if quick { QUICK_ROUNDS } else { DEFAULT_ROUNDS });
    Ok(cfg)
}

fn main() {
    let cfg = parse_args(env::args().skip(1)).unwrap_or_else(|message| {
        eprintln!("compare: {message}\n{USAGE}");
        process::exit(2);
    });
    let mut spawn_complete_ns = None;
    let wanted = |name: &str| cfg.benches.is_empty() || cfg.benches.iter().any(|b| b == name);
    if !cfg.json && WORKLOADS.iter().any(|w| wanted(w.0)) {
        println!("{HEADER}");
    }
    for &(name, measure) in WORKLOADS.iter().filter(|w| wanted(w.0)) {
        let ns = measure(&cfg);
        if name == SpawnManyLocal::NAME {
            spawn_complete_ns = Some(ns[0]);
        }
        if cfg.json {
            // Hand-written JSON: bench and runtime names are plain identifiers, no escaping.
            for (runtime, ns_per_op) in RUNTIMES.iter().zip(ns) {
                println!(
                    "{{\"bench\": \"{}\", \"runtime\": \"{runtime}\", \"workers\": {}, \"ns_per_op\": {ns_per_op:.1}}}",
                    name, cfg.workers
                );
            }
        } else {
            let ([a, t, s], n) = (ns, cfg.workers);
            let (vs_tokio, vs_smol) = (a / t, a / s);
            println!(
                "{name:<22} {n:>7} {a:>12.1} {t:>12.1} {s:>12.1} {vs_tokio:>12.2} {vs_smol:>11.2}"
            );
        }
    }
    if wanted(IDLE_MEMORY) {
        let bytes = measure_idle_memory(&cfg);
        if cfg.json {
            for (runtime, bytes_per_task) in RUNTIMES.iter().zip(bytes) {
                println!(
                    "{{\"bench\": \"{IDLE_MEMORY}\", \"runtime\": \"{runtime}\", \"workers\": {}, \"bytes_per_task\": {bytes_per_task:.1}}}",
                    cfg.workers
                );
            }
        } else {
            let ([a, t, s], n) = (bytes, cfg.workers);
            let (vs_tokio, vs_smol) = (a / t, a / s);
            println!("\n{MEMORY_HEADER}");
            println!(
                "{IDLE_MEMORY:<22} {n:>7} {a:>12.1} {t:>12.1} {s:>12.1} {vs_tokio:>12.2} {vs_smol:>11.2}"
            );
        }
    }
    if !cfg.json && wanted(Latency::NAME) {
        for (runtime, p50, p99, p999) in latency::percentiles() {
            println!("latency, {runtime}: p50 {p50:.1?}, p99 {p99:.1?}, p999 {p999:.1?}");
        }
    }
    #[cfg(feature = "http")]
    if !cfg.json && wanted(HttpHello::NAME) {
        for (runtime, p50, p99) in http_bench::percentiles() {
            println!("http_hello latency, {runtime}: p50 {p50:.1?}, p99 {p99:.1?}");
        }
    }
    if let (false, Some(ns)) = (cfg.json, spawn_complete_ns) {
        println!("\narbor spawn+complete of an empty task from a worker: {ns:.1} ns");
    }
    let _ = std::fs::remove_dir_all(small_files_dir());
}
