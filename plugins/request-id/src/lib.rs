//! `request-id`: gives every request an id — a trusted one the client sent,
//! or a new UUIDv7 (or 128 random bits) — and sets it on the request to the
//! origin, on the response and as the attribute `request_id` for the
//! plugins after it. See README.md for the configuration.
//!
//! Randomness comes from the host's generator on every request (never a
//! PRNG seeded in `configure`, whose state every instance would share).

mod id;
mod settings;

use ravelin_sdk::{Config, Decision, Hooks, Plugin, Request, Response, log};
use settings::Settings;

/// The attribute later plugins read the id from.
const ATTRIBUTE: &str = "request_id";

struct RequestId {
    settings: Settings,
    /// The id of the exchange this instance serves.
    current: Option<String>,
}

impl Plugin for RequestId {
    fn configure(config: Config) -> Result<Self, String> {
        let settings = config.parse_or_default::<Settings>()?.validate()?;
        Ok(RequestId {
            settings,
            current: None,
        })
    }

    fn hooks(&self) -> Hooks {
        if self.settings.response_header {
            Hooks::ON_RESPONSE
        } else {
            Hooks::empty()
        }
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        let s = &self.settings;
        let id = s.kept(req.header(&s.header)).unwrap_or_else(|| {
            let random = ravelin_sdk::random_bytes(16);
            id::generate(s.generate, ravelin_sdk::now_ms(), &random)
        });
        if let Err(e) = req.set_header(&s.header, &id) {
            log::warn(&format!("request-id: setting {}: {e}", s.header));
        }
        if let Err(e) = req.set_attribute(ATTRIBUTE, &id) {
            log::warn(&format!("request-id: setting attribute {ATTRIBUTE}: {e}"));
        }
        self.current = Some(id);
        Decision::Continue
    }

    fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {
        if let Some(id) = self.current.take() {
            let _ = resp.set_header(&self.settings.header, id);
        }
        Decision::Continue
    }
}

ravelin_sdk::export!(RequestId);
