//! `cache`: a shared HTTP cache (RFC 9111) kept in the plugin kv store.
mod date;
mod directives;
mod entry;
mod freshness;
mod headers;
mod key;
mod policy;
mod settings;
mod vary;
mod wire;
