#!/usr/bin/env bash
# Builds this directory's app.py into a Ravelin plugin component with
# componentize-py, against the contract in wit/ and the Python SDK in
# sdk/python/. Usage: build.sh [OUTPUT.wasm]  (default target/<dir>.wasm)
#
# --stub-wasi: the filter world imports no WASI, so the interpreter's own
# WASI imports are replaced by stubs that trap (Python's time and os.urandom
# are not there: use ravelin_sdk.host).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
name=$(basename "$here" | tr - _)
out=${1:-$here/target/$name.wasm}
componentize_py=${COMPONENTIZE_PY:-/opt/ravelin-py/bin/componentize-py}
if [ ! -x "$componentize_py" ]; then
  echo "build.sh: $componentize_py not found: run scripts/setup (or set COMPONENTIZE_PY)" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
cd "$here"
"$componentize_py" -d "$root/wit" -w filter componentize \
  -p "$here" -p "$root/sdk/python" --stub-wasi app -o "$out"
