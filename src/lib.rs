//! arbor: a work-stealing async runtime with structured concurrency and a facade that
//! reads like Python's asyncio.
//!
//! Every row links to an item whose documentation has a runnable example.
//!
//! | asyncio | arbor |
//! |---|---|
//! | `asyncio.run(main())` | [`arbor::run(fut)`](run) |
//! | `if __name__ == "__main__": asyncio.run(main())` | [`#[arbor::main]`](main) `async fn main()` |
//! | `loop.run_until_complete(fut)` | [`Runtime::block_on`](runtime::Runtime::block_on) |
//! | `asyncio.create_task(coro)` | [`arbor::spawn(fut)`](spawn) -> [`Task<T>`](Task) |
//! | `create_task(coro, name="x")` | [`task::Builder::new().name("x").spawn(fut)`](task::Builder) |
//! | `task.cancel()`, `task.done()`, `task.get_name()` | [`Task::cancel`], [`Task::is_finished`], [`Task::name`] |
//! | `await task` | `task.await` -> `Result<T, JoinError>` |
//! | `loop.time()` | [`arbor::time::Instant::now()`](time::Instant::now) |
//! | `await asyncio.sleep(d)` | [`arbor::sleep(d).await`](sleep), [`arbor::sleep_until(t)`](sleep_until), [`Sleep::reset`](time::Sleep::reset) |
//! | `await asyncio.sleep(0)` | [`arbor::yield_now().await`](yield_now) |
//! | `await asyncio.gather(a, b, c)` | [`arbor::gather!(a, b, c).await`](gather!) -> `(A, B, C)`; [`arbor::gather(iter).await`](gather()) -> `Vec<T>` (with `Result` outputs: `return_exceptions=True`) |
//! | `gather(..., return_exceptions=False)` | [`arbor::try_gather!(a, b).await`](try_gather!), [`arbor::try_gather(iter).await`](try_gather()): the first `Err`, the rest dropped |
//! | `for aw in asyncio.as_completed(aws)` | [`arbor::as_completed(iter)`](as_completed): [`next().await`](AsCompleted::next) in completion order; a `futures_core::Stream` |
//! | async generators, `async for` | [`stream::generator(\|co\| async move { co.yield_(x).await; })`](stream::generator): `next().await`, a `futures_core::Stream` |
//! | `await asyncio.to_thread(f)` | [`arbor::to_thread(f).await`](to_thread) |
//! | `loop.run_in_executor(None, f)` | [`arbor::task::spawn_blocking(f)`](task::spawn_blocking) |
//! | AnyIO `CapacityLimiter`, `run_in_executor(pool_of_n, f)` | [`blocking::Limiter::new(n)`](blocking::Limiter), [`limiter.run(f).await`](blocking::Limiter::run): at most `n` at once, FIFO |
//! | `await to_thread(Path(p).read_bytes)`, `trio.Path`, `anyio.open_file` | [`fs::read(p).await`](fs::read), [`fs::write`], [`fs::File::open`], [`fs::read_dir`] (a `Stream`), ... |
//! | `asyncio.Lock`, `Event`, `Condition`, `Semaphore`, `Barrier` | [`sync::Mutex`], [`sync::Event`], [`sync::Condvar`], [`sync::Semaphore`], [`sync::Barrier`] (+ [`sync::RwLock`]) |
//! | `asyncio.Queue`, `LifoQueue`, `PriorityQueue` | [`sync::Queue`], [`sync::LifoQueue`], [`sync::PriorityQueue`] |
//! | a `Future` resolved by another task; a channel | [`sync::oneshot`], [`sync::mpsc`] |
//! | `await open_connection(host, port)` | [`net::TcpStream::connect((host, port)).await`](net::TcpStream::connect) |
//! | `await start_server(cb, host, port)` | [`net::serve(listener, handler)`](net::serve): a task per connection inside a `TaskGroup`; or [`net::TcpListener::bind`](net::TcpListener::bind) and `accept()` in a loop |
//! | `create_datagram_endpoint`, Unix sockets | [`net::UdpSocket`], [`net::UnixListener`], [`net::UnixStream`], [`net::UnixDatagram`] |
//! | `loop.add_signal_handler`, Trio `open_signal_receiver` | [`signal::ctrl_c().await`](signal::ctrl_c), [`signal::Signals::new([SIGTERM])`](signal::Signals::new) with `next().await` |
//! | `create_subprocess_exec`, Trio `run_process` | [`process::Command::new(p).output().await`](process::Command::output), [`spawn()`](process::Command::spawn) -> [`process::Child`]: a cancelled wait stops and reaps the child |
//! | `httpx.AsyncClient().get(url)`, an HTTP server | with the `http` feature: `arbor::http::Client::new().get(url).await`, `arbor::http::serve(listener, service).await` |
//! | `async with TaskGroup() as tg: tg.create_task(c)` | [`TaskGroup::scope(\|tg\| async move { tg.spawn(c); Ok(v) }).await`](TaskGroup::scope) -> `Result<T, GroupError<E>>` |
//! | Trio `nursery.start(fn)`, AnyIO `tg.start(fn)` | [`tg.start(\|status\| async move { status.started(v); serve().await }).await`](TaskGroup::start) -> `Result<V, StartError<E>>`: the child runs on in the group; [`StartError`] if it ends before [`started`](StartStatus::started) |
//! | `tg.create_task(coro, name="conn")` | [`tg.builder().name("conn").spawn(fut)`](TaskGroup::builder): the name in [`Task::name`], [`task::dump`], tracing spans, slow-poll warnings |
//! | Trio `CancelScope`, `CancelScope(shield=True)` | [`CancelScope::new()`](CancelScope::new), [`CancelScope::shielded()`](CancelScope::shielded); [`scope.handle()`](CancelScope::handle) -> [`CancelHandle`]; [`scope.run(fut).await`](CancelScope::run) -> `Result<T, Cancelled>` |
//! | `await asyncio.wait_for(aw, t)` | [`arbor::wait_for(t, fut).await`](wait_for) -> `Result<T, TimedOut>` |
//! | `async with asyncio.timeout(d) as cm` / `timeout_at(when)` / `timeout(None)` | [`let t = Timeout::after(d)`](Timeout::after) / [`Timeout::at(when)`](Timeout::at) / [`Timeout::never()`](Timeout::never); [`let h = t.handle()`](Timeout::handle); [`t.run(fut).await`](Timeout::run) -> `Result<T, TimedOut>`; also [`timeout(d, fut)`](timeout), [`timeout_at(when, fut)`](timeout_at) |
//! | `cm.reschedule(when)`, `cm.when()`, `cm.expired()` | [`h.reschedule(Some(when))`](TimeoutHandle::reschedule) / `h.reschedule(None)`, [`h.when()`](TimeoutHandle::when), [`h.expired()`](TimeoutHandle::expired) |
//! | Trio `move_on_after(d)`, `fail_after(d)`, `current_effective_deadline()` | [`move_on_after(d, fut)`](move_on_after) -> `Option<T>`, [`fail_after(d, fut)`](fail_after) -> `Result<T, TimedOut>`, [`time::current_deadline()`](time::current_deadline) |
//! | `asyncio.shield(aw)` | [`arbor::shield(fut).await`](shield) -> `Result<T, JoinError>` |
//! | `asyncio.current_task()`, `asyncio.all_tasks()` | [`task::current()`](task::current) -> `Option<TaskInfo>`, [`task::all()`](task::all) -> `Vec<TaskInfo>` |
//! | `python -m asyncio pstree` | [`task::dump()`](task::dump) -> `String`: the live task tree, groups nested |
//! | `asyncio.run(debug=True)` slow-callback warnings | [`runtime::Builder::slow_poll_threshold(d)`](runtime::Builder::slow_poll_threshold): a `tracing` warning per poll longer than `d` |
//! | `trio.testing.wait_all_tasks_blocked()` | [`arbor::testing::wait_all_tasks_blocked().await`](testing::wait_all_tasks_blocked) (current-thread runtime) |
//! | Trio's randomized run queue; replaying a failing interleaving | [`runtime::Builder::rng_seed(seed)`](runtime::Builder::rng_seed), [`#[arbor::test(seed = N)]`](test), `ARBOR_SEED=N`; a failing `#[arbor::test]` prints its seed |
//!
//! ```
//! let answer = arbor::run(async {
//!     let tasks: Vec<_> = (1..=3).map(|i| arbor::spawn(async move { i * 10 })).collect();
//!     let mut sum = 0;
//!     for task in tasks {
//!         sum += task.await.unwrap();
//!     }
//!     sum + arbor::to_thread(|| 2).await
//! });
//! assert_eq!(answer, 62);
//! ```
//!
//! ## Structured concurrency
//!
//! A [`TaskGroup`] waits for every child it spawned; the first failure cancels the rest,
//! and every error comes back, in order, in a [`GroupError`]. A [`CancelScope`] cancels
//! everything inside it, children of groups at any depth included; a shielded scope lets
//! cleanup finish. When a group's scope returns, or is dropped, no child is left running.
//!
//! ```
//! use arbor::{CancelScope, TaskGroup};
//!
//! #[derive(Debug, PartialEq)]
//! struct Failed(&'static str);
//!
//! let err = arbor::run(async {
//!     TaskGroup::scope(|tg| async move {
//!         drop(tg.spawn(async { Ok(1) }));
//!         drop(tg.spawn(async { Err::<(), _>(Failed("fetch")) }));
//!         // The failure cancels the body and the other children.
//!         std::future::pending::<()>().await;
//!         Ok(())
//!     })
//!     .await
//!     .unwrap_err()
//! });
//! assert_eq!(err.into_errors(), vec![Failed("fetch")]);
//!
//! let cancelled = arbor::run(async {
//!     let scope = CancelScope::new();
//!     let handle = scope.handle();
//!     scope
//!         .run(TaskGroup::<()>::scope(|tg| async move {
//!             drop(tg.spawn(std::future::pending::<Result<(), ()>>()));
//!             handle.cancel(); // reaches the group and its children
//!             Ok(())
//!         }))
//!         .await
//! });
//! assert_eq!(cancelled, Err(arbor::Cancelled));
//! ```

