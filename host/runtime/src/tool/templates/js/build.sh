#!/usr/bin/env bash
# Builds the NAME plugin into target/NAME.wasm with componentize-js
# (installed by Ravelin's scripts/setup under RAVELIN_JS, default
# /opt/ravelin-js; or `npm install @bytecodealliance/componentize-js@0.23`).
# Unused WASI features are left out so the component imports only the
# contract.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
componentize="${RAVELIN_JS:-/opt/ravelin-js}/node_modules/.bin/componentize-js"
[ -x "$componentize" ] || componentize="$(command -v componentize-js)" ||
  { echo "build.sh: componentize-js not found (npm install @bytecodealliance/componentize-js@0.23)" >&2; exit 1; }
mkdir -p "$here/target"
"$componentize" "$here/plugin.js" --wit "$here/wit" --world-name filter \
  -d stdio random clocks http fetch-event -o "$here/target/NAME.wasm" >/dev/null
echo "$here/target/NAME.wasm"
