#!/usr/bin/env bash
# make demo: kortti on the built-in virtual card. Starts a private pcscd when isolated (see isolate.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ "${KORTTI_TEST_STACK:-}" = 1 ] && ! pgrep -x pcscd >/dev/null; then
  pcscd --foreground >/tmp/kortti-demo-pcscd.log 2>&1 &
  pcscd_pid=$!
  trap 'kill $pcscd_pid 2>/dev/null' EXIT
  sleep 0.5
fi
./kortti list-readers
