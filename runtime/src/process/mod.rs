//! Child processes (asyncio's `create_subprocess_exec`, Trio's `run_process`), inside the
//! structure: a child never outlives the code that waits for it unless it was detached.
//!
//! | Python | arbor |
//! |---|---|
//! | `await create_subprocess_exec("ls", "-l", stdout=PIPE)` | `Command::new("ls").arg("-l").stdout(Stdio::piped()).spawn()?` |
//! | `await proc.communicate()` | `Command::new(..).output().await?` (stdout and stderr read concurrently) |
//! | `await proc.wait()`, `proc.returncode` | `child.wait().await?`, `child.try_wait()?` |
//! | `await trio.run_process(cmd)` | `Command::new(..).status().await?` |
//!
//! ## Reaping, with no thread per child and no zombie
//! On Linux a child is watched through a pidfd registered with the runtime's reactor: it
//! becomes readable when the child exits, and `waitid` on it reaps the child. Waiting costs
//! no thread and no signal handler, and signals go through the pidfd too, so a recycled pid
//! is never signalled by mistake. A detached child that outlives its runtime (or whose
//! [`Child`] is dropped outside it) is handed to one process-wide reaper thread,
//! `arbor-reaper`, started on the first such hand-over: it waits in `poll(2)` on the pidfds
//! of all these orphans at once and reaps each as it exits. No thread per child, and no
//! child spawned through arbor stays a zombie while the process lives.
//!
//! ## Structure (Trio's `run_process`)
//! When a future awaiting a child (`wait`, `output`, `status`) is dropped or cancelled
//! before the child exited, or a [`Child`] is dropped while its process runs, the child is
//! stopped: SIGTERM at once, SIGKILL once [`Command::kill_grace`] (default 5 s) has passed,
//! and reaped. That stopping runs in a task of the runtime (named `arbor::process stop
//! <pid>`); if the runtime shuts down first (or the `Child` is dropped outside any
//! runtime), the child gets SIGKILL and is reaped on the spot. [`Command::detach`] opts a
//! child out: it is left running, and reaped when it exits, by a task of the runtime while
//! that runs, then by the process-wide reaper thread.
//!
//! ```
//! use arbor_runtime::process::Command;
//!
//! arbor_runtime::run(async {
//!     let out = Command::new("echo").arg("hello").output().await?;
//!     assert!(out.status.success());
//!     assert_eq!(out.stdout, b"hello\n");
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

mod child;
mod orphans;
mod pipe;

pub use child::{Child, Command};
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};
