//! The registered claims checked once the signature is good: `exp`, `nbf`
//! and `iat` with a leeway, `iss`, `aud` (a string or an array), and the
//! claims a route requires.

use serde_json::{Map, Value};

/// What a verified token must satisfy.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// Clock skew allowed on `exp`, `nbf` and `iat`, seconds.
    pub leeway_s: u64,
    /// Accepted `iss` values; empty accepts any.
    pub issuers: Vec<String>,
    /// Accepted `aud` values (one must be in the token's); empty accepts any.
    pub audiences: Vec<String>,
    /// Claims that must be present.
    pub required: Vec<String>,
    /// Whether a token without `exp` is refused.
    pub require_exp: bool,
}

/// Why a token's claims were refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `exp` passed (or absent when required): 401, the client may refresh.
    Expired(String),
    /// The token is not meant for this resource or not usable now: 401.
    Invalid(String),
    /// The token is good but lacks what the route requires: 403.
    Insufficient(String),
}

/// Checks `claims` at `now_s` (seconds since the epoch).
pub fn check(claims: &Map<String, Value>, now_s: u64, rules: &Rules) -> Result<(), Refusal> {
    let now = now_s as f64;
    let leeway = rules.leeway_s as f64;
    match time(claims, "exp")? {
        Some(exp) if now >= exp + leeway => {
            return Err(Refusal::Expired(format!("expired at {exp}, now {now}")));
        }
        None if rules.require_exp => return Err(Refusal::Expired("no \"exp\" claim".into())),
        _ => {}
    }
    if let Some(nbf) = time(claims, "nbf")?.filter(|nbf| now + leeway < *nbf) {
        return Err(Refusal::Invalid(format!(
            "not valid before {nbf}, now {now}"
        )));
    }
    if let Some(iat) = time(claims, "iat")?.filter(|iat| now + leeway < *iat) {
        return Err(Refusal::Invalid(format!(
            "issued in the future ({iat}), now {now}"
        )));
    }
    if !rules.issuers.is_empty() {
        let iss = claims.get("iss").and_then(Value::as_str);
        if !iss.is_some_and(|iss| rules.issuers.iter().any(|ok| ok == iss)) {
            return Err(Refusal::Invalid(format!("issuer {iss:?} not accepted")));
        }
    }
    if !rules.audiences.is_empty() && !audience_ok(claims.get("aud"), &rules.audiences) {
        return Err(Refusal::Invalid(format!(
            "audience {} not accepted",
            claims.get("aud").unwrap_or(&Value::Null)
        )));
    }
    if let Some(missing) = rules
        .required
        .iter()
        .find(|name| !claims.contains_key(*name))
    {
        return Err(Refusal::Insufficient(format!(
            "required claim {missing:?} absent"
        )));
    }
    Ok(())
}

/// A NumericDate claim: absent, or a number (integer or not).
fn time(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| Refusal::Invalid(format!("\"{name}\" is not a number"))),
    }
}

fn audience_ok(aud: Option<&Value>, accepted: &[String]) -> bool {
    let is_accepted = |value: &Value| {
        value
            .as_str()
            .is_some_and(|a| accepted.iter().any(|ok| ok == a))
    };
    match aud {
        Some(Value::Array(items)) => items.iter().any(is_accepted),
        Some(value) => is_accepted(value),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_700_000_000;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().expect("object").clone()
    }

    fn rules() -> Rules {
        Rules {
            leeway_s: 30,
            require_exp: true,
            ..Rules::default()
        }
    }

    #[test]
    fn time_claims_honour_the_leeway() {
        let r = rules();
        assert!(check(&claims(json!({"exp": NOW + 1})), NOW, &r).is_ok());
        assert!(
            check(&claims(json!({"exp": NOW - 10})), NOW, &r).is_ok(),
            "within leeway"
        );
        let late = check(&claims(json!({"exp": NOW - 30})), NOW, &r);
        assert!(matches!(late, Err(Refusal::Expired(_))));
        let early = check(&claims(json!({"exp": NOW + 99, "nbf": NOW + 31})), NOW, &r);
        assert!(matches!(early, Err(Refusal::Invalid(_))));
        assert!(check(&claims(json!({"exp": NOW + 99, "nbf": NOW + 29})), NOW, &r).is_ok());
        let future = check(&claims(json!({"exp": NOW + 99, "iat": NOW + 60})), NOW, &r);
        assert!(matches!(future, Err(Refusal::Invalid(_))));
        let text = check(&claims(json!({"exp": "tomorrow"})), NOW, &r);
        assert!(matches!(text, Err(Refusal::Invalid(_))));
    }

    #[test]
    fn exp_is_required_unless_configured_otherwise() {
        let mut r = rules();
        assert!(matches!(
            check(&claims(json!({})), NOW, &r),
            Err(Refusal::Expired(_))
        ));
        r.require_exp = false;
        assert!(check(&claims(json!({})), NOW, &r).is_ok());
    }

    #[test]
    fn issuer_and_audience_must_be_accepted() {
        let mut r = rules();
        r.issuers = vec!["https://idp".into()];
        r.audiences = vec!["api".into(), "web".into()];
        let ok = json!({"exp": NOW + 60, "iss": "https://idp", "aud": ["other", "web"]});
        assert!(check(&claims(ok), NOW, &r).is_ok());
        let single = json!({"exp": NOW + 60, "iss": "https://idp", "aud": "api"});
        assert!(check(&claims(single), NOW, &r).is_ok());
        let bad_iss = json!({"exp": NOW + 60, "iss": "https://evil", "aud": "api"});
        assert!(matches!(
            check(&claims(bad_iss), NOW, &r),
            Err(Refusal::Invalid(_))
        ));
        let bad_aud = json!({"exp": NOW + 60, "iss": "https://idp", "aud": ["x"]});
        assert!(matches!(
            check(&claims(bad_aud), NOW, &r),
            Err(Refusal::Invalid(_))
        ));
        let no_aud = json!({"exp": NOW + 60, "iss": "https://idp"});
        assert!(matches!(
            check(&claims(no_aud), NOW, &r),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn a_missing_required_claim_is_insufficient_not_invalid() {
        let mut r = rules();
        r.required = vec!["email".into()];
        let lacking = check(&claims(json!({"exp": NOW + 60})), NOW, &r);
        assert!(matches!(lacking, Err(Refusal::Insufficient(_))));
        let having = json!({"exp": NOW + 60, "email": "a@b"});
        assert!(check(&claims(having), NOW, &r).is_ok());
    }
}
