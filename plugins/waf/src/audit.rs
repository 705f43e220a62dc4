//! What the WAF writes to the plugin log: the load report once per
//! version, and one audit line per phase that matched rules (rule ids,
//! messages, matched data truncated by the engine, the request id).

use ravelin_sdk::log;
use seclang::{Interruption, Match, Report};

/// The load report: counts, compile time, and each skipped rule with
/// its reason.
pub fn report(r: &Report, took_ms: u64) {
    log::info(&format!(
        "waf: {} rules loaded ({}), {} skipped, {} removed by exclusions, compiled in {took_ms} ms",
        r.rules,
        r.signature.as_deref().unwrap_or("no component signature"),
        r.skipped.len(),
        r.removed
    ));
    for s in &r.skipped {
        let id = s.id.map_or_else(|| "?".to_string(), |id| id.to_string());
        log::warn(&format!("waf: rule {id} at {} skipped: {}", s.at, s.reason));
    }
}

/// One line for the rules that matched in a phase, if any.
pub fn log(
    request_id: &str,
    matches: &[Match],
    stopped: Option<&Interruption>,
    block: bool,
    score: Option<String>,
) {
    if matches.is_empty() && stopped.is_none() {
        return;
    }
    let verdict = match (stopped, block) {
        (Some(i), true) => format!("blocked {} ({})", i.status, i.reason),
        (Some(i), false) => format!("detected, would block {} ({})", i.status, i.reason),
        (None, _) => "matched".to_string(),
    };
    let rules: Vec<String> = matches
        .iter()
        .map(|m| format!("[id {} phase {}] {:?} {:?}", m.id, m.phase, m.msg, m.data))
        .collect();
    let score = score.unwrap_or_else(|| "0".into());
    let line = format!(
        "waf: request {request_id} {verdict} anomaly_score={score} {}",
        rules.join(" ")
    );
    match stopped {
        Some(_) => log::warn(&line),
        None => log::info(&line),
    }
}
