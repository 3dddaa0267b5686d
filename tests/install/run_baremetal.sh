#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# SPDX-License-Identifier: BSD-3-Clause
# vnet's bare-metal build as an installed library.
#
#   run_baremetal.sh build <work dir> <source dir> <cmake> <lwIP dir> [<host build dir>]
#       configure and build the bare-metal libraries of <source dir> in
#       <work dir>, install them into <work dir>/prefix, and link
#       examples/minimal out of tree against that prefix (find_package and
#       the installed toolchain file): <work dir>/app/minimal.elf. With a
#       host build, install it into the same prefix first: both must work
#       from one prefix.
#   run_baremetal.sh boot <work dir> ...
#       boot that image (built first, as above, if absent) under QEMU (q35,
#       user networking) and echo a UDP datagram through it from the host;
#       exit 77 without QEMU
#
# Every step is bounded by `timeout`.
set -u

mode=${1:?usage: run_baremetal.sh build|boot <work dir> <source dir> <cmake> <lwIP dir>}
work=${2:?}
src=${3:?}
cmake=${4:?}
lwip=${5:?}
host=${6:-}
tmo=${VNET_INSTALL_STEP_TIMEOUT:-600}
log=$work/log.txt

step() { # step <what> <command...>
	what=$1
	shift
	timeout "$tmo" "$@" >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok   $what"
		return 0
	fi
	echo "FAIL $what (exit $rc): $*"
	sed 's/^/  | /' "$log" | tail -n 60
	exit 1
}

if [ "$mode" = build ]; then
	rm -rf "$work"
	mkdir -p "$work"
	prefix=$work/prefix
	bm=lib/vnet/x86_64-baremetal
	jobs=$(nproc 2>/dev/null || echo 2)
	step "configure the bare-metal build" "$cmake" -S "$src" --preset bm-x86_64 -B "$work/build" \
		-DLWIP_DIR="$lwip"
	step "build the bare-metal libraries" "$cmake" --build "$work/build" -j"$jobs" \
		--target vnet vnet_lwip vnet_iface vnet_arch vnet_libc
	step "install them (--prefix)" "$cmake" --install "$work/build" --prefix "$prefix"
	for f in libvnet.a libvnet_lwip.a libvnet_iface.a libvnet_arch.a libvnet_libc.a linker.ld \
		cmake/toolchain-x86_64-baremetal.cmake lib/libc/include/string.h; do
		[ -e "$prefix/$bm/$f" ] || { echo "FAIL not installed: $bm/$f"; exit 1; }
	done
	for f in lib/cmake/vnet/vnetBaremetal-x86_64Targets.cmake include/vnet/baremetal.h include/vnet/version.h \
		include/vnet/lwip/lwipopts.h; do
		[ -e "$prefix/$f" ] || { echo "FAIL not installed: $f"; exit 1; }
	done
	echo "ok   installed: $(cd "$prefix" && find . -type f | wc -l) files"
	if [ -n "$host" ]; then
		step "install the host build into the same prefix" "$cmake" --install "$host" --prefix "$prefix"
		step "configure a host consumer against it" "$cmake" -S "$src/tests/install/consumer" \
			-B "$work/host-app" -DCMAKE_PREFIX_PATH="$prefix"
		step "build and run it" sh -c '"$1" --build "$2" --target sample && "$2/sample"' sh "$cmake" "$work/host-app"
	fi
	step "configure the appliance out of tree" "$cmake" -S "$src/tests/install/baremetal" -B "$work/app" \
		-DCMAKE_TOOLCHAIN_FILE="$prefix/$bm/cmake/toolchain-x86_64-baremetal.cmake" \
		-DCMAKE_PREFIX_PATH="$prefix" -DVNET_MINIMAL_SRC="$src/examples/minimal/minimal.c"
	step "link examples/minimal against the installed vnet" "$cmake" --build "$work/app"
	elf=$work/app/minimal.elf
	if ! readelf -h "$elf" 2>/dev/null | grep -q 'Machine:.*X86-64' ||
		! readelf -n "$elf" 2>/dev/null | grep -q 'Xen'; then
		echo "FAIL $elf is not an x86-64 ELF with a PVH (Xen) note"
		exit 1
	fi
	echo "ok   $(basename "$elf"): $(stat -c %s "$elf") bytes, PVH entry note present"
	echo "install bare-metal test: PASS"
	exit 0
fi

[ "$mode" = boot ] || { echo "usage: run_baremetal.sh build|boot ..."; exit 2; }
# shellcheck source=../../tools/lib/qemu.sh
. "$(dirname "$0")/../../tools/lib/qemu.sh"
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
elf=$work/app/minimal.elf
if [ ! -f "$elf" ]; then
	"$0" build "$work" "$src" "$cmake" "$lwip" "$host" || exit 1
fi
# A free UDP port on the host, forwarded by QEMU's user network to port 7.
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
console=$work/console.txt
: >"$console"
vnet_accel x86_64 2>"$log" || { cat "$log"; exit 1; }
vnet_args_reset
vnet_machine x86_64 q35
vnet_headless "file:$console"
vnet_exit_device x86_64
vnet_nic x86_64 pci modern netdev=n0
VNET_ARGS+=(-netdev "user,id=n0,hostfwd=udp:127.0.0.1:$port-10.0.2.15:7" -kernel "$elf")
vnet_qemu_start minimal 60 >>"$log" 2>&1
rc=1
python3 - "$port" "$console" <<'PY' && rc=0
import socket, sys, time
port, console = int(sys.argv[1]), sys.argv[2]
deadline = time.time() + 40
while time.time() < deadline and "READY" not in open(console, errors="replace").read():
    time.sleep(0.1)
if "READY" not in open(console, errors="replace").read():
    sys.exit("no READY on the console")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
msg = b"hello, minimal appliance"
while time.time() < deadline:
    s.sendto(msg, ("127.0.0.1", port))
    try:
        data = s.recv(2048)
    except socket.timeout:
        continue
    if data == msg:
        print("ok   UDP echo through the minimal appliance")
        sys.exit(0)
    sys.exit("wrong echo: %r" % data)
sys.exit("no UDP echo")
PY
vnet_qemu_stop minimal
if [ "$rc" -ne 0 ]; then
	echo "FAIL boot of $elf; console:"
	sed 's/^/  | /' "$console"
	sed 's/^/  | qemu: /' "$log"
	exit 1
fi
sed 's/^/  | /' "$console"
echo "install bare-metal boot test: PASS"