pub use arbor_runtime::{JoinError, Task, run, sleep, sleep_until, spawn, to_thread, yield_now};
pub use arbor_taskgroup::{
    CancelHandle, CancelScope, Cancelled, GroupError, SpawnError, StartError, StartStatus,
    TaskGroup, shield,
};
pub use arbor_timeouts::{
    TimedOut, Timeout, TimeoutHandle, fail_after, fail_at, move_on_after, move_on_at, timeout,
    timeout_at, wait_for,
};

mod as_completed;
mod gather;
mod maybe_done;
mod ready;
#[cfg(unix)]
mod serve;
mod test_seed;

pub use as_completed::{AsCompleted, as_completed};
pub use gather::{Gather, TryGather, gather, try_gather};

#[cfg(feature = "http")]
pub mod http;
pub mod stream;

/// What the macros expand to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::maybe_done::MaybeDone;
    pub use crate::test_seed::TestSeed;
}

/// The program's entry point as an `async fn`: Python's
/// `if __name__ == "__main__": asyncio.run(main())`.
///
/// ```
/// #[arbor::main]
/// async fn main() {
///     let tasks: Vec<_> = (1..=3).map(|i| arbor::spawn(async move { i * 10 })).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await.unwrap();
///     }
///     assert_eq!(sum, 60);
/// }
/// ```
///
/// `main` may return a `Result`, and `?` works as in a plain `main`:
///
/// ```
/// #[arbor::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let n: u64 = arbor::to_thread(|| "42".parse()).await?;
///     assert_eq!(n, 42);
///     Ok(())
/// }
/// ```
///
/// On the current-thread runtime, every task runs on the main thread:
///
/// ```
/// #[arbor::main(flavor = "current_thread")]
/// async fn main() {
///     let main_thread = std::thread::current().id();
///     let task_thread = arbor::spawn(async { std::thread::current().id() }).await.unwrap();
///     assert_eq!(task_thread, main_thread);
/// }
/// ```
///
/// Misuse is a compile error that says what to write instead, here "`worker_threads` does
/// not apply to the current-thread runtime":
///
/// ```compile_fail
/// #[arbor::main(flavor = "current_thread", worker_threads = 4)]
/// async fn main() {}
/// ```
pub use arbor_macros::main;

