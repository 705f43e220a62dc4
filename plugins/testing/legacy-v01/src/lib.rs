//! Test guest: a plugin for the old contract, `ravelin:plugin@0.1.0`
//! (`wit/v0.1/`), written directly on wit-bindgen rather than the SDK, to
//! prove 0.1 components still load beside 0.2 ones.
//!
//! - every request gets `x-legacy: 0.1`, every response
//!   `x-legacy-response: 0.1`;
//! - `/legacy-count` answers with a counter kept in the 0.1 kv store
//!   (`1`, `2`, ...).

wit_bindgen::generate!({
    path: "../../../wit/v0.1",
    world: "filter",
});

use ravelin::plugin::kv;
use ravelin::plugin::types::ResponseInit;

const VERSION: &str = "0.1";

struct Legacy;

fn text(status: u16, body: String) -> Decision {
    Decision::Respond(ResponseInit {
        status,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: body.into_bytes(),
    })
}

impl Guest for Legacy {
    fn configure(_config: String) -> Result<(), String> {
        Ok(())
    }

    fn on_request(req: &Request) -> Decision {
        let target = req.path_with_query();
        let path = target.split('?').next().unwrap_or_default();
        if path == "/legacy-count" {
            return match kv::increment("legacy-count", 1, None) {
                Ok(n) => text(200, n.to_string()),
                Err(e) => text(500, format!("kv: {e}")),
            };
        }
        let _ = req.set_header("x-legacy", VERSION);
        Decision::Continue
    }

    fn on_request_body(_req: &Request, _body: Vec<u8>) -> BodyDecision {
        BodyDecision::Continue
    }

    fn on_response(_req: &Request, resp: &Response) -> Decision {
        let _ = resp.set_header("x-legacy-response", VERSION);
        Decision::Continue
    }

    fn on_response_body(_req: &Request, _resp: &Response, _body: Vec<u8>) -> BodyDecision {
        BodyDecision::Continue
    }
}

export!(Legacy);
