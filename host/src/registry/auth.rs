//! Registry credentials, first found wins: the command line
//! (`--username` with `--password-stdin`), the environment
//! (`RAVELIN_REGISTRY_USERNAME` and `RAVELIN_REGISTRY_PASSWORD`), then the
//! `auths` of `~/.docker/config.json` (`$DOCKER_CONFIG/config.json`) for the
//! registry's host; anonymous otherwise. Credential helpers are not run.

use std::path::{Path, PathBuf};

use base64::Engine;
use oci_client::secrets::RegistryAuth;

/// The username and password given on the command line, if any.
#[derive(Debug, Default, Clone)]
pub struct Explicit {
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The credentials for `registry` (`host[:port]`).
pub fn credentials(registry: &str, explicit: &Explicit) -> Result<RegistryAuth, String> {
    if let (Some(user), Some(password)) = (&explicit.username, &explicit.password) {
        return Ok(RegistryAuth::Basic(user.clone(), password.clone()));
    }
    if explicit.username.is_some() {
        return Err("--username needs the password on standard input (--password-stdin)".into());
    }
    let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    match (
        env("RAVELIN_REGISTRY_USERNAME"),
        env("RAVELIN_REGISTRY_PASSWORD"),
    ) {
        (Some(user), Some(password)) => return Ok(RegistryAuth::Basic(user, password)),
        (Some(_), None) | (None, Some(_)) => {
            return Err(
                "set both RAVELIN_REGISTRY_USERNAME and RAVELIN_REGISTRY_PASSWORD, or neither"
                    .into(),
            );
        }
        (None, None) => {}
    }
    match docker_config_path() {
        Some(path) if path.exists() => from_docker_config(&path, registry),
        _ => Ok(RegistryAuth::Anonymous),
    }
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker/config.json"))
}

/// The `auths` entry for `registry` in a docker config file (keys may be
/// written with a scheme, e.g. `https://host:5000`).
fn from_docker_config(path: &Path, registry: &str) -> Result<RegistryAuth, String> {
    let where_ = || path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", where_()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", where_()))?;
    let Some(auths) = json.get("auths").and_then(|a| a.as_object()) else {
        return Ok(RegistryAuth::Anonymous);
    };
    let entry = auths.iter().find(|(key, _)| {
        let key = key
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        key.trim_end_matches('/') == registry
    });
    let Some(encoded) = entry
        .and_then(|(_, e)| e.get("auth"))
        .and_then(|a| a.as_str())
    else {
        return Ok(RegistryAuth::Anonymous);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            format!(
                "{}: auths.{registry}.auth is not base64 of user:password",
                where_()
            )
        })?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| format!("{}: auths.{registry}.auth is not user:password", where_()))?;
    Ok(RegistryAuth::Basic(user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_docker_config_auth_for_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
        let text = format!(r#"{{"auths": {{"https://127.0.0.1:5000": {{"auth": "{auth}"}}}}}}"#);
        std::fs::write(&path, text).unwrap();
        match from_docker_config(&path, "127.0.0.1:5000").unwrap() {
            RegistryAuth::Basic(user, password) => {
                assert_eq!((user.as_str(), password.as_str()), ("alice", "s3cret"))
            }
            _ => panic!("expected basic credentials"),
        }
        assert!(matches!(
            from_docker_config(&path, "other:5000").unwrap(),
            RegistryAuth::Anonymous
        ));
    }

    #[test]
    fn a_malformed_auth_names_the_file_and_registry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"auths": {"h:1": {"auth": "!!"}}}"#).unwrap();
        let error = from_docker_config(&path, "h:1").unwrap_err();
        assert!(error.contains("auths.h:1.auth"), "{error}");
    }
}
