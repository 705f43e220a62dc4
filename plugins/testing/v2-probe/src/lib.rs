//! Test guest: exercises what contract 0.2 adds; what it does depends on the
//! request path.
//!
//! - `/v2/bytes`: answers with the hex of header `x-raw`'s raw bytes.
//! - `/v2/facts`: answers `<scheme> <version> <client-addr> <peer-addr>
//!   <tls-version|none> <route>` (`-` for an unknown address).
//! - `/v2/client-cert`: answers `none` when the client presented no
//!   certificate (or used no TLS), else `subject=<subject> sans=<san,...>
//!   der=<DER length>`.
//! - `/v2/attr`: sets attribute `user` to `alice` and goes on; with config
//!   `read_attribute = true` answers with attribute `user` instead (so a
//!   writer then a reader in one chain answer `alice`).
//! - `/v2/body-whole?over=reject|prefix|skip`: asks for the request body
//!   whole, at most 16 bytes, with that over-limit rule; the body hook
//!   answers `len=<n> truncated=<bool> trailers=<name:value;...>`, and
//!   first tries `set-trailer("x-probe", "seen")` (`set=ok` or `set=err`).
//! - `/v2/concurrent?n=N`: starts N outbound `GET /v2/side` calls to config
//!   `cluster` at once, then waits for each; answers their statuses joined
//!   by `,` (`err` for a failed call).
//! - `/v2/metrics`: adds 1 to counter `hits` and sets gauge `level` to 3.5,
//!   both labelled `kind=probe`, and goes on.
//! - `/v2/count?key=K`: adds 1 to counter `K` of kv store `counters` and
//!   answers the new value, or 503 `kv: <error>` when the kv call fails.
//! - `/v2/init`: answers `local=<L> kv=<K> table=<T>`: L is how many times
//!   `configure` ran in this instance's memory (1 whether it ran here or in
//!   the snapshot the instance started from), K the kv count of
//!   `configure` runs with config `count_configure = true` (store
//!   `counters`, key `configure-runs`), T the size of the table `configure`
//!   built (config `init_work`: that many entries, a stand-in for compiling
//!   rules).
//! - `on-log`: when the request has `x-log-marker: M`, logs
//!   `on-log M status=<status> bytes=<response body bytes> completed=<bool>`.
use ravelin_sdk::outbound::{self, HttpRequest};
use ravelin_sdk::{BodyDecision, BodyLimit, BodyMode, Config, Decision, Hooks, LogInfo};
use ravelin_sdk::{Plugin, Reply, Request, kv, log, metrics};
use std::time::Duration;

/// The request body limit of `/v2/body-whole`.
const BODY_LIMIT: u64 = 16;

/// The most outbound calls `/v2/concurrent` starts.
const MAX_CALLS: usize = 16;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Settings {
    /// Answer `/v2/attr` with the attribute instead of setting it.
    read_attribute: bool,
    /// The cluster `/v2/concurrent` calls.
    cluster: Option<String>,
    /// Count `configure` runs in kv.
    count_configure: bool,
    /// Entries of the table `configure` builds.
    init_work: u32,
}

/// `configure` runs in this instance's memory.
static CONFIGURE_RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Builds `n` entries of derived data, as a rule compiler would.
fn build_table(n: u32) -> Vec<u64> {
    (0..u64::from(n))
        .map(|i| (0..64).fold(i, |h, k| h.rotate_left(5) ^ (h >> 3) ^ k))
        .collect()
}

struct V2Probe(Settings, Vec<u64>);

