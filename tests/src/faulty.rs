//! Misbehaving origins for the fault tests, on raw sockets (a hyper origin
//! cannot misbehave at the protocol level): one that answers garbage, one
//! that resets the connection half-way through a body, one that resets
//! before answering. And a bounded load loop that tallies outcomes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Reads the request, answers bytes that are not HTTP, closes.
    Garbage,
    /// Announces `Content-Length: 1000`, sends 100 bytes, resets (RST).
    ResetMidBody,
    /// Reads the request and resets without answering.
    ResetBeforeAnswer,
}

pub struct FaultyOrigin {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultyOrigin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultyOrigin {
    pub async fn start(fault: Fault) -> FaultyOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                count.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    // Read up to the end of the request head (bodies here are empty).
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
                            .await
                        {
                            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                            _ => return,
                        }
                    }
                    match fault {
                        Fault::Garbage => {
                            let _ = stream
                                .write_all(b"SURPRISE \x00\x01 this is not HTTP\r\n\r\n")
                                .await;
                        }
                        Fault::ResetMidBody => {
                            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/octet-stream\r\n\r\n").await;
                            let _ = stream.write_all(&[b'x'; 100]).await;
                            let _ = stream.flush().await;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        Fault::ResetBeforeAnswer => {}
                    }
                    let _ = stream.set_zero_linger();
                    drop(stream);
                });
            }
        });
        FaultyOrigin {
            addr,
            accepted,
            task,
        }
    }
}

/// Outcomes of a load loop: successes, and failures by reason.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub sent: usize,
    pub succeeded: usize,
    pub failed: BTreeMap<String, usize>,
}

impl Tally {
    pub fn failures(&self) -> usize {
        self.failed.values().sum()
    }

    pub fn add(&mut self, outcome: Result<(), String>) {
        self.sent += 1;
        match outcome {
            Ok(()) => self.succeeded += 1,
            Err(why) => *self.failed.entry(why).or_default() += 1,
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.succeeded += other.succeeded;
        for (why, n) in &other.failed {
            *self.failed.entry(why.clone()).or_default() += n;
        }
    }

    pub fn line(&self, name: &str) -> String {
        format!(
            "{name}: sent {}, succeeded {}, failed {} {:?}",
            self.sent,
            self.succeeded,
            self.failures(),
            self.failed
        )
    }
}

/// Runs `one(i)` for i in 0..max_requests on `concurrency` workers, stopping
/// early after `max_time`; `one` says how request i ended.
pub async fn load<F, Fut>(
    max_requests: usize,
    max_time: Duration,
    concurrency: usize,
    one: F,
) -> Tally
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let one = Arc::new(one);
    let deadline = Instant::now() + max_time;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (next, one) = (next.clone(), one.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max_requests || Instant::now() >= deadline {
                    return tally;
                }
                tally.add(one(i).await);
            }
        }));
    }
    let mut total = Tally::default();
    for worker in workers {
        total.merge(&worker.await.expect("load worker"));
    }
    total
}
