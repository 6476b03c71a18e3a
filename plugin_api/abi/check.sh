#!/usr/bin/env bash
# Compares the ABI of plugin_api.h (as carried by the probe library) with the committed
# baseline. Any difference fails: an ABI change must be deliberate, versioned (a new minor
# that only appends, or a new major) and recorded with `make abi-baseline`.
#   check.sh PROBE.so            compare
#   check.sh --update BUILD_DIR  rewrite the baseline from BUILD_DIR's probe
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
baseline="$here/baseline.abi"

if [ "${1:-}" = "--update" ]; then
    abidw --no-corpus-path --no-comp-dir-path --short-locs --out-file "$baseline" "${2:-build}/fixtures/libjn_abi_probe.so"
    echo "baseline updated: $baseline"
    exit 0
fi

probe=$1
current=$(mktemp); trap 'rm -f "$current"' EXIT
abidw --no-corpus-path --no-comp-dir-path --short-locs --out-file "$current" "$probe"
if ! abidiff "$baseline" "$current"; then
    echo "plugin_api.h changed its ABI against plugin_api/abi/baseline.abi (diff above)." >&2
    echo "If this is a deliberate, versioned change, run 'make abi-baseline' and commit." >&2
    exit 1
fi
echo "plugin_api.h ABI matches the baseline"
