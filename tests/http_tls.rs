//! https with `arbor::http::Client` (feature `tls`): a local rustls server with a
//! certificate made in the test (rcgen), HTTP/1.1 and HTTP/2 chosen by ALPN, and an
//! untrusted certificate refused.

#![cfg(all(unix, feature = "tls"))]

#[path = "support/http.rs"]
mod support;

use arbor::http::hyper::body::{Bytes, Incoming};
use arbor::http::hyper::server::conn::{http1, http2};
use arbor::http::hyper::service::service_fn;
use arbor::http::hyper::{Request, Response, Version};
use arbor::http::{Client, Executor};
use arbor::net::{TcpListener, TcpStream};
use arbor::runtime::Builder;
use futures_rustls::TlsAcceptor;
use futures_rustls::server::TlsStream;
use http_body_util::{BodyExt, Full};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::convert::Infallible;
use std::io;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// A server-side TLS stream as hyper's IO (the test's own adapter; the client's is
/// arbor's).
struct Io(TlsStream<TcpStream>);

impl arbor::http::hyper::rt::Read for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: arbor::http::hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the bytes are zeroed before they are viewed as `[u8]`, and `advance` is
        // given the count the read returned, at most the slice's length.
        unsafe {
            let dst: &mut [MaybeUninit<u8>] = buf.as_mut();
            dst.iter_mut().for_each(|b| {
                b.write(0);
            });
            let init = std::slice::from_raw_parts_mut(dst.as_mut_ptr().cast::<u8>(), dst.len());
            let n = ready!(futures_io::AsyncRead::poll_read(
                Pin::new(&mut self.0),
                cx,
                init
            ))?;
            buf.advance(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl arbor::http::hyper::rt::Write for Io {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

/// A self-signed certificate for `localhost`, and its key.
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
    (made.cert.der().clone(), PrivateKeyDer::Pkcs8(key))
}

/// An https server on loopback that offers `alpn`, answering with the protocol version it
/// served.
async fn server(alpn: &[&[u8]]) -> (SocketAddr, CertificateDer<'static>) {
    let (cert, key) = certificate();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(arbor::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            drop(arbor::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return; // the untrusted-certificate test's client hangs up
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let svc = service_fn(|req: Request<Incoming>| async move {
                    let body = format!("{:?} {}", req.version(), req.uri().path());
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
                });
                if h2 {
                    let _ = http2::Builder::new(Executor::new())
                        .serve_connection(Io(tls), svc)
                        .await;
                } else {
                    let _ = http1::Builder::new().serve_connection(Io(tls), svc).await;
                }
            }));
        }
    }));
    (addr, cert)
}

#[test]
fn https_with_a_trusted_local_certificate_over_http1() {
    for rt in support::flavours() {
        rt.block_on(async {
            let (addr, cert) = server(&[b"http/1.1"]).await;
            let client = Client::builder()
                .add_root_certificate(cert)
                .build()
                .unwrap();
            let uri = format!("https://localhost:{}/one", addr.port());
            for _ in 0..3 {
                let response = client.get(uri.as_str()).await.unwrap();
                assert_eq!(response.status(), 200);
                assert_eq!(response.version(), Version::HTTP_11);
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(body, "HTTP/1.1 /one");
            }
        });
    }
}

#[test]
fn https_negotiates_http2_by_alpn() {
    for rt in support::flavours() {
        rt.block_on(async {
            let (addr, cert) = server(&[b"h2", b"http/1.1"]).await;
            let client = Client::builder()
                .add_root_certificate(cert)
                .build()
                .unwrap();
            let uri = format!("https://localhost:{}/two", addr.port());
            let response = client.get(uri).await.unwrap();
            assert_eq!(response.version(), Version::HTTP_2);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, "HTTP/2.0 /two");
        });
    }
}

#[test]
fn an_untrusted_certificate_is_a_connect_error() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (addr, _cert) = server(&[b"http/1.1"]).await;
        // Client::new() trusts the webpki roots only, not the test's self-signed cert.
        let err = Client::new()
            .get(format!("https://localhost:{}/", addr.port()))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        assert!(err.to_string().contains("certificate"), "{err}");
    });
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (addr, cert) = server(&[b"http/1.1"]).await;
        let client = Client::builder()
            .add_root_certificate(cert)
            .build()
            .unwrap();
        // The certificate names `localhost`, not `127.0.0.1`.
        let err = client
            .get(format!("https://127.0.0.1:{}/", addr.port()))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
    });
}
