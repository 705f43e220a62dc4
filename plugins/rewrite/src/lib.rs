//! `rewrite`: what nginx's `rewrite` / `return` / `sub_filter`, Caddy's
//! `rewrite` / `redir` / `header` / `replace` and Traefik's header and
//! path middlewares do, as one plugin. See README.md for every key.
//!
//! On the request: the path rules (rewrites and redirects, `rules.rs`), then
//! the query edits (`query.rs`), then the request header edits
//! (`headers.rs`). On the response: the response header edits, then, for the
//! responses `body.rs` selects, a streaming substitution of the body
//! (`substitute.rs`) through the chunk hook, in bounded memory.

mod body;
mod headers;
mod query;
mod rules;
mod settings;
mod substitute;
mod template;

use ravelin_sdk::{BodyLimit, BodyMode, ChunkDecision, Config, Decision, Hooks, Plugin, Reply};
use ravelin_sdk::{Request, Response, log};
use rules::Outcome;
use settings::{FileSettings, Settings};
use substitute::Stream;
use template::Facts;

/// The chunk hook's hold limit. Never reached: the plugin keeps its own
/// bounded tail and never answers `Hold`.
const HOLD_LIMIT: u64 = 4096;

struct Rewrite {
    settings: Settings,
    /// The substitution state of the response being streamed, if any.
    stream: Option<Stream>,
}

impl headers::Fields for Request<'_> {
    fn add(&self, name: &str, value: &str) -> Result<(), String> {
        self.add_header(name, value)
    }
    fn remove(&self, name: &str) {
        self.remove_header(name)
    }
}

impl headers::Fields for Response<'_> {
    fn add(&self, name: &str, value: &str) -> Result<(), String> {
        self.add_header(name, value)
    }
    fn remove(&self, name: &str) {
        self.remove_header(name)
    }
}

/// The request facts the templates and rules read.
fn facts(req: &Request) -> Facts {
    let target = req.path_with_query();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Facts {
        scheme: req.scheme(),
        host: req.authority().unwrap_or_default(),
        path: path.to_string(),
        query: query.to_string(),
        method: req.method(),
    }
}

impl Rewrite {
    /// The path and query to send upstream, or the redirect to answer with.
    fn target(&self, facts: &Facts, original: &str) -> Result<String, Reply> {
        let target = match rules::apply(&self.settings.rules, facts) {
            Outcome::Redirect { status, location } => {
                return Err(Reply::new(status).header("location", location));
            }
            Outcome::Rewritten(target) => target,
            Outcome::Unchanged => original.to_string(),
        };
        if self.settings.query.is_empty() {
            return Ok(target);
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        Ok(match self.settings.query.apply(query) {
            Some(query) => format!("{path}?{query}"),
            None => path.to_string(),
        })
    }
}

impl Plugin for Rewrite {
    fn configure(config: Config) -> Result<Self, String> {
        let raw: FileSettings = config.parse_or_default()?;
        Ok(Rewrite {
            settings: Settings::build(raw)?,
            stream: None,
        })
    }

    fn hooks(&self) -> Hooks {
        match self.settings.touches_responses() {
            true => Hooks::ON_RESPONSE,
            false => Hooks::empty(),
        }
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        let original = req.path_with_query();
        let target = match self.target(&facts(req), &original) {
            Ok(target) => target,
            Err(redirect) => return redirect.into(),
        };
        if target != original
            && let Err(e) = req.set_path_with_query(&target)
        {
            log::error(&format!(
                "rewrite produced an invalid target {target:?}: {e}"
            ));
            return Reply::text(500, "internal error\n").into();
        }
        if let Err(e) = self.settings.request.apply(req) {
            log::warn(&format!("request header edit failed: {e}"));
        }
        if self
            .settings
            .body
            .as_ref()
            .is_some_and(|b| b.strip_accept_encoding)
        {
            req.remove_header("accept-encoding");
        }
        Decision::Continue
    }

    fn on_response(&mut self, req: &Request, resp: &Response) -> Decision {
        self.stream = None;
        if let Err(e) = self.settings.response.apply(resp) {
            log::warn(&format!("response header edit failed: {e}"));
        }
        let Some(body) = &self.settings.body else {
            return Decision::Continue;
        };
        let (method, content_type) = (req.method(), resp.header_str("content-type"));
        let content_encoding = resp.header_str("content-encoding");
        let head = body::Head {
            method: &method,
            status: resp.status(),
            content_type: content_type.as_deref(),
            content_encoding: content_encoding.as_deref(),
        };
        if !body.applies(&head) {
            return Decision::Continue;
        }
        match resp.want_body(BodyMode::chunked(BodyLimit::reject(HOLD_LIMIT))) {
            Ok(()) => {
                // The length changes, and so does the representation.
                resp.remove_header("content-length");
                weaken_etag(resp);
                self.stream = Some(Stream::new(&body.patterns));
            }
            Err(e) => log::warn(&format!("cannot stream the response body: {e}")),
        }
        Decision::Continue
    }

    fn on_response_chunk(
        &mut self,
        _req: &Request,
        _resp: &Response,
        chunk: Vec<u8>,
        end: bool,
    ) -> ChunkDecision {
        let (Some(stream), Some(body)) = (&mut self.stream, &self.settings.body) else {
            return ChunkDecision::Pass;
        };
        ChunkDecision::Replace(stream.feed(&body.patterns, chunk, end))
    }
}

/// A strong `ETag` becomes weak: the bytes differ from the origin's, but the
/// substituted body is still the same for the same origin body.
fn weaken_etag(resp: &Response) {
    if let Some(etag) = resp.header("etag")
        && !etag.starts_with(b"W/")
    {
        let _ = resp.set_header("etag", [&b"W/"[..], &etag].concat());
    }
}

ravelin_sdk::export!(Rewrite);
