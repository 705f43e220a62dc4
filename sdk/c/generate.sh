#!/usr/bin/env bash
# Generates the C bindings of the `filter` world (contract 0.2, `wit/`) into
# OUT_DIR (default: sdk/c/bindings): filter.h, filter.c and
# filter_component_type.o, the object that carries the world's type into
# the module so `wasm-tools component new` can make a component of it.
#
# Borrowed handles (the request and response a hook is given) are dropped by
# the generated code when the hook returns (`--autodrop-borrows yes`): the
# component model traps a hook that returns still holding one, and C has no
# destructor to do it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wit="$here/../../wit"
out="${1:-$here/bindings}"
mkdir -p "$out"
wit-bindgen c "$wit" --world filter --autodrop-borrows yes --out-dir "$out" >/dev/null
