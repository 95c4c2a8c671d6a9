//! `arbor_runtime::signal`: signals raised at this process reach every listener through the
//! reactor, on every runtime flavour; none is lost while nobody awaits or when a `next()`
//! is dropped; forbidden signals are refused; the task dump on a signal, in a child process.
//!
//! Signals are process-wide, and the tests of one binary run in parallel: every test here
//! holds `SERIAL` for its whole run, so one test's signal never counts as another's.
#![cfg(unix)]

mod support;

use arbor_runtime::runtime::Builder;
use arbor_runtime::signal::{SIGUSR1, SIGUSR2, Signals};
use arbor_runtime::sync::Event;
use std::future::{Future, poll_fn};
use std::io::{BufRead, BufReader, Read};
use std::pin::pin;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends `signal` to this process.
fn raise(signal: i32) {
    // SAFETY: `raise` sends a signal to the calling thread; every signal raised here has a
    // listener (so a handler) installed first.
    assert_eq!(unsafe { libc::raise(signal) }, 0);
}

/// Polls `fut` once: `Some(output)` if it completed.
async fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Option<F::Output> {
    let mut fut = fut;
    match poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

#[test]
fn a_raised_signal_is_received_once_on_every_flavour() {
    let _serial = serial();
    for (name, make) in support::flavours() {
        let rt = make();
        rt.block_on(async {
            let mut signals = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
            raise(SIGUSR1);
            assert_eq!(signals.next().await, Some(SIGUSR1), "{name}");
            raise(SIGUSR2);
            assert_eq!(signals.next().await, Some(SIGUSR2), "{name}");
            // Each raise was one delivery: nothing more is pending.
            let next = pin!(signals.next());
            assert_eq!(poll_once(next).await, None, "{name}: a spurious delivery");
        });
    }
}

#[test]
fn two_listeners_each_see_the_signal() {
    let _serial = serial();
    for (name, make) in support::flavours() {
        let rt = make();
        rt.block_on(async {
            let mut first = Signals::new([SIGUSR1]).unwrap();
            let mut second = Signals::new([SIGUSR1]).unwrap();
            let ready = Arc::new(Event::new());
            let waiting = ready.clone();
            // One listener waits in another task (on another worker, multi-thread).
            let task = arbor_runtime::spawn(async move {
                let mut next = pin!(second.next());
                assert_eq!(poll_once(next.as_mut()).await, None);
                waiting.set();
                next.await
            });
            ready.wait().await;
            raise(SIGUSR1);
            assert_eq!(first.next().await, Some(SIGUSR1), "{name}");
            assert_eq!(task.await.unwrap(), Some(SIGUSR1), "{name}");
        });
    }
}

#[test]
fn a_signal_raised_while_nobody_awaits_is_kept_for_the_next_next() {
    let _serial = serial();
    for (name, make) in support::flavours() {
        let rt = make();
        rt.block_on(async {
            let mut idle = Signals::new([SIGUSR1]).unwrap();
            let mut witness = Signals::new([SIGUSR1]).unwrap();
            raise(SIGUSR1);
            // Once the witness has it, the runtime has delivered it, while `idle` was not
            // being awaited: its first poll must return it.
            assert_eq!(witness.next().await, Some(SIGUSR1), "{name}");
            let next = pin!(idle.next());
            assert_eq!(poll_once(next).await, Some(Some(SIGUSR1)), "{name}");
        });
    }
}

#[test]
fn a_dropped_next_loses_no_signal() {
    let _serial = serial();
    for (name, make) in support::flavours() {
        let rt = make();
        rt.block_on(async {
            let mut signals = Signals::new([SIGUSR2]).unwrap();
            let mut witness = Signals::new([SIGUSR2]).unwrap();
            {
                let next = pin!(signals.next());
                assert_eq!(poll_once(next).await, None, "{name}: nothing raised yet");
            } // dropped while pending, its waker still registered
            raise(SIGUSR2);
            assert_eq!(witness.next().await, Some(SIGUSR2), "{name}");
            // Delivered while the dropped future's waker was the registered one.
            {
                let next = pin!(signals.next());
                assert_eq!(poll_once(next).await, Some(Some(SIGUSR2)), "{name}");
            }
            // Also as a Stream.
            raise(SIGUSR2);
            let polled =
                poll_fn(|cx| futures_core::Stream::poll_next(std::pin::Pin::new(&mut signals), cx))
                    .await;
            assert_eq!(polled, Some(SIGUSR2), "{name}");
        });
    }
}

#[test]
fn forbidden_and_invalid_signals_are_invalid_input_naming_the_signal() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        for (signal, name) in [
            (libc::SIGKILL, "SIGKILL"),
            (libc::SIGSTOP, "SIGSTOP"),
            (libc::SIGSEGV, "SIGSEGV"),
            (libc::SIGILL, "SIGILL"),
            (libc::SIGFPE, "SIGFPE"),
            (libc::SIGBUS, "SIGBUS"),
        ] {
            let err = Signals::new([SIGUSR1, signal]).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(name), "{err}");
        }
        // 100: below arbor's table size, but no signal on Linux (sigaction refuses it).
        let linux_only: &[i32] = if cfg!(target_os = "linux") {
            &[100]
        } else {
            &[]
        };
        for &signal in [0, -1, 1000].iter().chain(linux_only) {
            let err = Signals::new([signal]).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(&signal.to_string()), "{err}");
        }
    });
    let err = Builder::new_current_thread()
        .dump_on_signal(libc::SIGKILL)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("SIGKILL"), "{err}");
}

