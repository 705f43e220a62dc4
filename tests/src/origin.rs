//! Real hyper origins for the tests. Each records exactly what it received,
//! answers through a handler (by default: 200 with `x-origin: NAME` and its
//! name as the body), speaks HTTP/1.1 and h2c (or TLS with a test
//! certificate, optionally requiring a client certificate), echoes upgraded
//! connections, and can be killed and restarted on the same address.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::certs::Identity;

pub type Body = BoxBody<Bytes, std::io::Error>;
pub type Handler =
    Arc<dyn Fn(Recorded) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync>;

/// One request as the origin saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub struct Origin {
    pub addr: SocketAddr,
    pub name: String,
    received: Arc<Mutex<Vec<Recorded>>>,
    accepted: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

/// A complete body.
pub fn body(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A plain response with a status and a text body.
pub fn respond(status: u16, text: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(body(text));
    *response.status_mut() = StatusCode::from_u16(status).expect("a status");
    response
}

#[derive(Clone, Default)]
pub struct OriginOptions {
    pub tls: Option<(Arc<Identity>, Option<rustls::RootCertStore>)>,
    pub addr: Option<SocketAddr>,
}

impl Origin {
    /// An origin answering 200 with its name.
    pub async fn start(name: &str) -> Origin {
        Self::start_with(name, default_handler(name), OriginOptions::default()).await
    }

    /// An origin answering 200 with its name at `addr`: one that was killed,
    /// restarted where the proxy expects it.
    pub async fn start_at(name: &str, addr: SocketAddr) -> Origin {
        let options = OriginOptions {
            addr: Some(addr),
            ..Default::default()
        };
        Self::start_with(name, default_handler(name), options).await
    }

    /// An origin answering through `handler`.
    pub async fn serve<F, Fut>(name: &str, handler: F) -> Origin
    where
        F: Fn(Recorded) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |r| Box::pin(handler(r)));
        Self::start_with(name, handler, OriginOptions::default()).await
    }

    pub async fn start_with(name: &str, handler: Handler, options: OriginOptions) -> Origin {
        let addr = options
            .addr
            .unwrap_or_else(|| "127.0.0.1:0".parse().expect("addr"));
        let listener = bind_retrying(addr).await;
        let addr = listener.local_addr().expect("origin address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let tls = options
            .tls
            .map(|(identity, client_roots)| tls_acceptor(&identity, client_roots));
        let server = tokio::spawn(accept(
            listener,
            handler,
            received.clone(),
            accepted.clone(),
            tls,
        ));
        Origin {
            addr,
            name: name.to_string(),
            received,
            accepted,
            server,
        }
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Recorded> {
        self.received.lock().expect("lock").clone()
    }

    pub fn count(&self) -> usize {
        self.received.lock().expect("lock").len()
    }

    /// How many connections it has accepted.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Stops listening and drops every open connection at once.
    pub fn kill(&self) {
        self.server.abort();
    }

    /// Waits, at most 5 s, until a killed origin is gone: the abort takes
    /// effect only when the runtime next runs its tasks, so a request sent
    /// at once can still be answered. Its port refusing connections means
    /// the accept task is dropped; a short pause lets its connections'
    /// tasks be dropped too, closing their sockets.
    pub async fn gone(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline
            && tokio::net::TcpStream::connect(self.addr).await.is_ok()
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn default_handler(name: &str) -> Handler {
    let name = name.to_string();
    Arc::new(move |_| {
        let name = name.clone();
        Box::pin(async move {
            let mut response = respond(200, name.clone());
            response
                .headers_mut()
                .insert("x-origin", name.parse().expect("name header"));
            response
        })
    })
}

async fn bind_retrying(addr: SocketAddr) -> TcpListener {
    for _ in 0..50 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("origin cannot bind {addr}");
}

fn tls_acceptor(
    identity: &Identity,
    client_roots: Option<rustls::RootCertStore>,
) -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    let chain: Vec<_> =
        rustls::pki_types::CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .expect("cert PEM");
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes())
        .expect("key PEM");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = match client_roots {
        Some(roots) => builder.with_client_cert_verifier(
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("verifier"),
        ),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).expect("server cert");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

async fn accept(
    listener: TcpListener,
    handler: Handler,
    received: Arc<Mutex<Vec<Recorded>>>,
    accepted: Arc<AtomicUsize>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        accepted.fetch_add(1, Ordering::Relaxed);
        let (handler, received, tls) = (handler.clone(), received.clone(), tls.clone());
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                answer(req, handler.clone(), received.clone())
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .await;
                    }
                }
                None => {
                    let _ = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn answer(
    mut req: Request<Incoming>,
    handler: Handler,
    received: Arc<Mutex<Vec<Recorded>>>,
) -> Result<Response<Body>, std::convert::Infallible> {
    let upgrade = req
        .headers()
        .contains_key(http::header::UPGRADE)
        .then(|| hyper::upgrade::on(&mut req));
    let (parts, incoming) = req.into_parts();
    let body = incoming
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let recorded = Recorded {
        method: parts.method,
        uri: parts.uri,
        version: parts.version,
        headers: parts.headers,
        body,
    };
    received.lock().expect("lock").push(recorded.clone());
    if let Some(upgrade) = upgrade {
        tokio::spawn(async move {
            if let Ok(upgraded) = upgrade.await {
                let (mut reader, mut writer) = tokio::io::split(TokioIo::new(upgraded));
                let _ = tokio::io::copy(&mut reader, &mut writer).await;
            }
        });
        let mut response = respond(101, "");
        response
            .headers_mut()
            .insert("upgrade", recorded.headers["upgrade"].clone());
        response
            .headers_mut()
            .insert("connection", "upgrade".parse().expect("value"));
        return Ok(response);
    }
    Ok(handler(recorded).await)
}
