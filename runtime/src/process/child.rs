//! `Command` and `Child`: spawning, reaping through a pidfd, and stopping a child whose
//! waiter went away (see the module docs of `process`).

use super::pipe::{ChildStderr, ChildStdin, ChildStdout};
use crate::io::{Direction, Interest, PollEvented};
use crate::scheduler;
use crate::task::TaskMeta;
use std::ffi::OsStr;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::pin::pin;
use std::process::{ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use rustix::process::{Pid, PidfdFlags, Signal, WaitId, WaitIdOptions};

/// How long a child gets between SIGTERM and SIGKILL by default.
const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);

/// A process builder (`std::process::Command`'s methods, plus [`kill_grace`] and
/// [`detach`]); [`spawn`](Command::spawn), or the async [`output`](Command::output) and
/// [`status`](Command::status).
///
/// [`kill_grace`]: Command::kill_grace
/// [`detach`]: Command::detach
pub struct Command {
    std: std::process::Command,
    kill_grace: Duration,
    detach: bool,
    /// Which of stdin, stdout, stderr the caller configured (`output` has other defaults).
    set: [bool; 3],
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_grace", &self.kill_grace)
            .field("detach", &self.detach)
            .finish()
    }
}

impl Command {
    /// A command running `program` (looked up in `PATH` unless it contains a `/`).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_grace: DEFAULT_KILL_GRACE,
            detach: false,
            set: [false; 3],
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts from an empty environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's stdin (`Stdio::piped()` gives [`Child::stdin`]). Default: inherited for
    /// `spawn` and `status`, null for `output`.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.set[0] = true;
        self
    }

    /// The child's stdout (`Stdio::piped()` gives [`Child::stdout`]). Default: inherited
    /// for `spawn` and `status`, piped for `output`.
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.set[1] = true;
        self
    }

    /// The child's stderr (`Stdio::piped()` gives [`Child::stderr`]). Default: inherited
    /// for `spawn` and `status`, piped for `output`.
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.set[2] = true;
        self
    }

    /// How long a child that must stop (its waiter was cancelled or dropped, or its
    /// `Child` dropped while it runs) has between SIGTERM and SIGKILL. Default 5 s.
    pub fn kill_grace(&mut self, grace: Duration) -> &mut Command {
        self.kill_grace = grace;
        self
    }

    /// Lets children of this command outlive their `Child` and their waiters (daemons):
    /// nothing is signalled when they are dropped or cancelled. A detached child is still
    /// reaped when it exits, so it never stays a zombie: by a task of the runtime while that
    /// runs, and once the runtime is gone (or the `Child` is dropped outside it) by one
    /// process-wide reaper thread, `arbor-reaper`, shared by all such children.
    pub fn detach(&mut self) -> &mut Command {
        self.detach = true;
        self
    }

    /// The program, for error messages.
    fn program(&self) -> String {
        self.std.get_program().to_string_lossy().into_owned()
    }

    /// Starts the program.
    ///
    /// # Errors
    /// `NotFound` naming the program if it does not exist; any other error of
    /// `std::process::Command::spawn`, naming the program; "no runtime" outside a runtime.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let what = "arbor::process::Command::spawn";
        let handle = crate::context::with_handle(|h| h.cloned())
            .ok_or_else(|| crate::io::no_runtime(what))?;
        let driver = handle.driver().clone();
        let mut std = self.std.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("failed to spawn `{}`: {e}", self.program()),
            )
        })?;
        let pid = std.id();
        // From here on the child runs: it must be reaped whatever fails below.
        let pidfd = match pidfd(pid, &driver) {
            Ok(pidfd) => pidfd,
            Err(e) => {
                let _ = std.kill();
                let _ = std.wait();
                return Err(e);
            }
        };
        let proc = Arc::new(Proc {
            pid,
            pidfd,
            status: Mutex::new(None),
            stopping: AtomicBool::new(false),
        });
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            proc,
            kill_grace: self.kill_grace,
            detached: self.detach,
            handle,
        };
        // A failure here drops `child`, which stops and reaps the process.
        if let Some(s) = std.stdin.take() {
            child.stdin = Some(ChildStdin::new(driver.clone(), s)?);
        }
        if let Some(s) = std.stdout.take() {
            child.stdout = Some(ChildStdout::new(driver.clone(), s)?);
        }
        if let Some(s) = std.stderr.take() {
            child.stderr = Some(ChildStderr::new(driver, s)?);
        }
        Ok(child)
    }

    /// Runs the program to its end, collecting stdout and stderr (read concurrently, so a
    /// child filling one pipe never deadlocks on the other); stdin is null unless set.
    ///
    /// Dropped or cancelled before the child exited, the child is stopped (SIGTERM, then
    /// SIGKILL after the grace) and reaped, unless detached.
    ///
    /// # Errors
    /// As [`spawn`](Command::spawn), or a read or wait error.
    pub async fn output(&mut self) -> io::Result<Output> {
        let [stdin, stdout, stderr] = self.set;
        if !stdin {
            self.std.stdin(Stdio::null());
        }
        if !stdout {
            self.std.stdout(Stdio::piped());
        }
        if !stderr {
            self.std.stderr(Stdio::piped());
        }
        let spawned = self.spawn();
        // Back to `spawn`'s defaults for later spawns.
        for (set, which) in [stdin, stdout, stderr].into_iter().zip(0..) {
            if !set {
                match which {
                    0 => self.std.stdin(Stdio::inherit()),
                    1 => self.std.stdout(Stdio::inherit()),
                    _ => self.std.stderr(Stdio::inherit()),
                };
            }
        }
        let mut child = spawned?;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let read_out = async {
            match &mut stdout {
                Some(pipe) => pipe.read_to_end(&mut out).await.map(drop),
                None => Ok(()),
            }
        };
        let read_err = async {
            match &mut stderr {
                Some(pipe) => pipe.read_to_end(&mut err).await.map(drop),
                None => Ok(()),
            }
        };
        let (a, b) = join2(read_out, read_err).await;
        a?;
        b?;
        let status = child.wait().await?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }

    /// Runs the program to its end and returns its exit status (Trio's `run_process`
    /// without capture); stdio is inherited unless set.
    ///
    /// Dropped or cancelled before the child exited, the child is stopped (SIGTERM, then
    /// SIGKILL after the grace) and reaped, unless detached.
    ///
    /// # Errors
    /// As [`spawn`](Command::spawn), or a wait error.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        child.wait().await
    }
}

