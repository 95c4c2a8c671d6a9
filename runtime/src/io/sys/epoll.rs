//! The Linux (and Android) backend: one epoll instance, one syscall per wait.
//!
//! - Resources are added edge-triggered or oneshot, keyed by the reactor's key.
//! - Notification is an eventfd registered once, edge-triggered, under [`NOTIFY_KEY`]; the
//!   hand-off between `notify` and the waiter is in `notify.rs`. Waking costs one write
//!   (none if a notification is already pending); waiting costs nothing extra.
//! - A timeout is `epoll_wait`'s millisecond timeout, rounded up (a wait never ends early;
//!   the timer wheel counts whole milliseconds anyway) and capped at [`MAX_TIMEOUT_MS`].
//! - An interrupted wait (`EINTR`) returns no events: a spurious wake-up.

use super::notify::Notify;
use super::{Event, NOTIFY_KEY};
use crate::io::{Interest, Mode};
use rustix::event::{EventfdFlags, Timespec, epoll, eventfd};
use rustix::fd::OwnedFd;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::BorrowedFd;
use std::time::Duration;

/// How many events one wait can return; more stay ready in the kernel for the next wait.
/// The kernel writes them into a buffer of this many on the waiting thread's stack (3 KiB:
/// small enough for any thread a runtime runs on), from which [`Events`] copies them out.
/// (`polling` and mio take 1024 per wait; past 256 ready resources, one more syscall per
/// 256 events is lost in the work of serving them.)
const EVENTS_CAPACITY: usize = 256;

/// The longest timeout `epoll_wait` takes: a C `int` of milliseconds (about 24.8 days).
/// A longer wait is cut to it, and ends as a spurious wake-up; the driver waits again.
const MAX_TIMEOUT_MS: u64 = i32::MAX as u64;

/// An epoll instance and its notification eventfd.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: OwnedFd,
    /// Registered with `epoll` under [`NOTIFY_KEY`], `EPOLLIN | EPOLLET`; never read
    /// except when its counter is full (see `notify.rs`).
    eventfd: OwnedFd,
    /// The `notified` flag of the notification protocol.
    notify: Notify,
}

