#!/usr/bin/env bash
# make demo: kortti against a private pcscd + vpcd with the built-in virtual v4 card plugged in, then the
# certificates of the in-process virtual card. Run through tests/stack/isolate.sh (the Makefile does): it starts
# pcscd only where that cannot touch a pcscd the user runs (KORTTI_TEST_STACK=1), and cleans up after itself.
set -uo pipefail
cd "$(dirname "$0")/../.."
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null; done
  wait 2>/dev/null
  rm -f "${vcard_log:-}"
}
trap cleanup EXIT

# Whether `./kortti COMMAND` is implemented yet (the stubs answer "not implemented" with exit 70).
implemented() { ! ./kortti "$@" --help 2>&1 | grep -qi "not implemented" && ./kortti "$@" --help >/dev/null 2>&1; }

card_present() { ./kortti list-readers --json 2>/dev/null | grep -q '"cardPresent":true'; }

if [ "${KORTTI_TEST_STACK:-}" = 1 ] && [ ! -S /run/pcscd/pcscd.comm ]; then
  pcscd --foreground >/tmp/kortti-demo-pcscd.log 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do ./kortti list-readers >/dev/null 2>&1 && break; sleep 0.1; done
fi

plugged=0
if implemented virtual-card && ./kortti list-readers >/dev/null 2>&1; then
  vcard_log=$(mktemp /tmp/kortti-demo-vcard.XXXXXX)
  ./kortti virtual-card --profile v4 --vpcd 127.0.0.1:35963 >"$vcard_log" 2>&1 &
  pids+=($!)
  for _ in $(seq 40); do card_present && { plugged=1; break; }; sleep 0.25; done
  [ "$plugged" = 1 ] || { echo "demo: the virtual card did not show up in PC/SC:" >&2; cat "$vcard_log" >&2; }
fi

echo "\$ kortti list-readers"
./kortti list-readers
status=$?

if implemented list-certs; then
  echo
  echo "\$ kortti list-certs --virtual-card"
  ./kortti list-certs --virtual-card || status=$?
else
  echo
  echo "(kortti list-certs is not implemented yet)"
fi
exit "$status"
