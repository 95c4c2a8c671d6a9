//! `arbor_runtime::process`: piped round trips, a 10 MiB output that must not deadlock,
//! missing programs, and the structure: a dropped wait or `Child` stops the child (SIGTERM,
//! then SIGKILL after the grace, on virtual time) and reaps it, also at runtime shutdown
//! and outside any runtime; detached children are left alone; 500 concurrent children.

#![cfg(target_os = "linux")]

mod support;

use arbor_runtime::process::{Command, Stdio};
use arbor_runtime::runtime::Builder;
use arbor_runtime::time::Instant;
use std::future::{Future, poll_fn};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

/// Whether `pid` is still a process, running or a zombie (gone once reaped).
fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits (real time, polling) until `pid` is gone; panics after 20 s.
async fn until_gone(pid: u32) {
    let start = std::time::Instant::now();
    while exists(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{pid} was never reaped"
        );
        arbor_runtime::sleep(Duration::from_millis(5)).await;
    }
}

/// Polls `fut` once (so it starts), then drops it.
async fn poll_once_and_drop<F: Future>(fut: F) {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        assert!(fut.as_mut().poll(cx).is_pending(), "expected it to wait");
        Poll::Ready(())
    })
    .await;
}

#[test]
fn output_collects_stdout_stderr_and_status() {
    for rt in support::two_runtimes() {
        rt.block_on(async {
            let out = Command::new("sh")
                .args(["-c", "echo out; echo err >&2; exit 3"])
                .output()
                .await
                .unwrap();
            assert_eq!(out.stdout, b"out\n");
            assert_eq!(out.stderr, b"err\n");
            assert_eq!(out.status.code(), Some(3));
            let status = Command::new("true").status().await.unwrap();
            assert!(status.success());
        });
    }
}

#[test]
fn cat_echoes_a_mebibyte_through_piped_stdio() {
    for rt in support::two_runtimes() {
        rt.block_on(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let data: Vec<u8> = (0..1 << 20).map(|i| (i % 253) as u8).collect();
            let mut stdin = child.stdin.take().unwrap();
            let to_send = data.clone();
            // Writing and reading at once: a pipe holds 64 KiB, so one alone would stall.
            let writer = arbor_runtime::spawn(async move {
                stdin.write_all(&to_send).await.unwrap();
                // Dropped here: cat reads end-of-file.
            });
            let mut echoed = Vec::new();
            let mut stdout = child.stdout.take().unwrap();
            stdout.read_to_end(&mut echoed).await.unwrap();
            writer.await.unwrap();
            assert!(echoed == data);
            assert!(child.wait().await.unwrap().success());
            assert_eq!(child.id(), None, "reaped");
        });
    }
}

#[test]
fn a_ten_mebibyte_output_on_both_pipes_does_not_deadlock() {
    for rt in support::two_runtimes() {
        rt.block_on(async {
            let out = Command::new("sh")
                .args([
                    "-c",
                    "head -c 10485760 /dev/zero; head -c 3145728 /dev/zero >&2; \
                     head -c 10485760 /dev/zero",
                ])
                .output()
                .await
                .unwrap();
            assert!(out.status.success());
            assert_eq!(out.stdout.len(), 20 << 20);
            assert_eq!(out.stderr.len(), 3 << 20);
        });
    }
}

#[test]
fn a_missing_program_is_not_found_and_named() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let err = Command::new("arbor-no-such-program").spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(err.to_string().contains("arbor-no-such-program"), "{err}");
        let err = Command::new("arbor-no-such-program")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn spawn_outside_a_runtime_is_an_error() {
    let err = Command::new("true").spawn().unwrap_err();
    assert!(
        err.to_string().contains("outside of an arbor runtime"),
        "{err}"
    );
}

#[test]
fn a_dropped_wait_stops_and_reaps_the_child() {
    for rt in support::two_runtimes() {
        rt.block_on(async {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            let pid = child.id().unwrap();
            poll_once_and_drop(child.wait()).await;
            until_gone(pid).await;
            // The stopping task reaped it; the status is there to read.
            let status = child.wait().await.unwrap();
            assert_eq!(status.signal(), Some(15), "SIGTERM ended it: {status:?}");
            assert_eq!(child.id(), None);
        });
    }
}

