#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Check vnet's documentation (the api_docs test; the `docs` target runs the
# first part only).
#
#   check-docs.sh --doxygen DOXYGEN OUTDIR VERSION_H
#       Doxygen over include/vnet/*.h (docs/Doxyfile) plus the generated
#       <vnet/version.h>; HTML in OUTDIR/html. Fails on any warning, e.g.
#       an undocumented public symbol.
#   check-docs.sh --all OUTDIR VERSION_H VNET_BENCH
#       the same, then the man page docs/vnet-bench.1: it must format
#       without warnings and name every option `VNET_BENCH --help` lists.
#
# Exits 77 (ctest: skipped) when doxygen is not installed (tools/setup
# installs it, tools/packages/docs.txt).
set -u
docs=$(cd "$(dirname "$0")" && pwd)
mode=${1:-}
case $mode in
--doxygen) doxygen=${2:?}; out=${3:?}; version_h=${4:?}; bench= ;;
--all) doxygen=$(command -v doxygen || true); out=${2:?}; version_h=${3:?}; bench=${4:?} ;;
*) echo "usage: check-docs.sh --doxygen DOXYGEN OUTDIR VERSION_H | --all OUTDIR VERSION_H VNET_BENCH" >&2
   exit 2 ;;
esac
if [ -z "$doxygen" ]; then
	echo "SKIP: doxygen is not installed (apt-get install doxygen)"
	exit 77
fi
[ -f "$version_h" ] || { echo "FAIL: no $version_h (configure the build first)"; exit 1; }
fail=0
mkdir -p "$out"
log=$out/doxygen-warnings.txt

# ---- API reference: docs/Doxyfile, with two settings for this build
# Doxygen's own exit status is not trusted alone: the log must be empty too.
(
	cd "$docs" || exit 1
	# version.h is in include/vnet/ itself (the build's copy is the same file)
	{ cat Doxyfile; [ -f ../include/vnet/version.h ] || echo "INPUT += $version_h"
	  echo "OUTPUT_DIRECTORY = $out"; } |
		timeout 120 "$doxygen" - >"$out/doxygen.out" 2>"$log"
)
rc=$?
if [ "$rc" -ne 0 ] || [ -s "$log" ]; then
	echo "FAIL doxygen (exit $rc): fix the doc comments in include/vnet/*.h:"
	sed 's/^/  | /' "$log"
	fail=1
else
	n=$(ls "$docs"/../include/vnet/*.h | wc -l)
	echo "ok   doxygen: $n public headers + version.h documented, no warnings ($out/html/index.html)"
fi

# ---- the man page
if [ -n "$bench" ]; then
	man=$docs/vnet-bench.1
	if command -v groff >/dev/null 2>&1; then
		warn=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
		if [ -n "$warn" ]; then
			echo "FAIL $man does not format cleanly:"
			echo "$warn" | sed 's/^/  | /'
			fail=1
		else
			echo "ok   $(basename "$man") formats without warnings"
		fi
	fi
	opts=$(timeout 10 "$bench" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	if [ -z "$opts" ]; then
		echo "FAIL: no options from $bench --help"
		fail=1
	fi
	missing=
	for o in $opts; do
		# in roff the dashes are escaped: \-\-mode
		pat=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
		grep -q -- "$pat" "$man" || missing="$missing $o"
	done
	modes=$(timeout 10 "$bench" --help | sed -n 's/.*--mode=\([a-z|]*\).*/\1/p' | tr '|' ' ')
	for m in $modes; do
		grep -q "^\.B $m\$" "$man" || missing="$missing mode:$m"
	done
	if [ -n "$missing" ]; then
		echo "FAIL $man does not describe:$missing"
		fail=1
	elif [ -n "$opts" ]; then
		echo "ok   $(basename "$man") describes all $(echo "$opts" | wc -l) options and modes ($(echo $modes)) of --help"
	fi
fi
[ "$fail" -eq 0 ] && echo "docs: PASS"
exit "$fail"
