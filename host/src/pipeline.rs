//! The request path, in the order DESIGN.md lists it: snapshot, router,
//! hygiene, body, upstream (with safe retries), response hygiene and
//! compression, then the access log and metrics.

mod body;
mod exchange_body;
mod plugin_steps;
mod request_stream;
mod upgrade;

pub use upgrade::{ClientUpgrade, UpgradeHandoff};

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use arc_swap::ArcSwap;
use http::header::{self, HeaderValue};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Version, request};

use crate::access_log;
use crate::compress;
use crate::config::AccessLog;
use crate::error::{ProxyError, local_response};
use crate::hygiene::{self, Forwarding};
use crate::metrics::{Metrics, RequestLabels, RouteLabel};
use crate::snapshot::Snapshot;
use crate::upstream::{Cluster, ProxyBody, UpstreamError};
use body::{BodyLimits, PreparedBody};
use plugin_steps::Step;
use ravelin_runtime::{Exchange, RequestInfo, Runtime, TlsInfo};

/// What every request shares: the current snapshot and the metrics.
pub struct Proxy {
    pub snapshot: ArcSwap<Snapshot>,
    pub metrics: Metrics,
    pub runtime: Arc<Runtime>,
}

/// Facts about the client connection a request came on.
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub tls: bool,
    pub listener: Arc<str>,
    /// The TLS server name and ALPN protocol the client chose, over TLS.
    pub sni: Option<String>,
    pub alpn: Option<String>,
    /// The TLS version and cipher suite, over TLS (`""` otherwise).
    pub tls_version: &'static str,
    pub tls_cipher: &'static str,
    /// The certificate the client presented and the listener verified.
    pub client_cert: Option<Arc<ravelin_runtime::ClientCert>>,
    /// `Alt-Svc` for every response: the listener's HTTP/3 endpoint.
    pub alt_svc: Option<HeaderValue>,
}

/// A client's request body, whichever protocol carried it: the server
/// layer boxes hyper's body (HTTP/1.1, HTTP/2) or an HTTP/3 stream's data.
pub type ClientBody = ProxyBody;

static X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// The route label of requests no route matched.
static NO_ROUTE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("-"));

/// The future answering one request, boxed: hyper keeps room for one
/// in-flight future per connection, so an unboxed one would cost every
/// idle connection its whole size.
pub type Handling = Pin<Box<dyn Future<Output = Result<Response<ProxyBody>, Infallible>> + Send>>;

/// Answers one client request; never fails (errors become statuses).
pub fn handle(proxy: Arc<Proxy>, conn: Arc<ConnInfo>, req: Request<ClientBody>) -> Handling {
    Box::pin(answer(proxy, conn, req))
}

async fn answer(
    proxy: Arc<Proxy>,
    conn: Arc<ConnInfo>,
    req: Request<ClientBody>,
) -> Result<Response<ProxyBody>, Infallible> {
    let started = Instant::now();
    // 1. One snapshot for the whole exchange: a reload never tears a request.
    let snapshot = proxy.snapshot.load_full();
    // ACME HTTP-01 validation, before routing and plugins.
    if !conn.tls
        && let Some(response) = crate::tls::acme::http01_response(&snapshot.config, &req)
    {
        return Ok(response);
    }
    let (mut parts, body) = req.into_parts();
    let request_id = request_id(&parts);
    let accept_encoding = parts.headers.get(header::ACCEPT_ENCODING).cloned();
    let (method, version) = (parts.method.clone(), parts.version);
    let access_log = snapshot.config.server.access_log;
    let logged_target = (access_log != AccessLog::Off).then(|| parts.uri.clone());
    let mut route = None;
    let result = forward(&snapshot, &conn, &mut parts, body, &request_id, &mut route).await;
    let route_name = match route {
        Some(index) => snapshot.router.routes()[index].name.clone(),
        None => NO_ROUTE.clone(),
    };
    let mut response = match result {
        Ok(response) => response,
        Err(error) => {
            if error.status().is_server_error() {
                tracing::warn!(route = &*route_name, request_id = %request_id.to_str().unwrap_or(""), "{error}");
            } else {
                tracing::debug!(route = &*route_name, "{error}");
            }
            local_response(error.status())
        }
    };
    // 8. Response hygiene and compression.
    finish_response(
        &snapshot,
        &method,
        version,
        accept_encoding.as_ref(),
        &mut response,
    );
    if let Some(alt_svc) = &conn.alt_svc {
        response
            .headers_mut()
            .insert(header::ALT_SVC, alt_svc.clone());
    }
    // 9. Access log and metrics.
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if let Some(target) = &logged_target {
        access_log::record(&access_log::Entry {
            format: access_log,
            peer: conn.peer,
            listener: &conn.listener,
            method: &method,
            target,
            version,
            status,
            route: &route_name,
            elapsed,
            request_id: request_id.to_str().unwrap_or(""),
        });
    }
    // The request id, unless a response plugin set its own (a `request-id`
    // plugin with `header = "x-request-id"`): the upstream's was replaced
    // before the response hooks ran.
    response
        .headers_mut()
        .entry(X_REQUEST_ID.clone())
        .or_insert(request_id);
    let metrics = &proxy.metrics;
    let latency = RouteLabel {
        route: route_name.clone(),
    };
    metrics
        .latency
        .get_or_create(&latency)
        .observe(elapsed.as_secs_f64());
    let requests = RequestLabels {
        route: route_name,
        status,
    };
    metrics.requests.get_or_create(&requests).inc();
    Ok(response)
}

