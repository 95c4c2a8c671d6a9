//! `#[arbor::main]` and `#[arbor::test]`: an `async fn` as a program's entry point or as a
//! test, run on an arbor runtime built for it (Python's
//! `if __name__ == "__main__": asyncio.run(main())`).
//!
//! Use them through the `arbor` crate, as `#[arbor::main]` and `#[arbor::test]`: the code
//! they generate names `::arbor`, and their runnable examples are on `arbor::main` and
//! `arbor::test`, where they run as the `arbor` crate's doc tests.
//!
//! # Options
//!
//! Options go in parentheses, as `key = value` pairs separated by commas:
//! `#[arbor::main(flavor = "multi_thread", worker_threads = 4)]`.
//!
//! | option | values | default | on |
//! |---|---|---|---|
//! | `flavor` | `"multi_thread"` (work-stealing workers) or `"current_thread"` (every task on the calling thread) | `"multi_thread"` for `main`, `"current_thread"` for `test` | both |
//! | `worker_threads` | an integer from 1 to `arbor::runtime::MAX_WORKER_THREADS`; multi-thread flavor only | one worker per CPU | both |
//! | `start_paused` | `true` or `false`; current-thread flavor only | `false` | `test` |
//! | `seed` | an integer from 0 to `u64::MAX`: `Builder::rng_seed(seed)`; current-thread flavor only | `ARBOR_SEED`, else a seed drawn per run, printed if the test fails | `test` |
//!
//! # What they generate
//!
//! The `async fn` becomes a plain `fn` with the same name, visibility, attributes and
//! return type, which builds the runtime and blocks on the original function, kept
//! nested inside it so that its body compiles, and is diagnosed, exactly as written. In
//! essence, `#[arbor::main(worker_threads = 4)] async fn main() -> Result<(), E> { BODY }`
//! becomes:
//!
//! ```text
//! fn main() -> Result<(), E> {
//!     async fn body() -> Result<(), E> { BODY }
//!     arbor::runtime::Builder::new_multi_thread()
//!         .worker_threads(4)
//!         .build()
//!         .unwrap_or_else(|err| panic!("#[arbor::main]: failed to start the arbor runtime: {err}"))
//!         .block_on(Box::pin(body()))
//! }
//! ```
//!
//! As the body moves into a nested function, it cannot name `Self`: the attributes go on
//! free functions.
//!
//! `#[arbor::test]` also puts `#[test]` in front of the function's own attributes, so
//! `#[should_panic]`, `#[ignore]` and doc comments work as on any test.
//!
//! # Misuse
//!
//! Mistakes are compile errors that point at the offending token and say what to write
//! instead: a function without `async`; arguments on `main` or on a test; an unknown
//! option (the error lists the valid ones, and suggests the nearest); a repeated option;
//! a bad value (`flavor = "foo"`, `worker_threads = 0`, `worker_threads = "4"`, a
//! `worker_threads` above `MAX_WORKER_THREADS`); `worker_threads` with the current-thread
//! flavor; `start_paused = true` or `seed` with the multi-thread flavor; a `seed` that is
//! not a `u64` literal; a second test attribute
//! next to `#[arbor::test]`.

mod config;
mod expand;

use config::Entry;
use proc_macro::TokenStream;

/// `#[arbor::main]` turns an `async fn` into a plain `fn` that builds an arbor runtime and
/// blocks on the function's body: asyncio's `asyncio.run(main())`.
///
/// By default the runtime is the work-stealing multi-thread one with a worker per CPU.
/// `main` may return anything a plain `main` may, such as `Result<(), E>` with
/// `E: Debug`, and `?` in the body converts errors as in a plain `fn`. The future need
/// not be `Send`: it runs on the main thread, and the tasks it spawns run on the workers.
/// When `main` returns, the runtime shuts down: every task still alive is cancelled and
/// the workers are joined. The function takes no arguments (read them with
/// `std::env::args()`).
///
/// # Options
///
/// - `#[arbor::main]`: the multi-thread runtime, one worker per CPU;
/// - `#[arbor::main(worker_threads = 4)]`: the multi-thread runtime with 4 workers;
/// - `#[arbor::main(flavor = "current_thread")]`: the current-thread runtime, where every
///   task runs on the main thread (no worker threads at all).
///
/// `flavor = "multi_thread"` may also be written out. The [crate docs](crate) list the
/// options and the errors for misuse.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Entry::Main, args.into(), item.into()).into()
}

/// `#[arbor::test]` turns an `async fn` into a `#[test]` that builds an arbor runtime of
/// its own and blocks on the function's body.
///
/// By default the runtime is the current-thread one, so a test runs on the test's own
/// thread, in a seeded order (see below); ask for `flavor = "multi_thread"` to test behaviour across
/// workers. The test may return `Result<(), E>` and may carry `#[should_panic]` or
/// `#[ignore]`, as any test may; it takes no arguments. The runtime, and every task the
/// test left alive, is shut down when the test returns.
///
/// # Options
///
/// - `#[arbor::test]`: the current-thread runtime;
/// - `#[arbor::test(flavor = "multi_thread")]`: the multi-thread runtime, one worker per
///   CPU; add `worker_threads = 4` for 4 workers;
/// - `#[arbor::test(start_paused = true)]`: the current-thread runtime with its clock
///   paused from the start: whenever every task is idle, the clock jumps to the next
///   timer, so tests of sleeps and timeouts take no wall time. The expansion calls
///   `Builder::start_paused(true)`, which arrives with arbor's timer; the multi-thread
///   flavor does not take it.
/// - `#[arbor::test(seed = 42)]`: the current-thread runtime built with
///   `Builder::rng_seed(42)`: ready tasks run in the order seed 42 fixes, the same every
///   run.
///
/// # Seeds
///
/// A test on the current-thread runtime always runs seeded: with the `seed = N` option's
/// seed; else with the `ARBOR_SEED` environment variable's (a `u64`; anything else makes
/// the test panic); else with a seed drawn for this run, so that each run tries another
/// interleaving. If the test panics, it prints the seed after the panic message:
/// `arbor: test failed with ARBOR_SEED=N`, and `ARBOR_SEED=N cargo test <name>` (or
/// `seed = N`) replays its order. A test that fails by returning `Err` is not reported
/// (the harness judges the return value after the function has returned). Multi-thread
/// tests are not seeded.
///
/// The [crate docs](crate) list the options and the errors for misuse.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Entry::Test, args.into(), item.into()).into()
}
