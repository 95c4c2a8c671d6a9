//! The facade's public surface: what `arbor::` exports, exactly.
//!
//! Two checks: every name below resolves (a compile-time check, through `use`), and the
//! root of `src/lib.rs` declares exactly these names and modules, no more (read from the
//! source, so that adding or dropping an export is a deliberate change to this file too).

#![allow(unused_imports, reason = "the imports are the test: each must resolve")]

use std::collections::BTreeSet;

#[path = "support/exports.rs"]
mod exports;

use exports::declared;

// DESIGN.md section 2, "Paths and method names": the root.
use arbor::{
    CancelHandle, CancelScope, Cancelled, GroupError, JoinError, Task, TaskGroup, TimedOut,
    Timeout, TimeoutHandle, as_completed, fail_after, gather, move_on_after, run, shield, sleep,
    sleep_until, spawn, timeout, timeout_at, to_thread, try_gather, wait_for, yield_now,
};
// The attribute macros, renamed so they do not shadow the built-in `#[test]`.
use arbor::{main as _, test as _};
// Beyond DESIGN.md's list: the futures and error the root functions return, and the
// absolute-deadline forms of fail_after / move_on_after.
use arbor::{AsCompleted, Gather, SpawnError, TryGather, fail_at, move_on_at};
// DESIGN.md section 6: `TaskGroup::start`'s status and error.
use arbor::{StartError, StartStatus};
// The modules.
#[cfg(feature = "http")]
use arbor::http::{
    Client, ClientBuilder, Error as HttpError, Executor, Listener, ServeConfig, Timer, hyper,
    serve as http_serve, serve_with,
};
use arbor::net::{
    TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream, serve,
};
use arbor::runtime::{
    Builder, EnterGuard, Handle, MAX_WORKER_THREADS, Runtime, RuntimeMetrics, UnhandledPanic,
};
use arbor::signal::{
    SIGALRM, SIGCHLD, SIGCONT, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGUSR1,
    SIGUSR2, SIGWINCH, Signals, ctrl_c,
};
use arbor::stream::{Co, Generator, Yield, generator};
use arbor::sync::{
    Barrier, Condvar, Event, LifoQueue, Mutex, PriorityQueue, Queue, RwLock, Semaphore, mpsc,
    oneshot,
};
use arbor::task::{
    ChildBuilder, GroupInfo, GroupScope, MoveOn, SLOW_POLL_TARGET, Scoped, Shield, Start, TaskId,
    TaskInfo, Timed, UNHANDLED_PANIC_TARGET, YieldNow, all, current, dump, spawn_blocking, try_id,
};
use arbor::testing::{WaitAllTasksBlocked, wait_all_tasks_blocked};
use arbor::time::{
    Instant, Interval, MissedTickBehavior, Sleep, advance, current_deadline, interval, interval_at,
    pause, resume,
};

/// What `arbor::http` exports (feature `http`; the module is declared either way).
const HTTP: &[&str] = &[
    "Client",
    "ClientBuilder",
    "Error",
    "Executor",
    "Listener",
    "ServeConfig",
    "Timer",
    "hyper",
    "serve",
    "serve_with",
];

/// What the root exports: functions, types, attribute macros, modules and `name!` macros.
const ROOT: &[&str] = &[
    "AsCompleted",
    "CancelHandle",
    "CancelScope",
    "Cancelled",
    "Gather",
    "GroupError",
    "JoinError",
    "SpawnError",
    "StartError",
    "StartStatus",
    "Task",
    "TaskGroup",
    "TimedOut",
    "Timeout",
    "TimeoutHandle",
    "TryGather",
    "as_completed",
    "blocking",
    "fail_after",
    "fail_at",
    "fs",
    "gather",
    "gather!",
    "http",
    "io",
    "main",
    "move_on_after",
    "move_on_at",
    "net",
    "process",
    "run",
    "runtime",
    "shield",
    "signal",
    "sleep",
    "sleep_until",
    "spawn",
    "stream",
    "sync",
    "task",
    "test",
    "testing",
    "time",
    "timeout",
    "timeout_at",
    "to_thread",
    "try_gather",
    "try_gather!",
    "wait_for",
    "yield_now",
];

#[test]
fn the_root_exports_exactly_the_documented_names() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let lib = std::fs::read_to_string(format!("{dir}/src/lib.rs")).unwrap();
    let mut found = declared(&lib);
    // `#[macro_export]` macros land at the root; `__`-prefixed ones are the expansion's.
    // Every source file, in subfolders too (`src/http/`).
    let mut files = Vec::new();
    let mut folders = vec![std::path::PathBuf::from(format!("{dir}/src"))];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "#[macro_export]" {
                let def = lines.next().unwrap();
                let name = def
                    .trim_start_matches("macro_rules! ")
                    .trim_end_matches(" {");
                if !name.starts_with("__") {
                    found.insert(format!("{name}!"));
                }
            }
        }
    }
    let expected: BTreeSet<String> = ROOT.iter().map(|s| s.to_string()).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "arbor's root exports changed: not listed here {extra:?}; listed but gone {missing:?}"
    );
}

#[test]
fn the_http_module_exports_exactly_the_listed_names() {
    exports::check(
        env!("CARGO_MANIFEST_DIR"),
        "arbor::http",
        &["src/http.rs"],
        HTTP,
    );
}
