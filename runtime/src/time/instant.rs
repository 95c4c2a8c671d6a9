//! [`Instant`]: arbor's monotonic instant, read from the current runtime's clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::OnceLock;
use std::time::Duration;

/// Nanoseconds in a second.
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// How far ahead "never" is: about 30 years, as far as any program waits in practice, and
/// far enough from `std::time::Instant`'s limits that arithmetic on it cannot overflow.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// A point in monotonic time, as `asyncio`'s `loop.time()` reads it.
///
/// Inside a runtime, [`Instant::now`] reads that runtime's clock, which tests can pause and
/// advance ([`pause`](crate::time::pause), [`advance`](crate::time::advance)); outside,
/// it is the OS clock. It converts to and from [`std::time::Instant`] exactly. On Linux the
/// OS clock is read straight from the vDSO (`CLOCK_MONOTONIC`, std's clock too); it may
/// trail `std::time::Instant::now()` by tens of nanoseconds, never lead it, so a deadline
/// taken from either clock never fires early by the other.
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
///
/// ## Representation
/// Nanoseconds on a process-wide scale, one `u64`: adding a duration,
/// comparing, and turning a deadline into a timer tick are integer operations, and a
/// deadline is stored in one atomic word as it is. Converting to and from
/// [`std::time::Instant`] is exact for any instant within 292 years of the process's first
/// use of the clock.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// [`ORIGIN_NANOS`] plus the signed nanoseconds from the process-wide origin to this
    /// instant; never [`NO_INSTANT`] (the scale saturates at 1 and `u64::MAX`).
    nanos: u64,
}

impl Instant {
    /// Now, on the current runtime's clock (the OS clock outside a runtime).
    pub fn now() -> Instant {
        crate::time::clock::now()
    }

    /// The std instant this one stands for.
    #[inline]
    pub fn into_std(self) -> std::time::Instant {
        let origin = encoding_origin();
        if self.nanos >= ORIGIN_NANOS {
            let after = Duration::from_nanos(self.nanos - ORIGIN_NANOS);
            origin.checked_add(after).unwrap_or(origin)
        } else {
            let before = Duration::from_nanos(ORIGIN_NANOS - self.nanos);
            origin.checked_sub(before).unwrap_or(origin)
        }
    }

    /// The arbor instant for a std one.
    #[inline]
    pub fn from_std(std: std::time::Instant) -> Instant {
        let origin = encoding_origin();
        let nanos = match std.checked_duration_since(origin) {
            Some(after) => ORIGIN_NANOS.saturating_add(duration_to_nanos(after)),
            None => ORIGIN_NANOS
                .saturating_sub(duration_to_nanos(origin.duration_since(std)))
                .max(NO_INSTANT + 1),
        };
        Instant { nanos }
    }

    /// The time since `earlier`, or zero if `earlier` is later.
    #[inline]
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// The time since `earlier`, or `None` if `earlier` is later.
    #[inline]
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.nanos
            .checked_sub(earlier.nanos)
            .map(Duration::from_nanos)
    }

    /// The time elapsed since this instant, on the current runtime's clock.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + d`, or `None` on overflow.
    #[inline]
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        let d = u64::try_from(d.as_nanos()).ok()?;
        self.nanos.checked_add(d).map(|nanos| Instant { nanos })
    }

    /// `self - d`, or `None` on underflow.
    #[inline]
    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        let d = u64::try_from(d.as_nanos()).ok()?;
        match self.nanos.checked_sub(d) {
            Some(nanos) if nanos != NO_INSTANT => Some(Instant { nanos }),
            _ => None,
        }
    }

    /// `self + d`, saturating at a far-future instant ("never").
    #[inline]
    pub(crate) fn saturating_add(self, d: Duration) -> Instant {
        // Below `FAR_FUTURE` the nanoseconds fit a `u64` with room to spare: no 128-bit
        // arithmetic on the common path.
        let d = if d < FAR_FUTURE { d } else { FAR_FUTURE };
        let nanos = d.as_secs() * NANOS_PER_SEC + u64::from(d.subsec_nanos());
        Instant {
            nanos: self.nanos.saturating_add(nanos),
        }
    }

    /// Nanoseconds on the process-wide scale (the instant's encoding, see [`encode`]).
    #[inline]
    pub(crate) fn as_nanos(self) -> u64 {
        self.nanos
    }
}

