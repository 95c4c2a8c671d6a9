//! Time: the timer wheel, and (landing next) the driver, clock and sleep futures built on it.
pub(crate) mod wheel;
