//! The process-wide half of signal delivery: the handlers, the self-pipe, and per signal a
//! pending flag, a delivery counter and the listeners to wake.
//!
//! ## From the handler to a listener
//! 1. The handler (installed once per signal through `signal-hook-registry`, never removed)
//!    sets the signal's `pending` flag, then writes one byte to the self-pipe. Both are
//!    async-signal-safe; the pipe is non-blocking, so a full pipe drops the byte, which is
//!    harmless (the pipe is readable already, and the flag is set).
//! 2. Every runtime that uses signals registers a duplicate of the pipe's read end with its
//!    reactor (`Driver::enable_signals`). When the pipe turns readable, the thread turning
//!    that runtime's driver calls [`drain_and_broadcast`]: it empties the pipe, then, for
//!    each signal whose `pending` flag it clears, bumps the signal's delivery counter and
//!    takes the wakers of its listeners. Several runtimes may see the same byte; whichever
//!    comes first delivers, and the others find nothing pending (the work runs under one
//!    lock, so a later one sees the counters the earlier one bumped).
//! 3. A listener (`Signals`) remembers, per signal, the counter value it last returned; a
//!    counter above it is a delivery. That is what makes a signal that arrives while no one
//!    awaits, or while a `next()` is being dropped, wait for the next `next()`.
//!
//! Deliveries coalesce like Unix signals do: signals that arrive before a driver drains the
//! pipe count once, and a listener that missed several deliveries sees one.

use crate::io::WakeList;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Waker;

/// Signal numbers below this have a slot (Linux's largest real-time signal is 64).
pub(crate) const MAX_SIGNAL: i32 = 128;

/// One signal's process-wide state.
struct Slot {
    /// Set by the handler, cleared by the driver that delivers it.
    pending: AtomicBool,
    /// How many deliveries there were (bumped under `PROCESS`).
    deliveries: AtomicU64,
    /// The listeners to wake on a delivery.
    listeners: Mutex<Vec<Arc<Listener>>>,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            pending: AtomicBool::new(false),
            deliveries: AtomicU64::new(0),
            listeners: Mutex::new(Vec::new()),
        }
    }
}

static SLOTS: [Slot; MAX_SIGNAL as usize] = [const { Slot::new() }; MAX_SIGNAL as usize];

/// The self-pipe's write end, for the handlers (`-1` until the pipe exists).
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

/// The self-pipe's read end; runtimes register duplicates of it.
static READ_END: OnceLock<OwnedFd> = OnceLock::new();

/// Which signals have their handler installed; held while installing one.
static INSTALLED: Mutex<[bool; MAX_SIGNAL as usize]> = Mutex::new([false; MAX_SIGNAL as usize]);

/// Serialises draining the pipe and bumping the counters (see the module header).
static PROCESS: Mutex<()> = Mutex::new(());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics under these locks; a poisoned one is still consistent.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A listener's wake-up slot, shared with the slots of the signals it watches.
#[derive(Debug, Default)]
pub(crate) struct Listener {
    waker: Mutex<Option<Waker>>,
}

impl Listener {
    /// Stores the waker to wake on the next delivery of a watched signal.
    pub(crate) fn set_waker(&self, waker: &Waker) {
        let mut slot = lock(&self.waker);
        match &*slot {
            Some(old) if old.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }
}

/// How many times `signal` (valid, `< MAX_SIGNAL`) was delivered so far.
pub(crate) fn deliveries(signal: i32) -> u64 {
    // SeqCst: pairs with the bump in `drain_and_broadcast` (see `Listener` use in
    // `Signals::poll_recv`: store the waker, then read the counter).
    SLOTS[signal as usize].deliveries.load(Ordering::SeqCst)
}

/// Adds `listener` to `signal`'s wake list.
pub(crate) fn add_listener(signal: i32, listener: &Arc<Listener>) {
    lock(&SLOTS[signal as usize].listeners).push(listener.clone());
}

/// Removes `listener` from `signal`'s wake list.
pub(crate) fn remove_listener(signal: i32, listener: &Arc<Listener>) {
    let mut listeners = lock(&SLOTS[signal as usize].listeners);
    if let Some(at) = listeners.iter().position(|l| Arc::ptr_eq(l, listener)) {
        listeners.swap_remove(at);
    }
}

/// The self-pipe's read end, created (non-blocking, close-on-exec) on first use.
pub(crate) fn read_end() -> io::Result<BorrowedFd<'static>> {
    if let Some(fd) = READ_END.get() {
        return Ok(fd.as_fd());
    }
    let _installing = lock(&INSTALLED);
    if let Some(fd) = READ_END.get() {
        return Ok(fd.as_fd());
    }
    let (read, write) = new_pipe()?;
    // The write end lives as long as the process: handlers may run at any time.
    WRITE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
    std::mem::forget(write);
    let read = READ_END.get_or_init(|| read);
    Ok(read.as_fd())
}

fn new_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [RawFd; 2] = [-1; 2];
    // SAFETY: `fds` is a valid array of two descriptors for `pipe` to fill.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `pipe` succeeded, so both descriptors are open and owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in [&read, &write] {
        let fd = fd.as_raw_fd();
        // SAFETY: `fd` is open (owned above); these fcntl calls only change its flags.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
                return Err(io::Error::last_os_error());
            }
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok((read, write))
}

/// Installs the handler for `signal` (already validated) if it is not installed yet.
pub(crate) fn install(signal: i32) -> io::Result<()> {
    read_end()?;
    let mut installed = lock(&INSTALLED);
    if installed[signal as usize] {
        return Ok(());
    }
    let action = move || {
        // Only async-signal-safe work here: an atomic store and a `write(2)`.
        SLOTS[signal as usize].pending.store(true, Ordering::SeqCst);
        let fd = WRITE_FD.load(Ordering::SeqCst);
        let byte = signal as u8;
        // SAFETY: `fd` is the pipe's write end, which is never closed; the buffer is one
        // valid byte. A failure (a full pipe) is harmless: the pipe is readable already.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    };
    // SAFETY: the action only does async-signal-safe work (see above), and `signal` is not
    // one of `signal_hook_registry::FORBIDDEN` (the caller validated it).
    unsafe { signal_hook_registry::register(signal, action) }.map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "arbor::signal: cannot handle signal {}: {e}",
                super::describe(signal)
            ),
        )
    })?;
    installed[signal as usize] = true;
    Ok(())
}

/// Empties the pipe through `fd` (a duplicate of its read end), then delivers every pending
/// signal: bumps its counter and moves its listeners' wakers into `wakers`.
pub(crate) fn drain_and_broadcast(fd: BorrowedFd<'_>, wakers: &mut WakeList) {
    let _processing = lock(&PROCESS);
    let mut buf = [0u8; 128];
    loop {
        // SAFETY: `fd` is open (borrowed) and `buf` is valid for `buf.len()` bytes.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            continue;
        }
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        break; // empty (`EAGAIN`), or an error that reading again would not fix
    }
    for slot in &SLOTS {
        // A load first: most signals are never pending, and a load does not dirty the line.
        if !slot.pending.load(Ordering::SeqCst) || !slot.pending.swap(false, Ordering::SeqCst) {
            continue;
        }
        slot.deliveries.fetch_add(1, Ordering::SeqCst);
        for listener in lock(&slot.listeners).iter() {
            if let Some(waker) = lock(&listener.waker).take() {
                wakers.push(waker);
            }
        }
    }
}
