//! `arbor_runtime::process`: waiting for children costs no thread (reaping goes through a
//! pidfd in the reactor). A binary of its own: the check counts the process's threads
//! (`/proc/self/task`), and in a binary with other tests their runtimes' threads would be
//! counted too, coming and going as those tests run.

#![cfg(target_os = "linux")]

use arbor_runtime::process::Command;
use arbor_runtime::runtime::Builder;
use std::future::{Future, poll_fn};
use std::task::Poll;

#[test]
fn a_wait_costs_no_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        // Warm up whatever threads the runtime starts lazily.
        Command::new("true").status().await.unwrap();
        let threads = || std::fs::read_dir("/proc/self/task").unwrap().count();
        let before = threads();
        let mut children: Vec<_> = (0..20)
            .map(|_| Command::new("sleep").arg("0.2").spawn().unwrap())
            .collect();
        let waits: Vec<_> = children.iter_mut().map(|c| c.wait()).collect();
        let mut waits: Vec<_> = waits.into_iter().map(Box::pin).collect();
        // All 20 waiting at once.
        poll_fn(|cx| {
            for w in &mut waits {
                let _ = w.as_mut().poll(cx);
            }
            Poll::Ready(())
        })
        .await;
        assert!(
            threads() <= before,
            "{} threads, {before} before",
            threads()
        );
        for w in waits {
            assert!(w.await.unwrap().success());
        }
    });
}
