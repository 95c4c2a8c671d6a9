//! `arbor::http::Error`: what a [`Client`](super::Client) request fails with.

use hyper_util::client::legacy;
use std::error::Error as StdError;
use std::fmt;
use std::io;

/// Why an HTTP request failed: a bad URI, a failed or timed-out connect, or a failed
/// exchange (the connection closed early, a protocol error). `Send + Sync + 'static`, so
/// `?` turns it into `Box<dyn Error + Send + Sync>` or `anyhow::Error`; the cause is its
/// [`source`](StdError::source).
pub struct Error {
    kind: Kind,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The client could not be built (TLS configuration).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Builder,
    /// The URI does not parse, or is not absolute `http(s)://host/...`.
    Uri,
    /// Resolving or connecting (TLS handshake included) failed or timed out.
    Connect,
    /// The request or response failed on an established connection.
    Request,
}

impl Error {
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) fn builder(source: Box<dyn StdError + Send + Sync>) -> Error {
        Error {
            kind: Kind::Builder,
            source: Some(source),
        }
    }

    pub(crate) fn uri(source: Box<dyn StdError + Send + Sync>) -> Error {
        Error {
            kind: Kind::Uri,
            source: Some(source),
        }
    }

    pub(crate) fn from_client(e: legacy::Error) -> Error {
        let kind = if e.is_connect() {
            Kind::Connect
        } else {
            Kind::Request
        };
        // hyper-util's error only says "client error (Connect)"; the cause below it is
        // what a user needs (the refused address, the timeout), so keep the whole chain.
        Error {
            kind,
            source: Some(Box::new(e)),
        }
    }

    /// The request failed because resolving the host or connecting to it failed (refused,
    /// unreachable, timed out, the TLS handshake failed).
    pub fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// The request failed because a timeout passed (the connect timeout, or an
    /// [`io::ErrorKind::TimedOut`] anywhere in the cause chain).
    pub fn is_timeout(&self) -> bool {
        let mut cause: Option<&(dyn StdError + 'static)> = self.source();
        while let Some(e) = cause {
            if let Some(io) = e.downcast_ref::<io::Error>()
                && io.kind() == io::ErrorKind::TimedOut
            {
                return true;
            }
            cause = e.source();
        }
        false
    }

    /// The innermost cause that is an [`io::Error`], if any (a refused connect's
    /// `ConnectionRefused`, say).
    pub fn io_error(&self) -> Option<&io::Error> {
        let mut cause: Option<&(dyn StdError + 'static)> = self.source();
        let mut found = None;
        while let Some(e) = cause {
            if let Some(io) = e.downcast_ref::<io::Error>() {
                found = Some(io);
            }
            cause = e.source();
        }
        found
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Kind::Builder => "building the HTTP client failed",
            Kind::Uri => "invalid request URI",
            Kind::Connect => "connecting failed",
            Kind::Request => "the HTTP request failed",
        };
        f.write_str(what)?;
        // The deepest cause says the most ("Connection refused", "timed out after 1s").
        let mut cause: Option<&(dyn StdError + 'static)> = self.source();
        let mut last = None;
        while let Some(e) = cause {
            last = Some(e);
            cause = e.source();
        }
        if let Some(e) = last {
            write!(f, ": {e}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<hyper::Error> for Error {
    /// A failure reading a response body (`Incoming`), or of a connection hyper drives.
    fn from(e: hyper::Error) -> Error {
        Error {
            kind: Kind::Request,
            source: Some(Box::new(e)),
        }
    }
}

impl From<Error> for io::Error {
    /// The kind of the innermost [`io::Error`] cause (`ConnectionRefused`, `TimedOut`, ...),
    /// `Other` when there is none; the [`Error`] is kept as the inner error.
    fn from(e: Error) -> io::Error {
        let kind = e.io_error().map_or(io::ErrorKind::Other, io::Error::kind);
        io::Error::new(kind, e)
    }
}
