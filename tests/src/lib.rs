//! Harness for the end-to-end tests: real origins ([`Origin`]), the real
//! `ravelin` binary ([`Proxy`]), certificates made on the spot ([`Pki`]),
//! clients ([`client`], HTTP/3 in [`h3client`]), a real Redis for the kv
//! tests ([`redis`]), a real ACME CA ([`pebble`]), and the behaviour every
//! language's example plugin must show ([`lang_behaviour`]).
//! Everything listens on 127.0.0.1 ports the OS picks.

pub mod adversary;
pub mod auth;
pub mod certs;
pub mod client;
pub mod faulty;
pub mod h2raw;
pub mod h3client;
pub mod jwt;
pub mod lang_behaviour;
pub mod lang_build;
pub mod origin;
pub mod pebble;
pub mod plugin_cli;
pub mod proxy;
pub mod redis;
pub mod registry;

pub use certs::Pki;
pub use origin::{Origin, Recorded};
pub use proxy::Proxy;

/// A loopback port that is free now and that this process has not handed
/// out before. It is drawn from below the kernel's ephemeral range, so no
/// outgoing connection (of this test or a parallel one) can take it as its
/// source port between this check and the moment the proxy binds it.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let (low, high) = listening_range();
    let span = u64::from(high - low);
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    for attempt in 0..1000u64 {
        let port = low + (random_seed(attempt) % span) as u16;
        if given.contains(&port) || std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        given.insert(port);
        return port;
    }
    panic!("no free loopback port in {low}..{high} after 1000 tries")
}

/// Ports for test listeners: from 10000 up to the start of the kernel's
/// ephemeral range (`net.ipv4.ip_local_port_range`).
fn listening_range() -> (u16, u16) {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    (10000, ephemeral_start.max(20000))
}

/// A number that differs between processes and calls.
fn random_seed(attempt: u64) -> u64 {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    state.hash_one((std::process::id(), attempt, std::time::Instant::now()))
}

/// The resident memory of process `pid`, in bytes (0 when unknown).
pub fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    kib * 1024
}

/// The peak of process `pid`'s resident memory, sampled every 50 ms for at
/// most a minute until [`RssPeak::stop`].
pub struct RssPeak {
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    sampler: tokio::task::JoinHandle<()>,
}

impl RssPeak {
    /// Starts sampling `pid` (on the current tokio runtime).
    pub fn watch(pid: u32) -> Self {
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = peak.clone();
        let sampler = tokio::spawn(async move {
            for _ in 0..1200 {
                seen.fetch_max(rss(pid), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
        RssPeak { peak, sampler }
    }

    /// Stops sampling; the highest figure seen, in bytes.
    pub fn stop(self) -> u64 {
        self.sampler.abort();
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }
}
