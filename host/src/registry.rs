//! Plugins shared through an OCI registry. `reference` parses
//! `oci://host[:port]/repo:tag|@sha256:…`; `client` is the registry port
//! (push, pull, tags; every byte checked against its digest); `cache` keeps
//! what was pulled by digest so a proxy starts with no registry reachable;
//! `resolve` turns a plugin's `oci://` source into a cached file before the
//! runtime loads it (the runtime only ever loads files); `cli` is the
//! `ravelin plugin push|pull|inspect|ls|sign` commands; `signature` signs
//! and verifies (ed25519 over the manifest digest, stored under the
//! `sha256-<hex>.sig` tag).

pub mod auth;
pub mod cache;
pub mod cli;
pub mod client;
pub mod progress;
pub mod reference;
pub mod resolve;
pub mod signature;

use std::time::Duration;

use sha2::{Digest, Sha256};

pub use reference::{OciRef, Version};
pub use resolve::{Resolved, resolve_plugins};

/// A plugin whose `source` is an `oci://` reference, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSource {
    pub reference: OciRef,
    /// How often a tag is checked for a new version (`None`: only at load
    /// and reload).
    pub refresh: Option<Duration>,
    /// Plain HTTP to a registry that is not on this machine.
    pub insecure: bool,
    /// When signatures are required: the keys one of which must have
    /// signed the manifest.
    pub signatures: Option<Vec<signature::TrustedKey>>,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut text = String::with_capacity(71);
    text.push_str("sha256:");
    for byte in hash {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}
