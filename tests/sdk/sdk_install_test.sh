#!/usr/bin/env bash
# Installs the SDK to a temporary prefix, as an author would, and builds a connector out of
# tree against it. Then checks the result with junction-plugin-check and, for the
# conformance connector, drives it from the g++/libstdc++ host.
#   sdk_install_test.sh template BUILD_DIR SOURCE_DIR        the starter template, g++
#   sdk_install_test.sh clang-libcxx BUILD_DIR SOURCE_DIR    conformance, clang++ + libc++
set -euo pipefail
mode=$1 build=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/sdk" --component sdk >/dev/null
test -f "$tmp/sdk/include/junction/plugin_api.h"
test -f "$tmp/sdk/lib/cmake/JunctionSDK/JunctionSDKConfig.cmake"
test -f "$tmp/sdk/include/junction/json/bounded_reader.hpp"  # the one JSON reader (0013)

case "$mode" in
template)
    cmake -S "$src/sdk/template" -B "$tmp/out" -DCMAKE_PREFIX_PATH="$tmp/sdk" \
        -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$tmp/out" -j2 >/dev/null
    "$build/bin/junction-plugin-check" "$tmp/out/my_connector.so"
    ;;
clang-libcxx)
    cmake -S "$src/tests/conformance" -B "$tmp/out" -DCMAKE_PREFIX_PATH="$tmp/sdk" \
        -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS="-stdlib=libc++" \
        -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$tmp/out" -j2 >/dev/null
    so="$tmp/out/conformance.so"
    # Built by clang: the compiler's mark is in the library's comment section.
    readelf -p .comment "$so" | grep -q clang || { echo "not built by clang" >&2; exit 1; }
    # No C++ runtime is needed at run time: it is linked in, so it cannot clash with ours.
    if readelf -d "$so" | grep NEEDED | grep -E 'libc\+\+|libstdc\+\+'; then
        echo "the connector depends on a shared C++ runtime" >&2; exit 1
    fi
    "$build/bin/junction-plugin-check" "$so" --config '{"label":"check","api_token":"t"}' \
        --invoke 'pages:{"pages":10,"records":4}' --invoke 'echo:{"records":[{"a":1}]}'
    JUNCTION_CONFORMANCE_PLUGIN="$so" JUNCTION_EXPECT_STDLIB=libc++ \
        "$build/bin/abi_conformance_test"
    ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
