//! [`Instant`]: arbor's monotonic instant, read from the current runtime's clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::OnceLock;
use std::time::Duration;

/// How far ahead "never" is: about 30 years, as far as any program waits in practice, and
/// far enough from `std::time::Instant`'s limits that arithmetic on it cannot overflow.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// A point in monotonic time, as `asyncio`'s `loop.time()` reads it.
///
/// Inside a runtime, [`Instant::now`] reads that runtime's clock, which tests can pause and
/// advance ([`pause`](crate::time::pause), [`advance`](crate::time::advance)); outside,
/// it is the OS clock. It converts to and from [`std::time::Instant`].
///
/// Adding [`Duration::MAX`] never overflows: the sum saturates at a far-future instant that
/// every timer treats as "never".
///
/// ```
/// use arbor_runtime::time::Instant;
/// use std::time::Duration;
///
/// let start = Instant::now();
/// let later = start + Duration::from_millis(5);
/// assert_eq!(later - start, Duration::from_millis(5));
/// assert!(start + Duration::MAX > later);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// Now, on the current runtime's clock (the OS clock outside a runtime).
    pub fn now() -> Instant {
        crate::time::clock::now()
    }

    /// The std instant this one stands for.
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// The arbor instant for a std one.
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The time since `earlier`, or zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time since `earlier`, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// The time elapsed since this instant, on the current runtime's clock.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        self.std.checked_add(d).map(Instant::from_std)
    }

    /// `self - d`, or `None` on underflow.
    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        self.std.checked_sub(d).map(Instant::from_std)
    }

    /// `self + d`, saturating at a far-future instant ("never").
    #[inline]
    pub(crate) fn saturating_add(self, d: Duration) -> Instant {
        // `self + d < self + FAR_FUTURE` exactly when `d < FAR_FUTURE`: one addition on the
        // common path.
        if d < FAR_FUTURE {
            if let Some(t) = self.std.checked_add(d) {
                return Instant::from_std(t);
            }
        }
        Instant::from_std(self.std.checked_add(FAR_FUTURE).unwrap_or(self.std))
    }
}

/// How far before its first use the process-wide encoding origin lies (when the OS clock
/// allows), so that instants computed a little in the past still encode exactly.
const ENCODING_MARGIN: Duration = Duration::from_secs(3600);

/// The instant that [`encode`] counts from: set once, at the first encoding.
static ENCODING_ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();

/// The encoding of "no instant".
pub(crate) const NO_INSTANT: u64 = 0;

pub(crate) fn encoding_origin() -> std::time::Instant {
    *ENCODING_ORIGIN.get_or_init(|| {
        let now = std::time::Instant::now();
        now.checked_sub(ENCODING_MARGIN).unwrap_or(now)
    })
}

/// An optional instant as one `u64`, for atomic storage (a cancel node's deadline):
/// nanoseconds since a process-wide origin, plus one; [`NO_INSTANT`] for `None`. Instants
/// before the origin (over an hour before the first encoding) encode as the origin, which
/// is just as far in the past for every deadline comparison; 2^64 ns is 584 years, far past
/// the far-future cap of `+`.
pub(crate) fn encode(t: Option<Instant>) -> u64 {
    let Some(t) = t else { return NO_INSTANT };
    let nanos = t
        .std
        .saturating_duration_since(encoding_origin())
        .as_nanos();
    u64::try_from(nanos)
        .unwrap_or(u64::MAX - 1)
        .min(u64::MAX - 1)
        + 1
}

/// The inverse of [`encode`].
pub(crate) fn decode(raw: u64) -> Option<Instant> {
    (raw != NO_INSTANT)
        .then(|| Instant::from_std(encoding_origin() + Duration::from_nanos(raw - 1)))
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(t: Instant) -> std::time::Instant {
        t.std
    }
}

/// Saturates at a far-future instant: `now + Duration::MAX` means "never".
impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, d: Duration) -> Instant {
        Instant::from_std(self.std - d)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

/// Saturates at zero.
impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}
