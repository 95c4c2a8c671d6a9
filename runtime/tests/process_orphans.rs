//! Detached children outliving their runtime are reaped by the process-wide orphan reaper:
//! none stays a zombie, whether the runtime shut down while it ran or its `Child` was
//! dropped after the runtime, and one thread serves them all.
//!
//! Each child is a `cat` reading a pipe whose write end the test holds: it runs for sure
//! until the test closes the pipe, after the hand-over, and then exits on its own. A test
//! binary of its own, so that the reaper thread counted here is the only one, and no other
//! test counts it among its threads.

#![cfg(target_os = "linux")]

mod support;

use arbor_runtime::process::{ChildStdin, Command, Stdio};
use arbor_runtime::runtime::Runtime;
use std::time::{Duration, Instant};

/// The state letter of `/proc/<pid>/stat` ('R', 'S', 'Z' for a zombie...), `None` once
/// the process is gone (reaped).
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the comm may hold spaces and parentheses, the state follows
    // the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().next()?.chars().next()
}

/// Waits (real time: these are OS processes) until every pid is gone, up to 10 s; panics
/// naming those left, with their states ('Z': a zombie nobody reaps).
fn until_all_gone(pids: &[u32]) {
    let start = Instant::now();
    loop {
        let left: Vec<(u32, char)> = pids
            .iter()
            .filter_map(|&pid| state(pid).map(|s| (pid, s)))
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never reaped (pid, state): {left:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How many threads of this process are the orphan reaper.
fn reaper_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|task| {
            let comm = task.as_ref().unwrap().path().join("comm");
            std::fs::read_to_string(comm).is_ok_and(|c| c.trim_end() == "arbor-reaper")
        })
        .count()
}

/// Spawns `n` detached `cat`s in `rt`, keeping their stdin; the `Child`ren go to `keep`
/// (dropped there inside the runtime unless `keep` is `Some`).
fn spawn_cats(
    rt: &Runtime,
    n: usize,
    keep: Option<&mut Vec<arbor_runtime::process::Child>>,
) -> (Vec<u32>, Vec<ChildStdin>) {
    let children: Vec<_> = rt.block_on(async {
        (0..n)
            .map(|_| {
                Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .detach()
                    .spawn()
                    .unwrap()
            })
            .collect()
    });
    let mut pids = Vec::new();
    let mut stdins = Vec::new();
    let mut kept = Vec::new();
    for mut child in children {
        pids.push(child.id().unwrap());
        stdins.push(child.stdin.take().unwrap());
        kept.push(child);
    }
    match keep {
        Some(keep) => keep.extend(kept),
        // Dropped inside the runtime: each gets a reaping task there.
        None => rt.block_on(async move { drop(kept) }),
    }
    (pids, stdins)
}

#[test]
fn a_detached_child_outliving_its_runtime_is_reaped() {
    for (name, build) in support::flavours() {
        let rt = build();
        let (pids, stdins) = spawn_cats(&rt, 1, None);
        drop(rt); // the reaping task is dropped with the runtime: the child is handed over
        assert_ne!(state(pids[0]), None, "{name}: still running, detached");
        assert_ne!(state(pids[0]), Some('Z'), "{name}: still running, detached");
        drop(stdins); // cat reads end-of-file and exits, with no runtime left
        until_all_gone(&pids);
    }
}

#[test]
fn a_detached_child_dropped_after_its_runtime_is_reaped() {
    for (name, build) in support::flavours() {
        let rt = build();
        let mut children = Vec::new();
        let (pids, stdins) = spawn_cats(&rt, 1, Some(&mut children));
        drop(rt);
        drop(children); // outside any runtime: its reaping task is dropped unrun
        assert_ne!(state(pids[0]), Some('Z'), "{name}: still running, detached");
        drop(stdins);
        until_all_gone(&pids);
    }
}

#[test]
fn fifty_orphans_handed_over_at_once_are_all_reaped_by_one_thread() {
    let (_, build) = support::flavours()[2];
    let rt = build();
    let (pids, stdins) = spawn_cats(&rt, 50, None);
    drop(rt);
    assert!(
        pids.iter().all(|&pid| state(pid).is_some_and(|s| s != 'Z')),
        "all still running"
    );
    // Fifty running orphans handed over: the reaper runs (exactly one of it).
    let threads = reaper_threads();
    drop(stdins);
    until_all_gone(&pids);
    assert_eq!(threads, 1, "one reaper thread for fifty orphans");
    assert_eq!(reaper_threads(), 1, "it stays, parked, for later orphans");
}

#[test]
fn a_detached_child_exiting_while_its_runtime_runs_is_reaped_there() {
    let (_, build) = support::flavours()[0];
    let rt = build();
    let (pids, stdins) = spawn_cats(&rt, 1, None);
    rt.block_on(async move {
        drop(stdins);
        // The runtime's reaping task reaps it; no hand-over involved.
        let start = Instant::now();
        while state(pids[0]).is_some() {
            assert!(start.elapsed() < Duration::from_secs(10), "never reaped");
            arbor_runtime::sleep(Duration::from_millis(10)).await;
        }
    });
}
