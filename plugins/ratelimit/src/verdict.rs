//! What one limit decided about one request, in the units the response
//! headers use.

/// One limit's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// Requests still allowed now (after this one, when allowed).
    pub remaining: u64,
    /// Seconds until the quota is fully available again.
    pub reset_s: u64,
    /// When refused: seconds until a request may pass (at least 1).
    pub retry_after_s: u64,
}

/// Milliseconds as whole seconds, rounded up.
pub fn ceil_seconds(ms: u64) -> u64 {
    ms.div_ceil(1000)
}
