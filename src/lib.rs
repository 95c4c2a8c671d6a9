//! arbor: a work-stealing async runtime with structured concurrency and a facade that
//! reads like Python's asyncio.
//!
//! | asyncio | arbor |
//! |---|---|
//! | `asyncio.run(main())` | [`arbor::run(fut)`](run) |
//! | `loop.run_until_complete(fut)` | [`Runtime::block_on`](runtime::Runtime::block_on) |
//! | `asyncio.create_task(coro)` | [`arbor::spawn(fut)`](spawn) -> [`Task<T>`](Task) |
//! | `create_task(coro, name="x")` | [`task::Builder::new().name("x").spawn(fut)`](task::Builder) |
//! | `task.cancel()`, `task.done()`, `task.get_name()` | [`Task::cancel`], [`Task::is_finished`], [`Task::name`] |
//! | `await task` | `task.await` -> `Result<T, JoinError>` |
//! | `await asyncio.sleep(0)` | [`arbor::yield_now().await`](yield_now) |
//! | `await asyncio.to_thread(f)` | [`arbor::to_thread(f).await`](to_thread) |
//! | `loop.run_in_executor(None, f)` | [`arbor::task::spawn_blocking(f)`](task::spawn_blocking) |
//! | `await open_connection(host, port)` | [`net::TcpStream::connect((host, port)).await`](net::TcpStream::connect) |
//! | `await start_server(cb, host, port)` | [`net::TcpListener::bind((host, port)).await`](net::TcpListener::bind), then `accept()` in a loop |
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

pub use arbor_runtime::{JoinError, Task, run, spawn, to_thread, yield_now};

/// Runtimes: [`Runtime`](runtime::Runtime), [`Builder`](runtime::Builder),
/// [`Handle`](runtime::Handle).
pub mod runtime {
    pub use arbor_runtime::runtime::{Builder, EnterGuard, Handle, MAX_WORKER_THREADS, Runtime};
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
    pub use arbor_runtime::net::*;
}

/// Tasks: spawning with options, blocking calls, ids.
pub mod task {
    pub use arbor_runtime::task::{
        Builder, TaskId, YieldNow, spawn, spawn_blocking, try_id, yield_now,
    };
}