/// The resources' events of one wait. (Copied out of the kernel's `epoll_event`s, which
/// rustix makes `!Send` since their data may be a pointer, while this buffer lives in the
/// driver and moves between threads with it.)
#[derive(Debug)]
pub(crate) struct Events {
    list: Vec<Event>,
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let eventfd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(
            &epoll,
            &eventfd,
            epoll::EventData::new_u64(NOTIFY_KEY as u64),
            epoll::EventFlags::IN | epoll::EventFlags::ET,
        )?;
        Ok(Poller {
            epoll,
            eventfd,
            notify: Notify::new(),
        })
    }

    /// Adds `fd` under `key`, for `interest`, in `mode`.
    pub(crate) fn add(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        epoll::add(&self.epoll, fd, data(key), flags(interest, mode))?;
        Ok(())
    }

    /// Changes `fd`'s registration (oneshot mode: re-arms it).
    pub(crate) fn modify(
        &self,
        fd: BorrowedFd<'_>,
        key: usize,
        interest: Interest,
        mode: Mode,
    ) -> io::Result<()> {
        epoll::modify(&self.epoll, fd, data(key), flags(interest, mode))?;
        Ok(())
    }

    /// Removes `fd`.
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        epoll::delete(&self.epoll, fd)?;
        Ok(())
    }

    /// Waits for events, at most `timeout` (`None`: until notified); one `epoll_wait`.
    /// Returns whether the notification event was among them (`events` leaves it out).
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<bool> {
        events.list.clear();
        let timeout = timeout.map(timespec_ms_ceil);
        let mut raw = [const { MaybeUninit::<epoll::Event>::uninit() }; EVENTS_CAPACITY];
        let ready = match epoll::wait(&self.epoll, &mut raw, timeout.as_ref()) {
            Ok((ready, _)) => ready,
            Err(rustix::io::Errno::INTR) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let mut notified = false;
        for event in ready.iter() {
            let (key, flags) = (event.data.u64(), event.flags);
            if key == NOTIFY_KEY as u64 {
                notified = true;
                continue;
            }
            events.list.push(Event {
                key: key as usize,
                readable: flags.intersects(read_flags()),
                writable: flags.intersects(write_flags()),
            });
        }
        if notified {
            self.notify.consumed();
        }
        Ok(notified)
    }

    /// Makes the current wait return, or if none is in progress, the next one.
    pub(crate) fn notify(&self) -> io::Result<()> {
        let mut result = Ok(());
        self.notify.notify(|| result = self.write_eventfd());
        result
    }

    fn write_eventfd(&self) -> io::Result<()> {
        let one = 1u64.to_ne_bytes();
        loop {
            match rustix::io::write(&self.eventfd, &one) {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => {
                    // The counter is full: empty it, then write again (see `notify.rs`).
                    let mut counter = [0u8; 8];
                    match rustix::io::read(&self.eventfd, &mut counter) {
                        Ok(_) | Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Events {
    pub(crate) fn new() -> Events {
        Events {
            list: Vec::with_capacity(EVENTS_CAPACITY),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.list.clear();
    }

    /// The resources' events (the notification event is left out).
    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.list.iter().copied()
    }
}

fn data(key: usize) -> epoll::EventData {
    epoll::EventData::new_u64(key as u64)
}

/// The epoll flags for `interest` in `mode`. (epoll reports `HUP` and `ERR` whether asked
/// or not; they are listed for clarity, as `polling` does.)
fn flags(interest: Interest, mode: Mode) -> epoll::EventFlags {
    let mut flags = match mode {
        Mode::Edge => epoll::EventFlags::ET,
        Mode::Oneshot => epoll::EventFlags::ONESHOT,
    };
    if interest.read {
        flags |= read_flags();
    }
    if interest.write {
        flags |= write_flags();
    }
    flags
}

/// What makes a resource readable: data, a hang-up or an error (a read will not block),
/// or priority data. The same mapping as `polling`'s.
fn read_flags() -> epoll::EventFlags {
    use epoll::EventFlags as F;
    F::IN | F::HUP | F::ERR | F::PRI
}

/// What makes a resource writable: buffer space, a hang-up or an error.
fn write_flags() -> epoll::EventFlags {
    use epoll::EventFlags as F;
    F::OUT | F::HUP | F::ERR
}

/// `timeout` in whole milliseconds, rounded up and capped at [`MAX_TIMEOUT_MS`], as the
/// `Timespec` that `epoll_wait` is given (rustix hands whole milliseconds to the kernel
/// as they are).
fn timespec_ms_ceil(timeout: Duration) -> Timespec {
    let ms = timeout
        .as_nanos()
        .div_ceil(1_000_000)
        .min(u128::from(MAX_TIMEOUT_MS));
    let ms = u64::try_from(ms).expect("capped at MAX_TIMEOUT_MS");
    Timespec {
        tv_sec: (ms / 1000) as _,
        tv_nsec: ((ms % 1000) * 1_000_000) as _,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn timeouts_round_up_to_whole_milliseconds_and_are_capped() {
        let ms = |t: Timespec| t.tv_sec as u128 * 1000 + t.tv_nsec as u128 / 1_000_000;
        assert_eq!(ms(timespec_ms_ceil(Duration::ZERO)), 0);
        assert_eq!(ms(timespec_ms_ceil(Duration::from_nanos(1))), 1);
        assert_eq!(ms(timespec_ms_ceil(Duration::from_micros(1500))), 2);
        assert_eq!(ms(timespec_ms_ceil(Duration::from_millis(2500))), 2500);
        assert_eq!(
            ms(timespec_ms_ceil(Duration::from_secs(u64::MAX))),
            u128::from(MAX_TIMEOUT_MS)
        );
        let t = timespec_ms_ceil(Duration::from_millis(1234));
        assert_eq!((t.tv_sec, t.tv_nsec), (1, 234_000_000));
    }

    #[test]
    fn a_notification_wakes_one_wait_and_is_left_out_of_the_events() {
        let poller = Poller::new().unwrap();
        let mut events = Events::new();
        poller.notify().unwrap();
        poller.notify().unwrap(); // merged into the first
        assert!(poller.wait(&mut events, None).unwrap());
        assert_eq!(events.iter().count(), 0, "not a resource's event");
        // Consumed: the next wait times out.
        let short = Some(Duration::from_millis(1));
        assert!(!poller.wait(&mut events, short).unwrap());
        poller.notify().unwrap();
        let long = Some(Duration::from_secs(60));
        assert!(
            poller.wait(&mut events, long).unwrap(),
            "a later notification wakes again"
        );
    }

    #[test]
    fn a_notification_after_a_wait_without_it_wakes_the_next() {
        let poller = Poller::new().unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        poller
            .add(a.as_fd(), 7, Interest::BOTH, Mode::Edge)
            .unwrap();
        let mut events = Events::new();
        // An IO event only (writable).
        assert!(!poller.wait(&mut events, Some(Duration::ZERO)).unwrap());
        let got: Vec<_> = events.iter().map(|e| (e.key, e.writable)).collect();
        assert_eq!(got, [(7, true)]);
        poller.notify().unwrap();
        assert!(poller.wait(&mut events, None).unwrap());
        assert_eq!(events.iter().count(), 0, "edge-triggered: reported once");
        poller.delete(a.as_fd()).unwrap();
    }

    #[test]
    fn a_full_eventfd_counter_is_emptied_and_still_notifies() {
        let poller = Poller::new().unwrap();
        // The largest value the counter holds; the next write would block.
        let full = (u64::MAX - 1).to_ne_bytes();
        rustix::io::write(&poller.eventfd, &full).unwrap();
        let mut events = Events::new();
        assert!(poller.wait(&mut events, None).unwrap(), "that write's edge");
        poller.notify().unwrap();
        assert!(poller.wait(&mut events, None).unwrap());
        let mut counter = [0u8; 8];
        rustix::io::read(&poller.eventfd, &mut counter).unwrap();
        assert_eq!(u64::from_ne_bytes(counter), 1, "emptied, then written once");
    }

    #[test]
    fn events_beyond_a_full_wait_come_with_the_next() {
        const EXTRA: usize = 10;
        let poller = Poller::new().unwrap();
        let pairs: Vec<_> = (0..EVENTS_CAPACITY + EXTRA)
            .map(|_| UnixStream::pair().unwrap())
            .collect();
        for (key, (a, _)) in pairs.iter().enumerate() {
            poller
                .add(a.as_fd(), key, Interest::BOTH, Mode::Edge)
                .unwrap();
        }
        let mut events = Events::new();
        let mut seen = vec![false; pairs.len()];
        for expected in [EVENTS_CAPACITY, EXTRA, 0] {
            poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
            assert_eq!(events.iter().count(), expected);
            for event in events.iter() {
                assert!(
                    !std::mem::replace(&mut seen[event.key], true),
                    "reported twice"
                );
            }
        }
        assert!(seen.iter().all(|&s| s), "every resource was reported");
    }

    #[test]
    fn oneshot_reports_once_until_re_armed() {
        let poller = Poller::new().unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        poller
            .add(a.as_fd(), 3, Interest::BOTH, Mode::Oneshot)
            .unwrap();
        let mut events = Events::new();
        poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
        assert_eq!(events.iter().count(), 1);
        poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
        assert_eq!(events.iter().count(), 0, "disarmed by the first event");
        poller
            .modify(a.as_fd(), 3, Interest::BOTH, Mode::Oneshot)
            .unwrap();
        poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
        assert_eq!(events.iter().count(), 1, "re-armed");
    }
}
