#!/usr/bin/env bash
# Builds the C ab-router into a component:
#   plugins/ab-router-c/build.sh [OUT_DIR]   (default: plugins/ab-router-c/target)
# leaves OUT_DIR/ab_router_c.wasm. Needs clang, lld, wasi-libc and
# libclang-rt-14-dev-wasm32 (Debian), wit-bindgen and wasm-tools (cargo);
# scripts/setup installs them.
#
# 1. wit-bindgen c: the bindings of the `filter` world (sdk/c/generate.sh);
# 2. clang: a wasm32-wasi reactor module (a library with no `main`) of the
#    plugin, the SDK helpers and the bindings;
# 3. wasm-tools component new: the module made a component of the world.
#    The plugin uses nothing of WASI that imports a host function, so no
#    WASI adapter is needed; the build fails if one slips in.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk="$here/../../sdk/c"
out="${1:-$here/target}"
mkdir -p "$out"
"$sdk/generate.sh" "$out/bindings"
clang --target=wasm32-wasi -mexec-model=reactor -Os -Wall -Wextra -Werror \
  -I "$out/bindings" -I "$sdk" \
  -Wl,--strip-all \
  -o "$out/ab_router_c.module.wasm" \
  "$here/ab_router.c" "$sdk/ravelin.c" \
  "$out/bindings/filter.c" "$out/bindings/filter_component_type.o"
if grep -q wasi_snapshot_preview1 "$out/ab_router_c.module.wasm"; then
  echo "build.sh: the module imports WASI preview1 (see docs/c.md, 'WASI')" >&2
  exit 1
fi
wasm-tools component new "$out/ab_router_c.module.wasm" -o "$out/ab_router_c.wasm"
wasm-tools validate "$out/ab_router_c.wasm"
echo "$out/ab_router_c.wasm"