fn text(body: impl Into<String>) -> Decision {
    Reply::text(200, body).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn facts(req: &Request) -> String {
    let dash = |a: Option<String>| a.unwrap_or_else(|| "-".into());
    let tls = req.tls().map_or_else(|| "none".into(), |t| t.version);
    format!(
        "{} {} {} {} {tls} {}",
        req.scheme(),
        req.http_version(),
        dash(req.client_addr()),
        dash(req.peer_addr()),
        req.route(),
    )
}

fn client_cert(req: &Request) -> String {
    match req.client_cert() {
        None => "none".into(),
        Some(cert) => format!(
            "subject={} sans={} der={}",
            cert.subject,
            cert.sans.join(","),
            cert.der.len()
        ),
    }
}

fn ask_body(req: &Request) -> Decision {
    let limit = match req.query_param("over").as_deref() {
        Some("skip") => BodyLimit::skip(BODY_LIMIT),
        Some("prefix") => BodyLimit::inspect_prefix(BODY_LIMIT),
        _ => BodyLimit::reject(BODY_LIMIT),
    };
    match req.want_body(BodyMode::whole(limit)) {
        Ok(()) => Decision::Continue,
        Err(e) => Reply::text(500, format!("want-body: {e}")).into(),
    }
}

/// Sleeps `times` times `ms` milliseconds (`clock.sleep-ms`), then answers.
fn sleep(req: &Request) -> Decision {
    let number = |name: &str| req.query_param(name).and_then(|n| n.parse().ok());
    let (ms, times): (u64, u32) = (
        number("ms").unwrap_or(10),
        number("times").unwrap_or(1) as u32,
    );
    for _ in 0..times {
        ravelin_sdk::sleep(std::time::Duration::from_millis(ms));
    }
    text(format!("slept {times} x {ms} ms"))
}

fn count(req: &Request) -> Decision {
    let key = req.query_param("key").unwrap_or_else(|| "hits".into());
    let counted = kv::Store::open("counters").and_then(|store| store.increment(&key, 1, None));
    match counted {
        Ok(n) => text(n.to_string()),
        Err(e) => Reply::text(503, format!("kv: {e:?}")).into(),
    }
}

impl V2Probe {
    fn init_facts(&self) -> Decision {
        let local = CONFIGURE_RUNS.load(std::sync::atomic::Ordering::Relaxed);
        let runs = kv::Store::open("counters").and_then(|store| store.get_value("configure-runs"));
        let runs = match runs {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(None) => "0".into(),
            Err(e) => format!("{e:?}"),
        };
        text(format!("local={local} kv={runs} table={}", self.1.len()))
    }

    fn attribute(&self, req: &Request) -> Decision {
        if self.0.read_attribute {
            return text(req.attribute("user").unwrap_or_else(|| "(none)".into()));
        }
        match req.set_attribute("user", "alice") {
            Ok(()) => Decision::Continue,
            Err(e) => Reply::text(500, format!("set-attribute: {e}")).into(),
        }
    }

    fn concurrent(&self, req: &Request) -> Decision {
        let Some(cluster) = &self.0.cluster else {
            return Reply::text(500, "no cluster configured").into();
        };
        let n = req.query_param("n").and_then(|n| n.parse().ok());
        let n: usize = n.unwrap_or(1).min(MAX_CALLS);
        let request = HttpRequest::get("/v2/side").header("x-v2-probe", "concurrent");
        let timeout = Duration::from_secs(5);
        let mut calls = Vec::with_capacity(n);
        for _ in 0..n {
            match outbound::start(cluster, &request, timeout) {
                Ok(pending) => calls.push(pending),
                Err(e) => return Reply::text(502, format!("start: {e}")).into(),
            }
        }
        let statuses: Vec<String> = calls
            .into_iter()
            .map(|pending| match pending.wait() {
                Ok(resp) => resp.status.to_string(),
                Err(_) => "err".into(),
            })
            .collect();
        text(statuses.join(","))
    }
}

impl Plugin for V2Probe {
    const HOOKS: Hooks = Hooks::ON_LOG;

    fn configure(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse_or_default()?;
        CONFIGURE_RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if settings.count_configure {
            kv::Store::open("counters")
                .and_then(|store| store.increment("configure-runs", 1, None))
                .map_err(|e| format!("kv: {e:?}"))?;
        }
        let table = build_table(settings.init_work);
        Ok(V2Probe(settings, table))
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        match req.path().as_str() {
            "/v2/bytes" => text(hex(&req.header("x-raw").unwrap_or_default())),
            "/v2/facts" => text(facts(req)),
            "/v2/client-cert" => text(client_cert(req)),
            "/v2/attr" => self.attribute(req),
            "/v2/body-whole" => ask_body(req),
            "/v2/concurrent" => self.concurrent(req),
            "/v2/count" => count(req),
            "/v2/init" => self.init_facts(),
            "/v2/sleep" => sleep(req),
            "/v2/metrics" => {
                metrics::counter_add("hits", &[("kind", "probe")], 1);
                metrics::gauge_set("level", &[("kind", "probe")], 3.5);
                Decision::Continue
            }
            _ => Decision::Continue,
        }
    }

    fn on_request_body(&mut self, req: &Request, body: Vec<u8>, truncated: bool) -> BodyDecision {
        if req.path() != "/v2/body-whole" {
            return BodyDecision::Continue;
        }
        let set = match req.set_trailer("x-probe", "seen") {
            Ok(()) => "ok",
            Err(_) => "err",
        };
        let trailers: Vec<String> = req
            .trailers()
            .into_iter()
            .map(|f| format!("{}:{}", f.name, String::from_utf8_lossy(&f.value)))
            .collect();
        let (len, trailers) = (body.len(), trailers.join(";"));
        Reply::text(
            200,
            format!("len={len} truncated={truncated} trailers={trailers} set={set}"),
        )
        .into()
    }

    fn on_log(&mut self, req: &Request, info: &LogInfo) {
        if let Some(marker) = req.header_str("x-log-marker") {
            log::info(&format!(
                "on-log {marker} status={} bytes={} completed={}",
                info.status, info.response_body_bytes, info.completed
            ));
        }
    }
}

ravelin_sdk::export!(V2Probe);