/// Runs two futures concurrently to both ends.
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Opens a pidfd for `pid` and registers it with `driver`: readable once the child exits.
fn pidfd(pid: u32, driver: &Arc<crate::driver::Driver>) -> io::Result<PollEvented<OwnedFd>> {
    let raw = i32::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
    let pid = Pid::from_raw(raw).ok_or_else(|| io::Error::other("pid 0"))?;
    let fd = rustix::process::pidfd_open(pid, PidfdFlags::empty())?;
    PollEvented::new(driver.clone(), fd, Interest::READ)
}

/// A spawned process: its pid, its pidfd, and its exit status once reaped.
struct Proc {
    pid: u32,
    pidfd: PollEvented<OwnedFd>,
    /// `Some` once reaped. Reaping happens under this lock, so it happens once.
    status: Mutex<Option<ExitStatus>>,
    /// A stopping (or reaping) task was started: a second one would only repeat it.
    stopping: AtomicBool,
}

impl Proc {
    fn status(&self) -> std::sync::MutexGuard<'_, Option<ExitStatus>> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_reaped(&self) -> bool {
        self.status().is_some()
    }

    /// Reaps the child if it exited (`WouldBlock` if it has not); with `block`, waits for
    /// it to exit.
    fn try_reap(&self, block: bool) -> io::Result<ExitStatus> {
        let mut status = self.status();
        if let Some(status) = *status {
            return Ok(status);
        }
        let mut options = WaitIdOptions::EXITED;
        if !block {
            options |= WaitIdOptions::NOHANG;
        }
        let fd = self.pidfd.get_ref().as_fd();
        let done = loop {
            match rustix::process::waitid(WaitId::PidFd(fd), options) {
                Err(rustix::io::Errno::INTR) => continue,
                other => break other?,
            }
        };
        let Some(done) = done else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let raw = match (done.exit_status(), done.terminating_signal()) {
            (Some(code), _) => (code & 0xff) << 8,
            (None, Some(signal)) => signal | if done.dumped() { 0x80 } else { 0 },
            (None, None) => return Err(io::Error::other("waitid reported no exit")),
        };
        let exit = ExitStatus::from_raw(raw);
        *status = Some(exit);
        Ok(exit)
    }

    /// Waits for the child to exit (through the reactor) and reaps it.
    async fn wait(&self) -> io::Result<ExitStatus> {
        self.pidfd
            .async_io(Direction::Read, |_| self.try_reap(false))
            .await
    }

    /// Sends `signal` through the pidfd, unless the child was reaped (so a recycled pid is
    /// never hit). An exited-but-unreaped child ignores it.
    fn signal(&self, signal: Signal) -> io::Result<()> {
        let status = self.status();
        if status.is_some() {
            return Ok(());
        }
        match rustix::process::pidfd_send_signal(self.pidfd.get_ref(), signal) {
            Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// SIGKILL and a blocking reap: the last resort, when no runtime can wait.
    fn kill_and_reap_now(&self) {
        let _ = self.signal(Signal::KILL);
        let _ = self.try_reap(true);
    }
}

/// SIGKILLs and reaps the child on the spot if dropped before it was disarmed (the stopping
/// task was cancelled by a runtime shutting down, or never ran).
struct KillOnDrop(Option<Arc<Proc>>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(proc) = self.0.take() {
            proc.kill_and_reap_now();
        }
    }
}

