//! Harness for the end-to-end tests: real origins ([`Origin`]), the real
//! `ravelin` binary ([`Proxy`]), certificates made on the spot ([`Pki`]),
//! clients ([`client`]), and a real Redis for the kv tests ([`redis`]).
//! Everything listens on 127.0.0.1 ports the OS picks.

pub mod adversary;
pub mod auth;
pub mod certs;
pub mod client;
pub mod faulty;
pub mod h2raw;
pub mod jwt;
pub mod origin;
pub mod plugin_cli;
pub mod proxy;
pub mod redis;
pub mod registry;

pub use certs::Pki;
pub use origin::{Origin, Recorded};
pub use proxy::Proxy;

/// A loopback port that was free a moment ago and that this process has
/// not handed out before: the kernel may give a just-released port again,
/// and two of a proxy's listeners (or two tests) must never get the same.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    for _ in 0..1000 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
        if given.insert(port) {
            return port;
        }
    }
    panic!("no loopback port this process has not used yet in 1000 tries")
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