/// Steps 2–7: route, clean, run the plugins, and send the request upstream.
async fn forward(
    snapshot: &Snapshot,
    conn: &ConnInfo,
    parts: &mut request::Parts,
    body: ClientBody,
    request_id: &HeaderValue,
    route_out: &mut Option<usize>,
) -> Result<Response<ProxyBody>, ProxyError> {
    // 2. Refusals the server layer found; `OPTIONS *`, which is about the
    // proxy; the router, on the normalised path.
    if let Some(refusal) = parts.extensions.get::<hygiene::Refusal>() {
        return Err(ProxyError::Refused(*refusal));
    }
    if let Some(answer) = server_options(parts) {
        return Ok(answer);
    }
    let index = route(snapshot, parts)?;
    *route_out = Some(index);
    let route = &snapshot.router.routes()[index];
    // 3. Hygiene: what the origin sees.
    clean_request(snapshot, conn, parts, request_id);
    // 4–7, with the route's plugins (if any) around them; then their
    // streamed response body hooks and `on-log`, as the body goes out.
    let mut exchange = snapshot.route_chains[index]
        .as_ref()
        .map(|chain| chain.exchange(request_info(snapshot, conn, parts, &route.name, request_id)));
    let started = Instant::now();
    let result = exchange_upstream(
        snapshot,
        conn,
        parts,
        body,
        index,
        request_id,
        &mut exchange,
    )
    .await;
    match exchange {
        Some(exchange) => exchange_body::finish(exchange, result, started).await,
        None => result,
    }
}

