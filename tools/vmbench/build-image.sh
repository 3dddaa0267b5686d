#!/usr/bin/env bash
# tools/vmbench/build-image.sh BUILD_DIR — build the bare-metal vnet-bench
# image and print its path. Uses the tree's bare-metal configuration; if the
# top-level CMakeLists.txt does not (yet) add bench/baremetal, builds it from
# a private view of the tree (symlinks plus a CMakeLists.txt that adds it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${1:?usage: build-image.sh BUILD_DIR}
tc=$root/cmake/toolchain-x86_64-baremetal.cmake
if grep -q 'add_subdirectory(bench/baremetal)' "$root/CMakeLists.txt"; then
	src=$root
else
	src=$bdir/src
	mkdir -p "$src"
	for e in "$root"/*; do
		n=$(basename "$e")
		[ "$n" = CMakeLists.txt ] || [ "$n" = build ] || ln -sfn "$e" "$src/$n"
	done
	# the bare-metal branch's examples block, then this image
	sed '/add_subdirectory(examples)/{n;s|^  endif()$|  endif()\n  add_subdirectory(bench/baremetal)|}' \
		"$root/CMakeLists.txt" >"$src/CMakeLists.txt.new"
	grep -q 'add_subdirectory(bench/baremetal)' "$src/CMakeLists.txt.new" ||
		{ echo "build-image: cannot place bench/baremetal in the top-level CMakeLists.txt" >&2; exit 1; }
	cmp -s "$src/CMakeLists.txt.new" "$src/CMakeLists.txt" 2>/dev/null || mv "$src/CMakeLists.txt.new" "$src/CMakeLists.txt"
	rm -f "$src/CMakeLists.txt.new"
fi
cmake -S "$src" -B "$bdir/bm" -DCMAKE_TOOLCHAIN_FILE="$tc" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$bdir/bm" -j2 --target vnet-bench-bm >&2
img=$bdir/bm/bench/baremetal/vnet-bench-bm.elf
[ -f "$img" ] || { echo "build-image: no $img" >&2; exit 1; }
echo "$img"
