#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: BSD-3-Clause
# Boot the bare-metal boot test on q35 and microvm, and check that an
# exception is reported. Usage: run.sh <boot_test.elf>
#
# A pass is QEMU exit status 33 (isa-debug-exit: (0x10 << 1) | 1) AND a
# PASS line on the console. Status 0 means a triple fault under -no-reboot,
# 124 the timeout; both fail. Exit 77 (ctest SKIP_RETURN_CODE) without QEMU.
set -u
# shellcheck source=../../../tools/lib/qemu.sh
. "$(dirname "$0")/../../../tools/lib/qemu.sh"

img=${1:?usage: run.sh <boot_test.elf>}
tmo=${VNET_BOOT_TIMEOUT:-30}
args='boot_test greeting=hello quoted="a b" flag'
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
[ -f "$img" ] || { echo "FAIL: no image $img"; exit 1; }
vnet_accel x86_64 || exit 1
log=$(mktemp)
vnet_at_exit rm -f "$log"
fail=0

# boot <name> <expected status> <expected line> <append> <machine>
boot() {
	local name=$1 want=$2 line=$3 append=$4 machine=$5 start rc ms
	vnet_args_reset
	vnet_machine x86_64 "$machine"
	vnet_headless stdio
	vnet_exit_device x86_64
	VNET_ARGS+=(-kernel "$img" -append "$append")
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

boot q35     33  '^PASS'                "$args" q35
boot microvm 33  '^PASS'                "$args" microvm
boot crash   253 'CPU exception 6 (#UD' "crash"  microvm

[ "$fail" -eq 0 ] && echo "boot test: PASS"
exit "$fail"