#[test]
fn outside_a_runtime_is_an_error() {
    let err = Signals::new([SIGUSR1]).unwrap_err();
    assert!(
        err.to_string().contains("outside of an arbor runtime"),
        "{err}"
    );
}

#[test]
fn two_runtimes_each_deliver() {
    let _serial = serial();
    // `idle` listens but is never driven (a current-thread runtime outside `block_on`):
    // the active runtime's reactor must deliver on its own, in both directions.
    let a = Builder::new_current_thread().build().unwrap();
    let b = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let mut in_a = a.block_on(async { Signals::new([SIGUSR1]).unwrap() });
    let mut in_b = b.block_on(async { Signals::new([SIGUSR1]).unwrap() });
    b.block_on(async {
        raise(SIGUSR1);
        assert_eq!(in_b.next().await, Some(SIGUSR1));
    });
    a.block_on(async {
        // Already delivered by `b` while `a` was idle.
        {
            let next = pin!(in_a.next());
            assert_eq!(poll_once(next).await, Some(Some(SIGUSR1)));
        }
        raise(SIGUSR1);
        assert_eq!(in_a.next().await, Some(SIGUSR1));
    });
    // Both at once, from one raise: `b`'s listener waits in a task on `b`'s worker.
    let task = b.spawn(async move { in_b.next().await });
    raise(SIGUSR1);
    a.block_on(async { assert_eq!(in_a.next().await, Some(SIGUSR1)) });
    assert_eq!(b.block_on(task).unwrap(), Some(SIGUSR1));
    // A runtime dropped with a listener leaves the others working.
    drop(a);
    let c = Builder::new_current_thread().build().unwrap();
    c.block_on(async {
        let mut signals = Signals::new([SIGUSR1]).unwrap();
        raise(SIGUSR1);
        assert_eq!(signals.next().await, Some(SIGUSR1));
    });
}

#[test]
fn a_listener_whose_runtime_shut_down_ends() {
    let _serial = serial();
    let a = Builder::new_current_thread().build().unwrap();
    let mut signals = a.block_on(async { Signals::new([SIGUSR2]).unwrap() });
    drop(a);
    let b = Builder::new_current_thread().build().unwrap();
    assert_eq!(b.block_on(signals.next()), None);
}

// ---- The task dump on a signal, in a child process running this binary ----

/// Set in a child process: which child mode to run (see `child`).
const CHILD_ENV: &str = "ARBOR_SIGNAL_TEST_CHILD";

/// The entry point of the child modes; an empty test in a normal run.
#[test]
fn child() {
    match std::env::var(CHILD_ENV).as_deref() {
        Ok("dump_current") => child_dump(Builder::new_current_thread()),
        Ok("dump_multi_usr2") => child_dump(
            Builder::new_multi_thread()
                .worker_threads(2)
                .dump_on_signal(SIGUSR2),
        ),
        Ok("ctrl_c") => {
            // SIGINT only here, in a child: the handler stays installed for good.
            let rt = Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                let mut ctrl_c = pin!(arbor_runtime::signal::ctrl_c());
                assert!(poll_once(ctrl_c.as_mut()).await.is_none()); // listening now
                raise(libc::SIGINT);
                ctrl_c.await.unwrap();
            });
            println!("\nctrl_c: ok");
        }
        Ok("bad_env") => {
            let err = Builder::new_current_thread().build().unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            println!("\nerror: {err}");
        }
        _ => {}
    }
}

