#!/usr/bin/env bash
# End-to-end test of the echo appliance under QEMU, on a tap in a private
# namespace (tools/qemu-run removes it afterwards, even on failure):
# 100 pings with none lost, 1 MiB TCP echo with its content checked, UDP
# echo, iperf2 against lwiperf for 3 s, then "quit" and exit status 33.
# The console must name the ring layout the driver set up: packed when the
# guest was asked for it (ECHO_APPEND with packed=on), split otherwise, or
# ECHO_RING=packed|split; a driver that fell back to split fails. The
# guest's last counters must show no driver error and no recovery
# (echo_check.py).
#   run_echo.sh IMAGE q35|microvm [qemu-run options...]
# Writes the JSON result to $ECHO_RESULT when set. With ECHO_WAKES=N, the
# appliance's counters must show at least N halts ended by the NIC's MSI-X
# (its interrupt handler counted one during the halt) and at least N MSI-X
# interrupts taken: the sleep-when-idle path.
# Exits 77 (skip) when not root or QEMU is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=$1 machine=$2; shift 2
[ "$(id -u)" = 0 ] || { echo "run_echo: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "run_echo: no QEMU; skipped"; exit 77; }
case " ${ECHO_APPEND:-} " in
*" packed=on "*) ring=${ECHO_RING:-packed} ;;
*) ring=${ECHO_RING:-split} ;;
esac
serial=$(mktemp)
trap 'rm -f "$serial"' EXIT
timeout 240 "$here/../../tools/qemu-run" --machine "$machine" --timeout 180 --serial "$serial" "$@" \
	--append "ip=10.99.0.2/24 gw=10.99.0.1 ${ECHO_APPEND:-}" "$image" -- \
	python3 "$here/echo_check.py" --pings 100 --tcp-bytes 1048576 --iperf-seconds 3 --label "$machine" \
	--expect-serial "ring layout: $ring"
if [ -n "${ECHO_WAKES:-}" ]; then
	# each report covers the time since the previous one: sum them
	lines=$(grep -E "[0-9]+ halts \([0-9]+ ended by the timer, [0-9]+ by the NIC's MSI-X\); interrupts taken: NIC MSI-X [0-9]+," "$serial" || true)
	[ -n "$lines" ] || { echo "run_echo: no halt and interrupt counters on the console"; exit 1; }
	read -r halts timer nic irqs < <(sed -E "s/.* ([0-9]+) halts \(([0-9]+) ended by the timer, ([0-9]+) by the NIC's MSI-X\); interrupts taken: NIC MSI-X ([0-9]+),.*/\1 \2 \3 \4/" <<<"$lines" |
		awk '{h += $1; t += $2; n += $3; i += $4} END {print h, t, n, i}')
	echo "run_echo: $halts halts, $nic ended by the NIC's MSI-X, $timer by the timer; $irqs MSI-X interrupts taken"
	if [ "$nic" -lt "$ECHO_WAKES" ] || [ "$irqs" -lt "$ECHO_WAKES" ]; then
		echo "run_echo: FAIL: fewer than $ECHO_WAKES halts ended by an MSI-X interrupt, or fewer than $ECHO_WAKES taken"
		exit 1
	fi
fi