/// `d` in nanoseconds, saturating.
#[inline]
fn duration_to_nanos(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(NANOS_PER_SEC)
        .saturating_add(u64::from(d.subsec_nanos()))
}

/// Where the process-wide origin lies on the scale: in the middle, so instants up to 2^63
/// ns (292 years) either side of it are exact.
const ORIGIN_NANOS: u64 = 1 << 63;

/// The process-wide origin: the std instant at [`ORIGIN_NANOS`], and (on Linux) the
/// `CLOCK_MONOTONIC` reading that [`os_now`] maps to it.
struct Origin {
    std: std::time::Instant,
    #[cfg(target_os = "linux")]
    raw: u64,
}

/// Fixed by the first conversion or clock read in the process.
static ORIGIN: OnceLock<Origin> = OnceLock::new();

/// The encoding of "no instant".
pub(crate) const NO_INSTANT: u64 = 0;

#[inline]
fn origin() -> &'static Origin {
    ORIGIN.get_or_init(Origin::new)
}

#[inline]
pub(crate) fn encoding_origin() -> std::time::Instant {
    origin().std
}

impl Origin {
    /// std's `Instant` is `CLOCK_MONOTONIC` on Linux, but its raw value is private, so the
    /// two are tied by reading them back to back: std's first, then the raw clock. The raw
    /// reading is then no earlier than std's, so the OS clock as [`os_now`] reads it trails
    /// std's by the gap between the two reads (the shortest of a few tries, tens of
    /// nanoseconds), and never runs ahead of it: a timer armed on one clock never fires
    /// before its deadline on the other. Conversions to and from std are exact.
    #[cfg(target_os = "linux")]
    fn new() -> Origin {
        let mut best: Option<(u64, Origin)> = None;
        for _ in 0..8 {
            let before = raw_now();
            let std = std::time::Instant::now();
            let raw = raw_now();
            let gap = raw - before;
            if best.as_ref().is_none_or(|(shortest, _)| gap < *shortest) {
                best = Some((gap, Origin { std, raw }));
            }
        }
        best.expect("at least one try").1
    }

