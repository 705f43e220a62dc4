//! Harness for the end-to-end tests: real origins ([`Origin`]), the real
//! `ravelin` binary ([`Proxy`]), certificates made on the spot ([`Pki`]),
//! clients ([`client`]), and a real Redis for the kv tests ([`redis`]).
//! Everything listens on 127.0.0.1 ports the OS picks.

pub mod adversary;
pub mod certs;
pub mod client;
pub mod faulty;
pub mod h2raw;
pub mod origin;
pub mod proxy;
pub mod redis;

pub use certs::Pki;
pub use origin::{Origin, Recorded};
pub use proxy::Proxy;

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
