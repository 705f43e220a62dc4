//! `ravelin plugin new NAME --lang LANG`: writes a new plugin project in
//! one of the languages Ravelin supports, one module per language
//! ([`rust`], [`python`]). Adding a language is a variant of [`Lang`], its
//! name in [`Lang::NAMES`] and a module with a `write` function.

use std::path::{Path, PathBuf};

use super::scaffold_guest::GuestLang;

mod python;
mod rust;

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// A Rust crate on `ravelin-sdk`, built with cargo.
    #[default]
    Rust,
    /// A Python module on `sdk/python`, built with componentize-py.
    Python,
    /// C on wit-bindgen's bindings and `sdk/c`, built with clang and
    /// wasm-tools.
    C,
    /// JavaScript on `sdk/js`, built with componentize-js.
    Js,
}

impl Lang {
    /// Every language, by the name `--lang` takes.
    pub const NAMES: &[(&str, Lang)] = &[
        ("rust", Lang::Rust),
        ("python", Lang::Python),
        ("c", Lang::C),
        ("js", Lang::Js),
    ];
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(name: &str) -> Result<Lang, String> {
        let known = Lang::NAMES.iter().find(|(n, _)| *n == name);
        known.map(|(_, lang)| *lang).ok_or_else(|| {
            let names: Vec<&str> = Lang::NAMES.iter().map(|(n, _)| *n).collect();
            format!(
                "unknown plugin language {name:?}: expected one of {}",
                names.join(", ")
            )
        })
    }
}

/// Where the new plugin gets the SDK from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkDependency {
    /// A path to the SDK crate (a Ravelin checkout's `sdk/`; the Python SDK
    /// is its `python/`, the contract the checkout's `wit/`).
    Path(PathBuf),
    /// A version requirement from the registry.
    Version(String),
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 64
}

/// Writes the files of a new plugin under its directory.
struct Writer {
    dir: PathBuf,
}

impl Writer {
    /// Writes `text` to `rel` under the plugin's directory.
    fn file(&self, rel: &str, text: &str) -> Result<(), String> {
        let path = self.dir.join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)
                .map_err(|e| format!("cannot create {}: {e}", p.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Writes an executable script.
    fn script(&self, rel: &str, text: &str) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        self.file(rel, text)?;
        let path = self.dir.join(rel);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", path.display()))
    }
}

/// Creates `parent/NAME/` holding a new `lang` plugin and returns its path;
/// refuses an invalid name or a directory that exists. What it holds and
/// how to build it: [`rust::write`], [`python::write`].
pub fn scaffold(
    parent: &Path,
    name: &str,
    lang: Lang,
    sdk: &SdkDependency,
) -> Result<PathBuf, String> {
    if !valid_name(name) {
        return Err(format!(
            "{name:?} is not a valid plugin name: use lower-case letters, digits, - and _"
        ));
    }
    let dir = parent.join(name);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    let out = Writer { dir: dir.clone() };
    match lang {
        Lang::Rust => rust::write(&out, name, sdk)?,
        Lang::Python => python::write(&out, name, sdk)?,
        Lang::C => super::scaffold_guest::write(&dir, name, GuestLang::C)?,
        Lang::Js => super::scaffold_guest::write(&dir, name, GuestLang::Js)?,
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(valid_name("my-plugin_2"));
        assert!(!valid_name("My"));
        assert!(!valid_name("2x"));
        assert!(!valid_name("a/b"));
    }

    #[test]
    fn languages_are_named() {
        assert_eq!("python".parse::<Lang>(), Ok(Lang::Python));
        assert_eq!("rust".parse::<Lang>(), Ok(Lang::Rust));
        let unknown = "cobol".parse::<Lang>().unwrap_err();
        assert!(
            unknown.contains("expected one of rust, python"),
            "{unknown}"
        );
    }
}
