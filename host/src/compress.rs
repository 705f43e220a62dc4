//! Response compression: gzip, brotli or zstd, chosen by the client's
//! `Accept-Encoding` (q-values honoured, ties broken by the server's order),
//! for configured content types at or above a minimum size. A response that
//! is already encoded, partial, tiny, or marked `no-transform` is left alone.

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio_util::io::{ReaderStream, StreamReader};

use crate::config::{Compression, Encoding};
use crate::upstream::{BoxError, ProxyBody};

/// The encoding to use for a response, if any, given the request's
/// `Accept-Encoding` and the response head.
pub fn choose(
    config: &Compression,
    method: &Method,
    accept_encoding: Option<&HeaderValue>,
    status: StatusCode,
    headers: &HeaderMap,
) -> Option<Encoding> {
    if !config.enabled || *method == Method::HEAD || !compressible(config, status, headers) {
        return None;
    }
    negotiate(accept_encoding?.to_str().ok()?, &config.algorithms)
}

/// Whether the response could be compressed for some client (then it gets
/// `Vary: Accept-Encoding` even when this client is sent it plain).
pub fn compressible(config: &Compression, status: StatusCode, headers: &HeaderMap) -> bool {
    if !config.enabled
        || status.is_informational()
        || matches!(
            status,
            StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT
        )
    {
        return false;
    }
    // Cheapest first: most proxied responses are small, or already encoded.
    let small = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|len| len < config.min_size_bytes);
    if small
        || headers.contains_key(header::CONTENT_ENCODING)
        || headers.contains_key(header::CONTENT_RANGE)
    {
        return false;
    }
    let no_transform = headers.get_all(header::CACHE_CONTROL).iter().any(|v| {
        v.as_bytes()
            .windows(b"no-transform".len())
            .any(|w| w.eq_ignore_ascii_case(b"no-transform"))
    });
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !no_transform && type_matches(&config.content_types, content_type)
}

/// Whether the media type matches a pattern (`text/html`, or `image/*`);
/// patterns are lowercase, media types compared without case.
fn type_matches(patterns: &[String], content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.is_empty() {
        return false;
    }
    let major = essence.split('/').next().unwrap_or("");
    patterns.iter().any(|p| match p.strip_suffix("/*") {
        Some(pattern) => major.eq_ignore_ascii_case(pattern),
        None => essence.eq_ignore_ascii_case(p),
    })
}

/// Picks the best supported coding: highest q-value, then server order.
pub fn negotiate(accept: &str, supported: &[Encoding]) -> Option<Encoding> {
    let mut wildcard = None;
    let mut listed: Vec<(&str, f32)> = Vec::new();
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .or_else(|| p.trim().strip_prefix("Q="))
            })
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if coding == "*" {
            wildcard = Some(q);
        } else if !coding.is_empty() {
            listed.push((coding, q));
        }
    }
    let q_of = |e: Encoding| {
        listed
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(e.token()))
            .map(|(_, q)| *q)
            .or(wildcard)
            .unwrap_or(0.0)
    };
    let mut best: Option<(Encoding, f32)> = None;
    for &encoding in supported {
        let q = q_of(encoding);
        if q > 0.0 && best.is_none_or(|(_, top)| q > top) {
            best = Some((encoding, q));
        }
    }
    best.map(|(e, _)| e)
}

/// Rewrites the head for the encoded body and wraps the body in the encoder.
pub fn encode(
    encoding: Encoding,
    level: async_compression::Level,
    headers: &mut HeaderMap,
    body: ProxyBody,
) -> ProxyBody {
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.token()),
    );
    if let Some(etag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok())
        && !etag.starts_with("W/")
        && let Ok(weak) = HeaderValue::from_str(&format!("W/{etag}"))
    {
        headers.insert(header::ETAG, weak);
    }
    let data = body.into_data_stream().map_err(std::io::Error::other);
    let reader = StreamReader::new(data);
    use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder, ZstdEncoder};
    match encoding {
        Encoding::Gzip => frames(GzipEncoder::with_quality(reader, level)),
        Encoding::Brotli => frames(BrotliEncoder::with_quality(reader, level)),
        Encoding::Zstd => frames(ZstdEncoder::with_quality(reader, level)),
    }
}

