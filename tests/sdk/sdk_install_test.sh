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
    # The installed SDK is enough: the template and the author docs come with it.
    test -f "$tmp/sdk/share/junction/sdk/docs/plugin-abi.md"
    cmake -S "$tmp/sdk/share/junction/sdk/template" -B "$tmp/out" -DCMAKE_PREFIX_PATH="$tmp/sdk" \
        -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$tmp/out" -j2 >/dev/null
    "$build/bin/junction-plugin-check" "$tmp/out/my_connector.so"
    # A plain target that links Junction::sdk compiles the headers as C++17 without asking.
    mkdir -p "$tmp/plain"
    cat > "$tmp/plain/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(Plain LANGUAGES CXX)
find_package(JunctionSDK REQUIRED)
add_library(plain OBJECT plain.cpp)
target_link_libraries(plain PRIVATE Junction::sdk)
CMAKE
    printf '#include <junction/sdk/connector.hpp>\n#include <junction/sdk/retry.hpp>\nint plain() { return 0; }\n' \
        > "$tmp/plain/plain.cpp"
    cmake -S "$tmp/plain" -B "$tmp/plain/build" -DCMAKE_PREFIX_PATH="$tmp/sdk" -DCMAKE_CXX_STANDARD=11 >/dev/null
    cmake --build "$tmp/plain/build" >/dev/null
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
