//! Validation: each bad value refused naming its key, all errors at once.

use super::*;
use serde_json::json;

const TOKEN: &str = "sha256:7c43ef5ae21d43ce2743f770c68e24def1a43ee2f416d2438410c8af7af2ff2c";

fn check(value: serde_json::Value) -> Result<Settings, String> {
    let file: FileSettings = serde_json::from_value(value).map_err(|e| e.to_string())?;
    validate(file)
}

#[test]
fn a_hashed_token_alone_is_enough_and_sets_the_bearer_challenge() {
    let settings = check(json!({"bearer_tokens": [TOKEN]})).expect("valid");
    assert!(settings.challenges.bearer && !settings.challenges.basic);
    assert_eq!(settings.challenges.realm, "ravelin");
    assert!(!settings.forward_credentials);
}

#[test]
fn every_error_is_reported_with_its_key() {
    let err = check(json!({
        "bearer_tokens": ["plain"],
        "api_keys": {"keys": {"ci": "nope"}, "header": "bad header"},
        "forward_auth": {"cluster": "a", "path": "v", "timeout_ms": 0},
    }))
    .err()
    .expect("refused");
    for key in [
        "bearer_tokens[0]",
        "api_keys.keys.ci",
        "api_keys.header",
        "forward_auth.path",
        "forward_auth.timeout_ms",
    ] {
        assert!(err.contains(key), "{key} in {err}");
    }
}

#[test]
fn unknown_keys_are_refused() {
    assert!(
        check(json!({"bearer_token": [TOKEN]}))
            .err()
            .expect("refused")
            .contains("unknown field")
    );
    let nested =
        json!({"jwt": {"hmac_secrets": ["0123456789abcdef0123456789abcdef"], "leeway": 5}});
    assert!(
        check(nested)
            .err()
            .expect("refused")
            .contains("unknown field `leeway`")
    );
}

#[test]
fn jwt_settings_become_rules_and_claim_maps() {
    let settings = check(json!({"jwt": {
        "hmac_secrets": ["0123456789abcdef0123456789abcdef"],
        "issuer": "https://idp",
        "audience": ["a", "b"],
        "algorithms": ["HS256"],
        "claims_to_headers": {"sub": "X-User-Id"},
        "claims_to_attributes": {"tenant": "auth.tenant"},
    }}))
    .expect("valid");
    let (verifier, source) = settings.jwt.as_ref().expect("jwt");
    assert!(source.is_none());
    assert_eq!(verifier.rules.issuers, ["https://idp"]);
    assert_eq!(verifier.rules.audiences, ["a", "b"]);
    assert_eq!(verifier.rules.leeway_s, 60);
    assert!(verifier.rules.require_exp);
    assert_eq!(settings.owned_headers().collect::<Vec<_>>(), ["x-user-id"]);
    assert_eq!(
        settings.claims.attributes,
        [("tenant".to_string(), "auth.tenant".to_string())]
    );
}

#[test]
fn secret_file_keys_feed_the_methods() {
    let htpasswd = "alice:$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie";
    let settings = check(json!({
        "jwt_hmac_secret": "0123456789abcdef0123456789abcdef",
        "htpasswd": htpasswd,
    }))
    .expect("valid");
    assert_eq!(settings.jwt.as_ref().expect("jwt").0.keys.len(), 1);
    let (users, ttl) = settings.basic.as_ref().expect("basic");
    assert!(users.contains_key("alice"));
    assert_eq!(ttl.as_secs(), 300);
}

#[test]
fn jwks_bounds_are_checked_and_the_wait_fits_the_sleep_budget() {
    let jwks = |extra: serde_json::Value| {
        let mut table = json!({"cluster": "idp", "path": "/jwks"});
        table
            .as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        check(json!({"jwt": {"jwks": table}}))
    };
    let settings = jwks(json!({"timeout_ms": 4000})).expect("valid");
    let source = settings
        .jwt
        .as_ref()
        .and_then(|(_, s)| s.as_ref())
        .expect("source");
    assert_eq!(source.wait.as_millis(), 4500);
    let err = jwks(json!({"min_cache_s": 100, "max_cache_s": 10}))
        .err()
        .expect("refused");
    assert!(err.contains("jwt.jwks.min_cache_s"), "{err}");
    assert!(
        jwks(json!({"timeout_ms": 5000}))
            .err()
            .expect("refused")
            .contains("jwt.jwks.timeout_ms")
    );
}
