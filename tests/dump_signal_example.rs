//! `ARBOR_DUMP_SIGNAL` on a real program: the `graceful` example, run as a child process
//! with `ARBOR_DUMP_SIGNAL=USR1` and a request in flight, prints its task tree to stderr on
//! `kill -USR1 <pid>` (asyncio 3.14's `pstree PID`), keeps serving, and still stops
//! gracefully on SIGTERM with exit status 0.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `graceful` example's binary, built beside this test (by `cargo test`, which builds
/// the examples; built here with the same cargo if this test runs alone).
fn example() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile_dir = deps.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join("graceful");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "arbor", "--example", "graceful"])
            .status()
            .unwrap();
        assert!(status.success(), "building the graceful example");
    }
    path
}

fn signal(pid: u32, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
}

#[test]
fn kill_usr1_prints_the_task_tree_of_a_running_example() {
    let mut child = Command::new(example())
        .arg("127.0.0.1:0")
        .env("ARBOR_DUMP_SIGNAL", "USR1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    // A request in flight: its connection task is in the tree.
    let mut client = TcpStream::connect(&addr).unwrap();
    client.write_all(b"hold\n").unwrap();
    let mut started = [0u8; 8];
    client.read_exact(&mut started).unwrap();
    assert_eq!(&started, b"started\n");

    signal(pid, rustix::process::Signal::USR1);
    // The dump goes to stderr; read until the tree's header and the lines after it.
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = String::new();
        let _ = stderr.read_to_string(&mut all);
        let _ = tx.send(all);
    });

    // The server keeps serving after the dump: the held request completes on SIGTERM.
    std::thread::sleep(Duration::from_millis(200));
    signal(pid, rustix::process::Signal::TERM);
    client.write_all(b"release\n").unwrap();
    let mut done = [0u8; 5];
    client.read_exact(&mut done).unwrap();
    assert_eq!(&done, b"done\n");
    drop(client);

    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the example never exited"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status:?}");
    let stderr = rx.recv().unwrap();
    let header = format!("arbor: task dump on SIGUSR1 (10) (pid {pid}):");
    let at = stderr
        .find(&header)
        .unwrap_or_else(|| panic!("no dump header in stderr:\n{stderr}"));
    let tree = &stderr[at + header.len()..];
    // The connections' group, with the accept loop and the held connection in it.
    let lines: Vec<&str> = tree.lines().skip(1).take_while(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("TaskGroup"), "{stderr}");
    let tasks = lines.iter().filter(|l| l.contains("(id ")).count();
    assert_eq!(tasks, 2, "the accept loop and the connection:\n{stderr}");
}
