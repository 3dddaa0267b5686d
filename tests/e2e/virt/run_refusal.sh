#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A legacy PCI device (no port I/O here) must get a clear error naming the
# QEMU flag that makes it modern, and the appliance must exit (status 3 =
# vnet_main returned 1) rather than hang or crash.
#   run_refusal.sh IMAGE aarch64|riscv64 pci
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=$1 arch=$2 transport=$3
[ "$(id -u)" = 0 ] || { echo "run_refusal: needs root; skipped"; exit 77; }
command -v "qemu-system-$arch" >/dev/null || { echo "run_refusal: no qemu-system-$arch; skipped"; exit 77; }
serial=$(mktemp)
trap 'rm -f "$serial"' EXIT
timeout 120 "$here/../../../tools/qemu-run" --arch "$arch" --transport "$transport" --legacy \
	--timeout 60 --expect-exit 3 --serial "$serial" --append "transport=$transport" "$image"
want='disable-legacy=on'
grep -q -- "$want" "$serial" || { echo "run_refusal: no error naming $want:"; cat "$serial"; exit 1; }
grep -- "$want" "$serial" | head -n 2
echo "run_refusal: $arch $transport legacy device refused with a clear error"
