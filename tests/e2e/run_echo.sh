#!/usr/bin/env bash
# End-to-end test of the echo appliance under QEMU, on a tap in a private
# namespace (tools/qemu-run removes it afterwards, even on failure):
# 100 pings with none lost, 1 MiB TCP echo with its content checked, UDP
# echo, iperf2 against lwiperf for 3 s, then "quit" and exit status 33.
#   run_echo.sh IMAGE q35|microvm [qemu-run options...]
# Writes the JSON result to $ECHO_RESULT when set. With ECHO_WAKES=N, the
# appliance's last counters must show at least N halts ended by the NIC's
# interrupt (MSI-X) rather than by the timer: the sleep-when-idle path.
# Exits 77 (skip) when not root or QEMU is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=$1 machine=$2; shift 2
[ "$(id -u)" = 0 ] || { echo "run_echo: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "run_echo: no QEMU; skipped"; exit 77; }
serial=$(mktemp)
trap 'rm -f "$serial"' EXIT
timeout 240 "$here/../../tools/qemu-run" --machine "$machine" --timeout 180 --serial "$serial" "$@" \
	--append "ip=10.99.0.2/24 gw=10.99.0.1 ${ECHO_APPEND:-}" "$image" -- \
	python3 "$here/echo_check.py" --pings 100 --tcp-bytes 1048576 --iperf-seconds 3 --label "$machine"
if [ -n "${ECHO_WAKES:-}" ]; then
	line=$(grep -E '[0-9]+ halts \([0-9]+ ended by the timer' "$serial" | tail -1)
	halts=$(sed -E 's/.* ([0-9]+) halts \(([0-9]+) ended.*/\1/' <<<"$line")
	timer=$(sed -E 's/.* ([0-9]+) halts \(([0-9]+) ended.*/\2/' <<<"$line")
	[ -n "$line" ] || { echo "run_echo: no halt counters on the console"; exit 1; }
	echo "run_echo: $halts halts, $((halts - timer)) ended by the NIC, $timer by the timer"
	[ $((halts - timer)) -ge "$ECHO_WAKES" ] || { echo "run_echo: fewer than $ECHO_WAKES NIC wake-ups"; exit 1; }
fi
