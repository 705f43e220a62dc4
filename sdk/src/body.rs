//! Body asks: how a plugin wants to see a body in one exchange
//! ([`crate::Request::want_body`], [`crate::Response::want_body`]).
//!
//! ```
//! use ravelin_sdk::{BodyLimit, BodyMode};
//! // The request body whole, up to 64 KiB; a larger body is refused (413).
//! let whole = BodyMode::whole(BodyLimit::reject(64 * 1024));
//! // The response body in chunks; hold back at most 4 KiB at once.
//! let chunked = BodyMode::chunked(BodyLimit::reject(4096));
//! // The first 1 KiB of a body of any size, for inspection only.
//! let prefix = BodyMode::whole(BodyLimit::inspect_prefix(1024));
//! # let _ = (whole, chunked, prefix);
//! ```

use crate::bindings::ravelin::plugin::types as wit;

pub use wit::{BodyLimit, BodyMode, OverLimit};

impl BodyLimit {
    /// At most `max_bytes`, and what happens past that.
    pub fn new(max_bytes: u64, over_limit: OverLimit) -> Self {
        BodyLimit {
            max_bytes,
            over_limit,
        }
    }
    /// At most `max_bytes`; a larger body is refused: 413 for a request
    /// body, the plugin's failure policy for a response body.
    pub fn reject(max_bytes: u64) -> Self {
        Self::new(max_bytes, OverLimit::Reject)
    }
    /// At most `max_bytes`; past that the plugin's body hook is not called
    /// and the body goes on unchanged.
    pub fn skip(max_bytes: u64) -> Self {
        Self::new(max_bytes, OverLimit::Skip)
    }
    /// At most `max_bytes`; past that the whole-body hook sees the first
    /// `max_bytes` only (`truncated` is set) and may only answer or go on.
    pub fn inspect_prefix(max_bytes: u64) -> Self {
        Self::new(max_bytes, OverLimit::InspectPrefix)
    }
}

impl BodyMode {
    /// The body buffered by the host within `limit`, then one call of the
    /// whole-body hook (`on_request_body` / `on_response_body`).
    pub fn whole(limit: BodyLimit) -> Self {
        BodyMode::Whole(limit)
    }
    /// One call of `on_request_chunk` / `on_response_chunk` per chunk as it
    /// arrives; `limit` bounds what the plugin may hold back at once.
    pub fn chunked(limit: BodyLimit) -> Self {
        BodyMode::Chunked(limit)
    }
}
