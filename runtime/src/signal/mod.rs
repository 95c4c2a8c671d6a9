//! Unix signals as async values (asyncio's `loop.add_signal_handler`, Trio's
//! `open_signal_receiver`).
//!
//! | asyncio / Trio | arbor |
//! |---|---|
//! | `loop.add_signal_handler(SIGINT, cb)` for ctrl-c | `signal::ctrl_c().await?` |
//! | `with trio.open_signal_receiver(SIGTERM, SIGHUP) as sigs: async for s in sigs` | `let mut sigs = Signals::new([SIGTERM, SIGHUP])?; while let Some(s) = sigs.next().await` |
//!
//! Signals are plain `i32` numbers, libc's values; the common ones are constants here
//! ([`SIGTERM`], [`SIGUSR1`], ...).
//!
//! ## Delivery
//! The handler does only async-signal-safe work: it marks the signal pending and writes a
//! byte to a self-pipe. The pipe is registered with the runtime's IO reactor, and the
//! thread that sees it readable (a worker waiting for IO, or one servicing the reactor
//! between tasks) delivers the signal to every listener: no thread is started for signals.
//! - Every [`Signals`] that watches a signal sees each delivery of it: several listeners
//!   for one signal each get it.
//! - A signal that arrives while no one awaits [`Signals::next`] is not lost: the next
//!   `next()` returns it. A `next()` dropped or cancelled before it resolved loses nothing
//!   either.
//! - Deliveries **coalesce**, like Unix signals: a signal raised several times in quick
//!   succession may be seen once (never zero times). Treat a signal as "this happened at
//!   least once since the last time you looked", not as a count.
//!
//! ## Caveats
//! - Handlers are process-wide and stay installed for the rest of the process (like
//!   tokio's): once a program listened for SIGINT or SIGTERM, those no longer end it by
//!   default, even after the listener is dropped. Exit explicitly on them.
//! - SIGKILL, SIGSTOP, SIGSEGV, SIGILL, SIGFPE and SIGBUS cannot be listened for; asking is
//!   an [`InvalidInput`](std::io::ErrorKind::InvalidInput) error, as is a number that is no
//!   signal.
//! - A [`Signals`] belongs to the runtime it was created in: that runtime's reactor
//!   delivers to it (any runtime listening for signals delivers to every listener, so
//!   signals keep flowing while one of them runs). Once that runtime has shut down,
//!   `next()` returns `None`.
//!
//! ```no_run
//! use arbor_runtime::signal::{self, SIGHUP, SIGTERM, Signals};
//!
//! arbor_runtime::run(async {
//!     let mut signals = Signals::new([SIGTERM, SIGHUP])?;
//!     while let Some(signal) = signals.next().await {
//!         match signal {
//!             SIGHUP => println!("reloading"),
//!             _ => break, // SIGTERM: shut down
//!         }
//!     }
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

pub(crate) mod registry;

use crate::driver::Driver;
use futures_core::Stream;
use registry::Listener;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Hangup; by convention "reload your configuration".
pub const SIGHUP: i32 = libc::SIGHUP;
/// Interrupt: ctrl-c in a terminal.
pub const SIGINT: i32 = libc::SIGINT;
/// Quit: ctrl-\ in a terminal.
pub const SIGQUIT: i32 = libc::SIGQUIT;
/// Termination request: what `kill`, systemd and Kubernetes send to stop a service.
pub const SIGTERM: i32 = libc::SIGTERM;
/// User-defined signal 1 (arbor's conventional task-dump signal).
pub const SIGUSR1: i32 = libc::SIGUSR1;
/// User-defined signal 2.
pub const SIGUSR2: i32 = libc::SIGUSR2;
/// A child process stopped or exited.
pub const SIGCHLD: i32 = libc::SIGCHLD;
/// Write to a pipe with no reader.
pub const SIGPIPE: i32 = libc::SIGPIPE;
/// An `alarm(2)` timer expired.
pub const SIGALRM: i32 = libc::SIGALRM;
/// The terminal window changed size.
pub const SIGWINCH: i32 = libc::SIGWINCH;
/// Continue after a stop.
pub const SIGCONT: i32 = libc::SIGCONT;
/// Stop from the terminal: ctrl-z.
pub const SIGTSTP: i32 = libc::SIGTSTP;

/// Names of the signals every Unix has, for messages and `ARBOR_DUMP_SIGNAL`.
const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("SYS", libc::SIGSYS),
];

/// Signals a program cannot (SIGKILL, SIGSTOP) or must not (the synchronous faults) handle
/// through a self-pipe.
const FORBIDDEN: &[i32] = &[
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGBUS,
];

/// `SIGUSR1 (10)`, or `signal 42` for a number without a name.
pub(crate) fn describe(signal: i32) -> String {
    match NAMES.iter().find(|(_, n)| *n == signal) {
        Some((name, _)) => format!("SIG{name} ({signal})"),
        None => format!("signal {signal}"),
    }
}

