#!/bin/sh
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

img=${1:?usage: run_boot.sh <image> aarch64|riscv64}
arch=${2:?usage: run_boot.sh <image> aarch64|riscv64}
qemu=qemu-system-$arch
vq=$(cd "$(dirname "$0")/../../.." && pwd)/tools/qemu # picks the accelerator
tmo=${VNET_BOOT_TIMEOUT:-30}
args='boot_test greeting=hello quoted="a b" flag'
command -v "$qemu" >/dev/null 2>&1 || { echo "SKIP: $qemu not installed"; exit 77; }
[ -f "$img" ] || { echo "FAIL: no image $img"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail=0

# boot <name> <expected status> <expected line> <image> <append> <qemu args...>
boot() {
	name=$1 want=$2 line=$3 kernel=$4 append=$5
	shift 5
	start=$(date +%s%N)
	timeout "$tmo" "$vq" "$arch" "$@" -m 512 -smp 1 -nodefaults -no-reboot -display none \
		-serial stdio -kernel "$kernel" -append "$append" >"$log" 2>&1 </dev/null
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
	semi="-semihosting-config enable=on,target=native"
	elf=${img%.img}.elf
	boot image   33  '^PASS'           "$img" "$args"  -machine virt -cpu cortex-a57 $semi
	boot crash   253 'CPU exception 60' "$img" crash   -machine virt -cpu cortex-a57 $semi
	boot elf     33  '^PASS'           "$elf" "$args"  -machine virt -cpu cortex-a57 $semi
	boot el2     33  'entered at EL2'  "$img" "$args"  -machine virt,virtualization=on -cpu cortex-a57 $semi
	boot psci    0   'through PSCI'    "$img" "$args"  -machine virt -cpu cortex-a57
else
	boot image   33  '^PASS'           "$img" "$args"  -machine virt
	boot crash   253 'CPU exception 3 (breakpoint)' "$img" crash -machine virt
fi

[ "$fail" -eq 0 ] && echo "boot test ($arch virt): PASS"
exit "$fail"
