//! The host API of contract 0.2, one module per WIT interface. (0.1's
//! imports are `host_http`, `host_api` and `outbound`; where an interface
//! did not change, 0.2 delegates to them.)

pub(crate) mod http;
pub(crate) mod kv;
pub(crate) mod outbound;
pub(crate) mod plain;
