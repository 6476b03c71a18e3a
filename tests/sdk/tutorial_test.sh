#!/usr/bin/env bash
# Follows docs/tutorial-first-connector.md literally: every ```sh block, in order, as one
# script, in a scratch HOME, with the build's programs on the PATH. Then checks what the
# tutorial says the reader should see.
#   tutorial_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
# What the tutorial starts in the background, stopped and waited for (its fixed ports must
# be free for the next run), whatever happened.
stop_all() {
    # (The tutorial's junction-sim ends with the shell that started it: it asks the kernel to.)
    local patterns=("junctiond --state-dir $tmp/")
    for p in "${patterns[@]}"; do pkill -f "$p" 2>/dev/null || true; done
    for _ in $(seq 100); do
        local left=0
        for p in "${patterns[@]}"; do pgrep -f "$p" > /dev/null && left=1; done
        [ "$left" = 0 ] && return
        sleep 0.1
    done
    for p in "${patterns[@]}"; do pkill -KILL -f "$p" 2>/dev/null || true; done
}
cleanup() {
    stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/home"
awk '/^```sh$/ {inside=1; next} /^```$/ {inside=0} inside' "$src/docs/tutorial-first-connector.md" > "$tmp/steps.sh"
test -s "$tmp/steps.sh"
# Bounded, so that a step waiting for something that never comes fails with its output.
(cd "$tmp/home" && HOME="$tmp/home" JUNCTION_BUILD="$build" timeout 240 bash -euo pipefail "$tmp/steps.sh") \
    > "$tmp/out.txt" 2>&1 || {
    cat "$tmp/out.txt"
    echo "tutorial_test: the tutorial's steps failed (output above)" >&2
    exit 1
}
fail() { cat "$tmp/out.txt"; echo "tutorial_test: $1" >&2; exit 1; }
grep -q -- "-> conformant" "$tmp/out.txt" || fail "junction-plugin-check did not find the connector conformant"
grep -q "demo-token" "$tmp/out.txt" && fail "the token was printed"
test "$(wc -l < "$tmp/home/items.jsonl")" -eq 251 || fail "items.jsonl does not hold 250 items and the one read again"
test "$(wc -l < "$tmp/home/created.jsonl")" -eq 2 || fail "created.jsonl does not hold the 2 created items"
grep -q '"id":100001,"name":"first"' "$tmp/home/created.jsonl" || fail "the created items did not pass their ids on"
echo "tutorial_test: every step of the tutorial works"
