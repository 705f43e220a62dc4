//! The ACME state of one listener on disk, in its `state_dir` (mode 0700):
//! `account.json` (the account key and URL, for the directory it belongs
//! to), `cert.pem` (the issued chain) and `key.pem` (its private key), each
//! mode 0600 and replaced atomically (written beside, then renamed).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use instant_acme::AccountCredentials;
use serde::{Deserialize, Serialize};

const CERT: &str = "cert.pem";
const KEY: &str = "key.pem";
const ACCOUNT: &str = "account.json";

/// One listener's state directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// `account.json`: the credentials, and the directory they were made on
/// (another directory means another account).
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

impl Store {
    /// Creates the directory if needed and makes it private (0700).
    pub fn open(dir: &Path) -> Result<Store, String> {
        fs::create_dir_all(dir).map_err(|e| {
            format!(
                "{}: cannot create the ACME state directory: {e}",
                dir.display()
            )
        })?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: cannot make it private (0700): {e}", dir.display()))?;
        Ok(Store {
            dir: dir.to_path_buf(),
        })
    }

    /// The stored chain and key, if both are there.
    pub fn certificate(&self) -> Result<Option<(String, String)>, String> {
        match (self.read(CERT)?, self.read(KEY)?) {
            (Some(chain), Some(key)) => Ok(Some((chain, key))),
            _ => Ok(None),
        }
    }

    pub fn save_certificate(&self, chain_pem: &str, key_pem: &str) -> Result<(), String> {
        // The key first: a chain beside an old key would not load.
        self.write(KEY, key_pem.as_bytes())?;
        self.write(CERT, chain_pem.as_bytes())
    }

    /// The account made on `directory`, if one is stored.
    pub fn account(&self, directory: &str) -> Result<Option<AccountCredentials>, String> {
        let Some(text) = self.read(ACCOUNT)? else {
            return Ok(None);
        };
        let stored: StoredAccount = serde_json::from_str(&text)
            .map_err(|e| format!("{}: unreadable: {e}", self.path(ACCOUNT).display()))?;
        Ok((stored.directory == directory).then_some(stored.credentials))
    }

    pub fn save_account(
        &self,
        directory: &str,
        credentials: AccountCredentials,
    ) -> Result<(), String> {
        let stored = StoredAccount {
            directory: directory.to_string(),
            credentials,
        };
        let text = serde_json::to_string_pretty(&stored)
            .map_err(|e| format!("cannot encode the ACME account: {e}"))?;
        self.write(ACCOUNT, text.as_bytes())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn read(&self, name: &str) -> Result<Option<String>, String> {
        let path = self.path(name);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), String> {
        let path = self.path(name);
        let partial = self.path(&format!(".{name}.partial"));
        let failed = |e: std::io::Error| format!("{}: cannot write: {e}", path.display());
        let _ = fs::remove_file(&partial);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .map_err(failed)?;
        file.write_all(bytes).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        fs::rename(&partial, &path).map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_private_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("acme/listener");
        let store = Store::open(&state).unwrap();
        assert_eq!(store.certificate().unwrap(), None);
        store.save_certificate("CHAIN", "KEY").unwrap();
        store.save_certificate("CHAIN2", "KEY2").unwrap();
        assert_eq!(
            store.certificate().unwrap(),
            Some(("CHAIN2".to_string(), "KEY2".to_string()))
        );
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join(CERT)), 0o600);
        assert_eq!(mode(&state.join(KEY)), 0o600);
        assert_eq!(
            fs::read_dir(&state).unwrap().count(),
            2,
            "no partial file left"
        );
    }
}
