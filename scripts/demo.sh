#!/usr/bin/env bash
# The main job: the demo sync on the embedded defaults, driven only through the `junction`
# CLI, as an operator would. Simulators play three Shopify stores (UK, EU, US) and a
# NetSuite account on loopback; junctiond starts on a temporary state directory; the CLI
# installs the REST engine and the Shopify and NetSuite connectors, adds the four
# instances (credentials from files, never on the command line), saves the order-sync flow
# (scripts/demo/order-sync.flow.json) and runs it. Then a scheduled run starts against a
# slow Shopify, and while it is going the Shopify connector is hot-swapped to a newer
# version: all three store instances move, the run completes without a failed call.
# Everything started here stops on exit, Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."

state=$(mktemp -d -t junction-demo.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$state"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, stopping what it started"; exit 130' INT TERM

section() { printf '\n== %s\n' "$*"; }

# Starts a program in the background (in this shell, so the trap can stop it) and waits
# until its log says it listens; sets the variable named first to the http(s) address.
start_listening() {
    local var=$1 log=$2
    shift 2
    "$@" >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do
        grep -q "listening on" "$log" && break
        sleep 0.05
    done
    local address
    address=$(grep -o 'listening on https\?://[0-9.:]*' "$log" | head -1 | cut -d' ' -f3)
    [ -n "$address" ] || { echo "demo: $* did not start:"; cat "$log"; exit 1; }
    printf -v "$var" '%s' "$address"
}

section "simulators: three Shopify stores and a NetSuite account on loopback"
declare -A store_url orders=([uk]=400 [eu]=500 [us]=600)
for region in uk eu us; do
    start_listening "store_url[$region]" "$state/shopify-$region.log" \
        build/bin/junction-sim --api shopify --items "${orders[$region]}" --token "shpat_demo_$region"
    printf 'shpat_demo_%s' "$region" >"$state/shopify-$region.token"
    echo "shopify-$region: ${store_url[$region]} (${orders[$region]} orders; 1 in 25 cancelled)"
done
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$state/netsuite.pem" 2>/dev/null
openssl pkey -in "$state/netsuite.pem" -pubout -out "$state/netsuite.pub"
start_listening netsuite "$state/netsuite.log" \
    build/bin/junction-sim --api netsuite --public-key "$state/netsuite.pub" --client-id demo-integration
echo "netsuite:   $netsuite (OAuth 2.0 client credentials with an ES256 JWT assertion)"

section "junctiond starts on $state/junction with the embedded defaults (unsigned packages allowed: the demo's are not signed)"
mkdir -p "$state/drop"
start_listening url "$state/junctiond.log" \
    build/bin/junctiond --state-dir "$state/junction" --plugin-dir "$state/drop" --listen 127.0.0.1:0 \
    --allow-unsigned-drops
echo "admin API at $url; log in $state/junctiond.log"
junction() { build/bin/junction --url "$url" --state-dir "$state/junction" "$@"; }

section "junction connectors install: the REST engine, then the Shopify and NetSuite connectors it runs"
junction connectors install "$PWD/build/plugins/rest.so"
junction connectors install "$PWD/build/plugins/shopify.connector.json"
junction connectors install "$PWD/build/plugins/netsuite.connector.json"
junction connectors list

section "junction instances add: three Shopify stores and one NetSuite account"
for region in uk eu us; do
    junction instances add shopify --name "shopify-$region" --set "store_url=${store_url[$region]}" \
        --secret-file "api_key=$state/shopify-$region.token"
done
junction instances add netsuite --name netsuite --set "account_url=$netsuite" --set client_id=demo-integration \
    --set key_id=demo-cert --set rate_limit_per_second=0 --secret-file "private_key=$state/netsuite.pem"
junction instances list

section "junction flows save scripts/demo/order-sync.flow.json"
junction flows save scripts/demo/order-sync.flow.json

section "junction flows run order-sync --wait"
junction flows run order-sync --wait
run=$(junction runs list --flow order-sync | awk 'NR == 2 {print $1}')

section "what was synced, per store"
junction -o json runs show "$run" >"$state/run.json"
count() {  # count SHAPE in|out: from the run's counts
    grep -o "\"$1\":{[^}]*}" "$state/run.json" | grep -o "\"$2\":[0-9]*" | cut -d: -f2
}
printf '%-12s %8s %10s %12s\n' STORE READ CANCELLED "TO NETSUITE"
for region in uk eu us; do
    read=$(count "read-$region" out) open=$(count "open-$region" out)
    printf '%-12s %8s %10s %12s\n' "shopify-$region" "$read" "$((read - open))" "$open"
done
echo "NetSuite sales orders upserted: $(count upsert out)"

section "a scheduled run against a slow Shopify, and a hot swap while it is going"
# The newer Shopify connector: the same manifest as version 1.1.0, installed beside 1.0.0.
# The update policy is manual, so it waits until the admin applies it.
sed 's/"version": "1.0.0"/"version": "1.1.0"/' build/plugins/shopify.connector.json >"$state/shopify-1.1.0.connector.json"
junction connectors install "$state/shopify-1.1.0.connector.json"
# Each store answers its next requests 1.5 s late, so the run lasts a few seconds.
for region in uk eu us; do
    curl -fsS -X POST -d '{"delay_ms":1500,"count":3}' "${store_url[$region]}/_sim/faults" >/dev/null
done
# The next whole minute, or the one after when this one is nearly over (the save must
# land before the firing).
ahead=1
[ "$(date +%-S)" -lt 55 ] || ahead=2
read -r minute hour < <(TZ=Europe/London date -d "+$ahead minute" '+%-M %-H')
sed "s|\"cron\": \"[^\"]*\"|\"cron\": \"$minute $hour * * *\"|" scripts/demo/order-sync.flow.json >"$state/order-sync.flow.json"
junction flows save "$state/order-sync.flow.json" >/dev/null
echo "order-sync now fires at $(printf '%02d:%02d' "$hour" "$minute") Europe/London; waiting for the scheduled run..."
scheduled=""
for _ in $(seq 1300); do
    scheduled=$(junction runs list --flow order-sync --status running | awk 'NR == 2 {print $1}')
    [ -n "$scheduled" ] && break
    sleep 0.05
done
[ -n "$scheduled" ] || { echo "demo: the scheduled run did not start"; exit 1; }
echo "scheduled run $scheduled is going; applying shopify 1.1.0 to every instance now"
junction connectors apply shopify
junction instances list --connector shopify
junction runs wait "$scheduled" >/dev/null && status=completed || status=failed
junction runs show "$scheduled"
echo "the scheduled run $status across the swap; every store instance now runs shopify 1.1.0"

section "look further"
cat <<EOF
The daemon keeps running until you press Enter (or Ctrl-C). Meanwhile, in another terminal:
  export JUNCTION_URL=$url JUNCTION_STATE_DIR=$state/junction
  build/bin/junction runs list --flow order-sync
  build/bin/junction runs log $run
  build/bin/junction runs show $scheduled
  build/bin/junction connectors show shopify      # versions and the update history
  build/bin/junction daemon metrics                # Prometheus text, also at $url/metrics
EOF
if [ -t 0 ]; then read -r _; fi
