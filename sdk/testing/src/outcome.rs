//! [`Outcome`]: what one exchange did — whether the plugin answered (and
//! in which [`Hook`]) or the request went upstream, the request as
//! forwarded, the response the client gets, a failure as a value, and the
//! plugin's log lines — and its text form for `ravelin plugin test`.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
pub use ravelin_runtime::Hook;
use ravelin_runtime::{PluginError, PluginLog};
use std::fmt;

/// What the plugin did with one request.
#[derive(Debug)]
pub struct Outcome {
    pub(crate) forwarded: Option<http::Request<Bytes>>,
    pub(crate) response: http::Response<Bytes>,
    pub(crate) answered_at: Option<Hook>,
    pub(crate) failure: Option<(Hook, PluginError)>,
    pub(crate) logs: Vec<PluginLog>,
}

impl Outcome {
    /// The request as it went to the upstream (method, URI, headers, body
    /// after the request hooks); `None` if it never went.
    pub fn forwarded(&self) -> Option<&http::Request<Bytes>> {
        self.forwarded.as_ref()
    }

    /// Whether the request went to the (stand-in) upstream.
    pub fn went_upstream(&self) -> bool {
        self.forwarded.is_some()
    }

    /// Whether the plugin answered the request itself (`respond`).
    pub fn answered_by_plugin(&self) -> bool {
        self.answered_at.is_some()
    }

    /// The hook whose `respond` the client got, if any.
    pub fn answered_at(&self) -> Option<Hook> {
        self.answered_at
    }

    /// The plugin's failure (trap, deadline, out of memory, invalid
    /// answer), if it failed; the client then got 502 or 503 (or, in
    /// `on-log`, what was already sent).
    pub fn failure(&self) -> Option<&PluginError> {
        self.failure.as_ref().map(|(_, error)| error)
    }

    /// The hook the plugin failed in, if it failed.
    pub fn failed_at(&self) -> Option<Hook> {
        self.failure.as_ref().map(|(hook, _)| *hook)
    }

    /// The response the client gets.
    pub fn response(&self) -> &http::Response<Bytes> {
        &self.response
    }

    /// Its status.
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// Its headers.
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// Its body.
    pub fn body(&self) -> &Bytes {
        self.response.body()
    }

    /// The plugin's log lines of this exchange, `on-log`'s included.
    pub fn logs(&self) -> &[PluginLog] {
        &self.logs
    }

    /// The first line of the text form.
    fn decision(&self) -> String {
        match (&self.answered_at, &self.failure) {
            (Some(hook), _) => format!("respond ({hook})"),
            (None, Some((hook, error))) if *hook != Hook::OnLog => {
                format!("fail ({hook}): {error}")
            }
            _ => "continue".into(),
        }
    }
}

fn show_head(
    f: &mut fmt::Formatter<'_>,
    first: String,
    headers: &HeaderMap,
    body: &[u8],
) -> fmt::Result {
    writeln!(f, "  {first}")?;
    for (n, v) in headers {
        writeln!(f, "  {n}: {}", String::from_utf8_lossy(v.as_bytes()))?;
    }
    write!(f, "  \n  {}", String::from_utf8_lossy(body))
}

/// The text `ravelin plugin test` prints.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "decision: {}", self.decision())?;
        if let Some(forwarded) = &self.forwarded {
            writeln!(f, "forwarded upstream:")?;
            let first = format!("{} {}", forwarded.method(), forwarded.uri());
            show_head(f, first, forwarded.headers(), forwarded.body())?;
            writeln!(f)?;
        }
        writeln!(f, "response to the client:")?;
        let response = &self.response;
        show_head(
            f,
            response.status().to_string(),
            response.headers(),
            response.body(),
        )?;
        if let Some((Hook::OnLog, error)) = &self.failure {
            write!(f, "\non-log failed: {error}")?;
        }
        if !self.logs.is_empty() {
            write!(f, "\nplugin log:")?;
        }
        for line in &self.logs {
            let message = line.message.replace('\n', "\n    ");
            write!(f, "\n  {} {message}", line.level)?;
        }
        Ok(())
    }
}
