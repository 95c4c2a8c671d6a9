//! `arbor::http::Client`: hyper-util's pooled client on arbor (httpx's `AsyncClient`).
//!
//! The pool, keep-alive, HTTP/2 multiplexing and the protocol work are hyper-util's
//! (`client::legacy`); what is arbor's is the connector ([`Connector`]: names resolved on
//! the blocking pool, a connect timeout, `TCP_NODELAY`, rustls for `https`), the executor
//! and timer it runs on, and the error type.
//!
//! A request future that is dropped or cancelled takes its connection with it unless the
//! exchange on it was complete: hyper-util returns a connection to the pool only once its
//! response has been read to the end, so no half-read connection is ever reused.

use super::{Error, Executor, Timer};
use arbor_runtime::net::{TcpStream, lookup_host};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Bytes, Incoming};
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy;
use hyper_util::client::legacy::connect::{Connected, Connection};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Any error a request body may fail with.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body every request is boxed into, so that [`Client`] takes any body type.
type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// The default connect timeout: 30 s, as httpx's and curl's connect phases allow roughly.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time an idle pooled connection is kept: 90 s (hyper-util's and reqwest's).
const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A pooled HTTP client (httpx's `AsyncClient`, reqwest's `Client`): HTTP/1.1 with
/// keep-alive and HTTP/2, `https` with the `tls` feature.
///
/// Cloning is cheap and clones share one pool. Requests may run concurrently from any
/// number of tasks. The connections a client keeps are driven by tasks of their own, which
/// end when the connection closes: when its idle timeout passes, when the server closes
/// it, or when the last clone of the client is dropped.
///
/// ```
/// use arbor::http::Client;
/// use arbor::http::hyper::{Response, server::conn::http1, service::service_fn};
/// use arbor::net::TcpListener;
/// use http_body_util::BodyExt;
///
/// arbor::run(async {
///     // A local server answering "hello", a task per connection.
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     arbor::spawn(async move {
///         loop {
///             let (stream, _) = listener.accept().await.unwrap();
///             let hello = service_fn(|_| async {
///                 Ok::<_, std::convert::Infallible>(Response::new(String::from("hello")))
///             });
///             arbor::spawn(http1::Builder::new().serve_connection(stream, hello));
///         }
///     });
///
///     let client = Client::new();
///     let uri = format!("http://{addr}/");
///     let (a, b) = arbor::gather!(client.get(uri.as_str()), client.get(uri.as_str())).await;
///     for response in [a.unwrap(), b.unwrap()] {
///         assert_eq!(response.status(), 200);
///         let body = response.into_body().collect().await.unwrap().to_bytes();
///         assert_eq!(body, "hello");
///     }
/// });
/// ```
#[derive(Clone)]
pub struct Client {
    inner: legacy::Client<Connector, RequestBody>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl Client {
    /// A client with the default settings: a 30 s connect timeout, idle connections kept
    /// 90 s, HTTP/2 when the server offers it through TLS (ALPN), and (with `tls`) the
    /// webpki roots as the only trusted certificates.
    ///
    /// # Panics
    /// If the TLS configuration cannot be built, which the defaults never cause (use
    /// [`Client::builder`] to see the error instead).
    pub fn new() -> Client {
        Client::builder()
            .build()
            .expect("the default client configuration is valid")
    }

    /// A builder for a client with other settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Sends a `GET` for `uri` (`&str`, `String` or a [`Uri`]) and resolves to the response
    /// once its head has arrived; the body streams in as it is read.
    ///
    /// # Errors
    /// A `uri` that does not parse or lacks a scheme or host, a failed or timed-out connect
    /// ([`Error::is_connect`], [`Error::is_timeout`]), or a failed exchange.
    pub async fn get<U>(&self, uri: U) -> Result<Response<Incoming>, Error>
    where
        U: TryInto<Uri>,
        U::Error: Into<BoxError>,
    {
        let uri = uri.try_into().map_err(|e| Error::uri(e.into()))?;
        let request = Request::get(uri)
            .body(String::new())
            .map_err(|e| Error::uri(e.into()))?;
        self.request(request).await
    }

    /// Sends `request` (any body whose chunks convert into [`Bytes`]: `String`, `Vec<u8>`,
    /// `http_body_util::Full`, ...) and resolves to the response once its head has arrived.
    /// The request's URI must be absolute (`http://host/path`).
    ///
    /// Dropping the returned future (or cancelling the scope it runs in) abandons the
    /// request: its connection is closed, never returned to the pool half-read.
    ///
    /// # Errors
    /// As for [`Client::get`].
    pub async fn request<B>(&self, request: Request<B>) -> Result<Response<Incoming>, Error>
    where
        B: Body + Send + 'static,
        B::Data: Into<Bytes>,
        B::Error: Into<BoxError>,
    {
        check_uri(request.uri())?;
        let request = request.map(|body| {
            body.map_frame(|frame| frame.map_data(Into::into))
                .map_err(Into::into)
                .boxed_unsync()
        });
        self.inner
            .request(request)
            .await
            .map_err(Error::from_client)
    }
}

/// Rejects what the pool would fail on less clearly: a relative URI, an unknown scheme.
fn check_uri(uri: &Uri) -> Result<(), Error> {
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(Error::uri(
                format!("unsupported URI scheme `{other}` (http and https are)").into(),
            ));
        }
        None => {
            return Err(Error::uri(
                format!("the URI `{uri}` is not absolute (http://host/path)").into(),
            ));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(Error::uri(format!("the URI `{uri}` has no host").into()));
    }
    Ok(())
}

/// Builds a [`Client`] (reqwest's `ClientBuilder`).
///
/// ```
/// use arbor::http::Client;
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .pool_idle_timeout(Duration::from_secs(30))
///     .build()
///     .unwrap();
/// # drop(client);
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    connect_timeout: Duration,
    pool_idle_timeout: Duration,
    http2_prior_knowledge: bool,
    #[cfg(feature = "tls")]
    roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl ClientBuilder {
    fn new() -> ClientBuilder {
        ClientBuilder {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            http2_prior_knowledge: false,
            #[cfg(feature = "tls")]
            roots: Vec::new(),
        }
    }

    /// How long resolving the host and connecting (TLS handshake included) may take
    /// before the request fails with an error whose [`Error::is_timeout`] and
    /// [`Error::is_connect`] are true. Default 30 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// How long an idle connection stays in the pool. Default 90 s.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Speak HTTP/2 from the first byte, also over plain TCP (h2c), without HTTP/1.1.
    pub fn http2_prior_knowledge(mut self) -> ClientBuilder {
        self.http2_prior_knowledge = true;
        self
    }

    /// Trusts `cert` as a root, besides the webpki roots (feature `tls`).
    #[cfg(feature = "tls")]
    pub fn add_root_certificate(
        mut self,
        cert: rustls::pki_types::CertificateDer<'static>,
    ) -> ClientBuilder {
        self.roots.push(cert);
        self
    }

    /// The client.
    ///
    /// # Errors
    /// With `tls`: a root certificate rustls rejects.
    pub fn build(self) -> Result<Client, Error> {
        let connector = Connector {
            connect_timeout: self.connect_timeout,
            #[cfg(feature = "tls")]
            tls: super::tls::connector(&self.roots, !self.http2_prior_knowledge)?,
        };
        let mut builder = legacy::Client::builder(Executor::new());
        builder
            .timer(Timer::new())
            .pool_timer(Timer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .http2_only(self.http2_prior_knowledge);
        Ok(Client {
            inner: builder.build(connector),
        })
    }
}

/// The connector the pool calls for a new connection: resolves the URI's host off the
/// workers, connects (each resolved address in turn) within the connect timeout, sets
/// `TCP_NODELAY`, and for `https` runs the TLS handshake.
#[derive(Clone)]
pub(crate) struct Connector {
    connect_timeout: Duration,
    #[cfg(feature = "tls")]
    tls: futures_rustls::TlsConnector,
}

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Conn>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let timeout = this.connect_timeout;
            match arbor_timeouts::wait_for(timeout, this.connect(uri)).await {
                Ok(result) => result,
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connect timed out after {timeout:?}"),
                )),
            }
        })
    }
}

