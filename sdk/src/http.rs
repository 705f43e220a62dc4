//! Typed views of the request and response the host lends to a hook, with
//! string helpers over the header bytes.
//!
//! Header values are the bytes on the wire (`header`, `header_all`,
//! `headers`); the `_str` variants give them as text when they are UTF-8, and
//! `set_header` / `add_header` take `&str` or bytes alike.

use crate::bindings::ravelin::plugin::types as wit;
use crate::body::BodyMode;

use crate::tls::{ClientCert, TlsInfo};

pub use wit::{Field, HttpVersion};

impl HttpVersion {
    /// The version as HTTP writes it: `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or
    /// `HTTP/3`.
    pub fn as_str(&self) -> &'static str {
        match self {
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
            HttpVersion::Http3 => "HTTP/3",
        }
    }
}

impl std::fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The header methods shared by [`Request`] and [`Response`].
macro_rules! header_methods {
    () => {
        /// The first value of header `name` (case-insensitive), as bytes.
        pub fn header(&self, name: &str) -> Option<Vec<u8>> {
            self.0.header(name)
        }
        /// The first value of header `name` as text; `None` when the header
        /// is absent or its value is not UTF-8.
        pub fn header_str(&self, name: &str) -> Option<String> {
            self.0.header(name).and_then(|v| String::from_utf8(v).ok())
        }
        /// Every value of header `name`, in order, as bytes.
        pub fn header_all(&self, name: &str) -> Vec<Vec<u8>> {
            self.0.header_all(name)
        }
        /// Every value of header `name` that is UTF-8, in order, as text
        /// (values that are not UTF-8 are left out).
        pub fn header_all_str(&self, name: &str) -> Vec<String> {
            let values = self.0.header_all(name).into_iter();
            values.filter_map(|v| String::from_utf8(v).ok()).collect()
        }
        /// Every header field, in order (a name repeats for each value).
        pub fn headers(&self) -> Vec<Field> {
            self.0.headers()
        }
        /// The names of the headers present, each once, in order.
        pub fn header_names(&self) -> Vec<String> {
            let mut names: Vec<String> = Vec::new();
            for field in self.0.headers() {
                if !names.contains(&field.name) {
                    names.push(field.name);
                }
            }
            names
        }
        /// Sets header `name` to `value` (a `&str` or bytes), replacing
        /// earlier values; fails on an invalid name or value.
        pub fn set_header(&self, name: &str, value: impl AsRef<[u8]>) -> Result<(), String> {
            self.0.set_header(name, value.as_ref())
        }
        /// Appends `value` (a `&str` or bytes) to header `name`; fails on an
        /// invalid name or value.
        pub fn add_header(&self, name: &str, value: impl AsRef<[u8]>) -> Result<(), String> {
            self.0.add_header(name, value.as_ref())
        }
        /// Removes every value of header `name`.
        pub fn remove_header(&self, name: &str) {
            self.0.remove_header(name)
        }
        /// The trailer fields after the body, in order: known in the body
        /// hooks once the whole body has been read (not when `truncated`;
        /// for a stream, in the last chunk call), empty elsewhere.
        pub fn trailers(&self) -> Vec<Field> {
            self.0.trailers()
        }
        /// Sets trailer `name` to `value`, replacing earlier values; only
        /// where [`Self::trailers`] is known.
        pub fn set_trailer(&self, name: &str, value: impl AsRef<[u8]>) -> Result<(), String> {
            self.0.set_trailer(name, value.as_ref())
        }
        /// Removes every value of trailer `name`; only where
        /// [`Self::trailers`] is known.
        pub fn remove_trailer(&self, name: &str) -> Result<(), String> {
            self.0.remove_trailer(name)
        }
    };
}

/// The request being handled, borrowed from the host for one hook call.
///
/// Reads and writes go straight to the host's copy: nothing is copied until
/// you ask for it. In `on-log` the request is read-only.
pub struct Request<'a>(pub(crate) &'a wit::Request);

impl Request<'_> {
    /// The method, such as `"GET"`.
    pub fn method(&self) -> String {
        self.0.method()
    }
    /// `"http"` or `"https"`: how the client reached the proxy.
    pub fn scheme(&self) -> String {
        self.0.scheme()
    }
    /// The HTTP version the client used.
    pub fn http_version(&self) -> HttpVersion {
        self.0.http_version()
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
    /// The value of query parameter `name` (the first one), not decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query()?;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| value.to_string())
        })
    }
    /// Replaces the path and query; `value` must start with `/`.
    pub fn set_path_with_query(&self, value: &str) -> Result<(), String> {
        self.0.set_path_with_query(value)
    }
    /// The authority (host and optional port).
    pub fn authority(&self) -> Option<String> {
        self.0.authority()
    }

    header_methods!();

    /// The client's address as `ip:port`, as the proxy determined it (the
    /// TCP peer, or what a trusted proxy forwarded).
    pub fn client_addr(&self) -> Option<String> {
        self.0.client_addr()
    }
    /// The TCP peer's address as `ip:port`.
    pub fn peer_addr(&self) -> Option<String> {
        self.0.peer_addr()
    }
    /// The client's TLS facts (SNI, ALPN, version, cipher, client
    /// certificate), or `None` for plain text.
    pub fn tls(&self) -> Option<TlsInfo> {
        self.0.tls()
    }
    /// The certificate the client presented and the listener verified
    /// (mutual TLS), or `None`.
    pub fn client_cert(&self) -> Option<ClientCert> {
        self.0.tls().and_then(|tls| tls.client_cert)
    }
    /// The name of the route that matched.
    pub fn route(&self) -> String {
        self.0.route()
    }
    /// The proxy's id for this request.
    pub fn request_id(&self) -> String {
        self.0.request_id()
    }
    /// The attribute `name` an earlier plugin (or hook) of this exchange
    /// set, if any.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.0.attribute(name)
    }
    /// Sets attribute `name` for the later hooks and plugins of this
    /// exchange; fails past 64 attributes or 64 KiB in all.
    pub fn set_attribute(&self, name: &str, value: &str) -> Result<(), String> {
        self.0.set_attribute(name, value)
    }
    /// Asks for the request body in this exchange (from `on_request` only,
    /// and [`BodyMode::whole`] only): [`crate::Plugin::on_request_body`]
    /// then runs with it.
    pub fn want_body(&self, mode: BodyMode) -> Result<(), String> {
        self.0.want_body(mode)
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

    header_methods!();

    /// Asks for the response body in this exchange (from `on_response`
    /// only): [`BodyMode::whole`] runs [`crate::Plugin::on_response_body`]
    /// once, [`BodyMode::chunked`] runs [`crate::Plugin::on_response_chunk`]
    /// per chunk.
    pub fn want_body(&self, mode: BodyMode) -> Result<(), String> {
        self.0.want_body(mode)
    }
}
