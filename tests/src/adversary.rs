//! Tools for the adversarial and abuse suites: raw HTTP/1.1 exchanges that
//! read everything the proxy answers (several responses on one connection
//! included), and the invariant every hostile case must meet — a clean 4xx
//! with nothing at the origin, or exactly the well-formed requests the case
//! allows; never a smuggled one, never an ambiguous one.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Recorded;

/// What came back on one raw connection.
#[derive(Debug, Clone)]
pub struct Reply {
    pub raw: Vec<u8>,
    /// The status of every response found, in order.
    pub statuses: Vec<u16>,
    /// Whether the proxy closed the connection (EOF or reset).
    pub closed: bool,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The first 300 bytes, escaped, for failure messages.
    pub fn excerpt(&self) -> String {
        self.raw
            .iter()
            .take(300)
            .flat_map(|b| std::ascii::escape_default(*b))
            .map(char::from)
            .collect()
    }
}

/// Writes `bytes` on a new connection and reads until the proxy closes, or
/// until it has been quiet for `quiet` after at least one response, or
/// `limit` in all. No timing is asserted: the limits only bound the test.
pub async fn exchange(addr: SocketAddr, bytes: &[u8], quiet: Duration, limit: Duration) -> Reply {
    let deadline = Instant::now() + limit;
    let mut stream = loop {
        match TcpStream::connect(addr).await {
            Ok(stream) => break stream,
            Err(e) if Instant::now() >= deadline => panic!("cannot connect to {addr}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    // The proxy may refuse before it has read everything: keep reading.
    let _ = stream.write_all(bytes).await;
    read_reply(&mut stream, quiet, deadline).await
}

/// Reads what the proxy sends, with the same rules as [`exchange`].
pub async fn read_reply(stream: &mut TcpStream, quiet: Duration, deadline: Instant) -> Reply {
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut closed = false;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let wait = if complete_responses(&raw) > 0 {
            quiet.min(deadline - now)
        } else {
            deadline - now
        };
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => raw.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let statuses = statuses(&raw);
    Reply {
        raw,
        statuses,
        closed,
    }
}

/// The status codes of the responses in `raw`, in order: each `HTTP/1.x NNN `
/// (the proxy's bodies here never contain one).
pub fn statuses(raw: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = find(&raw[i..], b"HTTP/1.") {
        let start = i + at;
        if let Some(code) = raw.get(start + 9..start + 12)
            && raw.get(start + 8) == Some(&b' ')
            && let Some(code) = std::str::from_utf8(code).ok().and_then(|c| c.parse().ok())
        {
            out.push(code);
        }
        i = start + 7;
    }
    out
}

fn complete_responses(raw: &[u8]) -> usize {
    // A response head is complete once its blank line arrived; bodies from
    // the proxy are small, so the quiet period covers them.
    let mut count = 0;
    let mut i = 0;
    while let Some(at) = find(&raw[i..], b"\r\n\r\n") {
        count += 1;
        i += at + 4;
    }
    count
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What a hostile case may lead to.
#[derive(Clone, Copy)]
pub enum Expect {
    /// A 4xx answer (the first response), and nothing at the origin.
    Refused,
    /// Either a clean refusal, or exactly one request at the origin that
    /// passes the check.
    RefusedOrOne(fn(&Recorded) -> Result<(), String>),
    /// Exactly `n` requests at the origin, each passing the check (pipelining).
    Exactly(usize, fn(&Recorded) -> Result<(), String>),
    /// Answered by the proxy itself with this status, nothing at the origin.
    Answered(u16),
}

/// Accepts any well-formed request (the origin's parser already proved it is).
pub fn any(_: &Recorded) -> Result<(), String> {
    Ok(())
}

/// Checks one case: `seen` is what the origin recorded for it. Returns a
/// description of the violation, if any.
pub fn verdict(expect: &Expect, reply: &Reply, seen: &[Recorded]) -> Result<String, String> {
    let smuggled: Vec<_> = seen
        .iter()
        .filter(|r| r.uri.path().contains("smuggled"))
        .collect();
    if !smuggled.is_empty() {
        return Err(format!(
            "a smuggled request reached the origin: {:?}",
            smuggled[0].uri
        ));
    }
    // Interim answers (100 Continue) are not responses of their own.
    let finals: Vec<u16> = reply
        .statuses
        .iter()
        .copied()
        .filter(|s| !(100..200).contains(s) || *s == 101)
        .collect();
    let first = finals.first().copied();
    let refused = seen.is_empty() && first.is_some_and(|s| (400..500).contains(&s));
    match expect {
        Expect::Refused if refused => Ok(format!("refused {}", first.unwrap_or(0))),
        Expect::Refused => Err(format!(
            "expected a 4xx and nothing at the origin; got statuses {:?}, {} at the origin",
            reply.statuses,
            seen.len()
        )),
        Expect::RefusedOrOne(_) if refused => Ok(format!("refused {}", first.unwrap_or(0))),
        Expect::RefusedOrOne(check) => match seen {
            [one] => {
                check(one)?;
                if first.is_some_and(|s| s >= 400) || finals.len() > 1 {
                    return Err(format!(
                        "one request at the origin but the client got {:?}",
                        reply.statuses
                    ));
                }
                Ok(format!("forwarded once ({:?})", reply.statuses))
            }
            [] => Err(format!(
                "nothing at the origin and no clean 4xx: statuses {:?}, closed {}",
                reply.statuses, reply.closed
            )),
            many => Err(format!(
                "{} requests at the origin: {:?}",
                many.len(),
                many.iter().map(|r| r.uri.to_string()).collect::<Vec<_>>()
            )),
        },
        Expect::Answered(status) if seen.is_empty() && first == Some(*status) => {
            Ok(format!("answered {status}"))
        }
        Expect::Answered(status) => Err(format!(
            "expected the proxy to answer {status} itself; got statuses {:?}, {} at the origin",
            reply.statuses,
            seen.len()
        )),
        Expect::Exactly(n, check) => {
            if seen.len() != *n {
                return Err(format!(
                    "expected {n} requests at the origin, got {}",
                    seen.len()
                ));
            }
            for r in seen {
                check(r)?;
            }
            let ok = finals.iter().filter(|s| (200..300).contains(*s)).count();
            if ok != *n {
                return Err(format!(
                    "{n} at the origin but {ok} successful answers: {:?}",
                    reply.statuses
                ));
            }
            Ok(format!("{n} forwarded ({:?})", reply.statuses))
        }
    }
}
