#!/usr/bin/env bash
# The main job, at this stage of Junction: load the bundled connectors into a fresh state
# directory the way junctiond does, print the registry, and run each connector through the
# conformance checker. (The order-sync demo replaces this once the daemon's API, instances
# and flows exist.)
set -euo pipefail
cd "$(dirname "$0")/.."

state=$(mktemp -d -t junction-demo.XXXXXX)
trap 'rm -rf "$state"' EXIT INT TERM

echo "== junctiond loads the bundled connectors from build/plugins into $state"
JUNCTION_STATE_DIR="$state" build/bin/junctiond --plugin-dir build/plugins --allow-unsigned-drops \
    --print-registry
echo
echo "== Installed under content-addressed names (the dropped files are never loaded):"
(cd "$state" && find plugins -name '*.so' | sed 's/^/   /')
echo

printf '{"id":1,"name":"#1001"}\n{"id":2,"name":"#1002"}\n{"id":3,"name":"#1003"}\n' >"$state/orders.jsonl"
for so in build/plugins/*.so; do
    echo "== junction-plugin-check $(basename "$so")"
    build/bin/junction-plugin-check "$so" \
        --config "{\"path\":\"$state/orders.jsonl\",\"page_size\":2}" \
        --invoke 'records.receive' --invoke 'records.receive:{"from_line":2}'
done
