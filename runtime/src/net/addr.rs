//! [`ToSocketAddrs`]: what `connect`, `bind` and `send_to` accept, and name resolution off
//! the workers.
//!
//! Addresses that are already addresses (`SocketAddr`, `(IpAddr, u16)`, a string that
//! parses as one) resolve in place. Host names are looked up with the OS resolver
//! (`getaddrinfo`, through std), which blocks, so the lookup runs on the runtime's blocking
//! pool, never on a worker.

use crate::io::no_runtime;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Anything that names socket addresses: a [`SocketAddr`], an `(ip, port)` pair, a slice
/// of addresses, or a string `"host:port"` / pair `("host", port)` whose host is looked up
/// off the workers.
///
/// Like std's trait of the same name, but sealed, so that arbor knows which values need a
/// (blocking) lookup and which do not.
///
/// ```
/// use arbor_runtime::net::lookup_host;
///
/// arbor_runtime::run(async {
///     let addrs: Vec<_> = lookup_host(("127.0.0.1", 8080)).await.unwrap().collect();
///     assert_eq!(addrs, ["127.0.0.1:8080".parse().unwrap()]);
///     let addrs: Vec<_> = lookup_host("localhost:8080").await.unwrap().collect();
///     assert!(addrs.iter().all(|a| a.port() == 8080 && a.ip().is_loopback()));
/// });
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use super::*;

    /// How an address resolves.
    #[derive(Debug)]
    pub enum Resolve {
        /// Already an address.
        One(SocketAddr),
        /// Already addresses.
        Many(Vec<SocketAddr>),
        /// `"host:port"`: to look up.
        Str(String),
        /// `("host", port)`: to look up.
        HostPort(String, u16),
    }

    /// The sealed half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait ToSocketAddrsPriv {
        /// Parses what can be parsed; names are left for the lookup.
        fn to_resolve(&self) -> Resolve;
    }
}

use sealed::{Resolve, ToSocketAddrsPriv};

macro_rules! addr_impls {
    ($($ty:ty => |$a:ident| $make:expr;)*) => {$(
        impl ToSocketAddrs for $ty {}
        impl ToSocketAddrsPriv for $ty {
            fn to_resolve(&self) -> Resolve {
                let $a = *self;
                Resolve::One($make)
            }
        }
    )*};
}

addr_impls! {
    SocketAddr => |a| a;
    SocketAddrV4 => |a| SocketAddr::V4(a);
    SocketAddrV6 => |a| SocketAddr::V6(a);
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1);
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1);
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1);
    ([u8; 4], u16) => |a| SocketAddr::new(IpAddr::from(a.0), a.1);
}

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Many(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_resolve(&self) -> Resolve {
        match self.parse() {
            Ok(addr) => Resolve::One(addr),
            Err(_) => Resolve::Str(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_resolve(&self) -> Resolve {
        self.as_str().to_resolve()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolve::One(SocketAddr::new(ip, port)),
            Err(_) => Resolve::HostPort(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).to_resolve()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}

/// Resolves `addr`; a host name is looked up on the blocking pool of the current runtime.
/// `what` names the caller for the "no runtime" error.
pub(crate) async fn resolve(
    addr: &(impl ToSocketAddrs + ?Sized),
    what: &'static str,
) -> io::Result<Vec<SocketAddr>> {
    let lookup = match addr.to_resolve() {
        Resolve::One(addr) => return Ok(vec![addr]),
        Resolve::Many(addrs) => return Ok(addrs),
        lookup => lookup,
    };
    let handle = crate::context::with_handle(|h| h.cloned()).ok_or_else(|| no_runtime(what))?;
    let task = handle.blocking_spawner().spawn(move || {
        let addrs = match &lookup {
            Resolve::Str(s) => std::net::ToSocketAddrs::to_socket_addrs(s.as_str()),
            Resolve::HostPort(host, port) => {
                std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), *port))
            }
            Resolve::One(_) | Resolve::Many(_) => unreachable!("resolved in place"),
        };
        addrs.map(Iterator::collect::<Vec<_>>)
    });
    match task.await {
        Ok(result) => result,
        Err(err) => match err.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(_) => Err(io::Error::other(
                "the arbor runtime shut down before the name lookup ran",
            )),
        },
    }
}

/// Resolves the first address of `addr` (for `send_to`).
pub(crate) async fn resolve_one(
    addr: &(impl ToSocketAddrs + ?Sized),
    what: &'static str,
) -> io::Result<SocketAddr> {
    if let Resolve::One(addr) = addr.to_resolve() {
        return Ok(addr); // the common case, without a `Vec`
    }
    resolve(addr, what)
        .await?
        .into_iter()
        .next()
        .ok_or_else(no_addresses)
}

/// The error for a name that resolved to nothing.
pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any address",
    )
}

/// Looks up the addresses of `host` (asyncio's `loop.getaddrinfo`), off the workers.
///
/// ```
/// arbor_runtime::run(async {
///     let mut addrs = arbor_runtime::net::lookup_host("127.0.0.1:53").await.unwrap();
///     assert_eq!(addrs.next(), Some("127.0.0.1:53".parse().unwrap()));
/// });
/// ```
///
/// # Errors
/// When the lookup fails, or outside a runtime.
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(&host, "arbor::net::lookup_host").await?.into_iter())
}
