//! What hooks return: [`Decision`] (request and response hooks),
//! [`BodyDecision`] (whole-body hooks), [`ChunkDecision`] (the chunk hook),
//! and the [`Reply`] a plugin answers with.

use crate::bindings::ravelin::plugin::types as wit;

/// A response a plugin sends instead of going on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header fields, in order: name and value bytes.
    pub headers: Vec<(String, Vec<u8>)>,
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
            .body(body.into())
    }
    /// Adds a header field; `value` is a `&str`, a `String` or bytes.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    fn into_wit(self) -> wit::ResponseInit {
        let headers = self.headers.into_iter();
        wit::ResponseInit {
            status: self.status,
            headers: headers
                .map(|(name, value)| wit::Field { name, value })
                .collect(),
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

/// What a whole-body hook decides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BodyDecision {
    /// Keep the body.
    #[default]
    Continue,
    /// Replace the body (ignored when the hook saw a truncated body).
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

impl From<Reply> for BodyDecision {
    fn from(reply: Reply) -> Self {
        BodyDecision::Respond(reply)
    }
}

/// What the chunk hook decides about the chunk it was given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ChunkDecision {
    /// Send the chunk (with anything held before it) on unchanged.
    #[default]
    Pass,
    /// Send these bytes instead of the chunk and anything held before it.
    Replace(Vec<u8>),
    /// Keep the chunk back: the next call gets it again, joined with the
    /// next chunk. At the end of the body a hold counts as `Pass`.
    Hold,
    /// Answer with this response instead; only before any byte of the
    /// response body went out (later, the response is cut short and counted
    /// as the plugin's failure).
    Respond(Reply),
}

impl ChunkDecision {
    pub(crate) fn into_wit(self) -> wit::ChunkDecision {
        match self {
            ChunkDecision::Pass => wit::ChunkDecision::Pass,
            ChunkDecision::Replace(b) => wit::ChunkDecision::Replace(b),
            ChunkDecision::Hold => wit::ChunkDecision::Hold,
            ChunkDecision::Respond(r) => wit::ChunkDecision::Respond(r.into_wit()),
        }
    }
}

impl From<Reply> for ChunkDecision {
    fn from(reply: Reply) -> Self {
        ChunkDecision::Respond(reply)
    }
}
