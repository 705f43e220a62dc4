//! `cors`: Cross-Origin Resource Sharing for a route. Preflights (`OPTIONS`
//! with `Origin` and `Access-Control-Request-Method`) are answered here
//! with 204 and never reach the origin; responses to cross-origin requests
//! from allowed origins get `Access-Control-Allow-Origin` (and credentials,
//! exposed headers) and `Vary: Origin`; requests without `Origin` are left
//! alone. See README.md for the configuration.

mod origins;
mod policy;

use policy::{Fields, Policy, Settings};
use ravelin_sdk::{Config, Decision, Hooks, Plugin, Reply, Request, Response};

/// The CORS fields an origin may have set, replaced by the policy's.
const CORS_FIELDS: [&str; 3] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
];

struct Cors {
    policy: Policy,
    /// For the exchange this instance serves: the fields its response gets
    /// and whether it varies by origin; `None` for a request without
    /// `Origin`.
    pending: Option<(Fields, bool)>,
}

impl Plugin for Cors {
    const HOOKS: Hooks = Hooks::ON_RESPONSE;

    fn configure(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse()?;
        Ok(Cors {
            policy: settings.validate()?,
            pending: None,
        })
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        self.pending = None;
        let Some(origin) = req.header_str("origin") else {
            return Decision::Continue;
        };
        let requested = req.header_str("access-control-request-method");
        if let (true, Some(method)) = (req.method() == "OPTIONS", requested) {
            let headers = req.header_str("access-control-request-headers");
            let fields = self
                .policy
                .preflight(&origin, &method, &headers.unwrap_or_default());
            let reply = fields
                .into_iter()
                .fold(Reply::new(204), |r, (n, v)| r.header(n, v));
            return reply.into();
        }
        self.pending = Some(self.policy.actual(&origin));
        Decision::Continue
    }

    fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {
        let Some((fields, vary)) = self.pending.take() else {
            return Decision::Continue;
        };
        for name in CORS_FIELDS {
            resp.remove_header(name);
        }
        for (name, value) in fields {
            let _ = resp.set_header(name, value);
        }
        if vary {
            let _ = resp.add_header("vary", "Origin");
        }
        Decision::Continue
    }
}

ravelin_sdk::export!(Cors);