/// An `async fn` test, on a runtime of its own: current-thread unless the attribute asks
/// for `flavor = "multi_thread"`.
///
/// ```
/// #[arbor::test]
/// async fn spawned_task_returns_its_output() {
///     assert_eq!(arbor::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
///
/// #[arbor::test(flavor = "multi_thread", worker_threads = 4)]
/// async fn tasks_sum_on_four_workers() -> Result<(), arbor::JoinError> {
///     let tasks: Vec<_> = (1..=4).map(|i| arbor::spawn(async move { i })).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await?;
///     }
///     assert_eq!(sum, 10);
///     Ok(())
/// }
/// # fn main() {}
/// ```
///
/// (Doc tests are not built with `--test`, so here the macro checks these two tests
/// without running them; arbor's own test suite runs them.)
pub use arbor_macros::test;

/// Runtimes: [`Runtime`](runtime::Runtime), [`Builder`](runtime::Builder),
/// [`Handle`](runtime::Handle), the policy for panics nobody sees
/// ([`UnhandledPanic`](runtime::UnhandledPanic)) and the runtime's counters
/// ([`RuntimeMetrics`](runtime::RuntimeMetrics), from `Handle::metrics()`).
pub mod runtime {
    pub use arbor_runtime::runtime::{
        Builder, EnterGuard, Handle, MAX_WORKER_THREADS, Runtime, RuntimeMetrics, UnhandledPanic,
    };
}

