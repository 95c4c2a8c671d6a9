//! Unix domain sockets: [`UnixListener`], [`UnixStream`], [`UnixDatagram`], and the halves
//! of a split stream.

mod datagram;
mod listener;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use std::os::unix::net::SocketAddr;
pub use stream::UnixStream;

mod halves {
    use super::{SocketAddr, UnixStream};
    crate::net::split::split_types!(UnixStream, SocketAddr);
}

pub use halves::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub(crate) use halves::{split_borrowed, split_owned};