/// Steps 4–7: the request hooks (one may answer instead), the body, the
/// upstream, the response hooks.
async fn exchange_upstream(
    snapshot: &Snapshot,
    conn: &ConnInfo,
    parts: &mut request::Parts,
    body: ClientBody,
    index: usize,
    request_id: &HeaderValue,
    exchange: &mut Option<Exchange>,
) -> Result<Response<ProxyBody>, ProxyError> {
    let route = &snapshot.router.routes()[index];
    let cluster = &snapshot.route_clusters[index];
    let client_upgrade = parts
        .extensions
        .remove::<ClientUpgrade>()
        .filter(|_| hygiene::is_upgrade(&parts.headers));
    // 4. Plugins, on-request in route order; one may answer instead. Its
    // answer goes back through the response hooks of the plugins before it
    // (a request id, rate-limit fields, CORS headers on a cache hit).
    if let Some(exchange) = exchange.as_mut()
        && let Step::Answer(answer) = plugin_steps::on_request(exchange, parts).await
    {
        return Ok(plugin_steps::on_response(exchange, answer).await);
    }
    // 5. The body: small ones are read whole (validating their framing before
    // the origin sees a byte, and making them replayable for retries); a
    // plugin that asked for the body gets it, or its first bytes.
    let limits = &snapshot.config.limits;
    let wanted = exchange.as_ref().and_then(Exchange::request_body_limit);
    let buffer = wanted.unwrap_or(cluster.retries.buffer_bytes);
    let body_limits = BodyLimits {
        buffer,
        max: limits.max_request_body_bytes,
        timeout: snapshot.config.timeouts.client_body,
    };
    let mut body = PreparedBody::prepare(body, &parts.headers, parts.version, &body_limits).await?;
    if let (Some(exchange), Some(limit)) = (exchange.as_mut(), wanted) {
        match plugin_steps::on_request_body(exchange, parts, body, limit).await? {
            Step::Go(replaced) => body = replaced,
            Step::Answer(answer) => return Ok(plugin_steps::on_response(exchange, answer).await),
        }
    }
    // 6. Upstream, with retries where safe; a body plugins stream goes
    // through their chunk hooks on its way.
    let upstream_path = upstream_path(route, &parts.uri)?;
    let streaming = exchange.as_mut().filter(|e| e.request_streams());
    let mut response = match streaming {
        Some(exchange) => {
            let pause = snapshot.config.timeouts.client_body;
            let path = &upstream_path;
            // Boxed: only routes whose plugins stream the request body take
            // this path, and its future would otherwise be room in every
            // request's.
            let streamed = request_stream::send_streamed(exchange, body, pause, move |body| {
                send_with_retries(cluster, conn, parts, path, body)
            });
            match Box::pin(streamed).await? {
                Step::Go(response) => response,
                Step::Answer(answer) => return Ok(answer),
            }
        }
        None => match send_with_retries(cluster, conn, parts, &upstream_path, body).await {
            Ok(response) => response,
            // The response hooks still see the proxy's own 502/503/504 when
            // the upstream failed: a cache may answer with a stale copy
            // instead (RFC 5861 stale-if-error).
            Err(ProxyError::Upstream(error)) if exchange.is_some() => {
                let error = ProxyError::Upstream(error);
                let id = request_id.to_str().unwrap_or("");
                tracing::warn!(route = &*route.name, request_id = %id, "{error}");
                local_response(error.status())
            }
            Err(error) => return Err(error),
        },
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client) = client_upgrade
    {
        upgrade::splice(client, &mut response);
    }
    // The client gets the proxy's request id, not the upstream's; a
    // response plugin may still set its own.
    response
        .headers_mut()
        .insert(X_REQUEST_ID.clone(), request_id.clone());
    // 7. Plugins, on-response in reverse order, and whole-body hooks.
    match exchange {
        Some(exchange) => Ok(plugin_steps::on_response(exchange, response).await),
        None => Ok(response),
    }
}

/// `OPTIONS *` asks about the server, not a resource (RFC 9110 §9.3.7):
/// the proxy answers it, as Apache and Go's server do, instead of refusing
/// a target no route can hold.
fn server_options(parts: &request::Parts) -> Option<Response<ProxyBody>> {
    let asks = parts.method == Method::OPTIONS && parts.uri == "*";
    asks.then(|| {
        let mut response = Response::new(compress::full(""));
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        response
    })
}

/// Refuses what could be read two ways, then finds the route; the request's
/// path becomes the normalised one.
fn route(snapshot: &Snapshot, parts: &mut request::Parts) -> Result<usize, ProxyError> {
    let host = hygiene::request_host(parts)?;
    let path = hygiene::normalize_path(parts.uri.path(), snapshot.config.server.ambiguous_paths)?;
    let index = snapshot
        .router
        .find(&host, &path, &parts.method, &parts.headers)
        .ok_or(ProxyError::NoRoute)?;
    if let std::borrow::Cow::Owned(path) = path
        && path != parts.uri.path()
    {
        let target = match parts.uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let mut uri = http::uri::Parts::from(std::mem::take(&mut parts.uri));
        uri.path_and_query = Some(target.parse().map_err(|_| hygiene::Refusal::InvalidPath)?);
        parts.uri = http::Uri::from_parts(uri).map_err(|_| hygiene::Refusal::InvalidPath)?;
    }
    Ok(index)
}