/// Limits for blocking work: [`Limiter`](blocking::Limiter) runs at most `n` calls of a
/// kind on the blocking pool at once, FIFO, cancellation-safe (AnyIO's `CapacityLimiter`,
/// asyncio's `run_in_executor` with a pool of `n`).
///
/// ```
/// arbor::run(async {
///     let db = arbor::blocking::Limiter::new(4); // at most 4 queries at once
///     let rows = db.run(|| vec![1, 2, 3]).await;
///     assert_eq!(rows.len(), 3);
/// });
/// ```
pub mod blocking {
    pub use arbor_runtime::blocking::Limiter;
}

/// Tools for tests of concurrent code (Trio's `trio.testing`):
/// [`wait_all_tasks_blocked`](testing::wait_all_tasks_blocked) resolves once every other
/// task of the current-thread runtime is blocked. Seeded scheduling lives on the builder
/// ([`runtime::Builder::rng_seed`]) and in [`#[arbor::test]`](test): every test on the
/// current-thread runtime runs its ready tasks in an order fixed by a seed (`seed = N`, or
/// the `ARBOR_SEED` variable, or one drawn for the run), and a failing test prints its seed.
///
/// ```
/// let rt = arbor::runtime::Builder::new_current_thread().rng_seed(3).build().unwrap();
/// rt.block_on(async {
///     let (tx, rx) = arbor::sync::oneshot::channel::<u32>();
///     let task = arbor::spawn(async move { rx.await.unwrap() });
///     arbor::testing::wait_all_tasks_blocked().await; // the task waits on `rx` now
///     assert!(!task.is_finished());
///     tx.send(7).unwrap();
///     assert_eq!(task.await.unwrap(), 7);
/// });
/// ```
pub mod testing {
    pub use arbor_runtime::testing::{WaitAllTasksBlocked, wait_all_tasks_blocked};
}

