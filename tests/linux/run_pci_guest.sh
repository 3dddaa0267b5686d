#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# e2e: the libpciaccess transport inside a Linux guest under QEMU (TCG).
# The guest has two virtio-net-pci devices: 00:03.0 bound to the kernel's
# virtio-pci (must be refused) and 00:04.0 left unbound (driven by vnet),
# whose tap sits in a network namespace this test makes, with an echo on it.
#   run_pci_guest.sh PCI_GUEST_BINARY WORKDIR
# Exit 0 pass, 1 fail, 77 skip (not root, no QEMU, no kernel package).
set -uo pipefail
bin=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (netns, tap)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
mkdir -p "$work"
"$root/tools/guest/build-initramfs" "$bin" "$work"
rc=$?
[ $rc = 77 ] && { echo "SKIP: no guest kernel"; exit 77; }
[ $rc = 0 ] || exit 1

ns=vnetpci$$
qpid= epid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	[ -f "$work/qemu.pid" ] && kill "$(cat "$work/qemu.pid")" 2>/dev/null
	[ -n "$epid" ] && kill "$epid" 2>/dev/null
	sleep 0.3
	ip netns del "$ns" 2>/dev/null
	rm -f "$work/qemu.pid"
}
trap cleanup EXIT INT TERM
ip netns add "$ns" || exit 1
ip netns exec "$ns" ip tuntap add tap0 mode tap || exit 1
ip -n "$ns" link set lo up
ip -n "$ns" link set tap0 up
ip netns exec "$ns" python3 "$here/tap_echo.py" tap0 --seconds 150 >"$work/echo.log" 2>&1 &
epid=$!
rm -f "$work/serial.log" "$work/qemu.pid"
timeout 150 ip netns exec "$ns" "$root/tools/qemu" x86_64 -machine q35 -m 512 -nodefaults -no-reboot \
	-display none -serial "file:$work/serial.log" -pidfile "$work/qemu.pid" \
	-kernel "$work/vmlinuz" -initrd "$work/initrd.gz" -append "console=ttyS0 quiet panic=-1" \
	-netdev user,id=n0,restrict=on -device virtio-net-pci,disable-legacy=on,netdev=n0,addr=0x3 \
	-netdev tap,id=n1,ifname=tap0,script=no,downscript=no,vhost=off \
	-device virtio-net-pci,disable-legacy=on,netdev=n1,addr=0x4 &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
kill "$epid" 2>/dev/null; wait "$epid" 2>/dev/null; epid=
sed 's/^/  guest: /' "$work/serial.log" | grep -v '^  guest: $' | tail -40
cat "$work/echo.log"
[ $qrc = 124 ] && { echo "FAIL: the guest did not finish within 150 s"; exit 1; }
for p in "PASS refuse-bound" "PASS refuse-unnamed" "PASS traffic" "GUEST-DONE rc=0"; do
	grep -q "$p" "$work/serial.log" || { echo "FAIL: no '$p' on the guest's console"; exit 1; }
done
echo "PASS: libpciaccess transport in the guest (refusals, traffic through the tap)"
