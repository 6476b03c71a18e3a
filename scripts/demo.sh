#!/usr/bin/env bash
# The main job: the demo sync on the embedded defaults. junctiond loads the bundled
# connectors (the jsonl library, the REST engine and the Shopify and NetSuite manifests it
# runs); the simulators play a Shopify store and a NetSuite account on loopback; the
# `junction` CLI adds the two instances (credentials from files, never on the command
# line), saves the order-sync flow (scripts/demo/order-sync.flow.json) and runs it: orders
# read page by page, cancelled ones filtered out, mapped and upserted into NetSuite with a
# JWT-signed OAuth token. A second run shows the incremental cursor at work.
set -euo pipefail
cd "$(dirname "$0")/.."

state=$(mktemp -d -t junction-demo.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$state"
}
trap cleanup EXIT INT TERM

echo "== junctiond loads the bundled connectors from build/plugins into $state"
JUNCTION_STATE_DIR="$state/junction" build/bin/junctiond --plugin-dir build/plugins --allow-unsigned-drops \
    --print-registry 2>/dev/null
echo

# Starts a simulator in the background (in this shell, so the trap can stop it) and sets
# the variable named first to its address once it listens.
start_sim() {
    local var=$1 api=$2
    shift 2
    local log="$state/sim-$api.log"
    build/bin/junction-sim --api "$api" "$@" >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q "listening on" "$log" && break
        sleep 0.05
    done
    printf -v "$var" '%s' "$(grep -o 'http://[0-9.:]*' "$log")"
}

start_sim shop shopify --items 600 --token shpat_demo_token
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$state/netsuite.pem" 2>/dev/null
openssl pkey -in "$state/netsuite.pem" -pubout -out "$state/netsuite.pub"
start_sim netsuite netsuite --public-key "$state/netsuite.pub" --client-id demo-integration
echo "== simulators: Shopify at $shop (600 orders), NetSuite at $netsuite"
echo

echo "== junctiond starts on $state/junction"
build/bin/junctiond --state-dir "$state/junction" --plugin-dir build/plugins --allow-unsigned-drops \
    --listen 127.0.0.1:0 --plugin-watch off >"$state/junctiond.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
    grep -q "admin API listening on" "$state/junctiond.log" && break
    sleep 0.05
done
url=$(grep -o 'listening on http://[0-9.:]*' "$state/junctiond.log" | head -1 | cut -d' ' -f3)
junction() { build/bin/junction --url "$url" --state-dir "$state/junction" "$@"; }
echo "admin API at $url"
echo

echo "== junction instances add: a Shopify store and a NetSuite account"
printf 'shpat_demo_token' >"$state/shop.token"
junction instances add shopify --name shop --set "store_url=$shop" --secret-file "api_key=$state/shop.token"
junction instances add netsuite --name netsuite --set "account_url=$netsuite" --set client_id=demo-integration \
    --set key_id=demo-cert --set rate_limit_per_second=0 --secret-file "private_key=$state/netsuite.pem"
echo

echo "== junction flows save scripts/demo/order-sync.flow.json"
junction flows save scripts/demo/order-sync.flow.json
echo

echo "== junction flows run order-sync --wait"
junction flows run order-sync --wait
echo

echo "== a second run reads only what changed since the first (the last order, again)"
junction flows run order-sync --wait
echo
junction runs list --flow order-sync