/// Files, on the blocking pool (asyncio's `to_thread` around `open`, Trio's `trio.Path`):
/// `std::fs`'s free functions as async functions, [`read_dir`](fs::read_dir) as a
/// `Stream`, and a buffered [`File`](fs::File) with inherent async methods and the
/// `futures_io` traits ([`arbor::io`](crate::io)). Errors keep `std`'s kinds and name the
/// path.
///
/// ```
/// arbor::run(async {
///     let path = std::env::temp_dir().join(format!("arbor-facade-fs-{}", std::process::id()));
///     arbor::fs::write(&path, "hi").await?;
///     let mut file = arbor::fs::File::open(&path).await?;
///     let mut text = String::new();
///     file.read_to_string(&mut text).await?;
///     assert_eq!(text, "hi");
///     arbor::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub mod fs {
    pub use arbor_runtime::fs::*;
}

/// Child processes (asyncio's `create_subprocess_exec`, Trio's `run_process`), reaped
/// through the reactor (a pidfd: no thread, no zombie). A child whose waiter (`wait`,
/// `output`, `status`) is cancelled or dropped, or whose `Child` is dropped while it runs,
/// gets SIGTERM, then SIGKILL after [`Command::kill_grace`](process::Command::kill_grace)
/// (5 s by default), and is reaped; [`Command::detach`](process::Command::detach) opts out.
///
/// ```
/// use arbor::process::Command;
///
/// arbor::run(async {
///     let out = Command::new("echo").arg("hi").output().await?;
///     assert_eq!(out.stdout, b"hi\n");
///     // A deadline around a child stops it: SIGTERM, and it is reaped.
///     let slow = arbor::wait_for(
///         std::time::Duration::from_millis(50),
///         Command::new("sleep").arg("30").status(),
///     )
///     .await;
///     assert!(slow.is_err());
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
#[cfg(target_os = "linux")]
pub mod process {
    pub use arbor_runtime::process::*;
}

/// The `futures-io` traits that arbor's streams ([`net`]), files
/// ([`fs`]) and pipes implement, re-exported so that crates written against
/// them (futures-rustls, async-tungstenite, ...) take arbor's types unchanged.
pub mod io {
    pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
}

/// Networking: TCP, UDP and Unix domain sockets on the runtime's IO reactor
/// (asyncio's `open_connection`, `start_server`, `create_datagram_endpoint`).
///
/// Streams have inherent async `read`, `read_exact`, `write`, `write_all`, `flush` and
/// `shutdown`, implement `futures_io::{AsyncRead, AsyncWrite}`, and split into halves
/// for two tasks (`into_split`). Host names resolve off the workers. Errors are
/// `io::Error`s, never panics.
///
/// ```
/// use arbor::net::{TcpListener, TcpStream};
///
/// arbor::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = arbor::spawn(async move {
///         let (mut conn, _peer) = listener.accept().await?;
///         let mut buf = [0; 4];
///         conn.read_exact(&mut buf).await?;
///         conn.write_all(&buf).await?;
///         std::io::Result::Ok(())
///     });
///     let mut client = TcpStream::connect(addr).await?;
///     client.write_all(b"ping").await?;
///     let mut reply = [0; 4];
///     client.read_exact(&mut reply).await?;
///     assert_eq!(&reply, b"ping");
///     server.await.unwrap()
/// })
/// .unwrap();
/// ```
#[cfg(unix)]
pub mod net {
    pub use crate::serve::serve;
    pub use arbor_runtime::net::*;
}

