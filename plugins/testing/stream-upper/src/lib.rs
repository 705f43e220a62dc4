//! Test guest: a streaming response transform. `on-response` asks for the
//! response body in chunks; each chunk goes on upper-cased (ASCII) as it
//! arrives, so the body is never held whole.
//!
//! At the end of the body, every trailer value is upper-cased too.
//!
//! A request with header `x-upper-request` has its body streamed through
//! `on-request-chunk` the same way (upper-cased on its way upstream); a
//! chunk holding `EICAR` is answered 403 `upload refused`, abandoning the
//! upstream request mid-body.
//!
//! With config `marker = "SECRET"`, every occurrence of the marker (compared
//! after upper-casing, so `secret` counts too) is replaced by `[REDACTED]`,
//! even when it is split across chunks: the plugin holds back only the last
//! `len(marker) - 1` bytes of what it has seen, and sends them with the next
//! chunk (or at the end).
use ravelin_sdk::{BodyLimit, BodyMode, ChunkDecision, Config, Decision, Hooks};
use ravelin_sdk::{Plugin, Reply, Request, Response};

/// What replaces the marker.
const REDACTED: &[u8] = b"[REDACTED]";

/// The most the host lets the plugin hold back with `hold` (it never does:
/// the marker's tail is kept in the plugin).
const HOLD_LIMIT: u64 = 64 * 1024;

#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// A marker to redact, if any.
    marker: Option<String>,
}

struct StreamUpper {
    /// The marker, upper-cased; empty when none.
    marker: Vec<u8>,
    /// The upper-cased bytes held back from the client in this exchange.
    tail: Vec<u8>,
}

impl StreamUpper {
    /// `input` (upper-cased) after the held-back tail, markers replaced; at
    /// the end everything goes, before it the last `len(marker) - 1` bytes
    /// are held back for the next call.
    fn redact(&mut self, input: &[u8], end: bool) -> Vec<u8> {
        let mut data = std::mem::take(&mut self.tail);
        data.extend_from_slice(input);
        let m = self.marker.len();
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        while i + m <= data.len() {
            if data[i..i + m] == self.marker[..] {
                out.extend_from_slice(REDACTED);
                i += m;
            } else {
                out.push(data[i]);
                i += 1;
            }
        }
        let rest = &data[i..];
        let keep = if end { 0 } else { rest.len().min(m - 1) };
        let (send, hold) = rest.split_at(rest.len() - keep);
        out.extend_from_slice(send);
        self.tail = hold.to_vec();
        out
    }
}

impl Plugin for StreamUpper {
    const HOOKS: Hooks = Hooks::ON_RESPONSE;

    fn configure(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse_or_default()?;
        let marker = settings.marker.unwrap_or_default().to_ascii_uppercase();
        Ok(StreamUpper {
            marker: marker.into_bytes(),
            tail: Vec::new(),
        })
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        if req.header("x-upper-request").is_none() {
            return Decision::Continue;
        }
        match req.want_body(BodyMode::chunked(BodyLimit::reject(HOLD_LIMIT))) {
            Ok(()) => Decision::Continue,
            Err(e) => Reply::text(500, format!("want-body: {e}")).into(),
        }
    }

    fn on_request_chunk(
        &mut self,
        _req: &Request,
        mut chunk: Vec<u8>,
        _end: bool,
    ) -> ChunkDecision {
        chunk.make_ascii_uppercase();
        if chunk.windows(5).any(|w| w == b"EICAR") {
            return Reply::text(403, "upload refused").into();
        }
        ChunkDecision::Replace(chunk)
    }

    fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {
        // A new exchange: nothing of an earlier one is held back.
        self.tail.clear();
        match resp.want_body(BodyMode::chunked(BodyLimit::reject(HOLD_LIMIT))) {
            Ok(()) => Decision::Continue,
            Err(e) => Reply::text(500, format!("want-body: {e}")).into(),
        }
    }

    fn on_response_chunk(
        &mut self,
        _req: &Request,
        resp: &Response,
        mut chunk: Vec<u8>,
        end: bool,
    ) -> ChunkDecision {
        chunk.make_ascii_uppercase();
        if end {
            for field in resp.trailers() {
                if let Err(e) = resp.set_trailer(&field.name, field.value.to_ascii_uppercase()) {
                    return Reply::text(500, format!("set-trailer: {e}")).into();
                }
            }
        }
        if self.marker.is_empty() {
            return ChunkDecision::Replace(chunk);
        }
        ChunkDecision::Replace(self.redact(&chunk, end))
    }
}

ravelin_sdk::export!(StreamUpper);
