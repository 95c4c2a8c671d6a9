//! TCP: [`TcpListener`], [`TcpStream`], and the halves of a split stream.

#[cfg(any(target_os = "linux", target_os = "android"))]
mod inq;
mod listener;
mod stream;

pub use listener::TcpListener;
pub use stream::TcpStream;

mod halves {
    use super::TcpStream;
    crate::net::split::split_types!(TcpStream, std::net::SocketAddr);
}

pub use halves::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub(crate) use halves::{split_borrowed, split_owned};
