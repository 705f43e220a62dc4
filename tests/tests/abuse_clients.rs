//! Slow and abusive HTTP/1.1 clients against the real proxy: slowloris
//! (Robert "RSnake" Hansen, 2009) and slow-body ("R-U-Dead-Yet", Wong Onn
//! Chee and Tom Brennan, OWASP 2010) are cut at the configured timeouts;
//! connection floods hit the per-IP and per-listener limits without
//! starving other clients. Timeouts here are short (1–2 s) and every
//! waiting loop is bounded; the bounds are generous (several times the
//! configured timeout) so a loaded machine does not fail them, and no
//! duration is asserted beyond "cut before the bound".

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use ravelin_tests::{Origin, Proxy};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn proxy_with(origin: &Origin, listener: &str, timeouts: &str) -> Proxy {
    Proxy::start(&format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"
{listener}

[timeouts]
{timeouts}

[upstreams.app]
endpoints = [{{ address = "{}" }}]

[[routes]]
path_prefix = "/"
upstream = "app"
"#,
        origin.addr
    ))
}

const SHORT: &str = "client_header = \"1s\"\nclient_body = \"2s\"\nidle_keepalive = \"2s\"";

/// How a slow client's connection ended.
#[derive(Debug)]
struct Cut {
    after: Duration,
    /// What the proxy said before closing, if anything.
    answer: String,
    bytes_sent: usize,
}

/// Sends `head` then dribbles `drip` one byte every `every`, until the proxy
/// closes the connection (Some) or `bound` passes (None).
async fn dribble(
    addr: SocketAddr,
    head: &[u8],
    drip: &[u8],
    every: Duration,
    bound: Duration,
) -> Option<Cut> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let (mut read, mut write) = stream.split();
    let mut sent = 0;
    if write.write_all(head).await.is_ok() {
        sent += head.len();
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let mut next = 0;
    loop {
        if started.elapsed() > bound {
            return None;
        }
        tokio::select! {
            read = read.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    return Some(Cut { after: started.elapsed(), answer: String::from_utf8_lossy(&answer).into_owned(), bytes_sent: sent });
                }
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            },
            _ = tokio::time::sleep(every) => {
                if next < drip.len() {
                    if write.write_all(&drip[next..next + 1]).await.is_err() {
                        return Some(Cut { after: started.elapsed(), answer: String::from_utf8_lossy(&answer).into_owned(), bytes_sent: sent });
                    }
                    sent += 1;
                    next += 1;
                }
            }
        }
    }
}

fn first_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or("(nothing)")
}

/// Slowloris: the header block never ends; `client_header = 1s` cuts it.
#[test]
fn slowloris_headers_are_cut_at_the_header_timeout() {
    runtime().block_on(async {
        let origin = Origin::start("slow").await;
        let proxy = proxy_with(&origin, "", SHORT);
        let drip = b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let cut = dribble(proxy.http, b"GET / HTTP/1.1\r\nHost: a.test\r\nX-Slow: ", drip, Duration::from_millis(200), Duration::from_secs(20)).await;
        let cut = cut.expect("a header block dribbled for 20 s was never cut (client_header = 1s)");
        println!("slowloris: cut after {:.1?} ({} bytes sent), answer {:?}", cut.after, cut.bytes_sent, first_line(&cut.answer));
        assert!(cut.after < Duration::from_millis(1900), "cut at client_header (1s, checked every 250 ms), not later: {:?}", cut.after);
        assert_eq!(origin.count(), 0, "a request with an unfinished header block reached the origin");
    });
}

/// A connection that sends nothing at all is closed (header or idle timeout).
#[test]
fn silent_connections_are_closed() {
    runtime().block_on(async {
        let origin = Origin::start("slow").await;
        let proxy = proxy_with(&origin, "", SHORT);
        let cut = dribble(
            proxy.http,
            b"",
            b"",
            Duration::from_millis(500),
            Duration::from_secs(20),
        )
        .await;
        let cut = cut.expect("a silent connection stayed open for 20 s (client_body = 2s)");
        println!(
            "silent connection: closed after {:.1?}, answer {:?}",
            cut.after,
            first_line(&cut.answer)
        );
        assert!(
            cut.after < Duration::from_millis(1900),
            "a new connection must send its first head within client_header (1s): {:?}",
            cut.after
        );
        // After one request, a silent keep-alive connection is closed too.
        let cut = dribble(
            proxy.http,
            b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n",
            b"",
            Duration::from_millis(500),
            Duration::from_secs(20),
        )
        .await;
        let cut =
            cut.expect("an idle keep-alive connection stayed open for 20 s (idle_keepalive = 2s)");
        println!(
            "idle keep-alive connection: closed after {:.1?}, answer {:?}",
            cut.after,
            first_line(&cut.answer)
        );
        assert!(
            cut.answer.starts_with("HTTP/1.1 200"),
            "the request before the idle period was not served: {:?}",
            cut.answer
        );
        assert!(
            (Duration::from_millis(1900)..Duration::from_millis(3500)).contains(&cut.after),
            "waiting for the next request is bounded by idle_keepalive (2s), not client_header (1s): {:?}",
            cut.after
        );
    });
}

