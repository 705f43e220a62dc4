//! `[plugins.NAME]` as the host reads it: the runtime's `FilePluginSpec`
//! plus the host's keys for plugins pulled from a registry (`refresh`,
//! `insecure`, `signatures`), which the runtime never sees. A problem in
//! the table is reported at the table's line (it is read as a whole).

use serde::{Deserialize, Deserializer};

use super::units::Duration;

#[derive(Debug)]
pub struct FilePlugin {
    /// Everything the runtime reads; `source` may be an `oci://` reference.
    pub spec: ravelin_runtime::FilePluginSpec,
    /// How often an `oci://` tag is checked for a new version. Default:
    /// only at load and reload.
    pub refresh: Option<Duration>,
    /// Plain HTTP to a registry not on this machine. Default false.
    pub insecure: Option<bool>,
    /// Signature checks for an `oci://` source. Default: none.
    pub signatures: Option<FileSignatures>,
}

/// `signatures = { required = true, keys = ["pub.pem"] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSignatures {
    /// Refuse the plugin unless one of `keys` signed it. Default false.
    #[serde(default)]
    pub required: bool,
    /// ed25519 public keys (PEM), relative to the config file.
    #[serde(default)]
    pub keys: Vec<std::path::PathBuf>,
}

impl<'de> Deserialize<'de> for FilePlugin {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(deserializer)?;
        let refresh = table
            .remove("refresh")
            .map(|value| match value {
                toml::Value::String(text) => text.parse::<Duration>().map_err(D::Error::custom),
                other => Err(D::Error::custom(format!(
                    "refresh must be a duration like \"30s\", not {}",
                    other.type_str()
                ))),
            })
            .transpose()?;
        let insecure = match table.remove("insecure") {
            None => None,
            Some(toml::Value::Boolean(b)) => Some(b),
            Some(other) => {
                let message = format!("insecure must be true or false, not {}", other.type_str());
                return Err(D::Error::custom(message));
            }
        };
        let signatures = table
            .remove("signatures")
            .map(|value| {
                FileSignatures::deserialize(value)
                    .map_err(|e| D::Error::custom(format!("signatures: {}", e.message().trim())))
            })
            .transpose()?;
        let spec = ravelin_runtime::FilePluginSpec::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let message = e.message().trim();
                match message.starts_with("unknown field") {
                    // The runtime lists its own keys; the host's are valid too.
                    true => {
                        D::Error::custom(format!("{message}, `refresh`, `insecure`, `signatures`"))
                    }
                    false => D::Error::custom(message),
                }
            })?;
        Ok(FilePlugin {
            spec,
            refresh,
            insecure,
            signatures,
        })
    }
}
