//! `auth`: edge authentication. A request passes with one valid credential
//! of the methods the config enables — a JWT (static keys or a JWKS fetched
//! and cached in kv), a static bearer token, an API key (header or query),
//! HTTP Basic (bcrypt or argon2 hashes), or, when none was presented, an
//! external forward-auth service. Otherwise 401 with `WWW-Authenticate`
//! (403 for a valid token lacking a required claim, 503 when keys or the
//! auth service cannot be reached). See README.md for every key.
//!
//! | module | job |
//! | --- | --- |
//! | [`settings`] | config: raw structs, validation |
//! | [`jwt`] | token parsing, keys, signature and claim checks |
//! | [`jwks`] | the fetched key set, cached and single-flighted in kv |
//! | [`digest`], [`apikey`] | hashed static tokens and API keys |
//! | [`basic`], [`passwd`] | Basic credentials, bcrypt/argon2, the verification cache |
//! | [`forward`] | forward auth |
//! | [`mapping`] | claims → headers and attributes |
//! | [`challenge`] | 401/403/503 replies |

mod apikey;
mod basic;
mod challenge;
mod digest;
mod forward;
mod jwks;
mod jwt;
mod mapping;
mod passwd;
mod settings;

use basic::Basic;
use challenge::Refusal;
use jwks::Jwks;
use jwt::{Failure, RemoteKeys, claims};
use mapping::Identity;
use ravelin_sdk::{Config, Decision, Plugin, Request, log, metrics, now_ms};
use settings::Settings;

struct Auth {
    settings: Settings,
    jwks: Option<Jwks>,
    basic: Option<Basic>,
}

/// The credentials a request presents.
struct Presented {
    api_key: Option<Vec<u8>>,
    bearer: Option<String>,
    /// `Some(None)`: an `Authorization: Basic` value that does not decode.
    basic: Option<Option<(String, Vec<u8>)>>,
}

impl Plugin for Auth {
    fn configure(config: Config) -> Result<Self, String> {
        let settings = settings::validate(config.parse()?)?;
        let jwks = settings
            .jwt
            .as_ref()
            .and_then(|(_, s)| s.clone())
            .map(Jwks::new);
        let basic = settings
            .basic
            .clone()
            .map(|(users, ttl)| Basic::new(users, ttl));
        Ok(Auth {
            settings,
            jwks,
            basic,
        })
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        for header in self.settings.owned_headers() {
            req.remove_header(header);
        }
        let presented = self.presented(req);
        let outcome = match self.check(&presented) {
            Some(outcome) => outcome,
            None => match &self.settings.forward {
                Some(forward) => match forward.ask(req) {
                    forward::Verdict::Allow(headers) => Ok(Identity {
                        method: "forward",
                        headers,
                        ..Identity::default()
                    }),
                    forward::Verdict::Deny(reply) => {
                        metrics::counter_add("auth_refused", &[("method", "forward")], 1);
                        return reply.into();
                    }
                },
                None => Err(Refusal::Missing),
            },
        };
        match outcome {
            Ok(identity) => {
                self.admit(req, identity);
                Decision::Continue
            }
            Err(refusal) => {
                metrics::counter_add("auth_refused", &[("reason", reason(&refusal))], 1);
                self.settings.challenges.reply(&refusal).into()
            }
        }
    }
}

