//! HTTP calls to the upstream clusters listed in the plugin's
//! `allowed_upstreams`. Calls run beside the hook: [`start`] several, then
//! [`Pending::wait`] for each; [`send`] does both. A call still running when
//! its exchange ends is cancelled, and time spent waiting does not count
//! against the hook's CPU deadline.
//!
//! ```no_run
//! use ravelin_sdk::outbound::{self, HttpRequest};
//! use std::time::Duration;
//! let timeout = Duration::from_millis(500);
//! let calls: Vec<_> = ["/a", "/b"]
//!     .iter()
//!     .map(|path| outbound::start("backend", &HttpRequest::get(*path), timeout))
//!     .collect();
//! for call in calls {
//!     match call.and_then(|pending| pending.wait()) {
//!         Ok(resp) => ravelin_sdk::log::info(&format!("status {}", resp.status)),
//!         Err(e) => ravelin_sdk::log::warn(&e),
//!     }
//! }
//! ```

use crate::bindings::ravelin::plugin::outbound as wout;
use crate::bindings::ravelin::plugin::types::Field;
use std::time::Duration;

pub use wout::{OutboundRequest as HttpRequest, OutboundResponse as HttpResponse};

impl HttpRequest {
    /// A request with `method` for `path_with_query` (starting with `/`),
    /// no headers and no body.
    pub fn new(method: impl Into<String>, path_with_query: impl Into<String>) -> Self {
        HttpRequest {
            method: method.into(),
            path_with_query: path_with_query.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    /// A `GET` of `path_with_query`.
    pub fn get(path_with_query: impl Into<String>) -> Self {
        Self::new("GET", path_with_query)
    }
    /// A `POST` of `body` to `path_with_query`.
    pub fn post(path_with_query: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self::new("POST", path_with_query).body(body)
    }
    /// Adds a header field; `value` is a `&str`, a `String` or bytes.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(Field {
            name: name.into(),
            value: value.into(),
        });
        self
    }
    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive), as bytes.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        let mut fields = self.headers.iter();
        let field = fields.find(|f| f.name.eq_ignore_ascii_case(name))?;
        Some(&field.value)
    }
    /// The body as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn ms(timeout: Duration) -> u32 {
    u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX)
}

/// A call in flight, from [`start`].
#[derive(Debug)]
pub struct Pending(wout::Pending);

impl Pending {
    /// Waits for the answer (bounded by the call's timeout).
    pub fn wait(self) -> Result<HttpResponse, String> {
        self.0.wait()
    }
}

/// Starts sending `request` to `cluster` and returns at once; fails at once
/// when the cluster is not allowed or the request is invalid. At most 16
/// calls of one exchange run at a time.
pub fn start(cluster: &str, request: &HttpRequest, timeout: Duration) -> Result<Pending, String> {
    wout::start(cluster, request, ms(timeout)).map(Pending)
}

/// Sends `request` to `cluster` and waits at most `timeout` for the answer.
pub fn send(
    cluster: &str,
    request: &HttpRequest,
    timeout: Duration,
) -> Result<HttpResponse, String> {
    wout::send(cluster, request, ms(timeout))
}

/// A `GET` of `path` on `cluster` with `headers`.
pub fn get(
    cluster: &str,
    path: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<HttpResponse, String> {
    let mut request = HttpRequest::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(cluster, &request, timeout)
}