/// Unix signals through the runtime's reactor (asyncio's `loop.add_signal_handler`,
/// Trio's `open_signal_receiver`): [`ctrl_c`](signal::ctrl_c) and
/// [`Signals`](signal::Signals), a listener with an async `next()` that is also a `Stream`.
///
/// Signals are plain `i32`s (libc's numbers; the common ones are constants here). Every
/// listener of a signal sees each delivery; a signal that arrives while nobody awaits is
/// kept for the next `next()`; deliveries coalesce like Unix signals (two quick SIGUSR1
/// may be seen once). Handlers are process-wide and stay installed: once a program listens
/// for SIGTERM, SIGTERM no longer ends it by default. SIGKILL, SIGSTOP and the fault
/// signals are an `InvalidInput` error. `runtime::Builder::dump_on_signal(SIGUSR1)` (or
/// `ARBOR_DUMP_SIGNAL=USR1`) prints [`task::dump`] to stderr when the signal arrives.
///
/// ```no_run
/// use arbor::signal::{SIGTERM, Signals};
///
/// #[arbor::main]
/// async fn main() -> std::io::Result<()> {
///     let mut stop = Signals::new([SIGTERM])?;
///     let server = arbor::spawn(async { /* serve */ });
///     stop.next().await;
///     println!("SIGTERM: shutting down");
///     server.cancel();
///     Ok(())
/// }
/// ```
#[cfg(unix)]
pub mod signal {
    pub use arbor_runtime::signal::*;
}

/// Tasks: spawning with options (group children too: [`TaskGroup::builder`]), blocking
/// calls, ids, and introspection:
/// [`current`](task::current), [`all`](task::all) and [`dump`](task::dump) (asyncio's
/// `current_task()`, `all_tasks()` and `python -m asyncio pstree`).
///
/// ```
/// use arbor::task::{self, Builder};
/// use arbor::{TaskGroup, sync::Event};
/// use std::sync::Arc;
///
/// arbor::run(async {
///     let (started, done) = (Arc::new(Event::new()), Arc::new(Event::new()));
///     let (s, d) = (started.clone(), done.clone());
///     let server = Builder::new().name("server").spawn(async move {
///         TaskGroup::<()>::scope(|tg| async move {
///             // A named child (`tg.spawn` would show `<unnamed>`).
///             let conn = tg.builder().name("conn 10.0.0.7:55012").spawn(async move {
///                 d.wait().await;
///                 Ok(())
///             });
///             s.set();
///             conn.await.unwrap();
///             Ok(())
///         })
///         .await
///         .unwrap();
///     });
///     started.wait().await;
///
///     let tasks = task::all();
///     let conn = tasks.iter().find(|t| t.group().is_some()).unwrap();
///     assert_eq!(conn.group().unwrap().opened_by(), Some(server.id()));
///     // server (id 1)
///     // └── TaskGroup (group 1)
///     //     └── conn 10.0.0.7:55012 (id 2)
///     assert_eq!(conn.name(), Some("conn 10.0.0.7:55012"));
///     let tree = task::dump();
///     assert_eq!(
///         tree,
///         format!(
///             "server (id {})\n└── TaskGroup (group {})\n    └── conn 10.0.0.7:55012 (id {})\n",
///             server.id(),
///             conn.group().unwrap().id(),
///             conn.id()
///         )
///     );
///     done.set();
///     server.await.unwrap();
/// });
/// ```
pub mod task {
    pub use arbor_runtime::task::{
        Builder, GroupInfo, SLOW_POLL_TARGET, TaskId, TaskInfo, UNHANDLED_PANIC_TARGET, YieldNow,
        all, current, dump, spawn, spawn_blocking, try_id, yield_now,
    };
    pub use arbor_taskgroup::{ChildBuilder, GroupScope, Scoped, Shield, Start};
    pub use arbor_timeouts::{MoveOn, Timed};
}

