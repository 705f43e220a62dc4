//! Test guest: exercises every hook and host import; what it does depends on
//! the request path (see each arm of `on_request`). Its body hooks run when
//! the plugin's config asks for bodies (`request_body` / `response_body`).
use ravelin_sdk::kv::{KvError, Store};
use ravelin_sdk::{BodyDecision, Config, Decision, Hooks, Plugin, Reply, Request, Response};
use ravelin_sdk::{log, metrics, outbound};
use std::time::Duration;

struct Probe;

fn reply(body: String) -> Decision {
    Reply::text(200, body).into()
}

fn info(req: &Request) -> String {
    let tls = req
        .tls()
        .map(|t| format!("{:?}/{:?}/{}", t.sni, t.alpn, t.version));
    format!(
        "method={} path={} authority={:?} client={:?} tls={:?} route={} id={} x-a={:?} names={}",
        req.method(),
        req.path_with_query(),
        req.authority(),
        req.client_addr(),
        tls,
        req.route(),
        req.request_id(),
        req.header_all_str("x-a"),
        req.header_names().len(),
    )
}

/// The default store: the one 0.1 plugins' kv functions used.
fn store() -> Result<Store, KvError> {
    Store::open(ravelin_sdk::kv::DEFAULT)
}

fn kv_scenario() -> String {
    let kv = match store() {
        Ok(kv) => kv,
        Err(e) => return format!("open failed: {e}"),
    };
    let set = kv.set("a", b"1", None).is_ok();
    let got = kv
        .get_value("a")
        .ok()
        .flatten()
        .map(|v| String::from_utf8_lossy(&v).into_owned());
    let first = kv.increment("n", 5, None);
    let second = kv.increment("n", 5, None);
    let deleted = kv.delete("a").unwrap_or(false);
    let after = kv.get_value("a").ok().flatten();
    let not_counter = kv
        .set("s", b"x", None)
        .and_then(|_| kv.increment("s", 1, None))
        .is_err();
    format!(
        "set={set} get={got:?} incr={first:?},{second:?} deleted={deleted} after={after:?} bad={not_counter}"
    )
}

fn call_out(req: &Request) -> Decision {
    let cluster = req.query().unwrap_or_default();
    match outbound::get(
        &cluster,
        "/introspect",
        &[("x-probe", "1")],
        Duration::from_millis(2000),
    ) {
        Ok(resp) => Reply::text(resp.status, resp.text()).into(),
        Err(e) => Reply::text(502, format!("outbound error: {e}")).into(),
    }
}

impl Plugin for Probe {
    const HOOKS: Hooks = Hooks::ON_RESPONSE;

    fn configure(_config: Config) -> Result<Self, String> {
        Ok(Probe)
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        match req.path().as_str() {
            "/respond" => Reply::text(418, "short").header("x-short", "yes").into(),
            "/info" => reply(info(req)),
            "/rewrite" => {
                let _ = req.set_path_with_query("/rewritten?from=probe");
                let _ = req.set_header("x-probe", "1");
                let _ = req.add_header("x-multi", "a");
                let _ = req.add_header("x-multi", "b");
                req.remove_header("x-remove");
                match req.set_header("bad name", "v") {
                    Ok(()) => reply("invalid header accepted".into()),
                    Err(_) => Decision::Continue,
                }
            }
            "/kv" => reply(kv_scenario()),
            "/count" => {
                let count = store().and_then(|kv| kv.increment("hits", 1, None));
                reply(format!("{count:?}"))
            }
            "/metrics" => {
                metrics::counter_add("probe_hits", &[], 2);
                metrics::histogram_observe("probe_size", &[], 0.5);
                Decision::Continue
            }
            "/clock" => {
                let bytes = ravelin_sdk::random_bytes(16).len();
                let distinct = ravelin_sdk::random_u64() != ravelin_sdk::random_u64();
                reply(format!(
                    "now={} bytes={bytes} distinct={distinct}",
                    ravelin_sdk::now_ms()
                ))
            }
            "/outbound" => call_out(req),
            "/log" => {
                log::trace("t");
                log::debug("d");
                log::info("probe says hello");
                log::warn("w");
                log::error("e");
                Decision::Continue
            }
            _ => Decision::Continue,
        }
    }

    fn on_request_body(&mut self, _req: &Request, body: Vec<u8>, _truncated: bool) -> BodyDecision {
        if body == b"block" {
            return BodyDecision::Respond(Reply::text(403, "blocked body"));
        }
        BodyDecision::Replace(body.to_ascii_uppercase())
    }

    fn on_response(&mut self, req: &Request, resp: &Response) -> Decision {
        if req.path() == "/resp-status" {
            let _ = resp.set_status(201);
        }
        let upstream = resp.header("x-upstream").unwrap_or_default();
        let mut seen = b"seen:".to_vec();
        seen.extend_from_slice(&upstream);
        let _ = resp.set_header("x-probe-response", seen);
        resp.remove_header("server");
        Decision::Continue
    }

    fn on_response_body(
        &mut self,
        _req: &Request,
        _resp: &Response,
        mut body: Vec<u8>,
        _truncated: bool,
    ) -> BodyDecision {
        body.push(b'!');
        BodyDecision::Replace(body)
    }
}

ravelin_sdk::export!(Probe);
