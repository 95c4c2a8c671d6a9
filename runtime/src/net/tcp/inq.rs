//! `TCP_INQ` (Linux 4.18+): reads that also say whether they emptied the receive queue.
//!
//! With the socket option on, every `recvmsg` carries a `TCP_CM_INQ` control message: the
//! bytes still queued after the read. A read that leaves none lets the stream clear its
//! read readiness at once, so the next read waits for the reactor's next edge instead of
//! first paying a `recv` syscall to learn `WouldBlock`. A request/response exchange (read a
//! message, answer, read the next) saves one syscall per message this way: the common case
//! for a server, and the `tcp_echo` benchmark's.
//!
//! Why clearing early loses nothing: data that arrives after the read is queued after the
//! kernel computed the count, and its arrival raises a new edge-triggered event; the
//! reactor's readiness tick then differs from the one the read started from, and
//! `clear_readiness` leaves the new readiness alone (see `io/scheduled_io.rs`). A pending
//! end-of-file is reported as one byte queued (`tcp_inq_hint`), so it is never cleared
//! away either.
//!
//! Where the option cannot be set (an older kernel), the stream reads with plain `read`.

use std::io;
use std::mem::{MaybeUninit, size_of};
use std::os::fd::{AsRawFd, BorrowedFd};

/// Turns `TCP_INQ` on for `fd`. `false` if the kernel refuses it.
pub(crate) fn enable(fd: BorrowedFd<'_>) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: `fd` is a socket kept open by the borrow for the whole call; the option
    // value points at a `c_int` that outlives the call, and its exact size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INQ,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// Room for the one control message a read gets (`CMSG_SPACE(sizeof(int))` is 24 bytes on
/// 64-bit targets), aligned as `cmsghdr` requires.
#[repr(C, align(8))]
struct Control([u8; 32]);

/// Reads into `buf` (one `recvmsg`), which need not be initialised. Returns the bytes read,
/// `n`, and whether the read emptied the receive queue (never at end-of-file or for an
/// empty `buf`: those read nothing). The kernel writes only the `n` bytes it received, so
/// after `Ok((n, _))` the first `n` bytes of `buf` are initialised and the rest untouched.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [MaybeUninit<u8>]) -> io::Result<(usize, bool)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = Control([0; 32]);
    // SAFETY: `msghdr` is plain old data; all zeroes is "no address, no iovec, no control".
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<Control>() as _;
    // SAFETY: `fd` is an open socket for the call. `msg` points at `iov`, which covers
    // exactly `buf` (writable for its length; the kernel only writes it, so it may be
    // uninitialised), and at `control` (writable for the length given); all three outlive
    // the call.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &raw mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    let mut queued = None;
    // SAFETY: the CMSG_* walk stays inside the control buffer the kernel filled:
    // `CMSG_FIRSTHDR` and `CMSG_NXTHDR` check each header against `msg_controllen` (which
    // the kernel set to the bytes it wrote) and return null past the end; a `TCP_CM_INQ`
    // message carries one `c_int`, read unaligned since the data offset is only as aligned
    // as the platform's `cmsghdr`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_TCP && (*cmsg).cmsg_type == libc::TCP_CM_INQ {
                queued = Some(std::ptr::read_unaligned(
                    libc::CMSG_DATA(cmsg).cast::<libc::c_int>(),
                ));
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
    }
    Ok((n, n > 0 && queued == Some(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;

    /// `read` into a zeroed buffer (the kernel's bytes are the test's subject).
    fn read_into(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, bool)> {
        let mut uninit = vec![MaybeUninit::new(0); buf.len()];
        let got = read(fd, &mut uninit)?;
        for (b, u) in buf.iter_mut().zip(&uninit) {
            // SAFETY: every element was initialised to 0 above, and `read` only writes bytes.
            *b = unsafe { u.assume_init() };
        }
        Ok(got)
    }

    #[test]
    fn a_read_reports_whether_it_emptied_the_queue() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        assert!(
            enable(server.as_fd()),
            "TCP_INQ is on every supported Linux kernel"
        );
        client.write_all(b"0123456789").unwrap();
        // Blocking socket: each read waits for data.
        let mut buf = [0; 4];
        assert_eq!(read_into(server.as_fd(), &mut buf).unwrap(), (4, false));
        assert_eq!(&buf, b"0123");
        let mut rest = [0; 16];
        assert_eq!(read_into(server.as_fd(), &mut rest).unwrap(), (6, true));
        assert_eq!(&rest[..6], b"456789");
        // End-of-file: nothing read, never "emptied" (it stays readable).
        drop(client);
        assert_eq!(read_into(server.as_fd(), &mut rest).unwrap(), (0, false));
    }

    #[test]
    fn a_read_without_the_option_never_claims_the_queue_is_empty() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(b"abc").unwrap();
        let mut buf = [0; 16];
        assert_eq!(read_into(server.as_fd(), &mut buf).unwrap(), (3, false));
    }
}
