#!/usr/bin/env bash
# Builds the JavaScript ab-router into a component:
#   plugins/ab-router-js/build.sh [OUT_DIR]   (default: plugins/ab-router-js/target)
# leaves OUT_DIR/ab_router_js.wasm (about 12 MiB: the StarlingMonkey
# JavaScript engine with the program loaded). Needs node and
# @bytecodealliance/componentize-js, which scripts/setup installs under
# RAVELIN_JS (default /opt/ravelin-js).
#
# componentize-js loads the program from one directory, so the plugin's
# source and the SDK layer (sdk/js/ravelin.js) are copied into OUT_DIR/src
# first. `-d ...` leaves out the WASI features a plugin does not use (stdio,
# random, clocks, wasi:http and its fetch event): the component then
# imports only the contract.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
out="${1:-$here/target}"
componentize="${RAVELIN_JS:-/opt/ravelin-js}/node_modules/.bin/componentize-js"
[ -x "$componentize" ] || { echo "build.sh: $componentize is missing: run scripts/setup" >&2; exit 1; }
mkdir -p "$out/src"
cp "$here/ab_router.js" "$root/sdk/js/ravelin.js" "$out/src/"
"$componentize" "$out/src/ab_router.js" --wit "$root/wit" --world-name filter \
  -d stdio random clocks http fetch-event -o "$out/ab_router_js.wasm" >/dev/null
echo "$out/ab_router_js.wasm"
