//! `ravelin-demo-origin`: the origin the README's demo and the benchmarks put
//! behind the proxy. It answers every request itself, over HTTP/1.1 and
//! HTTP/2 (prior knowledge), on one or more listeners:
//!
//! - `GET /bytes/N` — N bytes of `a` (`text/plain`), for sized benchmarks;
//! - `GET /status/N` — an empty response with status N;
//! - `GET /.well-known/jwks.json` and `GET /token?sub=NAME` — a demo
//!   identity provider (see [`idp`]);
//! - anything else — a JSON echo of what arrived (method, path, headers), so
//!   a user can see what the proxy forwarded.
//!
//! Every response carries `x-origin: NAME`, so balancing is visible. A
//! query parameter `max_age=N` makes any answer cacheable for N seconds
//! (`Cache-Control: public, max-age=N` and an `ETag` of the body), for
//! trying a cache in front of it.

mod idp;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

#[derive(Parser)]
#[command(
    about = "A demo origin for Ravelin: echoes requests as JSON, serves /bytes/N and /status/N"
)]
struct Args {
    /// Address to listen on; repeat for several listeners.
    #[arg(long = "listen", default_value = "127.0.0.1:9000")]
    listen: Vec<SocketAddr>,
    /// Name reported in the `x-origin` header of every response.
    #[arg(long, default_value = "demo-origin")]
    name: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let name = Arc::new(args.name);
    let mut tasks = Vec::new();
    for addr in args.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        println!("{name} listening on http://{}", listener.local_addr()?);
        tasks.push(tokio::spawn(serve(listener, name.clone())));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

async fn serve(listener: tokio::net::TcpListener, name: Arc<String>) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let name = name.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(req, name.clone()));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    req: Request<Incoming>,
    name: Arc<String>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let (status, content_type, body) = if let Some(n) = path.strip_prefix("/bytes/") {
        let n: usize = n.parse().unwrap_or(0).min(64 << 20);
        (StatusCode::OK, "text/plain", Bytes::from(vec![b'a'; n]))
    } else if let Some(code) = path.strip_prefix("/status/") {
        let status = code.parse().ok().and_then(|c| StatusCode::from_u16(c).ok());
        (
            status.unwrap_or(StatusCode::BAD_REQUEST),
            "text/plain",
            Bytes::new(),
        )
    } else if path == "/.well-known/jwks.json" {
        (
            StatusCode::OK,
            "application/jwk-set+json",
            Bytes::from(idp::jwks()),
        )
    } else if path == "/token" {
        match idp::token(&query) {
            Ok(token) => (StatusCode::OK, "application/jwt", Bytes::from(token)),
            Err(why) => (StatusCode::BAD_REQUEST, "text/plain", Bytes::from(why)),
        }
    } else {
        (StatusCode::OK, "application/json", echo(req).await)
    };
    let mut response = Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-origin", name.as_str());
    if path == "/.well-known/jwks.json" {
        response = response.header("cache-control", "public, max-age=300");
    } else if let Some(seconds) = max_age(&query) {
        let etag = format!("\"{:016x}\"", fnv1a(&body));
        response = response
            .header("cache-control", format!("public, max-age={seconds}"))
            .header("etag", etag);
    }
    Ok(response
        .body(Full::new(body))
        .expect("static response parts are valid"))
}

/// The `max_age=N` query parameter, if any.
fn max_age(query: &str) -> Option<u32> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("max_age="))
        .and_then(|n| n.parse().ok())
}

/// A 64-bit FNV-1a hash: a cheap, stable ETag for a demo.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

async fn echo(req: Request<Incoming>) -> Bytes {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    // One line per header name (repeated fields joined with ", "), so the
    // echo reads well and greps well.
    let mut headers = serde_json::Map::new();
    for name in parts.headers.keys() {
        let values: Vec<String> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        headers.insert(name.to_string(), values.join(", ").into());
    }
    let echo = serde_json::json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "version": format!("{:?}", parts.version),
        "headers": headers,
        "body_bytes": body.len(),
    });
    Bytes::from(serde_json::to_vec_pretty(&echo).unwrap_or_default())
}
