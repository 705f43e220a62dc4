//! `ravelin-demo-origin`: the origin the README's demo and the benchmarks put
//! behind the proxy. It answers every request itself, over HTTP/1.1 and
//! HTTP/2 (prior knowledge), on one or more listeners:
//!
//! - `GET /bytes/N` — N bytes of `a` (`text/plain`), for sized benchmarks;
//! - `GET /status/N` — an empty response with status N;
//! - anything else — a JSON echo of what arrived (method, path, headers), so
//!   a user can see what the proxy forwarded.
//!
//! Every response carries `x-origin: NAME`, so balancing is visible.

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
    } else {
        (StatusCode::OK, "application/json", echo(req).await)
    };
    let response = Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-origin", name.as_str())
        .body(Full::new(body))
        .expect("static response parts are valid");
    Ok(response)
}

async fn echo(req: Request<Incoming>) -> Bytes {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let echo = serde_json::json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "version": format!("{:?}", parts.version),
        "headers": headers,
        "body_bytes": body.len(),
    });
    Bytes::from(serde_json::to_vec_pretty(&echo).unwrap_or_default())
}
