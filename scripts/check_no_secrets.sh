#!/usr/bin/env bash
# Fails when a file under version control holds what must never be committed: a private
# key, a token-looking secret, an SQLite store, or a state file (admin.token, master.key).
# Run by `make test` (so by CI); run it alone before a commit: bash scripts/check_no_secrets.sh
#
# A key that is test data on purpose goes in ALLOWED below, by path, with why; none is today
# (the tests make their keys at run time). jwt.cpp names the PEM header in an error message:
# a key is a header followed by base64, which is what is looked for.
set -euo pipefail
cd "$(dirname "$0")/.."

ALLOWED=(
    # "tests/fixtures/keys/example_test_key.pem"  # why it is safe to publish
)

# Known token shapes: GitHub, AWS access key, Slack, Stripe live key, Shopify admin token,
# and a Bearer header with a long literal value.
TOKEN_PATTERN='(ghp_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}|AKIA[0-9A-Z]{16}|xox[abprs]-[0-9A-Za-z-]{10,}|sk_live_[0-9A-Za-z]{24,}|shpat_[0-9a-f]{32}|Bearer [A-Za-z0-9._~+/-]{40,})'
KEY_PATTERN='-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{40,}'

allowed() {
    local f
    for f in "${ALLOWED[@]}"; do [[ "$1" == "$f" ]] && return 0; done
    return 1
}

problems=0
report() {
    echo "check_no_secrets: $1: $2" >&2
    problems=$((problems + 1))
}

while IFS= read -r -d '' file; do
    [[ -f "$file" ]] || continue  # deleted in the work tree, not yet in the index
    allowed "$file" && continue
    case "$(basename "$file")" in
        admin.token | master.key | master.key.next | *.db | *.db-wal | *.db-shm | *.sqlite | *.sqlite3)
            report "$file" "a state file (token, master key or store) is under version control" ;;
    esac
    if [[ "$(head -c 15 "$file" | tr -d '\0')" == "SQLite format 3" ]]; then
        report "$file" "an SQLite database is under version control"
    fi
    if grep -qPz -- "$KEY_PATTERN" "$file" 2>/dev/null; then
        report "$file" "holds a private key"
    fi
    if grep -qIE -- "$TOKEN_PATTERN" "$file" 2>/dev/null; then
        report "$file" "holds a token-looking secret: $(grep -oIE -- "$TOKEN_PATTERN" "$file" | head -n1 | cut -c1-8)..."
    fi
done < <(git ls-files -z)

if ((problems > 0)); then
    echo "check_no_secrets: $problems problem(s): remove the file(s) from git (git rm --cached), rotate what leaked" >&2
    exit 1
fi
echo "check_no_secrets: no key, token or store under version control"
