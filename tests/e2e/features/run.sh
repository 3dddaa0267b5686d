#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: BSD-3-Clause
# Indirect descriptors and queue reset on QEMU (features_test.c): two
# virtio-net devices on one QEMU hub, so what one sends the other
# receives; no host network, no root.
#   run.sh IMAGE q35|q35-packed|microvm [guest args, e.g. qreset=works]
# Pass: QEMU status 33 (isa-debug-exit 0x10), a PASS line, and on the
# console the ring layout in use (packed for q35-packed, split otherwise:
# the guest asks for RING_PACKED every time, so a driver that fell back to
# split fails here) and, with qreset=works, both queues reset alone and
# counted in the driver's queue_resets; with qreset=fallback, both NICs
# recovered by a device reset after the queue reset failed (the guest
# checks the same: features_test.c). Exit 77 (skip) without QEMU.
set -u
# shellcheck source=../../../tools/lib/qemu.sh
. "$(dirname "$0")/../../../tools/lib/qemu.sh"
img=${1:?usage: run.sh IMAGE q35|q35-packed|microvm [ARGS...]}
mode=${2:?machine}
shift 2
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
[ -f "$img" ] || { echo "FAIL: no image $img"; exit 1; }
case $mode in
q35) machine=q35 tr=pci props="" ring=split ;;
q35-packed) machine=q35 tr=pci props=packed=on, ring=packed ;;
microvm) machine=microvm tr=mmio props="" ring=split ;;
*) echo "run.sh: machine is q35, q35-packed or microvm" >&2; exit 2 ;;
esac
vnet_accel x86_64 || exit 1
log=$(mktemp)
vnet_at_exit rm -f "$log"
vnet_args_reset
vnet_machine x86_64 "$machine"
vnet_headless stdio 256
vnet_exit_device x86_64
VNET_ARGS+=(-netdev "hubport,id=p0,hubid=0" -netdev "hubport,id=p1,hubid=0")
vnet_nic x86_64 "$tr" modern "${props}netdev=p0,mac=52:54:00:10:00:0a"
vnet_nic x86_64 "$tr" modern "${props}netdev=p1,mac=52:54:00:10:00:0b"
VNET_ARGS+=(-kernel "$img" -append "transport=$tr ring=$ring $*")
vnet_qemu_bounded "${VNET_E2E_TIMEOUT:-90}" >"$log" 2>&1 </dev/null
rc=$?
sed 's/^/  | /' "$log"
# what must be on the console besides PASS
missing=""
need() { grep -Eq "$1" "$log" || missing="$missing /$1/"; }
need "^features: .*, $ring ring"
case " $* " in
*" qreset=works "*) need 'B RX queue resets [1-9][0-9]* \(alone\), A TX queue resets [1-9][0-9]* \(alone\)' ;;
*" qreset=fallback "*) need 'B RX queue resets [0-9]+ \(device reset\), A TX queue resets [0-9]+ \(device reset\)' ;;
esac
if [ "$rc" -eq 33 ] && grep -q '^PASS features' "$log" && [ -z "$missing" ]; then
	echo "ok   features $mode ($ring ring)"
	exit 0
fi
echo "FAIL features $mode: QEMU status $rc (want 33)${missing:+; not on the console:$missing}"
exit 1
