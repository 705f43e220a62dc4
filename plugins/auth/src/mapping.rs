//! What an authenticated request carries on: claims copied into request
//! headers (client-sent copies removed first, always) and attributes later
//! plugins read (`auth.method`, `auth.subject`, configured claims).

use serde_json::{Map, Value};

/// Claim → header and claim → attribute maps.
#[derive(Clone, Debug, Default)]
pub struct ClaimMap {
    pub headers: Vec<(String, String)>,
    pub attributes: Vec<(String, String)>,
}

/// Who was authenticated, and what to put on the request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// `jwt`, `bearer`, `api_key`, `basic` or `forward`.
    pub method: &'static str,
    /// The user, key name or `sub`, when there is one.
    pub subject: Option<String>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub attributes: Vec<(String, String)>,
}

impl ClaimMap {
    /// The identity a verified JWT's `claims` give.
    pub fn identity(&self, claims: &Map<String, Value>) -> Identity {
        let mut identity = Identity {
            method: "jwt",
            subject: claims.get("sub").map(text),
            ..Identity::default()
        };
        for (claim, header) in &self.headers {
            if let Some(value) = claims.get(claim) {
                identity
                    .headers
                    .push((header.clone(), text(value).into_bytes()));
            }
        }
        for (claim, attribute) in &self.attributes {
            if let Some(value) = claims.get(claim) {
                identity.attributes.push((attribute.clone(), text(value)));
            }
        }
        identity
    }
}

/// A claim as header text: strings as they are, arrays of strings joined
/// with commas, anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let items: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            items.join(",")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_present_claims_only() {
        let map = ClaimMap {
            headers: vec![
                ("sub".into(), "x-user-id".into()),
                ("email".into(), "x-email".into()),
            ],
            attributes: vec![("roles".into(), "auth.roles".into())],
        };
        let claims = json!({"sub": "u1", "roles": ["a", "b"], "n": 3});
        let identity = map.identity(claims.as_object().expect("object"));
        assert_eq!(identity.subject.as_deref(), Some("u1"));
        assert_eq!(
            identity.headers,
            [("x-user-id".to_string(), b"u1".to_vec())]
        );
        assert_eq!(
            identity.attributes,
            [("auth.roles".to_string(), "a,b".to_string())]
        );
        assert_eq!(text(&json!(3)), "3");
        assert_eq!(text(&json!({"a": 1})), r#"{"a":1}"#);
    }
}