/// Time: [`Instant`](time::Instant), [`time::sleep`], [`Interval`](time::Interval),
/// virtual time for tests ([`pause`](time::pause), [`advance`](time::advance),
/// [`resume`](time::resume)), and [`current_deadline`](time::current_deadline), the
/// effective deadline of the running code (Trio's `current_effective_deadline`), for
/// libraries that pass deadlines down:
///
/// ```
/// use arbor::time::{current_deadline, Instant};
/// use std::time::Duration;
///
/// arbor::run(async {
///     assert_eq!(current_deadline(), None);
///     let deadline = Instant::now() + Duration::from_secs(5);
///     let seen = arbor::timeout_at(deadline, async { current_deadline() }).await;
///     assert_eq!(seen, Ok(Some(deadline)));
/// });
/// ```
///
/// ```
/// use arbor::runtime::Builder;
/// use arbor::time::{self, Instant};
/// use std::time::Duration;
///
/// // A paused clock jumps to the next timer when every task is idle: no wall time passes.
/// let rt = Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let start = Instant::now();
///     arbor::sleep(Duration::from_secs(60)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(60));
/// });
/// ```
pub mod time {
    pub use arbor_runtime::time::{
        Instant, Interval, MissedTickBehavior, Sleep, advance, current_deadline, interval,
        interval_at, pause, resume, sleep, sleep_until,
    };
}

/// Async synchronisation primitives: asyncio's `Lock`, `Event`, `Condition`, `Semaphore`,
/// `Barrier` and queues, plus `mpsc` and `oneshot` channels.
///
/// | asyncio | arbor |
/// |---|---|
/// | `Lock` | [`Mutex<T>`](sync::Mutex) (owns the data it guards); also [`RwLock<T>`](sync::RwLock) |
/// | `Event` | [`Event`](sync::Event) |
/// | `Condition` | [`Condvar`](sync::Condvar), used with a `Mutex` |
/// | `Semaphore`, `BoundedSemaphore` | [`Semaphore`](sync::Semaphore) (a permit is given back by dropping it) |
/// | `Barrier` | [`Barrier`](sync::Barrier) |
/// | `Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`](sync::Queue), [`LifoQueue`](sync::LifoQueue), [`PriorityQueue`](sync::PriorityQueue): `put`, `get`, `put_nowait`, `get_nowait`, `task_done`, `join`, `shutdown` |
/// | `QueueFull`, `QueueEmpty`, `QueueShutDown` | [`TryPutError::Full`](sync::TryPutError::Full), [`TryGetError::Empty`](sync::TryGetError::Empty), [`QueueShutDown`](sync::QueueShutDown) |
/// | a `Future` another task resolves | [`oneshot::channel`](sync::oneshot::channel) |
/// | (none) | [`mpsc::channel(cap)`](sync::mpsc::channel), [`mpsc::unbounded_channel()`](sync::mpsc::unbounded_channel) |
///
/// Every primitive serves its waiters first come, first served, and is cancellation-safe:
/// a waiting future that is dropped, even just after it was granted a lock, a permit, an
/// item or room in a queue, passes the grant on. Nothing is lost, and a `put` or `send`
/// dropped before it resolved did not put or send: retrying one never duplicates an item.
///
/// ```
/// use arbor::sync::{Mutex, Queue};
/// use std::sync::Arc;
///
/// let total = arbor::run(async {
///     let jobs = Arc::new(Queue::new(8));
///     let total = Arc::new(Mutex::new(0));
///     let workers: Vec<_> = (0..3)
///         .map(|_| {
///             let (jobs, total) = (jobs.clone(), total.clone());
///             arbor::spawn(async move {
///                 while let Ok(n) = jobs.get().await {
///                     *total.lock().await += n;
///                     jobs.task_done();
///                 }
///             })
///         })
///         .collect();
///     for n in 1..=10 {
///         jobs.put(n).await.unwrap();
///     }
///     jobs.join().await;
///     jobs.shutdown(false);
///     for w in workers {
///         w.await.unwrap();
///     }
///     *total.lock().await
/// });
/// assert_eq!(total, 55);
/// ```
pub mod sync {
    pub use arbor_runtime::sync::*;
}

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
