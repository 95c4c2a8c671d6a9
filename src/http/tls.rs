//! https for [`Client`](super::Client) (feature `tls`): rustls 0.23 with the ring provider,
//! over futures-rustls on arbor's `TcpStream`.

use super::Error;
use arbor_runtime::net::TcpStream;
use hyper_util::client::legacy::connect::Connected;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// A TLS client connection over TCP.
pub(crate) type TlsStream = futures_rustls::client::TlsStream<TcpStream>;

/// A connector trusting the webpki roots and `extra`, offering HTTP/2 and (when `h1`)
/// HTTP/1.1 by ALPN.
pub(crate) fn connector(
    extra: &[CertificateDer<'static>],
    h1: bool,
) -> Result<futures_rustls::TlsConnector, Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| Error::builder(e.into()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::builder(e.into()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // Prior knowledge means h2 only; otherwise the server picks.
    config.alpn_protocols = if h1 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"h2".to_vec()]
    };
    Ok(futures_rustls::TlsConnector::from(Arc::new(config)))
}

/// The TLS handshake with `host` (the SNI name and the name the certificate must carry).
pub(crate) async fn handshake(
    connector: &futures_rustls::TlsConnector,
    host: &str,
    stream: TcpStream,
) -> io::Result<TlsStream> {
    let name = ServerName::try_from(host.to_owned()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{host}` is not a valid TLS server name: {e}"),
        )
    })?;
    connector.connect(name, stream).await
}

/// What the pool needs to know of the connection: whether ALPN chose HTTP/2.
pub(crate) fn connected(tls: &TlsStream) -> Connected {
    let (_, session) = tls.get_ref();
    if session.alpn_protocol() == Some(b"h2") {
        Connected::new().negotiated_h2()
    } else {
        Connected::new()
    }
}

/// hyper's read on a futures-io stream. futures-io reads need an initialised buffer, so the
/// part of hyper's buffer offered is zeroed first (the cost is small beside decryption).
pub(crate) fn poll_read(
    tls: &mut TlsStream,
    cx: &mut Context<'_>,
    mut buf: hyper::rt::ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: only initialised bytes are written into the cursor's memory below (zeroes,
    // then what the read returns), and `advance` is called with the count the read
    // reports, which is at most the slice's length.
    let dst: &mut [MaybeUninit<u8>] = unsafe { buf.as_mut() };
    for byte in dst.iter_mut() {
        byte.write(0);
    }
    // SAFETY: every byte of `dst` was just initialised, so it may be viewed as `[u8]`.
    let init: &mut [u8] =
        unsafe { std::slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<u8>(), dst.len()) };
    let n = ready!(futures_io::AsyncRead::poll_read(Pin::new(tls), cx, init))?;
    // SAFETY: the read filled (and we had initialised) the first `n` bytes.
    unsafe { buf.advance(n) };
    Poll::Ready(Ok(()))
}
