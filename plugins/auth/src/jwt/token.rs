//! A compact JWS (`header.payload.signature`) split and decoded, not yet
//! trusted: nothing here says the signature is good.

use super::alg::Alg;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// Tokens longer than this are refused unread.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A decoded, unverified token.
#[derive(Debug)]
pub struct Token {
    pub alg: Alg,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    /// `header.payload` as sent: what the signature covers.
    pub signing_input: Vec<u8>,
    pub signature: Vec<u8>,
}

#[derive(serde::Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

/// Why a token could not be read. The text is for the log.
pub type Malformed = String;

/// Splits and decodes `text`.
pub fn parse(text: &str) -> Result<Token, Malformed> {
    if text.len() > MAX_TOKEN_BYTES {
        return Err(format!(
            "token of {} bytes is over {MAX_TOKEN_BYTES}",
            text.len()
        ));
    }
    let mut parts = text.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not three dot-separated parts".into());
    };
    let header: Header = serde_json::from_slice(&decode(header, "header")?)
        .map_err(|e| format!("header is not a JOSE header: {e}"))?;
    if header.crit.is_some() {
        return Err("header has \"crit\" extensions, none of which are understood".into());
    }
    let alg = Alg::parse(&header.alg)
        .ok_or_else(|| format!("algorithm {:?} is not accepted", header.alg))?;
    let claims = match serde_json::from_slice(&decode(payload, "payload")?) {
        Ok(Value::Object(claims)) => claims,
        _ => return Err("payload is not a JSON object".into()),
    };
    let signing_input = text.as_bytes()[..text.len() - signature.len() - 1].to_vec();
    Ok(Token {
        alg,
        kid: header.kid,
        claims,
        signing_input,
        signature: decode(signature, "signature")?,
    })
}

fn decode(part: &str, what: &str) -> Result<Vec<u8>, Malformed> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| format!("{what} is not base64url: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn splits_a_token_and_keeps_the_signing_input() {
        let head = b64(r#"{"alg":"HS256","kid":"k1"}"#);
        let body = b64(r#"{"sub":"alice"}"#);
        let text = format!("{head}.{body}.{}", b64("sig"));
        let token = parse(&text).expect("parses");
        assert_eq!(token.alg, Alg::HS256);
        assert_eq!(token.kid.as_deref(), Some("k1"));
        assert_eq!(token.claims["sub"], "alice");
        assert_eq!(token.signing_input, format!("{head}.{body}").into_bytes());
        assert_eq!(token.signature, b"sig");
    }

    #[test]
    fn refuses_alg_none_crit_and_bad_shapes() {
        let body = b64("{}");
        let none = format!("{}.{body}.", b64(r#"{"alg":"none"}"#));
        assert!(parse(&none).unwrap_err().contains("not accepted"));
        let crit = format!("{}.{body}.", b64(r#"{"alg":"HS256","crit":["b64"]}"#));
        assert!(parse(&crit).unwrap_err().contains("crit"));
        assert!(parse("a.b").is_err());
        assert!(parse("a.b.c.d").is_err());
        let array = format!("{}.{}.", b64(r#"{"alg":"HS256"}"#), b64("[1]"));
        assert!(parse(&array).unwrap_err().contains("JSON object"));
        assert!(parse(&"a".repeat(MAX_TOKEN_BYTES + 1)).is_err());
    }
}
