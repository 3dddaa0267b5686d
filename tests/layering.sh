#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The layering of lib/ (docs/ARCHITECTURE.md): every #include "..." of a
# file under lib/ names a file of its own layer or of one below it, and the
# two ring layouts never include each other. Exits 1 naming each include
# that runs upward.
#   tests/layering.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# rank of a path under lib/: what it may include is what ranks lower, or
# the same folder
rank() {
	case $1 in
	libc/*) echo 1 ;;
	base/*) echo 2 ;;
	arch/*) echo 3 ;;
	transport/*) echo 3 ;;
	ring/*) echo 4 ;;
	net/*) echo 5 ;;
	model/*) echo 5 ;;
	lwip/*) echo 6 ;;
	*) echo 0 ;;
	esac
}
folder() { echo "${1%%/*}"; }

bad=0 n=0
while IFS= read -r f; do
	rel=${f#lib/}
	r=$(rank "$rel")
	while IFS=: read -r line inc; do
		n=$((n + 1))
		# a path written from lib/ ("ring/vq.h") or next to the file ("vq.h")
		if [ -e "lib/$inc" ]; then
			target=$inc
		elif [ -e "$(dirname "$f")/$inc" ]; then
			target=$(realpath --relative-to=lib "$(dirname "$f")/$inc")
		else
			continue # lwIP's, the public API's, or the architecture's arch.h
		fi
		t=$(rank "$target")
		why=""
		if [ "$(folder "$rel")" != "$(folder "$target")" ] && [ "$t" -ge "$r" ]; then
			why="$(folder "$target")/ is not below $(folder "$rel")/"
		fi
		case $rel:$target in
		ring/split.*:ring/packed.*|ring/packed.*:ring/split.*) why="the two ring layouts include each other" ;;
		arch/*:arch/*)
			# the per-CPU folders share arch/common and arch/virt only
			a=${rel#arch/} b=${target#arch/}
			case ${a%%/*}:${b%%/*} in
			common:common|virt:virt|virt:common) ;;
			x86_64:x86_64|x86_64:common|aarch64:aarch64|aarch64:common|aarch64:virt) ;;
			riscv64:riscv64|riscv64:common|riscv64:virt) ;;
			*) why="arch/${a%%/*} reaches into arch/${b%%/*}" ;;
			esac ;;
		esac
		if [ -n "$why" ]; then
			echo "layering: $f:$line includes \"$inc\": $why"
			bad=1
		fi
	done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):#include "\([^"]*\)".*/\1:\2/')
done < <(find lib -name '*.[chS]' | sort)
[ "$n" -gt 50 ] || { echo "layering: only $n includes read: is this the source tree?"; exit 1; }
[ "$bad" = 0 ] && echo "layering: $n includes under lib/, none runs upward"
exit "$bad"