#[test]
fn a_dropped_output_stops_and_reaps_the_child() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        // A marker no other test's child carries, to find this one among our children.
        let marker = "31.25";
        let mut cmd = Command::new("sleep");
        cmd.arg(marker);
        let mut output = Box::pin(cmd.output());
        poll_fn(|cx| {
            assert!(output.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        // Found by its command line once it has exec'd (until then it is a copy of us).
        let find = || {
            children_of_self().into_iter().find(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
            })
        };
        let start = std::time::Instant::now();
        let pid = loop {
            if let Some(pid) = find() {
                break pid;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the child never ran"
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        drop(output);
        until_gone(pid).await;
    });
}

/// The pids whose parent is this process (any of its threads).
fn children_of_self() -> Vec<u32> {
    let mut kids = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path().join("children");
        if let Ok(text) = std::fs::read_to_string(path) {
            kids.extend(text.split_whitespace().map(|p| p.parse::<u32>().unwrap()));
        }
    }
    kids
}

#[test]
fn a_child_ignoring_sigterm_is_killed_after_the_grace_on_virtual_time() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut child = Command::new("sh")
            .args(["-c", "trap '' TERM; echo ready; exec sleep 30"])
            .stdout(Stdio::piped())
            .kill_grace(Duration::from_secs(5))
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let mut ready = [0u8; 6];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut ready)
            .await
            .unwrap();
        assert_eq!(&ready, b"ready\n", "SIGTERM is ignored from here on");
        let start = Instant::now();
        drop(child);
        arbor_runtime::sleep(Duration::from_millis(4900)).await;
        assert!(
            exists(pid),
            "SIGTERM is ignored: still running within the grace"
        );
        until_gone(pid).await;
        assert!(
            start.elapsed() >= Duration::from_secs(5),
            "SIGKILL only after the grace"
        );
    });
}

#[test]
fn a_child_left_stopping_at_shutdown_is_killed_and_reaped() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let pid = rt.block_on(async {
        let mut child = Command::new("sh")
            .args(["-c", "trap '' TERM; echo ready; exec sleep 30"])
            .stdout(Stdio::piped())
            .kill_grace(Duration::from_secs(60))
            .spawn()
            .unwrap();
        let mut ready = [0u8; 6];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut ready)
            .await
            .unwrap();
        child.id().unwrap()
        // `child` dropped: a stopping task waits out the 60 s grace...
    });
    assert!(exists(pid));
    drop(rt); // ...until the shutdown cancels it: SIGKILL and a reap on the spot.
    assert!(!exists(pid), "no zombie after shutdown");
}

#[test]
fn a_child_dropped_after_its_runtime_is_killed_and_reaped_at_once() {
    let rt = Builder::new_current_thread().build().unwrap();
    let child = rt.block_on(async { Command::new("sleep").arg("30").spawn().unwrap() });
    let pid = child.id().unwrap();
    drop(rt);
    drop(child);
    assert!(!exists(pid), "killed and reaped on the spot");
}

#[test]
fn a_detached_child_is_left_running() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let child = Command::new("sleep").arg("30").detach().spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child);
        arbor_runtime::sleep(Duration::from_millis(50)).await;
        assert!(exists(pid), "detached: not stopped");
        // Clean up; the detached reaper reaps it.
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(pid as i32).unwrap(),
            rustix::process::Signal::KILL,
        )
        .unwrap();
        until_gone(pid).await;
    });
}

#[test]
fn try_wait_kill_and_id() {
    for rt in support::two_runtimes() {
        rt.block_on(async {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            assert!(child.id().is_some());
            assert_eq!(child.try_wait().unwrap(), None);
            child.kill().await.unwrap();
            let status = child.try_wait().unwrap().unwrap();
            assert_eq!(status.signal(), Some(9));
            assert_eq!(child.id(), None);
            child.kill().await.unwrap(); // killing a reaped child is fine
            assert_eq!(child.wait().await.unwrap(), status);
        });
    }
}

#[test]
fn five_hundred_concurrent_children() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..500)
            .map(|i| {
                arbor_runtime::spawn(async move {
                    let mut child = Command::new("sh")
                        .args(["-c", &format!("echo {i}")])
                        .stdout(Stdio::piped())
                        .spawn()
                        .unwrap();
                    let pid = child.id().unwrap();
                    let mut out = Vec::new();
                    child
                        .stdout
                        .take()
                        .unwrap()
                        .read_to_end(&mut out)
                        .await
                        .unwrap();
                    assert_eq!(out, format!("{i}\n").as_bytes());
                    assert!(child.wait().await.unwrap().success());
                    assert!(!exists(pid), "reaped: no zombie");
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}
