//! Test guest: version A of the hot-swap pair; stamps every request and
//! response with `x-version: a`.
use ravelin_sdk::{Config, Decision, Hooks, Plugin, Request, Response};

const VERSION: &str = "a";

struct Swap;

impl Plugin for Swap {
    const HOOKS: Hooks = Hooks::ON_RESPONSE;

    fn configure(_config: Config) -> Result<Self, String> {
        Ok(Swap)
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        let _ = req.set_header("x-version", VERSION);
        Decision::Continue
    }

    fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {
        let _ = resp.set_header("x-version", VERSION);
        Decision::Continue
    }
}

ravelin_sdk::export!(Swap);
