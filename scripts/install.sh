#!/usr/bin/env bash
# `make install`: installs junctiond and the CLI system-wide (see host/CMakeLists.txt for the
# layout) and, when run as root on the real system (no DESTDIR), creates the `junction`
# system user that the systemd unit runs as and gives it the state directory.
#   PREFIX=/usr/local (default)   DESTDIR=/tmp/stage (packaging: files only)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${PREFIX:-/usr/local}"
cmake --install build --prefix "$prefix" --component runtime

if [ -n "${DESTDIR:-}" ]; then
  echo "install: staged under $DESTDIR (no user created)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install: run as root (sudo make install) to create the junction user and own /var/lib/junction" >&2
  exit 1
fi
getent passwd junction >/dev/null ||
  useradd --system --home-dir /var/lib/junction --no-create-home --shell /usr/sbin/nologin junction
chown -R junction:junction /var/lib/junction
cat <<MSG
install: done.
  systemctl daemon-reload && systemctl enable --now junctiond
  settings: /etc/junction/junctiond.conf   state: /var/lib/junction   connectors: $prefix/lib/junction/plugins
  sudo -u junction junction --state-dir /var/lib/junction connectors list
MSG
