#!/usr/bin/env bash
# Installs the Debian packages Junction builds against, only those missing.
# Idempotent: a second run on a ready machine does nothing and needs no network.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost-dev libboost-filesystem-dev libboost-program-options-dev
  rapidjson-dev libssl-dev doctest-dev libsqlite3-dev libcurl4-openssl-dev
  libsimdjson-dev  # the REST engine reads response pages with it
  libcctz-dev tzdata  # flows: cron schedules and dates in named time zones
  libsystemd-dev  # junctiond tells systemd it is ready (Type=notify)
  libre2-dev  # flows: regex conditions in linear time, no recursion on input length
  liblua5.4-dev  # flows: the script shape (sandboxed Lua 5.4)
  libseccomp-dev  # connector processes: the system calls a connector may not make
  clang libc++-dev libc++abi-dev abigail-tools
  openssl  # the tests' TLS peer (openssl s_server)
  gdb  # tests: gcore of a running junctiond finds no credential in it
  curl  # the demo pokes the simulators and reads /metrics
  libclang-rt-14-dev  # make test-fuzz: libFuzzer and clang's sanitizer runtimes
  postgresql libpq-dev  # the PostgreSQL store; its tests start a server of their own
  wrk  # bench/api: an HTTP load client that costs the machine little CPU
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