/// Hop-by-hop headers out; forwarding headers, `Via`, the request id and
/// `Host` in.
fn clean_request(
    snapshot: &Snapshot,
    conn: &ConnInfo,
    parts: &mut request::Parts,
    request_id: &HeaderValue,
) {
    let original_host = original_authority(parts);
    if !snapshot.config.server.underscores_in_headers {
        hygiene::drop_underscored(&mut parts.headers);
    }
    hygiene::strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::EXPECT);
    let forwarding = Forwarding {
        peer: conn.peer.ip(),
        tls: conn.tls,
        host: &original_host,
        trusted_proxies: &snapshot.config.server.trusted_proxies,
    };
    hygiene::set_forwarding(&mut parts.headers, &forwarding);
    if let Some(via) = &snapshot.config.server.via {
        hygiene::add_via(&mut parts.headers, parts.version, via);
    }
    parts
        .headers
        .insert(X_REQUEST_ID.clone(), request_id.clone());
    // An absolute-form target names the host: the origin must see that one,
    // not a different Host header (RFC 9112 §3.2.2).
    let authoritative =
        parts.uri.authority().is_some() || !parts.headers.contains_key(header::HOST);
    if authoritative && let Ok(host) = HeaderValue::from_str(&original_host) {
        parts.headers.insert(header::HOST, host);
    }
}

fn request_info(
    snapshot: &Snapshot,
    conn: &ConnInfo,
    parts: &request::Parts,
    route: &str,
    request_id: &HeaderValue,
) -> RequestInfo {
    let client = hygiene::client_ip(
        &parts.headers,
        conn.peer.ip(),
        &snapshot.config.server.trusted_proxies,
    );
    let client_port = if client == conn.peer.ip() {
        conn.peer.port()
    } else {
        0
    };
    RequestInfo {
        client_addr: Some(std::net::SocketAddr::new(client, client_port)),
        peer_addr: Some(conn.peer),
        tls: conn.tls.then(|| TlsInfo {
            sni: conn.sni.clone(),
            alpn: conn.alpn.clone(),
            version: conn.tls_version.to_string(),
            cipher: conn.tls_cipher.to_string(),
            client_cert: conn.client_cert.clone(),
        }),
        route: route.to_string(),
        request_id: request_id.to_str().unwrap_or("").to_string(),
    }
}

async fn send_with_retries(
    cluster: &Cluster,
    conn: &ConnInfo,
    parts: &mut request::Parts,
    path: &PathAndQuery,
    mut body: PreparedBody,
) -> Result<Response<ProxyBody>, ProxyError> {
    let mut tried = Vec::new();
    let mut last_error = None;
    while let Some(index) = cluster.pick(conn.peer.ip(), &tried) {
        tried.push(index);
        // The attempt after which none can follow takes the headers
        // instead of a copy: nothing reads them once the request is sent.
        let last = !body.is_replayable()
            || tried.len() > cluster.retries.attempts as usize
            || tried.len() >= cluster.endpoints.len();
        let headers = match last {
            true => std::mem::take(&mut parts.headers),
            false => parts.headers.clone(),
        };
        let request = upstream_request(parts, headers, path, body.attempt());
        let error = match cluster.send(index, request).await {
            Ok(response) => return Ok(response),
            Err(error) => error,
        };
        let never_reached = matches!(error, UpstreamError::Connect { .. });
        let retryable = body.is_replayable() && (never_reached || is_idempotent(&parts.method));
        if !retryable || tried.len() > cluster.retries.attempts as usize {
            return Err(body.explain(error));
        }
        tracing::debug!(cluster = %cluster.name, "retrying on another endpoint: {error}");
        last_error = Some(error);
    }
    // Out of endpoints: report the last failure, or that there was none.
    let error = last_error.unwrap_or_else(|| UpstreamError::NoEndpoint(cluster.name.clone()));
    Err(body.explain(error))
}

fn upstream_request(
    parts: &request::Parts,
    headers: http::HeaderMap,
    path: &PathAndQuery,
    body: ProxyBody,
) -> Request<ProxyBody> {
    let mut request = Request::new(body);
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = http::Uri::from(path.clone());
    *request.headers_mut() = headers;
    *request.version_mut() = Version::HTTP_11;
    request
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
    )
}

