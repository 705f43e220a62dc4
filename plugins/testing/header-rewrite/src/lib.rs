//! Test guest: the bench's "real" plugin — reads, sets and removes headers
//! on the request and the response.
use ravelin_sdk::{Config, Decision, Plugin, Request, Response};

struct HeaderRewrite;

impl Plugin for HeaderRewrite {
    fn new(_config: Config) -> Result<Self, String> {
        Ok(HeaderRewrite)
    }

    fn on_request(&self, req: &Request) -> Decision {
        let agent = req.header("user-agent").unwrap_or_default();
        let _ = req.set_header("x-agent-len", &agent.len().to_string());
        let _ = req.add_header("x-via-plugin", "header-rewrite");
        req.remove_header("cookie");
        Decision::Continue
    }

    fn on_response(&self, _req: &Request, resp: &Response) -> Decision {
        resp.remove_header("server");
        let _ = resp.set_header("x-frame-options", "DENY");
        Decision::Continue
    }
}

ravelin_sdk::export!(HeaderRewrite);
