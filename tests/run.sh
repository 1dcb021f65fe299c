#!/usr/bin/env bash
# Runs the whole test suite inside the isolated test stack and ends with one plain summary line
# ("tests: N passed, N failed"). Usage: tests/run.sh [deno test arguments...]
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
deno="${DENO:-$here/tools/node_modules/.bin/deno}"
log=$(mktemp /tmp/kortti-test.XXXXXX)
trap 'rm -f "$log"' EXIT
args=("$@"); [ ${#args[@]} -eq 0 ] && args=(tests/)
tests/stack/isolate.sh "$deno" test --allow-all --no-check "${args[@]}" 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)
passed=$(echo "$summary" | sed -nE 's/.* ([0-9]+) passed.*/\1/p'); failed=$(echo "$summary" | sed -nE 's/.*\| ([0-9]+) failed.*/\1/p')
ignored=$(echo "$summary" | sed -nE 's/.*\| ([0-9]+) ignored.*/\1/p')
echo "tests: ${passed:-0} passed, ${failed:-0} failed${ignored:+, $ignored skipped}"
exit "$code"
