#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a short while on a copy of its seed corpus
# (tests/fuzz/corpus/<name>/, left untouched). Fails when any target finds a crash, a leak,
# a timeout or runs out of memory, printing the reproducer to run again.
#   tests/fuzz/run_fuzzers.sh [build dir (build-fuzz)] [seconds per target (30)] [target...]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-build-fuzz}" && pwd)" || exit 2
seconds="${2:-30}"
shift 2 2>/dev/null || shift $#
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for bin in "$build"/bin/*_fuzz; do [ -x "$bin" ] && targets+=("$(basename "$bin")"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in $build/bin: build them with cmake --build --preset fuzz" >&2; exit 2; }

# Targets run side by side, one per core (at most FUZZ_JOBS, default: the cores, up to 2):
# each is single-threaded, so two cores halve the pass.
jobs="${FUZZ_JOBS:-$(nproc)}"
[ "$jobs" -gt 2 ] && [ -z "${FUZZ_JOBS:-}" ] && jobs=2
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

# One target: its own copy of the seeds, its own log; "ok" or "failed" in $work/result.
run_one() {
    local name="$1" work="$build/fuzz-runs/$1"
    rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
    [ -d "$here/corpus/$name" ] && cp "$here/corpus/$name"/* "$work/corpus/" 2>/dev/null
    echo "fuzz: $name for ${seconds}s on $(ls "$work/corpus" | wc -l) seeds"
    if "$build/bin/$name" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1; then
        echo ok >"$work/result"
    else
        echo failed >"$work/result"
    fi
}

for name in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_one "$name" &
done
wait

failed=()
for name in "${targets[@]}"; do
    work="$build/fuzz-runs/$name"
    if [ "$(cat "$work/result" 2>/dev/null)" = ok ]; then
        grep -E '^stat::number_of_executed_units|^Done' "$work/log" | tr '\n' ' ' | sed "s/^/fuzz: $name: /"; echo
    else
        failed+=("$name")
        echo "fuzz: $name FAILED; the last lines of $work/log:" >&2
        tail -n 40 "$work/log" >&2
        for a in "$work"/artifacts/*; do
            [ -e "$a" ] && echo "fuzz: reproduce with: $build/bin/$name $a" >&2
        done
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
