//! The HTTP/1.1 pool against a scripted origin that counts its connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::config::{BalancerKind, Endpoint, Passive, Pool, Retries};

/// How the origin treats each connection after its first answer.
#[derive(Clone, Copy)]
enum Script {
    /// Answers every request, keeping the connection open.
    KeepAlive,
    /// Closes the connection this long after its first answer.
    CloseAfter(Duration),
    /// The first connection's answer announces a body it never finishes.
    StallFirstBody,
}

struct Origin {
    authority: Authority,
    accepted: Arc<AtomicUsize>,
}

async fn origin(script: Script) -> Origin {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let authority = listener.local_addr().unwrap().to_string().parse().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let nth = count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut head = Vec::new();
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                    if !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        continue;
                    }
                    head.clear();
                    match script {
                        Script::StallFirstBody if nth == 0 => {
                            let _ = socket
                                .write_all(
                                    b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nstart",
                                )
                                .await;
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                        _ => {
                            let _ = socket
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                                .await;
                        }
                    }
                    if let Script::CloseAfter(delay) = script {
                        tokio::time::sleep(delay).await;
                        return;
                    }
                }
            });
        }
    });
    Origin {
        authority,
        accepted,
    }
}

fn client(origin: &Origin, idle_timeout: Duration) -> Client {
    let upstream = Upstream {
        name: "test".into(),
        endpoints: vec![Endpoint {
            address: origin.authority.to_string(),
            weight: 1,
        }],
        balancer: BalancerKind::RoundRobin,
        protocol: UpstreamProtocol::Http1,
        tls: None,
        health_check: None,
        passive: Passive {
            consecutive_failures: 0,
            cooldown: Duration::from_secs(1),
        },
        pool: Pool {
            max_idle_per_endpoint: 4,
            idle_timeout,
        },
        retries: Retries {
            attempts: 0,
            buffer_bytes: 0,
        },
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(1),
        client_header: Duration::from_secs(1),
        client_body: Duration::from_secs(1),
        upstream_response: Duration::from_secs(1),
        idle_keepalive: Duration::from_secs(1),
    };
    Client::build(&upstream, &timeouts, |p| p.to_path_buf()).unwrap()
}

/// `GET /` with no body.
fn get_request() -> Request<ProxyBody> {
    Request::get("/")
        .body(
            Empty::<Bytes>::new()
                .map_err(|never| match never {})
                .boxed(),
        )
        .unwrap()
}

async fn get(client: &Client, origin: &Origin) -> Result<Bytes, String> {
    let request = get_request();
    let response = client
        .send(0, &origin.authority, request)
        .await
        .map_err(|e| e.to_string())?;
    let body = response.into_body().collect().await;
    Ok(body.map_err(|e| e.to_string())?.to_bytes())
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let origin = origin(Script::KeepAlive).await;
    let client = client(&origin, Duration::from_secs(60));
    for _ in 0..3 {
        assert_eq!(get(&client, &origin).await.unwrap(), "ok");
    }
    assert_eq!(origin.accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_the_endpoint_closed_while_idle_is_replaced() {
    let script = Script::CloseAfter(Duration::from_millis(20));
    assert_eq!(
        connections_for_two_requests_apart(script, Duration::from_secs(60)).await,
        2
    );
}

#[tokio::test]
async fn a_body_dropped_before_its_end_takes_its_connection_along() {
    let origin = origin(Script::StallFirstBody).await;
    let client = client(&origin, Duration::from_secs(60));
    let response = client
        .send(0, &origin.authority, get_request())
        .await
        .unwrap();
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert_eq!(first.into_data().unwrap(), "start");
    drop(body);
    assert_eq!(get(&client, &origin).await.unwrap(), "ok");
    assert_eq!(origin.accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn idle_connections_expire_after_the_idle_timeout() {
    let script = Script::KeepAlive;
    assert_eq!(
        connections_for_two_requests_apart(script, Duration::from_millis(50)).await,
        2
    );
}

/// Two requests 100 ms apart through a client whose pool keeps idle
/// connections for `idle_timeout`: how many connections the origin saw.
async fn connections_for_two_requests_apart(script: Script, idle_timeout: Duration) -> usize {
    let origin = origin(script).await;
    let client = client(&origin, idle_timeout);
    assert_eq!(get(&client, &origin).await.unwrap(), "ok");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(get(&client, &origin).await.unwrap(), "ok");
    origin.accepted.load(Ordering::SeqCst)
}
