//! A child process inside the structure: a `TaskGroup` cancelled by a failing sibling, or a
//! timeout around `wait`, stops the child waiting in it (SIGTERM) and reaps it: no process
//! and no zombie is left (`/proc/<pid>` is gone).

#![cfg(target_os = "linux")]

use arbor::TaskGroup;
use arbor::process::Command;
use std::path::Path;
use std::time::Duration;

async fn until_gone(pid: u32) {
    let start = std::time::Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{pid} was never reaped"
        );
        arbor::sleep(Duration::from_millis(5)).await;
    }
}

#[arbor::test]
async fn a_group_cancelled_by_a_failing_sibling_stops_and_reaps_its_child_process() {
    let (tx, rx) = arbor::sync::oneshot::channel();
    let result = TaskGroup::<&str>::scope(|tg| async move {
        drop(tg.spawn(async move {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            tx.send(child.id().unwrap()).unwrap();
            child.wait().await.unwrap();
            Ok(())
        }));
        drop(tg.spawn(async {
            arbor::sleep(Duration::from_millis(20)).await;
            Err::<(), _>("sibling failed")
        }));
        Ok(())
    })
    .await;
    assert!(result.is_err());
    let pid = rx.await.unwrap();
    until_gone(pid).await;
}

#[arbor::test]
async fn a_timeout_around_wait_stops_and_reaps_the_child() {
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id().unwrap();
    let waited = arbor::wait_for(Duration::from_millis(20), child.wait()).await;
    assert!(waited.is_err(), "timed out");
    until_gone(pid).await;
    let status = child.wait().await.unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15));
}
