//! The runtime's integration tests: real guest components (built from
//! `plugins/` by `ravelin-test-guests`), no network.

mod faults;
mod first_party;
mod harness;
mod hooks;
mod imports;
mod init;
mod isolation;
mod load;
mod sandbox;
mod swap;
mod trailers;
mod v2;
