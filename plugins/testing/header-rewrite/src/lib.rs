//! Test guest: the bench's "real" plugin — reads, sets and removes headers
//! on the request and the response.
use ravelin_sdk::{Config, Decision, Hooks, Plugin, Request, Response};

struct HeaderRewrite;

impl Plugin for HeaderRewrite {
    const HOOKS: Hooks = Hooks::ON_RESPONSE;

    fn configure(_config: Config) -> Result<Self, String> {
        Ok(HeaderRewrite)
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        let agent = req.header("user-agent").unwrap_or_default();
        let _ = req.set_header("x-agent-len", agent.len().to_string());
        let _ = req.add_header("x-via-plugin", "header-rewrite");
        req.remove_header("cookie");
        Decision::Continue
    }

    fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {
        resp.remove_header("server");
        let _ = resp.set_header("x-frame-options", "DENY");
        Decision::Continue
    }
}

ravelin_sdk::export!(HeaderRewrite);