fn frames(reader: impl tokio::io::AsyncRead + Send + Sync + 'static) -> ProxyBody {
    let stream = ReaderStream::new(reader)
        .map_ok(Frame::data)
        .map_err(|e| -> BoxError { Box::new(e) });
    BodyExt::boxed(StreamBody::new(stream))
}

/// Adds `Accept-Encoding` to `Vary` unless it is already there.
pub fn add_vary(headers: &mut HeaderMap) {
    let present = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("accept-encoding") || t.trim() == "*");
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
}

/// A body that is already complete, for tests and local responses.
pub fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Encoding; 3] = [Encoding::Zstd, Encoding::Brotli, Encoding::Gzip];

    #[test]
    fn q_values_then_server_order() {
        assert_eq!(negotiate("gzip, br", &ALL), Some(Encoding::Brotli));
        assert_eq!(negotiate("gzip;q=1, br;q=0.5", &ALL), Some(Encoding::Gzip));
        assert_eq!(negotiate("gzip;q=0, br;q=0", &ALL), None);
        assert_eq!(negotiate("*;q=0.1, gzip;q=0", &ALL), Some(Encoding::Zstd));
        assert_eq!(negotiate("identity", &ALL), None);
        assert_eq!(negotiate("GZIP", &[Encoding::Gzip]), Some(Encoding::Gzip));
    }

    fn config() -> Compression {
        Compression {
            enabled: true,
            algorithms: ALL.to_vec(),
            min_size_bytes: 100,
            content_types: vec!["text/*".into(), "application/json".into()],
            level: async_compression::Level::Fastest,
        }
    }

    fn head(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn only_configured_types_above_the_minimum_and_never_twice() {
        let c = config();
        let ok = StatusCode::OK;
        assert!(compressible(
            &c,
            ok,
            &head(&[("content-type", "text/html; charset=utf-8")])
        ));
        assert!(compressible(
            &c,
            ok,
            &head(&[
                ("content-type", "application/json"),
                ("content-length", "100")
            ])
        ));
        assert!(!compressible(
            &c,
            ok,
            &head(&[
                ("content-type", "application/json"),
                ("content-length", "99")
            ])
        ));
        assert!(!compressible(
            &c,
            ok,
            &head(&[("content-type", "image/png")])
        ));
        assert!(!compressible(
            &c,
            ok,
            &head(&[("content-type", "text/plain"), ("content-encoding", "gzip")])
        ));
        assert!(!compressible(
            &c,
            ok,
            &head(&[
                ("content-type", "text/plain"),
                ("cache-control", "no-transform")
            ])
        ));
        assert!(!compressible(
            &c,
            StatusCode::NO_CONTENT,
            &head(&[("content-type", "text/plain")])
        ));
    }

    #[tokio::test]
    async fn encoded_body_round_trips() {
        let text = "hello ".repeat(1000);
        let mut headers = head(&[("content-length", "6000"), ("etag", "\"abc\"")]);
        let body = encode(
            Encoding::Gzip,
            async_compression::Level::Fastest,
            &mut headers,
            full(text.clone()),
        );
        assert_eq!(headers["content-encoding"], "gzip");
        assert_eq!(headers["etag"], "W/\"abc\"");
        assert!(!headers.contains_key("content-length"));
        let compressed = body.collect().await.unwrap().to_bytes();
        assert!(compressed.len() < 200);
        let mut decoder = async_compression::tokio::bufread::GzipDecoder::new(&compressed[..]);
        let mut plain = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut decoder, &mut plain)
            .await
            .unwrap();
        assert_eq!(plain, text);
    }
}
