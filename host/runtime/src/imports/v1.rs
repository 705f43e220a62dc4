//! The host API of contract 0.1 (`wit/v0.1/`), served beside 0.2 so 0.1
//! components keep loading: one module per WIT interface group.

pub(crate) mod http;
pub(crate) mod outbound;
pub(crate) mod plain;
