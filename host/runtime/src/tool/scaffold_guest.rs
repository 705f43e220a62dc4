//! `ravelin plugin new NAME --lang c|js` (called by [`super::scaffold`]): a
//! plugin project in C or JavaScript with everything it builds from inside
//! it — the contract
//! (`wit/`), the language's SDK layer (`sdk/c`, `sdk/js`), the plugin's
//! source and a `build.sh` that writes `target/NAME.wasm` — so it builds
//! outside a Ravelin checkout. The guides are docs/c.md and
//! docs/javascript.md.

use std::path::Path;

/// The languages whose projects this module writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GuestLang {
    /// C with wit-bindgen's C generator, clang and wasm-tools.
    C,
    /// JavaScript with componentize-js.
    Js,
}

/// The contract's files, copied into every project.
const WIT: [(&str, &str); 3] = [
    ("wit/world.wit", include_str!("../../../../wit/world.wit")),
    ("wit/types.wit", include_str!("../../../../wit/types.wit")),
    ("wit/host.wit", include_str!("../../../../wit/host.wit")),
];

/// A language's files: (path in the project, text with `NAME` for the
/// plugin's name, executable).
fn files(lang: GuestLang) -> &'static [(&'static str, &'static str, bool)] {
    match lang {
        GuestLang::C => &[
            ("plugin.c", include_str!("templates/c/plugin.c"), false),
            ("build.sh", include_str!("templates/c/build.sh"), true),
            (
                "sdk/ravelin.h",
                include_str!("../../../../sdk/c/ravelin.h"),
                false,
            ),
            (
                "sdk/ravelin.c",
                include_str!("../../../../sdk/c/ravelin.c"),
                false,
            ),
        ],
        GuestLang::Js => &[
            ("plugin.js", include_str!("templates/js/plugin.js"), false),
            ("build.sh", include_str!("templates/js/build.sh"), true),
            (
                "ravelin.js",
                include_str!("../../../../sdk/js/ravelin.js"),
                false,
            ),
            (
                "ravelin.d.ts",
                include_str!("../../../../sdk/js/ravelin.d.ts"),
                false,
            ),
        ],
    }
}

/// Writes a plugin project in `lang` into `dir`; in it, `./build.sh`
/// writes `target/NAME.wasm`.
pub(super) fn write(dir: &Path, name: &str, lang: GuestLang) -> Result<(), String> {
    let sources = files(lang).iter().copied();
    let wit = WIT.iter().map(|&(path, text)| (path, text, false));
    let ignore = std::iter::once((".gitignore", "/target\n", false));
    for (rel, text, executable) in sources.chain(wit).chain(ignore) {
        write_file(&dir.join(rel), &text.replace("NAME", name), executable)?;
    }
    Ok(())
}

fn write_file(path: &Path, text: &str, executable: bool) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::tool::{Lang, SdkDependency, scaffold};

    #[test]
    fn each_language_gets_a_self_contained_project() {
        let parent = std::env::temp_dir().join(format!("ravelin-guest-{}", std::process::id()));
        let sdk = SdkDependency::Version("0.1".into());
        let c = scaffold(&parent, "edge-c", Lang::C, &sdk).expect("c");
        let source = std::fs::read_to_string(c.join("plugin.c")).expect("plugin.c");
        assert!(source.contains(r#""x-plugin", "edge-c""#), "{source}");
        for file in [
            "build.sh",
            "sdk/ravelin.h",
            "sdk/ravelin.c",
            "wit/world.wit",
        ] {
            assert!(c.join(file).is_file(), "{file}");
        }
        let js = scaffold(&parent, "edge-js", Lang::Js, &sdk).expect("js");
        let build = std::fs::read_to_string(js.join("build.sh")).expect("build.sh");
        assert!(build.contains("target/edge-js.wasm"), "{build}");
        assert!(js.join("ravelin.d.ts").is_file());
        assert!(scaffold(&parent, "edge-js", Lang::Js, &sdk).is_err());
        let _ = std::fs::remove_dir_all(parent);
    }
}
