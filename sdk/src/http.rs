//! Typed views of the request and response the host lends to a hook, and the
//! decisions a hook returns.

use crate::bindings::ravelin::plugin::types as wit;

/// The request being handled, borrowed from the host for one hook call.
///
/// Reads and writes go straight to the host's copy: nothing is copied until
/// you ask for it.
pub struct Request<'a>(pub(crate) &'a wit::Request);

impl Request<'_> {
    /// The method, such as `"GET"`.
    pub fn method(&self) -> String {
        self.0.method()
    }
    /// The path and query, such as `"/a?b=c"`.
    pub fn path_with_query(&self) -> String {
        self.0.path_with_query()
    }
    /// The path without the query.
    pub fn path(&self) -> String {
        let mut pq = self.0.path_with_query();
        if let Some(q) = pq.find('?') {
            pq.truncate(q);
        }
        pq
    }
    /// The query (after `?`), if any.
    pub fn query(&self) -> Option<String> {
        let pq = self.0.path_with_query();
        pq.split_once('?').map(|(_, q)| q.to_string())
    }
    /// Replaces the path and query; `value` must start with `/`.
    pub fn set_path_with_query(&self, value: &str) -> Result<(), String> {
        self.0.set_path_with_query(value)
    }
    /// The authority (host and optional port).
    pub fn authority(&self) -> Option<String> {
        self.0.authority()
    }
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.0.header(name)
    }
    /// Every value of header `name`.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.0.header_all(name)
    }
    /// The names of the headers present.
    pub fn header_names(&self) -> Vec<String> {
        self.0.header_names()
    }
    /// Sets header `name` to `value`, replacing earlier values.
    pub fn set_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.set_header(name, value)
    }
    /// Appends a value to header `name`.
    pub fn add_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.add_header(name, value)
    }
    /// Removes every value of header `name`.
    pub fn remove_header(&self, name: &str) {
        self.0.remove_header(name)
    }
    /// The client's address as `ip:port`.
    pub fn client_addr(&self) -> Option<String> {
        self.0.client_addr()
    }
    /// The client's TLS facts (SNI, ALPN, mTLS), or `None` for plain text.
    pub fn tls(&self) -> Option<wit::TlsInfo> {
        self.0.tls()
    }
    /// The name of the route that matched.
    pub fn route(&self) -> String {
        self.0.route()
    }
    /// The proxy's id for this request.
    pub fn request_id(&self) -> String {
        self.0.request_id()
    }
}

/// The response, borrowed from the host for one response hook call.
pub struct Response<'a>(pub(crate) &'a wit::Response);

impl Response<'_> {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.0.status()
    }
    /// Sets the status code (100 to 999).
    pub fn set_status(&self, status: u16) -> Result<(), String> {
        self.0.set_status(status)
    }
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.0.header(name)
    }
    /// Every value of header `name`.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.0.header_all(name)
    }
    /// The names of the headers present.
    pub fn header_names(&self) -> Vec<String> {
        self.0.header_names()
    }
    /// Sets header `name` to `value`, replacing earlier values.
    pub fn set_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.set_header(name, value)
    }
    /// Appends a value to header `name`.
    pub fn add_header(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.add_header(name, value)
    }
    /// Removes every value of header `name`.
    pub fn remove_header(&self, name: &str) {
        self.0.remove_header(name)
    }
}

/// A response a plugin sends instead of going on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header fields, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    /// A `text/plain` response with `status` and `body`.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Reply::new(status)
            .header("content-type", "text/plain; charset=utf-8")
            .body(body.into().into_bytes())
    }
    /// Adds a header field.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    fn into_wit(self) -> wit::ResponseInit {
        wit::ResponseInit {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }
}

/// What a request or response hook decides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Decision {
    /// Go on to the next plugin, then the upstream (or the client).
    #[default]
    Continue,
    /// Answer now with this response; the upstream is skipped.
    Respond(Reply),
}

impl Decision {
    pub(crate) fn into_wit(self) -> wit::Decision {
        match self {
            Decision::Continue => wit::Decision::Continue,
            Decision::Respond(r) => wit::Decision::Respond(r.into_wit()),
        }
    }
}

impl From<Reply> for Decision {
    fn from(reply: Reply) -> Self {
        Decision::Respond(reply)
    }
}

/// What a body hook decides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BodyDecision {
    /// Keep the body.
    #[default]
    Continue,
    /// Replace the body.
    Replace(Vec<u8>),
    /// Answer now with this response.
    Respond(Reply),
}

impl BodyDecision {
    pub(crate) fn into_wit(self) -> wit::BodyDecision {
        match self {
            BodyDecision::Continue => wit::BodyDecision::Continue,
            BodyDecision::Replace(b) => wit::BodyDecision::Replace(b),
            BodyDecision::Respond(r) => wit::BodyDecision::Respond(r.into_wit()),
        }
    }
}
