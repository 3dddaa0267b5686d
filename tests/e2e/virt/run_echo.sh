#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End-to-end test of the echo appliance on QEMU's virt machine, on a tap in
# a private namespace (tools/qemu-run removes it afterwards, even on
# failure): 100 pings with none lost, 1 MiB TCP echo with its content
# checked, UDP echo, iperf2 against lwiperf for 3 s, then "quit" and exit
# status 33 -- the same checks as tests/e2e/run_echo.sh on x86_64: the
# split ring in use, the interface named (legacy with --legacy, else
# modern), and the guest's last counters without a driver error or a
# recovery (echo_check.py).
#   run_echo.sh IMAGE aarch64|riscv64 pci|mmio [qemu-run options...]
# Writes the JSON result to $ECHO_RESULT when set. With ECHO_WAKES=N, the
# appliance's counters must show at least N halts ended by the NIC's
# interrupt, counted by its handler, and at least N such interrupts taken
# (../check_wakes.sh): the sleep-when-idle path. Exits 77 (skip) when not
# root or the architecture's QEMU is missing. Under TCG a run takes 10-15 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=$1 arch=$2 transport=$3; shift 3
[ "$(id -u)" = 0 ] || { echo "run_echo: needs root for the namespace; skipped"; exit 77; }
command -v "qemu-system-$arch" >/dev/null || { echo "run_echo: no qemu-system-$arch; skipped"; exit 77; }
case " $* " in *" --legacy "*) iface=legacy ;; *) iface=modern ;; esac
serial=$(mktemp)
trap 'rm -f "$serial"' EXIT
timeout 150 "$here/../../../tools/qemu-run" --arch "$arch" --transport "$transport" \
	--timeout 120 --serial "$serial" "$@" --append "ip=10.99.0.2/24 gw=10.99.0.1" "$image" -- \
	python3 "$here/../echo_check.py" --pings 100 --tcp-bytes 1048576 --iperf-seconds 3 \
	--label "$arch-$transport" --expect-serial "ring layout: split" --expect-serial "interface: $iface"
if [ -n "${ECHO_WAKES:-}" ]; then
	"$here/../check_wakes.sh" "$serial" "$ECHO_WAKES"
fi
