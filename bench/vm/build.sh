#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/vm/build.sh image|peer [BUILD_DIR] — build what the VM benchmark
# runs and print its path:
#   image  the bare-metal benchmark, vnet-bench-bm.elf (BUILD_DIR: build/bm,
#          configured with the preset bm-x86_64 if it is not yet)
#   peer   its host side, vmb-peer (BUILD_DIR: build/host, configured with
#          the preset host if it is not yet); built only when missing
# Build output goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
what=${1:?usage: build.sh image|peer [BUILD_DIR]}
case $what in
image) preset=bm-x86_64 dir=${2:-$root/build/bm} target=vnet-bench-bm out=bench/baremetal/vnet-bench-bm.elf ;;
peer) preset=host dir=${2:-$root/build/host} target=vmb-peer out=bench/peer/vmb-peer ;;
*) echo "usage: build.sh image|peer [BUILD_DIR]" >&2; exit 2 ;;
esac
if [ "$what" = image ] || [ ! -x "$dir/$out" ]; then
	[ -f "$dir/CMakeCache.txt" ] || cmake -S "$root" --preset "$preset" -B "$dir" >&2
	cmake --build "$dir" -j2 --target "$target" >&2
fi
[ -f "$dir/$out" ] || { echo "build.sh: no $dir/$out" >&2; exit 1; }
echo "$dir/$out"
