//! `ravelin plugin new NAME --lang python`: a Python module on the Python
//! SDK (`sdk/python`), built into a component by componentize-py
//! (`build.sh`) and tried offline with `ravelin plugin test` (`test.sh`).
//! It builds against a Ravelin checkout's `wit/` and `sdk/python/`, whose
//! path `build.sh` keeps (or takes from `RAVELIN_SRC`).

use super::{SdkDependency, Writer};

/// `app.py`: the same starting plugin as the Rust template.
const APP: &str = r#""""The `NAME` Ravelin plugin (contract `ravelin:plugin@0.2.0`)."""

from dataclasses import dataclass
from typing import Optional

from ravelin_sdk import Hooks, Plugin, Reply, export, log


@dataclass
class Settings:
    """This plugin's configuration: the `config` table of `[plugins.NAME]`."""

    deny_prefix: Optional[str] = None
    """Requests whose path starts with this are answered with 403."""


class Main(Plugin):
    # The hooks beyond on_request this plugin implements: a hook not listed
    # here is never called. Without ON_RESPONSE the host gives the instance
    # back as soon as on_request returns.
    hooks = Hooks.ON_RESPONSE

    def __init__(self, config):
        # Runs once per plugin version, before any request: parse and
        # prepare here. Raising refuses the configuration.
        self.settings = config.parse(Settings)

    def on_request(self, req):
        prefix = self.settings.deny_prefix
        if prefix is not None and req.path().startswith(prefix):
            log.info(f"denied {req.path()}")
            return Reply.text(403, "forbidden\n")
        req.set_header("x-plugin", "NAME")
        return None  # go on to the upstream

    def on_response(self, req, resp):
        resp.set_header("x-plugin", "NAME")
        return None


# componentize-py exports the hooks of the class named WitWorld.
WitWorld = export(Main)
"#;

/// `build.sh`: componentize-py against the checkout's contract and SDK.
const BUILD: &str = r#"#!/usr/bin/env bash
# Builds app.py into target/MODULE.wasm, the component the proxy loads.
# Needs componentize-py (Ravelin's scripts/setup installs it in
# /opt/ravelin-py) and a Ravelin checkout (for wit/ and sdk/python/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${RAVELIN_SRC:-CHECKOUT}
componentize_py=${COMPONENTIZE_PY:-/opt/ravelin-py/bin/componentize-py}
[ -x "$componentize_py" ] || { echo "build.sh: no $componentize_py: run scripts/setup in the Ravelin checkout, or set COMPONENTIZE_PY" >&2; exit 1; }
[ -d "$src/wit" ] || { echo "build.sh: no Ravelin checkout at $src: set RAVELIN_SRC" >&2; exit 1; }
mkdir -p "$here/target"
cd "$here"
# --stub-wasi: the proxy gives plugins no WASI; the interpreter's WASI
# imports become stubs that trap (use ravelin_sdk.host for time and random).
"$componentize_py" -d "$src/wit" -w filter componentize \
  -p "$here" -p "$src/sdk/python" --stub-wasi app -o "$here/target/MODULE.wasm"
echo "built $here/target/MODULE.wasm"
"#;

/// `test.sh`: builds, then runs the component through every hook offline.
const TEST: &str = r#"#!/usr/bin/env bash
# Builds the plugin, then runs it offline through the proxy's plugin
# runtime (`ravelin plugin test`) and checks what it answered.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ravelin=${RAVELIN:-ravelin}
"$here/build.sh"
out=$("$ravelin" plugin test "$here/target/MODULE.wasm" \
  --config '{"deny_prefix": "/admin"}' \
  --request 'GET /admin/users' --request 'GET /hello')
echo "$out"
grep -q '^  403 Forbidden' <<<"$out" || { echo "test.sh: /admin/users was not refused" >&2; exit 1; }
grep -q 'x-plugin: NAME' <<<"$out" || { echo "test.sh: x-plugin was not set" >&2; exit 1; }
echo "test.sh: ok"
"#;

/// Writes `app.py`, `build.sh`, `test.sh` and `.gitignore`; `./build.sh`
/// writes `target/NAME.wasm` (dashes as underscores).
pub(super) fn write(out: &Writer, name: &str, sdk: &SdkDependency) -> Result<(), String> {
    let SdkDependency::Path(sdk) = sdk else {
        return Err(
            "a Python plugin builds against a Ravelin checkout's wit/ and \
                    sdk/python/: pass --sdk-path CHECKOUT/sdk"
                .into(),
        );
    };
    let checkout = sdk.parent().unwrap_or(sdk);
    let module = name.replace('-', "_");
    let fill = |text: &str| {
        text.replace("NAME", name)
            .replace("MODULE", &module)
            .replace("CHECKOUT", &checkout.display().to_string())
    };
    out.file("app.py", &fill(APP))?;
    out.script("build.sh", &fill(BUILD))?;
    out.script("test.sh", &fill(TEST))?;
    out.file(".gitignore", "/target\n__pycache__/\n")
}

#[cfg(test)]
mod tests {
    use super::super::{Lang, scaffold};
    use super::*;

    #[test]
    fn scaffold_writes_a_python_plugin_against_the_checkout() {
        let parent =
            std::env::temp_dir().join(format!("ravelin-scaffold-py-{}", std::process::id()));
        let sdk = SdkDependency::Path("/src/ravelin/sdk".into());
        let dir = scaffold(&parent, "bot-filter", Lang::Python, &sdk).expect("scaffold");
        let app = std::fs::read_to_string(dir.join("app.py")).expect("app.py");
        assert!(
            app.contains(r#"req.set_header("x-plugin", "bot-filter")"#),
            "{app}"
        );
        let build = std::fs::read_to_string(dir.join("build.sh")).expect("build.sh");
        assert!(build.contains("${RAVELIN_SRC:-/src/ravelin}"), "{build}");
        assert!(build.contains("target/bot_filter.wasm"), "{build}");
        let _ = std::fs::remove_dir_all(parent);
    }

    #[test]
    fn a_python_plugin_needs_a_checkout() {
        let parent =
            std::env::temp_dir().join(format!("ravelin-scaffold-pyv-{}", std::process::id()));
        let sdk = SdkDependency::Version("0.1".into());
        let refused = scaffold(&parent, "p", Lang::Python, &sdk).unwrap_err();
        assert!(refused.contains("--sdk-path"), "{refused}");
        let _ = std::fs::remove_dir_all(parent);
    }
}
