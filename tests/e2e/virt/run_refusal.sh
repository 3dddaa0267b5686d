#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A legacy device must get a clear error naming the QEMU flag that makes it
# modern, and the appliance must exit (status 3 = vnet_main returned 1)
# rather than hang or crash -- tests/e2e/run_refusal.sh for the virt machines.
#   run_refusal.sh IMAGE aarch64|riscv64 pci|mmio
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=$1 arch=$2 transport=$3
[ "$(id -u)" = 0 ] || { echo "run_refusal: needs root; skipped"; exit 77; }
command -v "qemu-system-$arch" >/dev/null || { echo "run_refusal: no qemu-system-$arch; skipped"; exit 77; }
serial=$(mktemp)
trap 'rm -f "$serial"' EXIT
timeout 120 "$here/../../../tools/qemu-run" --arch "$arch" --transport "$transport" --legacy \
	--timeout 60 --expect-exit 3 --serial "$serial" --append "transport=$transport" "$image"
case $transport in
pci) want='disable-legacy=on' ;;
*) want='force-legacy=false' ;;
esac
grep -q -- "$want" "$serial" || { echo "run_refusal: no error naming $want:"; cat "$serial"; exit 1; }
grep -- "$want" "$serial" | head -n 2
echo "run_refusal: $arch $transport legacy device refused with a clear error"