/// Runs two named tasks (`server`, with its child `conn`), says `ready` on stdout, and
/// waits until stdin closes.
fn child_dump(builder: Builder) {
    let rt = builder.build().unwrap();
    rt.block_on(async {
        let done = Arc::new(Event::new());
        let started = Arc::new(Event::new());
        let (d, s) = (done.clone(), started.clone());
        let server = arbor_runtime::task::Builder::new()
            .name("server")
            .spawn(async move {
                let conn = arbor_runtime::task::Builder::new()
                    .name("conn")
                    .spawn(async move { d.wait().await });
                s.set();
                conn.await.unwrap();
            });
        started.wait().await;
        println!("\nready"); // on a line of its own, after the harness's "test child ... "
        arbor_runtime::to_thread(|| std::io::stdin().read_to_end(&mut Vec::new()).map(drop))
            .await
            .unwrap();
        // The dump spawned nothing: only the two tasks are alive.
        assert_eq!(arbor_runtime::task::all().len(), 2);
        done.set();
        server.await.unwrap();
    });
}

/// Starts this test binary in child `mode` with `env`.
fn spawn_child(mode: &str, env: &[(&str, &str)]) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, mode)
        .env_remove("ARBOR_DUMP_SIGNAL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().unwrap()
}

/// Kills the child if the test has not finished with it within a minute, so a lost dump
/// fails the test instead of hanging it.
/// Send on the returned channel once the child is done.
fn watchdog(pid: u32) -> std::sync::mpsc::Sender<()> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let timeout = std::time::Duration::from_secs(60);
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(timeout) {
            // SAFETY: `kill` sends a signal to the child we started; it is not reaped yet:
            // the test waits for it only after reading its dump, which has not happened.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    });
    tx
}

/// Sends `signal` to a child running `child_dump` and returns the dump it printed.
fn dump_of_child(mode: &str, env: &[(&str, &str)], signal: i32) -> (u32, Vec<String>) {
    let mut child = spawn_child(mode, env);
    let pid = child.id();
    let stop_watchdog = watchdog(pid);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "the child exited early"
        );
        if line.trim() == "ready" {
            break;
        }
    }
    // SAFETY: `kill` sends a signal to our live child, which listens for it.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut dump = Vec::new();
    loop {
        line.clear();
        assert_ne!(
            stderr.read_line(&mut line).unwrap(),
            0,
            "no dump; got {dump:?}"
        );
        if line.starts_with("arbor: task dump") {
            dump.clear();
        }
        dump.push(line.trim_end().to_string());
        if line.contains("conn (id") {
            break;
        }
    }
    let _ = stop_watchdog.send(());
    drop(child.stdin.take()); // the child finishes
    let status = child.wait().unwrap();
    assert!(status.success(), "child failed: {status}");
    (pid, dump)
}

#[test]
fn dump_on_signal_from_the_environment_prints_the_task_tree() {
    let (pid, dump) = dump_of_child("dump_current", &[("ARBOR_DUMP_SIGNAL", "USR1")], SIGUSR1);
    assert_eq!(dump.len(), 3, "{dump:?}");
    assert_eq!(
        dump[0],
        format!("arbor: task dump on SIGUSR1 ({SIGUSR1}) (pid {pid}):")
    );
    assert!(dump[1].starts_with("server (id "), "{dump:?}");
    assert!(dump[2].starts_with("└── conn (id "), "{dump:?}");
}

#[test]
fn dump_on_signal_from_the_builder_on_a_multi_thread_runtime() {
    let (pid, dump) = dump_of_child("dump_multi_usr2", &[], SIGUSR2);
    assert_eq!(
        dump[0],
        format!("arbor: task dump on SIGUSR2 ({SIGUSR2}) (pid {pid}):")
    );
    assert!(dump[1].starts_with("server (id "), "{dump:?}");
    assert!(dump[2].starts_with("└── conn (id "), "{dump:?}");
}

#[test]
fn ctrl_c_resolves_on_sigint() {
    let output = spawn_child("ctrl_c", &[]).wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.lines().any(|l| l == "ctrl_c: ok"), "{stdout}");
}

#[test]
fn a_bad_dump_signal_in_the_environment_is_a_build_error() {
    for value in ["BOGUS", "KILL", "1000"] {
        let child = spawn_child("bad_env", &[("ARBOR_DUMP_SIGNAL", value)]);
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let message = stdout.lines().find(|l| l.starts_with("error: ")).unwrap();
        assert!(message.contains("ARBOR_DUMP_SIGNAL"), "{message}");
        assert!(message.contains(value), "{message}");
    }
}
