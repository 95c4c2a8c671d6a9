//! Creating sockets in non-blocking, close-on-exec mode, and starting a non-blocking
//! `connect`, which std cannot do (its `connect` blocks until the handshake ends).

use rustix::net::addr::SocketAddrArg;
use rustix::net::{AddressFamily, SocketType};
use std::io;
use std::os::fd::OwnedFd;

/// A new non-blocking, close-on-exec socket.
pub(crate) fn new_socket(family: AddressFamily, ty: SocketType) -> io::Result<OwnedFd> {
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos",
        target_os = "solaris",
    ))]
    {
        use rustix::net::SocketFlags;
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        Ok(rustix::net::socket_with(family, ty, flags, None)?)
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos",
        target_os = "solaris",
    )))]
    {
        use rustix::io::FdFlags;
        let fd = rustix::net::socket(family, ty, None)?;
        rustix::io::fcntl_setfd(&fd, rustix::io::fcntl_getfd(&fd)? | FdFlags::CLOEXEC)?;
        rustix::io::ioctl_fionbio(&fd, true)?;
        Ok(fd)
    }
}

/// Starts connecting `fd` to `addr`. `Ok` means connected or in progress: wait until the
/// socket is writable, then check `SO_ERROR`.
pub(crate) fn start_connect(fd: &OwnedFd, addr: &impl SocketAddrArg) -> io::Result<()> {
    match rustix::net::connect(fd, addr) {
        // EINTR: the connection continues asynchronously, as with EINPROGRESS.
        Ok(()) | Err(rustix::io::Errno::INPROGRESS | rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
