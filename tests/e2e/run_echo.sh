#!/usr/bin/env bash
# End-to-end test of the echo appliance under QEMU, on a tap in a private
# namespace (tools/qemu-run removes it afterwards, even on failure):
# 100 pings with none lost, 1 MiB TCP echo with its content checked, UDP
# echo, iperf2 against lwiperf for 3 s, then "quit" and exit status 33.
# The console must name the ring layout the driver set up: packed when the
# guest was asked for it (ECHO_APPEND with packed=on), split otherwise, or
# ECHO_RING=packed|split; a driver that fell back to split fails. It must
# name the interface too: legacy with --legacy, or with --transitional and
# legacy=on in ECHO_APPEND; modern otherwise; ECHO_HDR=N: the header length. The
# guest's last counters must show no driver error and no recovery
# (echo_check.py).
#   run_echo.sh IMAGE q35|microvm [qemu-run options...]
# Writes the JSON result to $ECHO_RESULT when set. With ECHO_WAKES=N, the
# appliance's counters must show at least N halts ended by the NIC's
# interrupt (its handler counted one during the halt) and at least N such
# interrupts taken: the sleep-when-idle path (check_wakes.sh; q35: the
# NIC's MSI-X, microvm: its virtio-mmio line through the I/O APIC).
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
iface=modern
case " $* " in
*" --legacy "*) iface=legacy ;;
*" --transitional "*) case " ${ECHO_APPEND:-} " in *" legacy=on "*) iface=legacy ;; esac ;;
esac
want=(--expect-serial "ring layout: $ring" --expect-serial "interface: $iface${ECHO_HDR:+, header $ECHO_HDR bytes}")
serial=$(mktemp)
trap 'rm -f "$serial"' EXIT
timeout 240 "$here/../../tools/qemu-run" --machine "$machine" --timeout 180 --serial "$serial" "$@" \
	--append "ip=10.99.0.2/24 gw=10.99.0.1 ${ECHO_APPEND:-}" "$image" -- \
	python3 "$here/echo_check.py" --pings 100 --tcp-bytes 1048576 --iperf-seconds 3 --label "$machine" \
	"${want[@]}"
if [ -n "${ECHO_WAKES:-}" ]; then
	"$here/check_wakes.sh" "$serial" "$ECHO_WAKES"
fi
