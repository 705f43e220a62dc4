//! `ipfilter`: refuses requests by the client address the proxy determined
//! (the TCP peer, or what a trusted proxy forwarded): allow and deny lists
//! of IPv4 and IPv6 blocks, and optionally countries from a MaxMind
//! database; deny first. See README.md for the configuration.

mod cidr;
mod geo;
mod rules;

use ravelin_sdk::{Config, Decision, Plugin, Reply, Request, metrics};
use rules::{Rules, Settings};

struct IpFilter(Rules);

impl Plugin for IpFilter {
    fn configure(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse()?;
        Ok(IpFilter(settings.validate()?))
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        let ip = req.client_addr().and_then(|a| cidr::client_ip(&a));
        if self.0.admits(ip) {
            return Decision::Continue;
        }
        metrics::counter_add("refused", &[], 1);
        Reply::text(self.0.status, self.0.body.clone()).into()
    }
}

ravelin_sdk::export!(IpFilter);
