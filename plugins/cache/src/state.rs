//! What one exchange remembers between its hooks (an instance serves one
//! exchange at a time; `on_request` starts afresh).

use crate::entry::Entry;
use crate::key::CacheKey;
use crate::policy::RequestRules;

/// The exchange's business with the cache.
#[derive(Default)]
pub enum State {
    /// Nothing left to do.
    #[default]
    Idle,
    /// Not served from or stored in the cache: the response says so.
    Bypass,
    /// An unsafe method: forget the URL once the origin accepted it.
    Invalidate(String),
    /// Going upstream for a miss or a revalidation.
    Fetch(Fetch),
    /// Copying the response body to store it.
    Capture(Capture),
}

/// A request sent upstream on the cache's behalf.
pub struct Fetch {
    pub key: CacheKey,
    pub rules: RequestRules,
    pub head: bool,
    /// The lock this request holds (fill or revalidation), to release.
    pub lock: Option<String>,
    /// The stored variant being revalidated: its kv key and entry.
    pub stale: Option<(String, Entry)>,
    /// The client's own conditional fields, answered by the cache.
    pub client: Conditional,
}

/// A client's `If-None-Match` and `If-Modified-Since`.
#[derive(Default, Clone)]
pub struct Conditional {
    pub if_none_match: Vec<String>,
    pub if_modified_since: Option<String>,
}

/// A response body being copied on its way to the client.
pub struct Capture {
    pub primary: String,
    pub lock: Option<String>,
    /// The `Vary` names the response listed.
    pub names: Vec<String>,
    /// The entry, its body still empty.
    pub entry: Entry,
    pub body: Vec<u8>,
    /// The body passed `max_entry_bytes`: nothing is kept.
    pub overflow: bool,
}
