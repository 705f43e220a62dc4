#!/usr/bin/env bash
# Builds the NAME plugin into target/NAME.wasm: the bindings of the
# `filter` world (wit-bindgen c, borrowed handles dropped when a hook
# returns), a wasm32-wasi reactor module (clang, lld, wasi-libc,
# libclang-rt-14-dev-wasm32), then a component (wasm-tools component new).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/target"
mkdir -p "$out/bindings"
wit-bindgen c "$here/wit" --world filter --autodrop-borrows yes --out-dir "$out/bindings" >/dev/null
clang --target=wasm32-wasi -mexec-model=reactor -Os -Wall -Wextra -Werror -Wl,--strip-all \
  -I "$out/bindings" -I "$here/sdk" -o "$out/NAME.module.wasm" \
  "$here/plugin.c" "$here/sdk/ravelin.c" "$out/bindings/filter.c" "$out/bindings/filter_component_type.o"
if grep -q wasi_snapshot_preview1 "$out/NAME.module.wasm"; then
  echo "build.sh: the module imports WASI preview1 (printf and stdio do): see docs/c.md" >&2
  exit 1
fi
wasm-tools component new "$out/NAME.module.wasm" -o "$out/NAME.wasm"
echo "$out/NAME.wasm"