/// A signal from its name (`USR1`, `SIGUSR1`, any case) or number (`10`).
pub(crate) fn parse(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Ok(number) = text.parse::<i32>() {
        return Some(number);
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// `Ok` if `signal` can be listened for; else the `InvalidInput` error naming it.
pub(crate) fn validate(signal: i32) -> io::Result<()> {
    let invalid = |why: String| Err(io::Error::new(io::ErrorKind::InvalidInput, why));
    if FORBIDDEN.contains(&signal) {
        return invalid(format!(
            "arbor::signal: {} cannot be listened for (SIGKILL and SIGSTOP cannot be caught; \
             SIGSEGV, SIGILL, SIGFPE and SIGBUS are faults of the thread that raised them)",
            describe(signal)
        ));
    }
    if !(1..registry::MAX_SIGNAL).contains(&signal) {
        return invalid(format!("arbor::signal: {signal} is not a signal number"));
    }
    Ok(())
}

/// One watched signal and the delivery count this listener has consumed.
#[derive(Debug)]
struct Watched {
    signal: i32,
    seen: u64,
}

/// A listener for a set of signals: [`next`](Signals::next) returns the next one that
/// arrives (Trio's `open_signal_receiver`). Also a [`Stream`] of signal numbers.
///
/// Every `Signals` watching a signal sees each delivery of it; a signal that arrived while
/// nobody awaited is returned by the next `next()`. Deliveries coalesce (see the
/// [module docs](self)).
///
/// ```
/// use arbor_runtime::signal::{Signals, SIGUSR2};
///
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let mut signals = Signals::new([SIGUSR2])?;
///     // SAFETY: `raise` only sends the signal to this process, which listens for it.
///     unsafe { libc::raise(SIGUSR2) };
///     assert_eq!(signals.next().await, Some(SIGUSR2));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Signals {
    watched: Vec<Watched>,
    /// Where the next scan starts, so that one busy signal does not hide the others.
    next_start: usize,
    listener: Arc<Listener>,
    /// The runtime that delivers to this listener.
    driver: Arc<Driver>,
}

impl Signals {
    /// Listens for `signals` (duplicates are ignored). Deliveries from now on are seen;
    /// an empty set waits forever.
    ///
    /// # Errors
    /// `InvalidInput` naming the signal for SIGKILL, SIGSTOP, SIGSEGV, SIGILL, SIGFPE,
    /// SIGBUS or a number that is no signal; an error if called outside a runtime; the OS
    /// error if the self-pipe cannot be created.
    pub fn new(signals: impl IntoIterator<Item = i32>) -> io::Result<Signals> {
        let mut watched: Vec<Watched> = Vec::new();
        for signal in signals {
            validate(signal)?;
            if !watched.iter().any(|w| w.signal == signal) {
                watched.push(Watched { signal, seen: 0 });
            }
        }
        let driver = crate::io::current_driver("arbor::signal::Signals::new")?;
        driver.enable_signals()?;
        for w in &watched {
            registry::install(w.signal)?;
        }
        let listener = Arc::new(Listener::default());
        for w in &mut watched {
            registry::add_listener(w.signal, &listener);
            w.seen = registry::deliveries(w.signal);
        }
        Ok(Signals {
            watched,
            next_start: 0,
            listener,
            driver,
        })
    }

    /// Waits for the next signal and returns its number; `None` once the runtime this
    /// listener was created in has shut down.
    ///
    /// Cancel-safe: dropping the future before it resolved loses no signal.
    pub async fn next(&mut self) -> Option<i32> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// A watched signal delivered since this listener last looked, consuming it.
    fn take_delivered(&mut self) -> Option<i32> {
        let len = self.watched.len();
        for i in 0..len {
            let at = (self.next_start + i) % len;
            let w = &mut self.watched[at];
            let now = registry::deliveries(w.signal);
            if now != w.seen {
                w.seen = now; // coalesces deliveries this listener missed
                self.next_start = (at + 1) % len;
                return Some(w.signal);
            }
        }
        None
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        if let Some(signal) = self.take_delivered() {
            return Poll::Ready(Some(signal));
        }
        if self.driver.signals_shut_down() {
            return Poll::Ready(None);
        }
        // Store the waker, then look again: a delivery either bumped its counter before
        // this second look (seen here) or takes the waker after it was stored (wakes us).
        self.listener.set_waker(cx.waker());
        match self.take_delivered() {
            Some(signal) => Poll::Ready(Some(signal)),
            None => Poll::Pending,
        }
    }
}

impl Stream for Signals {
    type Item = i32;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for w in &self.watched {
            registry::remove_listener(w.signal, &self.listener);
        }
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signals: Vec<i32> = self.watched.iter().map(|w| w.signal).collect();
        f.debug_struct("Signals")
            .field("signals", &signals)
            .finish_non_exhaustive()
    }
}

/// Waits for ctrl-c (SIGINT). Listening starts at the first poll.
///
/// Like every listener, this keeps SIGINT from ending the process for the rest of its life
/// (see the [module docs](self)): after ctrl-c, exit or shut down explicitly.
///
/// # Errors
/// Outside a runtime, or if the runtime shut down while waiting.
///
/// ```no_run
/// arbor_runtime::run(async {
///     arbor_runtime::signal::ctrl_c().await?;
///     println!("ctrl-c: shutting down");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut signals = Signals::new([SIGINT])?;
    match signals.next().await {
        Some(_) => Ok(()),
        None => Err(crate::io::shutdown_error()),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_parse() {
        assert_eq!(parse("USR1"), Some(libc::SIGUSR1));
        assert_eq!(parse("SIGUSR1"), Some(libc::SIGUSR1));
        assert_eq!(parse(" sigterm "), Some(libc::SIGTERM));
        assert_eq!(parse(&libc::SIGHUP.to_string()), Some(libc::SIGHUP));
        assert_eq!(parse("BOGUS"), None);
        assert_eq!(parse(""), None);
        assert_eq!(
            describe(libc::SIGUSR2),
            format!("SIGUSR2 ({})", libc::SIGUSR2)
        );
        assert_eq!(describe(100), "signal 100");
    }

    #[test]
    fn forbidden_and_out_of_range_are_invalid_input() {
        for signal in [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGBUS,
            0,
            -3,
            registry::MAX_SIGNAL,
        ] {
            let err = validate(signal).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(&signal.to_string()), "{err}");
        }
        assert!(validate(libc::SIGUSR1).is_ok());
    }
}
