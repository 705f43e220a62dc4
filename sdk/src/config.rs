//! The plugin's configuration: the `config` table of its `[plugins.NAME]`
//! section, handed to `configure` as JSON.

use serde::de::DeserializeOwned;

/// The plugin's configuration as JSON (`null` when the proxy's config gave
/// none).
#[derive(Debug, Clone)]
pub struct Config {
    json: String,
}

impl Config {
    pub(crate) fn new(json: String) -> Self {
        Config { json }
    }

    /// The raw JSON (`null` when the proxy's config gave none).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Whether the proxy's config gave no `config` for the plugin.
    pub fn is_null(&self) -> bool {
        self.json.trim() == "null"
    }

    /// Deserializes the configuration into `T`, with an error message that
    /// names the problem.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.json).map_err(|e| format!("invalid plugin config: {e}"))
    }

    /// Like [`Config::parse`], but `T::default()` when no config was given.
    pub fn parse_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, String> {
        if self.is_null() {
            return Ok(T::default());
        }
        self.parse()
    }
}

/// Deserializes the plugin's configuration into `T`, from any hook.
pub fn config<T: DeserializeOwned>() -> Result<T, String> {
    Config::new(crate::glue::config_json()).parse()
}
