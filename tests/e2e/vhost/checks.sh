# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# shellcheck disable=SC2154 # $dir is the caller's
# tests/e2e/vhost/checks.sh — the checks run.sh and run_server.sh share;
# sourced. The caller sets $dir (its logs are the *.err there).
#
#   check WHAT STATUS      "ok" when STATUS is 0, else "FAIL" (counted)
#   field FILE F           field F of vnet-bench's JSON line in FILE
#   eq A B                 0 when A = B, else 1
#   check_restart LAYOUT JSON A0 A1 T0 T1
#                          after the backend was killed and a new one came:
#                          one disconnect, one reconnect, each pair carried
#                          1000 frames or more since, counted by vnet-bench
#                          (A0, A1) and by the new testpmd (T0, T1), and the
#                          pool whole at the end
#   finish PASS-TEXT       the failed checks' logs and exit 1, or PASS-TEXT

fails=0
check() {  # WHAT CONDITION-EXIT-STATUS
	if [ "$2" = 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
field() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$1" "$2"; }
eq() { [ "$1" = "$2" ] && echo 0 || echo 1; }
check_restart() {
	local layout=$1 j=$2 a0=$3 a1=$4 t0=$5 t1=$6
	check "$layout: the backend's death was noticed once" "$(eq "$(field "$j" disconnects)" 1)"
	check "$layout: reconnected once" "$(eq "$(field "$j" reconnects)" 1)"
	check "$layout: pair 0 carried frames after the restart" "$([ "$a0" -ge 1000 ] && [ "$t0" -ge 1000 ] && echo 0 || echo 1)"
	check "$layout: pair 1 carried frames after the restart" "$([ "$a1" -ge 1000 ] && [ "$t1" -ge 1000 ] && echo 0 || echo 1)"
	check "$layout: pool whole at the end (nothing leaked across the restart)" "$(eq "$(field "$j" pool_in_use_end)" 0)"
}
finish() {
	local f
	if [ "$fails" -ne 0 ]; then
		echo "FAIL: $fails check(s) failed; logs:"
		for f in "$dir"/*.err; do echo "== $f"; tail -5 "$f"; done
		exit 1
	fi
	echo "$1"
}
