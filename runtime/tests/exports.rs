//! arbor-runtime's public surface, module by module: what each public module declares,
//! hidden items included (`tests/support/exports.rs` at the workspace root reads them).
//! The cross-crate plumbing (`cancel`, `task::TaskRef`, `wake`) is public so that
//! arbor-taskgroup and arbor-timeouts can build on it; every item here must be sound under
//! any call order and any `mem::forget` (`tests/cancel_soundness.rs` tries the cancel tree's).

#[path = "../../tests/support/exports.rs"]
mod exports;

use exports::check;

const DIR: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn each_module_exports_exactly_the_listed_items() {
    let modules: &[(&str, &[&str], &[&str])] = &[
        (
            "arbor_runtime",
            &["src/lib.rs"],
            &[
                "JoinError",
                "Task",
                "TaskId",
                "blocking",
                "cancel",
                "coop",
                "hidden fuzz",
                "hidden wake",
                "net",
                "run",
                "runtime",
                "sleep",
                "sleep_until",
                "spawn",
                "sync",
                "task",
                "time",
                "to_thread",
                "yield_now",
            ],
        ),
        (
            "cancel",
            &["src/cancel/mod.rs"],
            &[
                "CancelNode",
                "DeadlineTimer",
                "InScope",
                "ScopePoll",
                "ScopeState",
                "ShieldRegion",
                "current_deadline",
                "lazy_scope",
            ],
        ),
        (
            "blocking",
            &["src/blocking/mod.rs"],
            &["spawn_blocking", "to_thread"],
        ),
        ("coop", &["src/coop.rs"], &["has_budget_remaining"]),
        (
            "net",
            &["src/net/mod.rs"],
            &[
                "TcpListener",
                "TcpStream",
                "ToSocketAddrs",
                "UdpSocket",
                "UnixDatagram",
                "UnixListener",
                "UnixStream",
                "lookup_host",
                "tcp",
                "unix",
            ],
        ),
        (
            "runtime",
            &["src/runtime/mod.rs"],
            &[
                "Builder",
                "EnterGuard",
                "Handle",
                "MAX_WORKER_THREADS",
                "Runtime",
            ],
        ),
        (
            "sync",
            &["src/sync/mod.rs"],
            &[
                "Barrier",
                "BarrierWait",
                "BarrierWaitResult",
                "Condvar",
                "Event",
                "LifoQueue",
                "Mutex",
                "MutexGuard",
                "OwnedSemaphorePermit",
                "PriorityQueue",
                "Queue",
                "QueueShutDown",
                "RwLock",
                "RwLockReadGuard",
                "RwLockWriteGuard",
                "Semaphore",
                "SemaphorePermit",
                "TryAcquireError",
                "TryGetError",
                "TryLockError",
                "TryPutError",
                "Wait",
                "mpsc",
                "oneshot",
            ],
        ),
        (
            "task",
            &["src/task/mod.rs"],
            &[
                "Builder",
                "GroupInfo",
                "JoinError",
                "SLOW_POLL_TARGET",
                "Task",
                "TaskId",
                "TaskInfo",
                "YieldNow",
                "all",
                "current",
                "dump",
                "hidden TaskRef",
                "spawn",
                "spawn_blocking",
                "try_id",
                "yield_now",
            ],
        ),
        (
            "time",
            &["src/time/mod.rs"],
            &[
                "Instant",
                "Interval",
                "MissedTickBehavior",
                "Sleep",
                "advance",
                "current_deadline",
                "interval",
                "interval_at",
                "pause",
                "resume",
                "sleep",
                "sleep_until",
            ],
        ),
        (
            "net::tcp",
            &["src/net/tcp/mod.rs"],
            &[
                "OwnedReadHalf",
                "OwnedWriteHalf",
                "ReadHalf",
                "ReuniteError",
                "TcpListener",
                "TcpStream",
                "WriteHalf",
            ],
        ),
        (
            "net::unix",
            &["src/net/unix/mod.rs"],
            &[
                "OwnedReadHalf",
                "OwnedWriteHalf",
                "ReadHalf",
                "ReuniteError",
                "SocketAddr",
                "UnixDatagram",
                "UnixListener",
                "UnixStream",
                "WriteHalf",
            ],
        ),
        (
            "sync::mpsc",
            &["src/sync/mpsc.rs"],
            &[
                "Receiver",
                "SendError",
                "Sender",
                "TryRecvError",
                "TrySendError",
                "UnboundedSender",
                "channel",
                "unbounded_channel",
            ],
        ),
        (
            "sync::oneshot",
            &["src/sync/oneshot.rs"],
            &["Receiver", "RecvError", "Sender", "TryRecvError", "channel"],
        ),
        ("wake", &["src/wake.rs"], &["wake", "wake_by_ref"]),
    ];
    let mut failures = Vec::new();
    for (module, files, expected) in modules {
        if let Err(e) = std::panic::catch_unwind(|| check(DIR, module, files, expected)) {
            failures.push(e.downcast_ref::<String>().cloned().unwrap_or_default());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