impl Auth {
    fn presented(&self, req: &Request) -> Presented {
        let authorization = req.header_str("authorization").unwrap_or_default();
        let (scheme, rest) = authorization
            .split_once(' ')
            .unwrap_or((&authorization, ""));
        let bearer = scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim().to_string());
        let basic = scheme
            .eq_ignore_ascii_case("basic")
            .then(|| basic::decode(rest));
        let api_key = self.settings.api_keys.as_ref().and_then(|keys| {
            let from_query = || {
                let name = keys.query.as_deref()?;
                apikey::query_value(&req.query()?, name)
            };
            req.header(&keys.header).or_else(from_query)
        });
        Presented {
            api_key,
            bearer,
            basic,
        }
    }

    /// The verdict on the presented credentials, or `None` when none of
    /// the enabled methods' credentials was presented. Any valid one
    /// admits; otherwise the first refusal stands.
    fn check(&mut self, presented: &Presented) -> Option<Result<Identity, Refusal>> {
        let mut refusal = None;
        if let (Some(keys), Some(key)) = (&self.settings.api_keys, &presented.api_key) {
            match keys.name_of(key) {
                Some(name) => return Some(Ok(subject("api_key", name))),
                None => refusal = Some(Refusal::Missing),
            }
        }
        if let Some(token) = &presented.bearer {
            match self.bearer(token) {
                Some(Ok(identity)) => return Some(Ok(identity)),
                Some(Err(why)) => refusal = refusal.or(Some(why)),
                None => {}
            }
        }
        if let (Some(basic), Some(credentials)) = (&mut self.basic, &presented.basic) {
            match credentials {
                Some((user, password)) if basic.check(user, password) => {
                    return Some(Ok(subject("basic", user)));
                }
                _ => refusal = refusal.or(Some(Refusal::BadPassword)),
            }
        }
        refusal.map(Err)
    }

    /// A static token or a JWT; `None` when neither is enabled.
    fn bearer(&mut self, token: &str) -> Option<Result<Identity, Refusal>> {
        if digest::find(&self.settings.bearer_tokens, token.as_bytes()).is_some() {
            return Some(Ok(Identity {
                method: "bearer",
                ..Identity::default()
            }));
        }
        let Some((verifier, _)) = &self.settings.jwt else {
            return (!self.settings.bearer_tokens.is_empty()).then_some(Err(Refusal::InvalidToken));
        };
        let remote = self.jwks.as_mut().map(|j| j as &mut dyn RemoteKeys);
        let verdict = match verifier.verify(token, now_ms() / 1000, remote) {
            Ok(claims) => return Some(Ok(self.settings.claims.identity(&claims))),
            Err(Failure::Invalid(why)) => (why, Refusal::InvalidToken),
            Err(Failure::Claims(claims::Refusal::Expired(why))) => (why, Refusal::ExpiredToken),
            Err(Failure::Claims(claims::Refusal::Invalid(why))) => (why, Refusal::InvalidToken),
            Err(Failure::Claims(claims::Refusal::Insufficient(why))) => {
                (why, Refusal::InsufficientScope)
            }
            Err(Failure::KeysUnavailable(why)) => {
                log::warn(&format!("auth: cannot check a JWT, no key set: {why}"));
                return Some(Err(Refusal::Unavailable));
            }
        };
        log::info(&format!("auth: JWT refused: {}", verdict.0));
        Some(Err(verdict.1))
    }

    /// Lets the request on: identity headers and attributes set, the
    /// credentials removed unless `forward_credentials`.
    fn admit(&self, req: &Request, identity: Identity) {
        for (name, value) in &identity.headers {
            if let Err(e) = req.set_header(name, value) {
                log::warn(&format!("auth: cannot set {name}: {e}"));
            }
        }
        let mut attributes = vec![("auth.method".to_string(), identity.method.to_string())];
        attributes.extend(identity.subject.map(|s| ("auth.subject".to_string(), s)));
        for (name, value) in attributes.iter().chain(&identity.attributes) {
            if let Err(e) = req.set_attribute(name, value) {
                log::warn(&format!("auth: cannot set attribute {name}: {e}"));
            }
        }
        if self.settings.forward_credentials {
            return;
        }
        req.remove_header("authorization");
        if let Some(keys) = &self.settings.api_keys {
            req.remove_header(&keys.header);
            if let Some(name) = &keys.query {
                let stripped = apikey::without_param(&req.path_with_query(), name);
                if let Err(e) = req.set_path_with_query(&stripped) {
                    log::warn(&format!("auth: cannot strip the API key parameter: {e}"));
                }
            }
        }
    }
}

fn subject(method: &'static str, name: &str) -> Identity {
    Identity {
        method,
        subject: Some(name.to_string()),
        ..Identity::default()
    }
}

fn reason(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Missing => "missing",
        Refusal::InvalidToken => "invalid_token",
        Refusal::ExpiredToken => "expired_token",
        Refusal::InsufficientScope => "insufficient_scope",
        Refusal::BadPassword => "bad_password",
        Refusal::Unavailable => "unavailable",
    }
}

ravelin_sdk::export!(Auth);
