#!/usr/bin/env bash
# Runs a command with a private PC/SC test stack: when root, in its own mount and network namespaces, so that the
# pcscd it starts (on a private /run/pcscd) and the ports it uses (vpcd 35963/35964, serve 53952/44304) never touch
# a pcscd or service the user already runs. Inside, KORTTI_TEST_STACK=1 tells the tests they may start pcscd.
# Without root: if no pcscd runs, tests may start one only where /run/pcscd is writable; otherwise the PC/SC stack
# tests skip themselves with a message (KORTTI_TEST_STACK unset).
# Usage: tests/stack/isolate.sh COMMAND [ARGS...]
set -euo pipefail
# OpenSC 0.23 reads DVV cards only through its generic driver, off by default: see tests/stack/opensc.conf.
export OPENSC_CONF="${OPENSC_CONF:-$(cd "$(dirname "$0")" && pwd)/opensc.conf}"
if [ "${KORTTI_TEST_ISOLATED:-}" = 1 ]; then exec "$@"; fi
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v pcscd >/dev/null \
  && unshare --mount --net --propagation private true 2>/dev/null; then
  mkdir -p /run/pcscd
  exec unshare --mount --net --propagation private --fork bash -c '
    set -e
    ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null || { echo "isolate: cannot bring up loopback" >&2; exit 1; }
    mount -t tmpfs -o mode=0755 tmpfs /run/pcscd
    export KORTTI_TEST_ISOLATED=1 KORTTI_TEST_STACK=1
    exec "$@"' isolate "$@"
fi
if command -v pcscd >/dev/null && ! pgrep -x pcscd >/dev/null && [ -w /run/pcscd -o -w /run ]; then
  export KORTTI_TEST_STACK=1
else
  echo "isolate: cannot isolate a private pcscd here (not root, or a pcscd is already running): PC/SC stack tests will be skipped" >&2
fi
exec "$@"
