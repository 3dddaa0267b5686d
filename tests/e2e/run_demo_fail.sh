#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The main command fails loudly: tools/demo with an appliance that stops
# answering (timeout=1: it exits a second after READY) must exit non-zero,
# name the rows that are not PASS, and end with the line FAIL.
#   run_demo_fail.sh    (uses the images tools/test built: build/bm, build/host)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespace, tap)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)
timeout 240 "$root/tools/demo" --no-build --seconds 1 --guest-args timeout=1 --out "$tmp" >"$tmp/log" 2>&1
rc=$?
s=$(( $(date +%s) - t0 ))
fail=0
[ "$rc" != 0 ] && [ "$rc" != 124 ] || { echo "FAIL: tools/demo exited $rc (want non-zero, not the timeout)"; fail=1; }
[ "$(tail -n1 "$tmp/log")" = FAIL ] || { echo "FAIL: the last line is not FAIL"; fail=1; }
grep -q '^demo: not PASS: .*ping' "$tmp/log" || { echo "FAIL: the ping row is not named as failed"; fail=1; }
if [ $fail = 1 ]; then sed 's/^/  | /' "$tmp/log"; exit 1; fi
grep -E '^\| |^demo: not PASS' "$tmp/log" | head -n 8
echo "demo-fail test: PASS (tools/demo exited $rc after $s s and said FAIL)"
