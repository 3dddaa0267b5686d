#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Boot the bare-metal boot test on q35 and microvm, and check that an
# exception is reported. Usage: run.sh <boot_test.elf>
#
# A pass is QEMU exit status 33 (isa-debug-exit: (0x10 << 1) | 1) AND a
# PASS line on the console. Status 0 means a triple fault under -no-reboot,
# 124 the timeout; both fail. Exit 77 (ctest SKIP_RETURN_CODE) without QEMU.
set -u

img=${1:?usage: run.sh <boot_test.elf>}
qemu=qemu-system-x86_64
vq=$(cd "$(dirname "$0")/../../.." && pwd)/tools/qemu # picks the accelerator
tmo=${VNET_BOOT_TIMEOUT:-30}
args='boot_test greeting=hello quoted="a b" flag'
command -v "$qemu" >/dev/null 2>&1 || { echo "SKIP: $qemu not installed"; exit 77; }
[ -f "$img" ] || { echo "FAIL: no image $img"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail=0

# boot <name> <expected status> <expected line> <append> <qemu machine args...>
boot() {
	name=$1 want=$2 line=$3 append=$4
	shift 4
	start=$(date +%s%N)
	timeout "$tmo" "$vq" x86_64 "$@" -nodefaults -no-reboot -display none -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$img" -append "$append" >"$log" 2>&1 </dev/null
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

boot q35     33  '^PASS'                "$args" -machine q35
boot microvm 33  '^PASS'                "$args" -machine microvm
boot crash   253 'CPU exception 6 (#UD' "crash"  -machine microvm

[ "$fail" -eq 0 ] && echo "boot test: PASS"
exit "$fail"