/// The stopping task: SIGTERM, wait up to `grace`, SIGKILL, wait; reaped either way.
async fn stop(proc: Arc<Proc>, grace: Duration) {
    let mut guard = KillOnDrop(Some(proc.clone()));
    let _ = proc.signal(Signal::TERM);
    let exited = {
        let mut wait = pin!(proc.wait());
        let mut sleep = pin!(crate::time::sleep(grace));
        poll_fn(|cx| {
            if wait.as_mut().poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            sleep.as_mut().poll(cx).map(|()| false)
        })
        .await
    };
    if !exited {
        let _ = proc.signal(Signal::KILL);
        let _ = proc.wait().await;
    }
    if proc.is_reaped() {
        guard.0 = None;
    }
}

/// Hands a detached child to the process-wide orphan reaper if dropped before the child
/// was reaped (the reaping task was cancelled by a runtime shutting down, never ran, or its
/// wait failed).
struct OrphanOnDrop(Option<Arc<Proc>>);

impl Drop for OrphanOnDrop {
    fn drop(&mut self) {
        let Some(proc) = self.0.take() else { return };
        if proc.is_reaped() {
            return;
        }
        let pidfd = match Arc::try_unwrap(proc) {
            // The last holder (always so for a dropped detached `Child`): its own pidfd,
            // taken out of the driver it was registered with, which may be going away.
            Ok(proc) => proc.pidfd.into_inner(),
            // Still shared: a duplicate. Should a holder reap it too, one of the two just
            // gets `ECHILD`. Out of descriptors, there is no way to watch it without
            // blocking here (perhaps a shutdown) until a daemon exits: it is left as is.
            Err(proc) => match rustix::io::fcntl_dupfd_cloexec(proc.pidfd.get_ref(), 0) {
                Ok(fd) => fd,
                Err(_) => return,
            },
        };
        super::orphans::adopt(pidfd);
    }
}

