#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: BSD-3-Clause
# Boot the environment's boot test (tests/e2e/boot/boot_test.c) on QEMU's
# virt machine and check: the PASS line with QEMU status 33, and an
# exception reported with status 253. On aarch64 also the other ways in and
# out: the ELF instead of the Image (DTB at the start of RAM), entry at EL2
# (virtualization=on), and PSCI SYSTEM_OFF when there is no semihosting
# (status 0 then, so the console line is what is checked).
#   run_boot.sh <boot_test.img|.elf> aarch64|riscv64
# Exit 77 (ctest SKIP_RETURN_CODE) without QEMU.
set -u
# shellcheck source=../../../tools/lib/qemu.sh
. "$(dirname "$0")/../../../tools/lib/qemu.sh"

img=${1:?usage: run_boot.sh <image> aarch64|riscv64}
arch=${2:?usage: run_boot.sh <image> aarch64|riscv64}
tmo=${VNET_BOOT_TIMEOUT:-30}
args='boot_test greeting=hello quoted="a b" flag'
command -v "qemu-system-$arch" >/dev/null 2>&1 || { echo "SKIP: qemu-system-$arch not installed"; exit 77; }
[ -f "$img" ] || { echo "FAIL: no image $img"; exit 1; }
vnet_accel "$arch" || exit 1
log=$(mktemp)
vnet_at_exit rm -f "$log"
fail=0

# boot <name> <expected status> <expected line> <image> <append> [virt's PROPS [noexit]]
# (noexit: no exit device, so the guest must power off through PSCI)
boot() {
	local name=$1 want=$2 line=$3 kernel=$4 append=$5 props=${6:-} start rc ms
	vnet_args_reset
	vnet_machine "$arch" virt "$props"
	vnet_headless stdio 512
	VNET_ARGS+=(-smp 1)
	[ "${7:-}" = noexit ] || vnet_exit_device "$arch"
	VNET_ARGS+=(-kernel "$kernel" -append "$append")
	start=$(date +%s%N)
	vnet_qemu_bounded "$tmo" >"$log" 2>&1 </dev/null
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ "$rc" -eq "$want" ] && grep -q "$line" "$log"; then
		echo "ok   $name: status $rc, $ms ms"
		grep -E '^(vnet:|tsc:|delay)' "$log" | sed 's/^/  | /'
	else
		echo "FAIL $name: status $rc (want $want), $ms ms; console:"
		sed 's/^/  | /' "$log"
		fail=1
	fi
}

if [ "$arch" = aarch64 ]; then
	boot image   33  '^PASS'           "$img"            "$args"
	boot crash   253 'CPU exception 60' "$img"           crash
	boot elf     33  '^PASS'           "${img%.img}.elf" "$args"
	boot el2     33  'entered at EL2'  "$img"            "$args"  virtualization=on
	boot psci    0   'through PSCI'    "$img"            "$args"  "" noexit
else
	boot image   33  '^PASS'           "$img" "$args"
	boot crash   253 'CPU exception 3 (breakpoint)' "$img" crash
fi

[ "$fail" -eq 0 ] && echo "boot test ($arch virt): PASS"
exit "$fail"
