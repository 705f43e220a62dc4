//! Plugin references: `oci://host[:port]/repo:tag` or
//! `oci://host[:port]/repo@sha256:<hex>` in the config, and the same
//! without `oci://` on the command line.

use std::fmt;

/// Where a plugin lives in a registry, and which version of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciRef {
    /// `host` or `host:port`.
    pub registry: String,
    /// The repository path, e.g. `team/waf`.
    pub repository: String,
    /// A tag or a digest pin.
    pub version: Version,
}

/// A moving tag or an immutable manifest digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Version {
    Tag(String),
    /// `sha256:<64 hex>`.
    Digest(String),
}

impl OciRef {
    /// Parses a config `source`: it must start with `oci://`.
    pub fn parse_source(text: &str) -> Result<Self, String> {
        let rest = text
            .strip_prefix("oci://")
            .ok_or_else(|| format!("`{text}` is not an oci:// reference"))?;
        Self::parse(rest)
    }

    /// Parses `host[:port]/repo(:tag|@sha256:hex)`, `oci://` optional.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.strip_prefix("oci://").unwrap_or(text);
        let bad = |why: &str| format!("`{text}` is not a registry reference: {why}");
        let (registry, path) = text
            .split_once('/')
            .ok_or_else(|| bad("write host[:port]/repository:tag"))?;
        if registry.is_empty()
            || !registry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
        {
            return Err(bad("the registry host is missing or invalid"));
        }
        let (repository, version) = match path.split_once('@') {
            Some((repo, digest)) => (
                repo,
                Version::Digest(parse_digest(digest).map_err(|e| bad(&e))?),
            ),
            None => match path.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => (repo, Version::Tag(tag.to_string())),
                _ => return Err(bad("name a tag (`:v1`) or a digest (`@sha256:…`)")),
            },
        };
        if let Version::Tag(tag) = &version
            && !valid_tag(tag)
        {
            return Err(bad("a tag has 1 to 128 letters, digits, `_`, `.` or `-`"));
        }
        if !valid_repository(repository) {
            return Err(bad(
                "the repository must be lowercase path components (a-z, 0-9, `.`, `_`, `-`)",
            ));
        }
        Ok(OciRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            version,
        })
    }

    /// Parses `host[:port]/repo` with no version (for `plugin ls`).
    pub fn parse_repository(text: &str) -> Result<(String, String), String> {
        let text = text.strip_prefix("oci://").unwrap_or(text);
        let with_tag = Self::parse(&format!("{text}:latest"))
            .map_err(|_| format!("`{text}` is not a repository: write host[:port]/repository"))?;
        Ok((with_tag.registry, with_tag.repository))
    }

    /// The same repository at another version.
    pub fn at(&self, version: Version) -> OciRef {
        OciRef {
            version,
            ..self.clone()
        }
    }

    /// Whether the registry is on this machine (plain HTTP is allowed then).
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => &self.registry,
        };
        host == "localhost"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The reference in oci-client's form.
    pub fn to_client(&self) -> oci_client::Reference {
        match &self.version {
            Version::Tag(tag) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone(),
            ),
            Version::Digest(digest) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                digest.clone(),
            ),
        }
    }
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Version::Tag(tag) => write!(f, "{}/{}:{tag}", self.registry, self.repository),
            Version::Digest(d) => write!(f, "{}/{}@{d}", self.registry, self.repository),
        }
    }
}

/// Checks `sha256:<64 lowercase hex>`.
pub fn parse_digest(text: &str) -> Result<String, String> {
    match text.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(text.to_string())
        }
        _ => Err(format!(
            "`{text}` is not a digest: write sha256: and 64 lowercase hex digits"
        )),
    }
}

fn valid_tag(tag: &str) -> bool {
    (1..=128).contains(&tag.len())
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !tag.starts_with(['.', '-'])
}

fn valid_repository(repo: &str) -> bool {
    !repo.is_empty()
        && repo.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_tags_and_digests() {
        let tag = OciRef::parse_source("oci://127.0.0.1:5000/team/waf:v1").unwrap();
        assert_eq!(tag.registry, "127.0.0.1:5000");
        assert_eq!(tag.repository, "team/waf");
        assert_eq!(tag.version, Version::Tag("v1".into()));
        assert!(tag.is_loopback());
        let pin = OciRef::parse_source(&format!("oci://ghcr.io/a/b@sha256:{HEX}")).unwrap();
        assert_eq!(pin.version, Version::Digest(format!("sha256:{HEX}")));
        assert!(!pin.is_loopback());
        assert_eq!(pin.to_string(), format!("ghcr.io/a/b@sha256:{HEX}"));
    }

    #[test]
    fn refuses_malformed_references() {
        for bad in [
            "127.0.0.1:5000/waf:v1",
            "oci://127.0.0.1:5000/waf",
            "oci://waf:v1",
            "oci://h/Team/waf:v1",
            "oci://h/waf@sha256:abc",
            "oci://h/waf:-v1",
        ] {
            assert!(OciRef::parse_source(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn a_repository_has_no_version() {
        let (registry, repo) = OciRef::parse_repository("localhost:5000/waf").unwrap();
        assert_eq!(
            (registry.as_str(), repo.as_str()),
            ("localhost:5000", "waf")
        );
        assert!(OciRef::parse_repository("localhost:5000").is_err());
    }
}