/// The reaping task of a detached child: waits for it to exit and reaps it. If the runtime
/// shuts down first (the task is dropped, run or not), the guard hands the child, left
/// running (it is detached), to the orphan reaper.
async fn reap(guard: OrphanOnDrop) {
    if let Some(proc) = &guard.0 {
        let _ = proc.wait().await;
    }
}

/// Starts stopping (or, detached, reaping) `proc` in a task of `handle`'s runtime; with no
/// runtime left to run it, kills and reaps at once (or, detached, hands it to the orphan
/// reaper).
fn stop_in_background(
    handle: &scheduler::Handle,
    proc: Arc<Proc>,
    grace: Duration,
    detached: bool,
) {
    if proc.is_reaped() || proc.stopping.swap(true, Ordering::Relaxed) {
        return;
    }
    let meta = TaskMeta {
        name: Some(format!("arbor::process stop {}", proc.pid).into()),
        ..TaskMeta::default()
    };
    if detached {
        // The guard is moved into the task at once: dropped unrun, it still hands over.
        drop(handle.spawn(reap(OrphanOnDrop(Some(proc))), meta));
    } else {
        // If the runtime is gone, the task is dropped unrun, and so is its `KillOnDrop`...
        // which is only made when it first runs: guard the spawn itself too.
        let guard = KillOnDrop(Some(proc.clone()));
        let task = async move {
            let mut guard = guard;
            guard.0 = None;
            stop(proc, grace).await;
        };
        drop(handle.spawn(task, meta));
    }
}

/// A running (or finished) child process (`std::process::Child`, asyncio's `Process`).
///
/// Dropping a `Child` whose process still runs stops it (SIGTERM, then SIGKILL after the
/// command's `kill_grace`) and reaps it, unless the command was
/// [`detach`](Command::detach)ed. Its piped stdio are the public fields (std's shape).
pub struct Child {
    /// The child's stdin, if piped.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
    proc: Arc<Proc>,
    kill_grace: Duration,
    detached: bool,
    handle: scheduler::Handle,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.proc.pid)
            .field("status", &*self.proc.status())
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

/// While a `wait` is in progress: if it is dropped first, the child is stopped.
struct WaitGuard<'a> {
    child: &'a Child,
    armed: bool,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        if self.armed && !self.child.detached {
            let c = self.child;
            stop_in_background(&c.handle, c.proc.clone(), c.kill_grace, false);
        }
    }
}

impl Child {
    /// The OS pid, until the child is reaped (then `None`: the pid may belong to another
    /// process by now).
    pub fn id(&self) -> Option<u32> {
        if self.proc.is_reaped() {
            None
        } else {
            Some(self.proc.pid)
        }
    }

    /// Waits for the child to exit and reaps it; closes its stdin first (as std does), so
    /// a child reading stdin to its end can finish. After it returned, it returns the same
    /// status again.
    ///
    /// Dropped or cancelled before the child exited, the child is stopped (SIGTERM, then
    /// SIGKILL after the grace) and reaped, unless detached.
    ///
    /// # Errors
    /// A `waitid` error, or the runtime shut down.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        let mut guard = WaitGuard {
            child: self,
            armed: true,
        };
        let result = guard.child.proc.wait().await;
        guard.armed = false;
        result
    }

    /// The exit status if the child exited (reaping it), `None` if it still runs.
    ///
    /// # Errors
    /// A `waitid` error.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match self.proc.try_reap(false) {
            Ok(status) => Ok(Some(status)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends SIGKILL and waits for the child to be reaped. A child that already exited is
    /// just reaped.
    ///
    /// # Errors
    /// A signal or wait error.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Sends SIGKILL without waiting (std's `kill`); reap with [`wait`](Child::wait).
    ///
    /// # Errors
    /// A signal error (not "no such process": a child that exited is fine).
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.proc.signal(Signal::KILL)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        stop_in_background(
            &self.handle,
            self.proc.clone(),
            self.kill_grace,
            self.detached,
        );
    }
}
