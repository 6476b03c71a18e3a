#!/usr/bin/env bash
# The main job, at this stage of Junction: load the bundled connectors (the jsonl library,
# the REST engine and the Shopify and NetSuite manifests it runs) into a fresh state
# directory the way junctiond does, then play Shopify and NetSuite with the simulators and
# run the two manifests against them with the connector builder: orders read from the
# store, sales orders upserted into NetSuite with a JWT-signed OAuth token. (The order-sync
# flow replaces the last steps once flows exist.)
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

printf '{"store_url":"%s","api_key":"shpat_demo_token"}\n' "$shop" >"$state/shop.json"
echo "== junction builder test shopify orders.receive (2 pages; the access token shows as ***)"
build/bin/junction builder test build/plugins/shopify.connector.json --endpoint orders.receive \
    --config "$state/shop.json" --pages 2 --show 1
echo

key=$(sed ':a;N;$!ba;s/\n/\\n/g' "$state/netsuite.pem")
printf '{"account_url":"%s","client_id":"demo-integration","key_id":"demo-cert","private_key":"%s"}\n' \
    "$netsuite" "$key" >"$state/netsuite.json"
cat >"$state/orders.json" <<'JSON'
[{"externalId":"shopify-5000000000","entity":{"email":"customer7000000@example.com"},"currency":"EUR","memo":"#1001"},
 {"externalId":"shopify-5000000001","entity":{"email":"customer7000001@example.com"},"currency":"USD","memo":"#1002"}]
JSON
echo "== junction builder test netsuite salesorder.upsert (JWT assertion and bearer token show as ***)"
build/bin/junction builder test build/plugins/netsuite.connector.json --endpoint salesorder.upsert \
    --config "$state/netsuite.json" --records "$state/orders.json" --show 2
echo

echo "== junction-plugin-check jsonl.so"
printf '{"id":1,"name":"#1001"}\n{"id":2,"name":"#1002"}\n{"id":3,"name":"#1003"}\n' >"$state/orders.jsonl"
build/bin/junction-plugin-check build/plugins/jsonl.so \
    --config "{\"path\":\"$state/orders.jsonl\",\"page_size\":2}" \
    --invoke 'records.receive' --invoke 'records.receive:{"from_line":2}'
