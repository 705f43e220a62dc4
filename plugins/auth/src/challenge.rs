//! The refusals: 401 with `WWW-Authenticate` challenges (RFC 6750 for
//! Bearer, RFC 7617 for Basic), 403 for a valid token lacking what the
//! route requires, 503 when the keys to check with cannot be had. The
//! client learns the category (invalid, expired); the detail goes to the
//! log.

use ravelin_sdk::Reply;

/// Which schemes the plugin accepts, for the challenges of a 401.
#[derive(Clone, Debug)]
pub struct Challenges {
    pub realm: String,
    pub bearer: bool,
    pub basic: bool,
    pub api_key_header: Option<String>,
}

/// Why a request is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No usable credential: 401 with every scheme's challenge.
    Missing,
    /// A bearer token that is invalid: 401 `invalid_token`.
    InvalidToken,
    /// A bearer token that has expired: 401 `invalid_token`, saying so.
    ExpiredToken,
    /// A valid token without a required claim: 403 `insufficient_scope`.
    InsufficientScope,
    /// Wrong user or password: 401 with the Basic challenge.
    BadPassword,
    /// The keys could not be fetched: 503.
    Unavailable,
}

impl Challenges {
    /// The reply for `refusal`.
    pub fn reply(&self, refusal: &Refusal) -> Reply {
        let realm = &self.realm;
        let bearer_error = |error: &str, description: &str| {
            format!(
                "Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{description}\""
            )
        };
        match refusal {
            Refusal::Missing => self.all(Reply::text(401, "unauthorized\n")),
            Refusal::InvalidToken => Reply::text(401, "unauthorized\n").header(
                "www-authenticate",
                bearer_error("invalid_token", "the access token is invalid"),
            ),
            Refusal::ExpiredToken => Reply::text(401, "unauthorized\n").header(
                "www-authenticate",
                bearer_error("invalid_token", "the access token expired"),
            ),
            Refusal::InsufficientScope => Reply::text(403, "forbidden\n").header(
                "www-authenticate",
                bearer_error(
                    "insufficient_scope",
                    "the access token lacks a required claim",
                ),
            ),
            Refusal::BadPassword => Reply::text(401, "unauthorized\n")
                .header("www-authenticate", self.basic_challenge()),
            Refusal::Unavailable => {
                Reply::text(503, "authentication unavailable\n").header("retry-after", "5")
            }
        }
    }

    fn basic_challenge(&self) -> String {
        format!("Basic realm=\"{}\", charset=\"UTF-8\"", self.realm)
    }

    fn all(&self, mut reply: Reply) -> Reply {
        if self.bearer {
            reply = reply.header(
                "www-authenticate",
                format!("Bearer realm=\"{}\"", self.realm),
            );
        }
        if self.basic {
            reply = reply.header("www-authenticate", self.basic_challenge());
        }
        if let Some(header) = &self.api_key_header {
            let challenge = format!("ApiKey realm=\"{}\", header=\"{header}\"", self.realm);
            reply = reply.header("www-authenticate", challenge);
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenges() -> Challenges {
        Challenges {
            realm: "api".into(),
            bearer: true,
            basic: true,
            api_key_header: None,
        }
    }

    fn www(reply: &Reply) -> Vec<String> {
        let fields = reply
            .headers
            .iter()
            .filter(|(n, _)| n == "www-authenticate");
        fields
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    #[test]
    fn a_missing_credential_gets_every_challenge_and_no_error() {
        let reply = challenges().reply(&Refusal::Missing);
        assert_eq!(reply.status, 401);
        assert_eq!(
            www(&reply),
            [
                "Bearer realm=\"api\"",
                "Basic realm=\"api\", charset=\"UTF-8\""
            ]
        );
    }

    #[test]
    fn token_refusals_follow_rfc_6750() {
        let invalid = challenges().reply(&Refusal::InvalidToken);
        assert_eq!(invalid.status, 401);
        assert!(www(&invalid)[0].contains("error=\"invalid_token\""));
        let scope = challenges().reply(&Refusal::InsufficientScope);
        assert_eq!(scope.status, 403);
        assert!(www(&scope)[0].contains("error=\"insufficient_scope\""));
        assert_eq!(challenges().reply(&Refusal::Unavailable).status, 503);
    }
}