    #[cfg(not(target_os = "linux"))]
    fn new() -> Origin {
        Origin {
            std: std::time::Instant::now(),
        }
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds (the vDSO's `clock_gettime`, without libc's or std's
/// wrapping).
#[cfg(target_os = "linux")]
#[inline]
fn raw_now() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    // A monotonic clock's seconds and nanoseconds are never negative.
    (t.tv_sec as u64) * NANOS_PER_SEC + t.tv_nsec as u64
}

/// Now on the OS clock (see [`Origin::new`] for how it relates to std's).
#[inline]
pub(crate) fn os_now() -> Instant {
    #[cfg(target_os = "linux")]
    {
        let origin = origin();
        Instant {
            nanos: ORIGIN_NANOS.saturating_add(raw_now().saturating_sub(origin.raw)),
        }
    }
    #[cfg(not(target_os = "linux"))]
    Instant::from_std(std::time::Instant::now())
}

/// An optional instant as one `u64`, for atomic storage (a cancel node's deadline): the
/// instant's nanoseconds on the process-wide scale, which are never [`NO_INSTANT`], or
/// [`NO_INSTANT`] for `None`.
#[inline]
pub(crate) fn encode(t: Option<Instant>) -> u64 {
    t.map_or(NO_INSTANT, Instant::as_nanos)
}

/// The inverse of [`encode`].
#[inline]
pub(crate) fn decode(raw: u64) -> Option<Instant> {
    (raw != NO_INSTANT).then_some(Instant { nanos: raw })
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(t: Instant) -> std::time::Instant {
        t.into_std()
    }
}

/// Saturates at a far-future instant: `now + Duration::MAX` means "never".
impl Add<Duration> for Instant {
    type Output = Instant;

    #[inline]
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    #[inline]
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

/// # Panics
/// If the result would lie before the representable range (as std's does on underflow).
impl Sub<Duration> for Instant {
    type Output = Instant;

    #[inline]
    #[track_caller]
    fn sub(self, d: Duration) -> Instant {
        self.checked_sub(d)
            .expect("overflow when subtracting duration from instant")
    }
}

impl SubAssign<Duration> for Instant {
    #[inline]
    #[track_caller]
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

/// Saturates at zero.
impl Sub<Instant> for Instant {
    type Output = Duration;

    #[inline]
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.into_std().fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A std instant `secs`/`nanos` before or after now.
    fn std_at(before: bool, secs: u64, nanos: u32) -> std::time::Instant {
        let now = std::time::Instant::now();
        let d = Duration::new(secs, nanos);
        if before {
            now.checked_sub(d).unwrap_or(now)
        } else {
            now.checked_add(d).unwrap_or(now)
        }
    }

    #[test]
    fn far_future_saturates_and_stays_ordered() {
        let now = Instant::now();
        let never = now + Duration::MAX;
        assert_eq!(never, now + FAR_FUTURE);
        assert!(never > now + Duration::from_secs(86_400 * 365 * 29));
        assert_eq!(never - now, FAR_FUTURE);
        // The top of the scale saturates instead of wrapping.
        let top = Instant { nanos: u64::MAX };
        assert_eq!(top + Duration::from_secs(1), top);
        assert_eq!(top.checked_add(Duration::from_nanos(1)), None);
        // The bottom of the scale is never "no instant".
        let bottom = Instant { nanos: 1 };
        assert_eq!(bottom.checked_sub(Duration::from_nanos(1)), None);
        assert_eq!(encode(Some(bottom)), 1);
        assert_eq!(decode(encode(Some(now))), Some(now));
        assert_eq!(decode(encode(None)), None);
    }

    /// The OS clock as arbor reads it never runs ahead of std's, and trails it by far less
    /// than a timer tick.
    #[test]
    fn the_os_clock_never_runs_ahead_of_std() {
        for _ in 0..10_000 {
            let before = std::time::Instant::now();
            let ours = os_now();
            let after = std::time::Instant::now();
            assert!(
                ours <= Instant::from_std(after),
                "{ours:?} is after {after:?}"
            );
            assert!(
                ours + Duration::from_micros(100) >= Instant::from_std(before),
                "{ours:?} trails {before:?} by 100 us or more"
            );
        }
    }

    #[test]
    #[should_panic(expected = "overflow when subtracting duration from instant")]
    fn subtracting_past_the_scale_panics_like_std() {
        let _ = Instant { nanos: 5 } - Duration::from_nanos(5);
    }

    proptest! {
        /// Conversion from and to std is exact, and arithmetic and order agree with std's,
        /// for instants years either side of now (and sums short of the far-future cap).
        #[test]
        fn agrees_with_std(
            a in (any::<bool>(), 0u64..(1 << 32), 0u32..1_000_000_000),
            b in (any::<bool>(), 0u64..(1 << 32), 0u32..1_000_000_000),
            d in (0u64..(1 << 29), 0u32..1_000_000_000),
        ) {
            let (sa, sb) = (std_at(a.0, a.1, a.2), std_at(b.0, b.1, b.2));
            let d = Duration::new(d.0, d.1);
            let (ia, ib) = (Instant::from_std(sa), Instant::from_std(sb));
            prop_assert_eq!(ia.into_std(), sa);
            prop_assert_eq!(ia.cmp(&ib), sa.cmp(&sb));
            prop_assert_eq!(ia == ib, sa == sb);
            prop_assert_eq!(ia - ib, sa.saturating_duration_since(sb));
            prop_assert_eq!(ia.checked_duration_since(ib), sa.checked_duration_since(sb));
            prop_assert_eq!((ia + d).into_std(), sa + d);
            prop_assert_eq!(ia.checked_add(d).map(Instant::into_std), sa.checked_add(d));
            prop_assert_eq!(ia.checked_sub(d).map(Instant::into_std), sa.checked_sub(d));
            prop_assert_eq!(decode(encode(Some(ia))), Some(ia));
        }
    }
}
