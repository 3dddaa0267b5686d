#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Install the current build tree into a temporary prefix and build a small
# out-of-tree program against it twice: through pkg-config (a plain cc
# command line) and through find_package(vnet) (a separate CMake project),
# then run it. Also checks that DESTDIR is honoured.
#
#   run.sh <build dir> <source dir> <cmake> <cc> [extra cflags]
#
# Every step is bounded by `timeout`; the temporary directory is removed.
set -u

build=${1:?usage: run.sh <build dir> <source dir> <cmake> <cc> [cflags]}
src=${2:?}
cmake=${3:?}
cc=${4:?}
xflags=${5:-}
tmo=${VNET_INSTALL_STEP_TIMEOUT:-240}
here=$src/tests/install/consumer

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vnet-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log
fail=0

run() { # run <what> <command...>: quiet on success, the log on failure
	what=$1
	shift
	timeout "$tmo" "$@" >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		return 0
	fi
	echo "FAIL $what (exit $rc): $*"
	sed 's/^/  | /' "$log" | tail -n 60
	fail=1
	return 1
}
ok() { echo "ok   $*"; }

# ---- DESTDIR: files under $DESTDIR/<prefix>, the prefix itself in the files
fake=/opt/vnet-install-test-$$
if run "install with DESTDIR" env DESTDIR="$tmp/dest" "$cmake" --install "$build" --prefix "$fake"; then
	pc=$(find "$tmp/dest$fake" -name vnet.pc | head -n1)
	if [ -e "$fake" ]; then
		echo "FAIL DESTDIR: files written to $fake"; fail=1
	elif [ -z "$pc" ] || ! grep -qx "prefix=$fake" "$pc"; then
		echo "FAIL DESTDIR: vnet.pc missing or without prefix=$fake"; fail=1
	else
		ok "DESTDIR: $(find "$tmp/dest" -type f | wc -l) files under \$DESTDIR$fake"
	fi
fi

# ---- the real install, into a temporary prefix
prefix=$tmp/prefix
run "cmake --install --prefix" "$cmake" --install "$build" --prefix "$prefix" || exit 1
pcdir=$(dirname "$(find "$prefix" -name vnet.pc | head -n1)")
libdir=$(dirname "$pcdir")
missing=
for f in "$libdir/libvnet.a" "$libdir/libvnet_model.a" "$libdir/libvnet_lwip.a" "$libdir/libvnet_iface.a" \
	"$prefix/include/vnet/vnet.h" "$prefix/include/vnet/iface.h" "$prefix/include/vnet/model.h" \
	"$prefix/include/vnet/version.h" "$prefix/include/vnet/lwip/lwipopts.h" \
	"$prefix/include/vnet/lwip/arch/cc.h" "$prefix/include/vnet/lwip/lwip/init.h" \
	"$prefix/bin/vnet-bench" "$prefix/share/man/man1/vnet-bench.1" \
	"$pcdir/vnet-model.pc" "$pcdir/vnet-lwip.pc" "$pcdir/vnet-iface.pc" \
	"$libdir/cmake/vnet/vnetConfig.cmake" "$libdir/cmake/vnet/vnetConfigVersion.cmake" \
	"$libdir/cmake/vnet/vnetTargets.cmake"; do
	[ -e "$f" ] || missing="$missing ${f#"$prefix"/}"
done
if [ -n "$missing" ]; then
	echo "FAIL installed files missing:$missing"; fail=1
else
	shared=$(ls "$libdir"/libvnet.so.* 2>/dev/null | head -n1)
	ok "installed into a temporary prefix (libdir ${libdir#"$prefix"/}${shared:+, shared $(basename "$shared")})"
fi
run "vnet-bench --help" "$prefix/bin/vnet-bench" --help && ok "installed vnet-bench runs"

# ---- 1. pkg-config and a plain cc command line
export PKG_CONFIG_PATH="$pcdir"
warn="-Wall -Wextra -Werror"
for prog in sample:vnet-model sample_iface:vnet-iface,vnet-model; do
	name=${prog%%:*} mod=$(echo "${prog#*:}" | tr , " ")
	flags=$(pkg-config --cflags $mod) && libs=$(pkg-config --libs $mod) || {
		echo "FAIL pkg-config $mod"; fail=1; continue; }
	# shellcheck disable=SC2086 # word splitting of flags is intended
	run "cc $name (pkg-config $mod)" "$cc" $warn $xflags $flags "$here/$name.c" -o "$tmp/${name}_pc" \
		$libs -Wl,-rpath,"$libdir" || continue
	if run "run ${name}_pc" "$tmp/${name}_pc"; then
		how=static
		readelf -d "$tmp/${name}_pc" 2>/dev/null | grep -q 'NEEDED.*libvnet\.so' && how="shared libvnet.so"
		ok "pkg-config $mod: $(cat "$log") [$how]"
	fi
done

# ---- 2. find_package(vnet) from a separate CMake project
version=$(pkg-config --modversion vnet)
if run "configure the consumer" "$cmake" -S "$here" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$xflags" -DVNET_EXPECT_VERSION="$version" &&
	run "build the consumer" "$cmake" --build "$tmp/consumer"; then
	for name in sample sample_iface sample_shared; do
		[ -x "$tmp/consumer/$name" ] || continue
		run "run $name (find_package)" "$tmp/consumer/$name" && ok "find_package $name: $(cat "$log")"
	done
fi

[ "$fail" -eq 0 ] && echo "install test: PASS"
exit "$fail"
