//! Test guest: exercises every hook and host import; what it does depends on
//! the request path (see each arm of `on_request`).
use ravelin_sdk::{BodyDecision, Config, Decision, Plugin, Reply, Request, Response};
use ravelin_sdk::{kv, log, metrics, outbound};
use std::time::Duration;

struct Probe;

fn reply(body: String) -> Decision {
    Reply::text(200, body).into()
}

fn info(req: &Request) -> String {
    let tls = req
        .tls()
        .map(|t| format!("{:?}/{:?}/{}", t.sni, t.alpn, t.mtls));
    format!(
        "method={} path={} authority={:?} client={:?} tls={:?} route={} id={} x-a={:?} names={}",
        req.method(),
        req.path_with_query(),
        req.authority(),
        req.client_addr(),
        tls,
        req.route(),
        req.request_id(),
        req.header_all("x-a"),
        req.header_names().len(),
    )
}

fn kv_scenario() -> String {
    let set = kv::set("a", b"1", None).is_ok();
    let got = kv::get("a").map(|v| String::from_utf8_lossy(&v).into_owned());
    let first = kv::increment("n", 5, None);
    let second = kv::increment("n", 5, None);
    let deleted = kv::delete("a");
    let after = kv::get("a");
    let not_counter = kv::set("s", b"x", None)
        .and_then(|_| kv::increment("s", 1, None))
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
        Ok(resp) => Reply::text(resp.status, String::from_utf8_lossy(&resp.body)).into(),
        Err(e) => Reply::text(502, format!("outbound error: {e}")).into(),
    }
}

impl Plugin for Probe {
    fn new(_config: Config) -> Result<Self, String> {
        Ok(Probe)
    }

    fn on_request(&self, req: &Request) -> Decision {
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
            "/count" => reply(format!("{:?}", kv::increment("hits", 1, None))),
            "/metrics" => {
                metrics::counter_add("probe_hits", 2);
                metrics::observe("probe_size", 0.5);
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

    fn on_request_body(&self, _req: &Request, body: Vec<u8>) -> BodyDecision {
        if body == b"block" {
            return BodyDecision::Respond(Reply::text(403, "blocked body"));
        }
        BodyDecision::Replace(body.to_ascii_uppercase())
    }

    fn on_response(&self, req: &Request, resp: &Response) -> Decision {
        if req.path() == "/resp-status" {
            let _ = resp.set_status(201);
        }
        let upstream = resp.header("x-upstream").unwrap_or_default();
        let _ = resp.set_header("x-probe-response", &format!("seen:{upstream}"));
        resp.remove_header("server");
        Decision::Continue
    }

    fn on_response_body(
        &self,
        _req: &Request,
        _resp: &Response,
        mut body: Vec<u8>,
    ) -> BodyDecision {
        body.push(b'!');
        BodyDecision::Replace(body)
    }
}

ravelin_sdk::export!(Probe);
