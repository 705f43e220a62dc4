//! The inputs of an exchange, one line each: the client's [`Request`] and
//! the stand-in upstream's response, [`Upstream`]. Either also comes from
//! an `http` value. A builder given an invalid method, URI, status or
//! header panics saying which: the mistake is the test's own.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};

fn header_pair(name: &str, value: &[u8]) -> (HeaderName, HeaderValue) {
    let name = HeaderName::from_bytes(name.as_bytes())
        .unwrap_or_else(|e| panic!("invalid header name {name:?}: {e}"));
    let value = HeaderValue::from_bytes(value)
        .unwrap_or_else(|e| panic!("invalid value for header {name}: {e}"));
    (name, value)
}

/// A request from the client.
#[derive(Debug, Clone)]
pub struct Request(pub(crate) http::Request<Bytes>);

impl Request {
    /// `METHOD target` (a path with query, or an absolute URL), no headers,
    /// no body.
    #[track_caller]
    pub fn new(method: &str, target: &str) -> Self {
        let request = http::Request::builder()
            .method(method)
            .uri(target)
            .body(Bytes::new())
            .unwrap_or_else(|e| panic!("invalid request {method} {target}: {e}"));
        Request(request)
    }

    /// `GET target`.
    #[track_caller]
    pub fn get(target: &str) -> Self {
        Request::new("GET", target)
    }

    /// `POST target` with `body`.
    #[track_caller]
    pub fn post(target: &str, body: impl Into<Bytes>) -> Self {
        Request::new("POST", target).body(body)
    }

    /// Adds a header (after any of the same name); the value may be any
    /// bytes a header allows, UTF-8 or not.
    #[track_caller]
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        let (name, value) = header_pair(name, value.as_ref());
        self.0.headers_mut().append(name, value);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        *self.0.body_mut() = body.into();
        self
    }
}

impl<B: Into<Bytes>> From<http::Request<B>> for Request {
    fn from(request: http::Request<B>) -> Self {
        Request(request.map(Into::into))
    }
}

/// The response the stand-in upstream gives.
#[derive(Debug, Clone)]
pub struct Upstream(pub(crate) http::Response<Bytes>);

impl Upstream {
    /// `status` with no headers and no body.
    #[track_caller]
    pub fn status(status: u16) -> Self {
        let status = http::StatusCode::from_u16(status)
            .unwrap_or_else(|e| panic!("invalid status {status}: {e}"));
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() = status;
        Upstream(response)
    }

    /// `200` with `body`.
    pub fn ok(body: impl Into<Bytes>) -> Self {
        Upstream::status(200).body(body)
    }

    /// Adds a header (after any of the same name).
    #[track_caller]
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        let (name, value) = header_pair(name, value.as_ref());
        self.0.headers_mut().append(name, value);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        *self.0.body_mut() = body.into();
        self
    }
}

impl<B: Into<Bytes>> From<http::Response<B>> for Upstream {
    fn from(response: http::Response<B>) -> Self {
        Upstream(response.map(Into::into))
    }
}