/// The path and query sent upstream: normalised, and without the route's
/// prefix when the route says `strip_prefix`.
fn upstream_path(
    route: &crate::config::Route,
    uri: &http::Uri,
) -> Result<PathAndQuery, ProxyError> {
    let invalid = |_| ProxyError::Refused(hygiene::Refusal::InvalidPath);
    let prefix = match &route.path {
        crate::config::PathMatch::Prefix(prefix) if route.strip_prefix => prefix,
        _ => {
            return match uri.path_and_query() {
                Some(path) => Ok(path.clone()),
                None => Ok(PathAndQuery::from_static("/")),
            };
        }
    };
    let path = uri.path();
    let rest = path
        .strip_prefix(prefix.trim_end_matches('/'))
        .unwrap_or(path);
    let slash = if rest.starts_with('/') { "" } else { "/" };
    let target = match uri.query() {
        Some(query) => format!("{slash}{rest}?{query}"),
        None => format!("{slash}{rest}"),
    };
    PathAndQuery::try_from(target).map_err(invalid)
}

/// The host:port the client asked for, as it wrote it.
fn original_authority(parts: &request::Parts) -> String {
    match (parts.uri.authority(), parts.headers.get(header::HOST)) {
        (Some(authority), _) => authority.to_string(),
        (None, Some(host)) => host.to_str().unwrap_or("").to_string(),
        (None, None) => String::new(),
    }
}

/// The request's id: the client's when it sent a usable one, else 128
/// random bits in hex. Marked never-indexed for HPACK and QPACK: each id is
/// new, so entering it in a connection's header table (as every other
/// response header is) only evicts entries that would have been reused,
/// at a cost per response.
fn request_id(parts: &request::Parts) -> HeaderValue {
    let supplied = parts.headers.get(&X_REQUEST_ID).filter(|v| {
        let bytes = v.as_bytes();
        !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(|b| b.is_ascii_graphic())
    });
    let mut id = supplied.cloned().unwrap_or_else(|| {
        let id: u128 = rand::random();
        let mut hex = [0u8; 32];
        for (i, digit) in hex.iter_mut().enumerate() {
            *digit = b"0123456789abcdef"[(id >> (124 - 4 * i) & 0xf) as usize];
        }
        HeaderValue::from_bytes(&hex).unwrap_or(HeaderValue::from_static("-"))
    });
    id.set_sensitive(true);
    id
}

fn finish_response(
    snapshot: &Snapshot,
    method: &Method,
    version: Version,
    accept_encoding: Option<&HeaderValue>,
    response: &mut Response<ProxyBody>,
) {
    let upgrade = (response.status() == StatusCode::SWITCHING_PROTOCOLS)
        .then(|| response.headers().get(header::UPGRADE).cloned())
        .flatten();
    hygiene::sanitize_response(response.headers_mut());
    // The client hears the proxy's HTTP version, not the origin's: an
    // HTTP/1.0 answer passed on as is would make hyper answer "HTTP/1.0"
    // to an HTTP/1.1 client and close its kept-alive connection.
    *response.version_mut() = Version::HTTP_11;
    if let Some(protocol) = upgrade {
        response.headers_mut().insert(header::UPGRADE, protocol);
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
    if let Some(via) = &snapshot.config.server.via {
        hygiene::add_via(response.headers_mut(), version, via);
    }
    // A body of known size says so, so small ones are never compressed.
    if !response.headers().contains_key(header::CONTENT_LENGTH)
        && let Some(size) = http_body::Body::size_hint(response.body()).exact()
        && response.status() != StatusCode::SWITCHING_PROTOCOLS
    {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    let compression = &snapshot.config.compression;
    let status = response.status();
    if compress::compressible(compression, status, response.headers()) {
        compress::add_vary(response.headers_mut());
        if let Some(encoding) = compress::choose(
            compression,
            method,
            accept_encoding,
            status,
            response.headers(),
        ) {
            let (mut head, body) =
                std::mem::replace(response, Response::new(compress::full(""))).into_parts();
            let body = compress::encode(encoding, compression.level, &mut head.headers, body);
            *response = Response::from_parts(head, body);
        }
    }
}
