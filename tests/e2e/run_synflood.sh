#!/usr/bin/env bash
# SYN flood against the echo appliance under QEMU (q35, on a tap in a
# private namespace; tools/qemu-run removes it afterwards): spoofed SYNs
# from off-subnet sources at RATE per second for SECONDS (syn_flood.py,
# written onto the namespace's tap), while a legitimate client connects 20
# times, one connection opened before the flood keeps echoing, and ping
# runs. Passes when the connect time at p99 is within 1 s, every
# connection echoed, the established one never waited over 1 s, pings came
# back and the appliance's counters show half-open connections shed.
#   run_synflood.sh IMAGE [RATE [SECONDS]] [qemu-run options...]
# RATE 10000 and SECONDS 10 by default. Writes the JSON result to
# $ECHO_RESULT when set. Exits 77 (skip) when not root or QEMU is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${1:?usage: run_synflood.sh IMAGE [RATE [SECONDS]] [qemu-run options...]}
shift
rate=10000 secs=10
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then rate=$1; shift; fi
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then secs=$1; shift; fi
[ "$(id -u)" = 0 ] || { echo "run_synflood: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "run_synflood: no QEMU; skipped"; exit 77; }
exec timeout $((secs + 150)) "$here/../../tools/qemu-run" --machine q35 --timeout $((secs + 120)) "$@" \
	--append "ip=10.99.0.2/24 gw=10.99.0.1 ${ECHO_APPEND:-}" "$image" -- \
	python3 "$here/syn_flood.py" --rate "$rate" --seconds "$secs" --connects 20 --bound 1.0
