#!/bin/sh
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
img=${1:?usage: run.sh IMAGE q35|q35-packed|microvm [ARGS...]}
mode=${2:?machine}
shift 2
qemu=qemu-system-x86_64
vq=$(cd "$(dirname "$0")/../../.." && pwd)/tools/qemu # picks the accelerator
command -v "$qemu" >/dev/null 2>&1 || { echo "SKIP: $qemu not installed"; exit 77; }
[ -f "$img" ] || { echo "FAIL: no image $img"; exit 1; }
case $mode in
q35) machine="-machine q35" dev="virtio-net-pci,disable-legacy=on" targ=pci ring=split ;;
q35-packed) machine="-machine q35" dev="virtio-net-pci,disable-legacy=on,packed=on" targ=pci ring=packed ;;
microvm) machine="-machine microvm -global virtio-mmio.force-legacy=false" dev=virtio-net-device targ=mmio ring=split ;;
*) echo "run.sh: machine is q35, q35-packed or microvm" >&2; exit 2 ;;
esac
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086 # $machine holds several words
timeout "${VNET_E2E_TIMEOUT:-90}" "$vq" x86_64 $machine -m 256 -nodefaults -no-reboot -display none \
	-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-netdev hubport,id=p0,hubid=0 -netdev hubport,id=p1,hubid=0 \
	-device "$dev,netdev=p0,mac=52:54:00:10:00:0a" -device "$dev,netdev=p1,mac=52:54:00:10:00:0b" \
	-kernel "$img" -append "transport=$targ ring=$ring $*" >"$log" 2>&1 </dev/null
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