impl Connector {
    async fn connect(&self, uri: Uri) -> io::Result<Conn> {
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unsupported URI scheme {other:?}"),
                ));
            }
        };
        let host = uri
            .host()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URI without a host"))?;
        // An IPv6 literal comes bracketed (`[::1]`); the resolver wants it bare.
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let stream = connect_any(host, port).await?;
        stream.set_nodelay(true)?;
        if !https {
            return Ok(Conn::Tcp(stream));
        }
        #[cfg(feature = "tls")]
        {
            let tls = super::tls::handshake(&self.tls, host, stream).await?;
            Ok(Conn::Tls(Box::new(tls)))
        }
        #[cfg(not(feature = "tls"))]
        {
            drop(stream);
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("`https://{host}` needs arbor's `tls` feature"),
            ))
        }
    }
}

/// Connects to the first address of `host:port` that accepts, resolving on the blocking
/// pool; the error names the host and is the last address's.
async fn connect_any(host: &str, port: u16) -> io::Result<TcpStream> {
    let addrs = lookup_host((host, port)).await?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => io::Error::new(e.kind(), format!("connecting to {host}:{port}: {e}")),
        None => io::Error::new(
            io::ErrorKind::NotFound,
            format!("`{host}` resolved to no address"),
        ),
    })
}

/// A connection the pool holds: plain TCP, or TLS over TCP.
pub(crate) enum Conn {
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<super::tls::TlsStream>),
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        match self {
            Conn::Tcp(_) => Connected::new(),
            #[cfg(feature = "tls")]
            Conn::Tls(tls) => super::tls::connected(tls),
        }
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => super::tls::poll_read(s, cx, buf),
        }
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Tcp(s) => hyper::rt::Write::poll_write(Pin::new(s), cx, buf),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => futures_io::AsyncWrite::poll_write(Pin::new(&mut **s), cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => hyper::rt::Write::poll_flush(Pin::new(s), cx),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => futures_io::AsyncWrite::poll_flush(Pin::new(&mut **s), cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => hyper::rt::Write::poll_shutdown(Pin::new(s), cx),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => futures_io::AsyncWrite::poll_close(Pin::new(&mut **s), cx),
        }
    }
}
