//! What a plugin asked for of a body in one exchange (`want-body` in 0.2,
//! `request_body` / `response_body` in a 0.1 plugin's config), capped by the
//! plugin's `max_body_kb`, and what happens past the limit.

use crate::bindings::v2::ravelin::plugin::types as wit;

/// What happens when a body is larger than asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverLimit {
    /// Refuse: 413 for a request body; a response body fails the plugin
    /// under its failure policy.
    Reject,
    /// This plugin's body hook is skipped for the exchange.
    Skip,
    /// The whole-body hook sees the first bytes only; the body goes on whole.
    InspectPrefix,
}

/// One plugin's ask for a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyAsk {
    /// Buffered whole (up to `max` bytes), one body hook call.
    Whole { max: usize, over: OverLimit },
    /// Streamed in chunks; `max` bounds what it holds back.
    Stream { max: usize, over: OverLimit },
}

impl BodyAsk {
    /// The ask `mode` stands for, its limit capped at `cap` bytes.
    pub(crate) fn from_wit(mode: wit::BodyMode, cap: usize) -> Self {
        let limit = |l: wit::BodyLimit| {
            let max = usize::try_from(l.max_bytes).unwrap_or(usize::MAX).min(cap);
            let over = match l.over_limit {
                wit::OverLimit::Reject => OverLimit::Reject,
                wit::OverLimit::Skip => OverLimit::Skip,
                wit::OverLimit::InspectPrefix => OverLimit::InspectPrefix,
            };
            (max, over)
        };
        match mode {
            wit::BodyMode::Whole(l) => {
                let (max, over) = limit(l);
                BodyAsk::Whole { max, over }
            }
            wit::BodyMode::Chunked(l) => {
                let (max, over) = limit(l);
                BodyAsk::Stream { max, over }
            }
        }
    }

    /// The most bytes the plugin takes at once.
    pub fn max(&self) -> usize {
        match self {
            BodyAsk::Whole { max, .. } | BodyAsk::Stream { max, .. } => *max,
        }
    }

    /// What happens past [`BodyAsk::max`].
    pub fn over(&self) -> OverLimit {
        match self {
            BodyAsk::Whole { over, .. } | BodyAsk::Stream { over, .. } => *over,
        }
    }
}
