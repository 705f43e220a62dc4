//! The host API plugins import, one module per WIT interface: contract
//! 0.2 here, 0.1 in [`v1`] (where an interface did not change, 0.2
//! delegates to it).

pub(crate) mod http;
pub(crate) mod kv;
pub(crate) mod outbound;
pub(crate) mod plain;
pub(crate) mod v1;
