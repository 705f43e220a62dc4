//! `waf`: a web application firewall running SecLang rules — the OWASP
//! Core Rule Set — with the `seclang` engine (`engine/`), plus quick path
//! and substring rules. See `plugins/waf/README.md` for the configuration.
//!
//! ```toml
//! [plugins.waf]
//! source = "plugins/waf.wasm"
//! memory_limit_mb = 256
//! configure_deadline_ms = 60000
//! secret_files = { crs = "/usr/share/modsecurity-crs/rules" }
//! config = { rule_sets = ["crs"], paranoia_level = 1, mode = "block" }
//! ```
//!
//! The rules compile once per plugin version, in `configure`. Each
//! exchange runs phase 1 on the request head, phase 2 on the body (asked
//! for whole when the request has one), and — with `inspect_responses` —
//! phases 3 and 4 on the response. A blocked request gets the status and
//! its request id, never which rule matched; the plugin log gets that.

mod audit;
mod quick;
mod settings;

use ravelin_sdk::{
    BodyDecision, BodyLimit, BodyMode, Config, Decision, Hooks, Plugin, Reply, Request, Response,
    log, metrics,
};
use seclang::{Interruption, Limits, RequestHead, RuleSet, Transaction};
use settings::{Mode, Settings};

struct Waf {
    quick: quick::Quick,
    status: u16,
    rules: Option<RuleSet>,
    mode: Mode,
    limits: Limits,
    request_body_limit: u64,
    inspect_responses: bool,
    response_body_limit: u64,
    /// The exchange in progress (one instance serves one at a time).
    tx: Option<Transaction>,
    /// Audit records already logged for it.
    logged: usize,
}

impl Plugin for Waf {
    fn configure(config: Config) -> Result<Self, String> {
        let started = ravelin_sdk::now_ms();
        let s: Settings = config.parse()?;
        let quick = quick::Quick::new(s.block_path_prefixes.clone(), s.block_patterns.clone())?;
        let rules = s.rule_set()?;
        if let Some(r) = &rules {
            audit::report(&r.report, ravelin_sdk::now_ms().saturating_sub(started));
        }
        Ok(Waf {
            quick,
            status: s.status,
            rules,
            mode: s.mode,
            limits: s.limits(),
            request_body_limit: s.request_body_limit_kb * 1024,
            inspect_responses: s.inspect_responses,
            response_body_limit: s.response_body_limit_kb * 1024,
            tx: None,
            logged: 0,
        })
    }

    fn hooks(&self) -> Hooks {
        match self.inspect_responses && self.rules.is_some() {
            true => Hooks::ON_RESPONSE,
            false => Hooks::empty(),
        }
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        self.tx = None;
        self.logged = 0;
        if let Some(rule) = self.quick.refuses(&req.path(), &req.path_with_query()) {
            metrics::counter_add("waf_blocked", &[], 1);
            log::info(&format!(
                "blocked {} (rule {rule:?})",
                req.path_with_query()
            ));
            return Reply::text(self.status, "forbidden\n").into();
        }
        let Some(rules) = &self.rules else {
            return Decision::Continue;
        };
        let mut tx = Transaction::new(rules, head(req), self.limits.clone());
        let stopped = tx.request_headers(rules).cloned();
        let length = req.header("content-length");
        let has_body = length.as_ref().is_some_and(|v| v != b"0")
            || req.header("transfer-encoding").is_some()
            || (length.is_none() && matches!(req.method().as_str(), "POST" | "PUT" | "PATCH"));
        let stopped = match (stopped, has_body) {
            (Some(i), _) => Some(i),
            (None, true) => {
                let limit = BodyLimit::reject(self.request_body_limit);
                if let Err(e) = req.want_body(BodyMode::whole(limit)) {
                    log::warn(&format!("waf: cannot inspect the request body: {e}"));
                }
                None
            }
            (None, false) => tx.request_body(rules, b"").cloned(),
        };
        self.tx = Some(tx);
        self.outcome(req, stopped).unwrap_or_default()
    }

    fn on_request_body(&mut self, req: &Request, body: Vec<u8>, _truncated: bool) -> BodyDecision {
        let (Some(rules), Some(tx)) = (&self.rules, &mut self.tx) else {
            return BodyDecision::Continue;
        };
        let stopped = tx.request_body(rules, &body).cloned();
        match self.outcome(req, stopped) {
            Some(Decision::Respond(reply)) => BodyDecision::Respond(reply),
            _ => BodyDecision::Continue,
        }
    }

    fn on_response(&mut self, req: &Request, resp: &Response) -> Decision {
        let (Some(rules), Some(tx)) = (&self.rules, &mut self.tx) else {
            return Decision::Continue;
        };
        if tx.interruption.is_some() {
            return Decision::Continue;
        }
        let headers: Vec<(String, Vec<u8>)> = resp
            .headers()
            .into_iter()
            .map(|f| (f.name, f.value))
            .collect();
        let stopped = tx.response_headers(rules, resp.status(), &headers).cloned();
        if stopped.is_none() {
            let limit = BodyLimit::skip(self.response_body_limit);
            if let Err(e) = resp.want_body(BodyMode::whole(limit)) {
                log::warn(&format!("waf: cannot inspect the response body: {e}"));
            }
        }
        self.outcome(req, stopped).unwrap_or_default()
    }

    fn on_response_body(
        &mut self,
        req: &Request,
        _resp: &Response,
        body: Vec<u8>,
        _truncated: bool,
    ) -> BodyDecision {
        let (Some(rules), Some(tx)) = (&self.rules, &mut self.tx) else {
            return BodyDecision::Continue;
        };
        let stopped = tx.response_body(rules, &body).cloned();
        match self.outcome(req, stopped) {
            Some(Decision::Respond(reply)) => BodyDecision::Respond(reply),
            _ => BodyDecision::Continue,
        }
    }
}

impl Waf {
    /// Logs what the phase found; the refusal in block mode.
    fn outcome(&mut self, req: &Request, stopped: Option<Interruption>) -> Option<Decision> {
        let tx = self.tx.as_ref()?;
        let id = req.request_id();
        let new = &tx.matches[self.logged..];
        self.logged = tx.matches.len();
        let block = self.mode == Mode::Block;
        audit::log(&id, new, stopped.as_ref(), block, tx.tx("anomaly_score"));
        let i = stopped?;
        let kind = if block { "waf_blocked" } else { "waf_detected" };
        metrics::counter_add(kind, &[], 1);
        block.then(|| {
            Reply::text(i.status, format!("request {id} refused\n"))
                .header("x-request-id", id)
                .into()
        })
    }
}

/// The request head as the engine reads it.
fn head(req: &Request) -> RequestHead {
    RequestHead {
        method: req.method(),
        uri: req.path_with_query(),
        protocol: req.http_version().as_str().to_string(),
        headers: req
            .headers()
            .into_iter()
            .map(|f| (f.name, f.value))
            .collect(),
        remote_addr: req.client_addr().unwrap_or_default(),
        request_id: req.request_id(),
    }
}

ravelin_sdk::export!(Waf);
