#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
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
# shellcheck source=../../tools/lib/qemu.sh
. "$here/../../tools/lib/qemu.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (netns, tap)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
mkdir -p "$work"
"$here/build-initramfs.sh" "$bin" "$work"
rc=$?
[ $rc = 77 ] && { echo "SKIP: no guest kernel"; exit 77; }
[ $rc = 0 ] || exit 1
vnet_accel x86_64 || exit 1

ns=vnetpci$$
epid=
stop_echo() { [ -z "$epid" ] || { kill "$epid" 2>/dev/null; wait "$epid" 2>/dev/null; epid=; }; }
vnet_netns_new "$ns" || exit 1
vnet_netns_tap "$ns" tap0 || exit 1
ip netns exec "$ns" python3 "$here/tap_echo.py" tap0 --seconds 150 >"$work/echo.log" 2>&1 &
epid=$!
vnet_at_exit stop_echo
rm -f "$work/serial.log"
vnet_args_reset
vnet_machine x86_64 q35
vnet_headless "file:$work/serial.log" 512
VNET_ARGS+=(-kernel "$work/vmlinuz" -initrd "$work/initrd.gz" -append "console=ttyS0 quiet panic=-1"
	-netdev "user,id=n0,restrict=on" -netdev "tap,id=n1,ifname=tap0,script=no,downscript=no,vhost=off")
vnet_nic x86_64 pci modern netdev=n0,addr=0x3
vnet_nic x86_64 pci modern netdev=n1,addr=0x4
vnet_qemu_start guest 150 "$ns"
vnet_qemu_wait guest
qrc=$?
stop_echo
sed 's/^/  guest: /' "$work/serial.log" | grep -v '^  guest: $' | tail -40
cat "$work/echo.log"
[ $qrc = 124 ] && { echo "FAIL: the guest did not finish within 150 s"; exit 1; }
for p in "PASS refuse-bound" "PASS refuse-unnamed" "PASS traffic" "GUEST-DONE rc=0"; do
	grep -q "$p" "$work/serial.log" || { echo "FAIL: no '$p' on the guest's console"; exit 1; }
done
echo "PASS: libpciaccess transport in the guest (refusals, traffic through the tap)"
