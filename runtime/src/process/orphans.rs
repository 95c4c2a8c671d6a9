//! The orphan reaper: one process-wide thread that reaps detached children whose runtime
//! went away (or was never there to reap them), so that none stays a zombie.
//!
//! A detached child is reaped by a task of its runtime while that runtime runs. When the
//! task is dropped before it reaped (the runtime shut down, or the `Child` was dropped
//! after it), the child's pidfd is handed here by [`adopt`]. A child that already exited is
//! reaped on the spot; the others go to the thread "arbor-reaper", started on the first
//! such hand-over. It waits in `poll(2)` on their pidfds plus an eventfd that announces
//! new ones, and reaps each child as its pidfd becomes readable. It holds no runtime, costs
//! nothing while parked, and serves every orphan of the process: no thread per child.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rustix::event::{EventfdFlags, PollFd, PollFlags};
use rustix::io::Errno;
use rustix::process::{WaitId, WaitIdOptions};

/// Orphans handed over and not yet taken by the thread, and the thread's wake-up eventfd
/// (`None` until the thread was started).
struct Shared {
    pending: Vec<OwnedFd>,
    wake: Option<&'static OwnedFd>,
}

static SHARED: Mutex<Shared> = Mutex::new(Shared {
    pending: Vec::new(),
    wake: None,
});

fn shared() -> MutexGuard<'static, Shared> {
    SHARED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes the orphan reaper responsible for the child behind `pidfd`: reaped now if it
/// exited, else by the reaper thread once it does.
///
/// If the thread cannot be started (no memory, no threads left), the child waits in the
/// hand-over list and the next `adopt` tries again.
pub(super) fn adopt(pidfd: OwnedFd) {
    if reaped(&pidfd) {
        return;
    }
    let mut shared = shared();
    shared.pending.push(pidfd);
    let wake = match shared.wake {
        Some(wake) => wake,
        None => match start() {
            Ok(wake) => *shared.wake.insert(wake),
            Err(_) => return,
        },
    };
    drop(shared);
    let one = 1u64.to_ne_bytes();
    loop {
        match rustix::io::write(wake, &one) {
            // `AGAIN`: the counter is full, so the thread has a wake-up pending anyway.
            Ok(_) | Err(Errno::AGAIN) => return,
            Err(Errno::INTR) => {}
            // Nothing else is expected of an eventfd write; the next hand-over wakes it.
            Err(_) => return,
        }
    }
}

/// Reaps the child if it exited (or is no child of ours any more): whether its pidfd is
/// done with.
fn reaped(pidfd: &OwnedFd) -> bool {
    loop {
        match rustix::process::waitid(
            WaitId::PidFd(pidfd.as_fd()),
            WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
        ) {
            Ok(Some(_)) => return true,
            Ok(None) => return false,
            Err(Errno::INTR) => {}
            // `CHILD`: reaped already (by whoever held it before). Any other error would
            // repeat forever: give the pidfd up rather than spin on it.
            Err(_) => return true,
        }
    }
}

/// Starts the reaper thread; returns its wake-up eventfd.
fn start() -> io::Result<&'static OwnedFd> {
    let wake = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
    // Leaked on purpose: the thread and every later `adopt` use it for the process's life.
    let wake: &'static OwnedFd = Box::leak(Box::new(wake));
    std::thread::Builder::new()
        .name("arbor-reaper".into())
        .spawn(move || run(wake))?;
    Ok(wake)
}

/// The reaper thread: takes new orphans, waits for any to exit or for new ones, reaps.
fn run(wake: &'static OwnedFd) {
    let mut orphans: Vec<OwnedFd> = Vec::new();
    let mut ready: Vec<bool> = Vec::new();
    loop {
        orphans.append(&mut shared().pending);
        ready.clear();
        {
            let mut fds = Vec::with_capacity(orphans.len() + 1);
            fds.push(PollFd::new(wake, PollFlags::IN));
            fds.extend(orphans.iter().map(|fd| PollFd::new(fd, PollFlags::IN)));
            match rustix::event::poll(&mut fds, None) {
                Ok(_) => {}
                Err(Errno::INTR | Errno::AGAIN) => continue,
                // `NOMEM` (or the like): try again a little later, rather than leave the
                // orphans behind or spin.
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
            if !fds[0].revents().is_empty() {
                let mut counter = [0u8; 8];
                let _ = rustix::io::read(wake, &mut counter);
            }
            ready.extend(fds[1..].iter().map(|fd| !fd.revents().is_empty()));
        }
        let mut index = 0;
        orphans.retain(|fd| {
            let done = ready[index] && reaped(fd);
            index += 1;
            !done
        });
    }
}