/// A body that stops arriving is cut; the origin sees nothing of it (a body
/// this small is read whole before the origin is contacted).
#[test]
fn stalled_bodies_are_cut() {
    runtime().block_on(async {
        let origin = Origin::start("slow").await;
        let proxy = proxy_with(&origin, "", SHORT);
        let cut = dribble(
            proxy.http,
            b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100\r\n\r\n0123456789",
            b"",
            Duration::from_millis(500),
            Duration::from_secs(30),
        )
        .await;
        let cut =
            cut.expect("a body that stopped after 10 of 100 bytes held the connection for 30 s");
        println!(
            "stalled body: cut after {:.1?}, answer {:?}",
            cut.after,
            first_line(&cut.answer)
        );
        assert_eq!(origin.count(), 0);
    });
}

/// R-U-Dead-Yet: a body dribbled a byte at a time, each byte inside every
/// idle timeout. A body read whole must arrive within `client_body`.
#[test]
fn dribbled_bodies_are_cut() {
    runtime().block_on(async {
        let origin = Origin::start("slow").await;
        let proxy = proxy_with(&origin, "", SHORT);
        let body = vec![b'x'; 1_000];
        let cut = dribble(
            proxy.http,
            b"POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000\r\n\r\n",
            &body,
            Duration::from_millis(300),
            Duration::from_secs(25),
        )
        .await;
        let cut = cut.expect(
            "a body dribbled at 1 byte/300 ms held the connection for 25 s (client_body = 2s)",
        );
        println!(
            "dribbled body: cut after {:.1?} ({} bytes)",
            cut.after, cut.bytes_sent
        );
        assert_eq!(origin.count(), 0);
    });
}

/// Opens a connection from `source` (any 127/8 address is loopback on Linux)
/// to the proxy.
async fn connect_from(source: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(to).await
}

/// Whether the proxy kept the connection (true) or dropped it at once.
async fn held(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    // A refused connection is accepted and closed at once: EOF or reset.
    !matches!(
        tokio::time::timeout(Duration::from_millis(1500), stream.read(&mut byte)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

async fn request_from(source: IpAddr, to: SocketAddr) -> Result<u16, String> {
    let mut stream = connect_from(source, to).await.map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /other HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no answer: {text:?}"))
}

async fn flood(source: IpAddr, to: SocketAddr, n: usize) -> (Vec<TcpStream>, usize) {
    let mut kept = Vec::new();
    let mut refused = 0;
    for _ in 0..n {
        let Ok(mut stream) = connect_from(source, to).await else {
            refused += 1;
            continue;
        };
        if held(&mut stream).await {
            kept.push(stream);
        } else {
            refused += 1;
        }
    }
    (kept, refused)
}

/// A flood from one address stops at `max_connections_per_ip`; another
/// address is still served; the listener-wide `max_connections` caps the
/// total; closing the flood frees the places.
#[test]
fn connection_floods_hit_per_ip_and_listener_limits() {
    runtime().block_on(async {
        let origin = Origin::start("slow").await;
        let proxy = proxy_with(
            &origin,
            "max_connections = 12\nmax_connections_per_ip = 5",
            "client_header = \"60s\"\nidle_keepalive = \"60s\"",
        );
        let ip = |last: u8| IpAddr::from([127, 0, 0, last]);
        let (flood_a, refused_a) = flood(ip(1), proxy.http, 20).await;
        println!(
            "flood from 127.0.0.1: 20 opened, {} held, {refused_a} refused",
            flood_a.len()
        );
        assert_eq!(flood_a.len(), 5, "per-IP limit of 5 did not hold");
        let other = request_from(ip(2), proxy.http).await;
        println!("127.0.0.2 during the flood: {other:?}");
        assert_eq!(
            other,
            Ok(200),
            "another client was starved by one address's flood"
        );
        let (flood_b, refused_b) = flood(ip(3), proxy.http, 20).await;
        let (flood_c, refused_c) = flood(ip(4), proxy.http, 20).await;
        println!(
            "floods from 127.0.0.3 / .4: {} / {} held, {refused_b} / {refused_c} refused",
            flood_b.len(),
            flood_c.len()
        );
        assert_eq!(
            flood_a.len() + flood_b.len() + flood_c.len(),
            12,
            "listener limit of 12 did not hold"
        );
        let starved = request_from(ip(5), proxy.http).await;
        println!("127.0.0.5 with the listener full: {starved:?}");
        assert!(
            starved.is_err(),
            "a 13th connection was served past max_connections = 12"
        );
        drop((flood_a, flood_b, flood_c));
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut after = request_from(ip(5), proxy.http).await;
        while after != Ok(200) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            after = request_from(ip(5), proxy.http).await;
        }
        println!("127.0.0.5 after the floods closed: {after:?}");
        assert_eq!(
            after,
            Ok(200),
            "places were not freed when the flood closed"
        );
        let (_, metrics) = proxy.admin("/metrics");
        let refused: Vec<&str> = metrics
            .lines()
            .filter(|l| l.contains("refused") && !l.starts_with('#'))
            .collect();
        println!("metrics: {refused:?}");
    });
}
