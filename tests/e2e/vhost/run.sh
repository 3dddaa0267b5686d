#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vhost-user against DPDK's backend (dpdk-testpmd, net_vhost, macswap):
#  1. two queue pairs, split ring then packed: vnet-bench flowgen on both
#     pairs; each pair's frames counted by vnet-bench and by testpmd's
#     per-stream statistics (RX Port=0/Queue=0 and Queue=1)
#  2. per layout, testpmd killed (SIGKILL) mid-traffic and started again on
#     the same socket: vnet-bench --reconnect must notice, get every buffer
#     back, reconnect, renegotiate both pairs and carry frames again on
#     both (counts since the reconnect, and the new testpmd's statistics),
#     with the pool whole at the end.
# dpdk-testpmd comes from Debian's dpdk-dev (tools/packages/e2e.txt): a
# machine without it FAILS here.
# usage: run.sh VNET_BENCH
set -euo pipefail
bench=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../../tools/lib/testpmd.sh
. "$here/../../../tools/lib/testpmd.sh"
if ! command -v dpdk-testpmd >/dev/null; then
	echo "FAIL: dpdk-testpmd not found (Debian package dpdk-dev, listed in tools/packages/e2e.txt: run tools/setup)"
	exit 1
fi
dir=$(mktemp -d /tmp/vnet-vu-e2e.XXXXXX)
sock=$dir/vu.sock
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do testpmd_stop "$p"; done
	testpmd_cleanup
	rm -rf "$dir"
}
trap cleanup EXIT
# check, field, eq, check_restart, finish
# shellcheck source=checks.sh
. "$here/checks.sh"

# ---- 1. two pairs, both carrying frames ------------------------------------
for layout in split packed; do
	flag=(); [ $layout = packed ] && flag=(--packed)
	testpmd_start "$dir/tp-$layout.log" "$sock" 2
	pids+=("$TESTPMD_PID")
	rc=0
	timeout 60 "$bench" --backend="vhost-user:$sock" --mode=flowgen --queues=2 --duration=2 --quiet \
		"${flag[@]}" >"$dir/mq-$layout.json" 2>"$dir/mq-$layout.err" || rc=$?
	testpmd_stop "$TESTPMD_PID"
	check "$layout: vnet-bench ran with 2 queue pairs (rc $rc)" "$(eq $rc 0)"
	[ $rc = 0 ] || { cat "$dir/mq-$layout.err"; continue; }
	q0=$(field "$dir/mq-$layout.json" q0_pkts); q1=$(field "$dir/mq-$layout.json" q1_pkts)
	t0=$(testpmd_queue_rx "$dir/tp-$layout.log" 0); t1=$(testpmd_queue_rx "$dir/tp-$layout.log" 1)
	lay=$(field "$dir/mq-$layout.json" layout)
	echo "     $layout: vnet received q0 $q0 q1 $q1; testpmd received q0 $t0 q1 $t1"
	check "$layout: the ring layout is $layout" "$(eq "$lay" $layout)"
	check "$layout: pair 0 carried frames both ways" "$([ "$q0" -ge 1000 ] && [ "$t0" -ge 1000 ] && echo 0 || echo 1)"
	check "$layout: pair 1 carried frames both ways" "$([ "$q1" -ge 1000 ] && [ "$t1" -ge 1000 ] && echo 0 || echo 1)"
	check "$layout: testpmd saw the control queue's 2 pairs (rings 2 and 3 enabled)" \
		"$(grep -aq 'set queue enable: 1 to qp idx: 3' "$dir/tp-$layout.log" && echo 0 || echo 1)"
	check "$layout: pool whole after close" "$(eq "$(field "$dir/mq-$layout.json" pool_in_use_end)" 0)"
done

# ---- 2. the backend killed mid-traffic and restarted -----------------------
for layout in split packed; do
	flag=(); [ $layout = packed ] && flag=(--packed)
	testpmd_start "$dir/tp-a-$layout.log" "$sock" 2
	pids+=("$TESTPMD_PID")
	timeout 60 "$bench" --backend="vhost-user:$sock" --mode=flowgen --queues=2 --reconnect --duration=9 \
		--warmup=0 --quiet "${flag[@]}" >"$dir/rc-$layout.json" 2>"$dir/rc-$layout.err" &
	bpid=$!
	sleep 3
	testpmd_kill "$TESTPMD_PID"
	sleep 1
	testpmd_start "$dir/tp-b-$layout.log" "$sock" 2
	pids+=("$TESTPMD_PID")
	rc=0
	wait $bpid || rc=$?
	testpmd_stop "$TESTPMD_PID"
	check "$layout: vnet-bench ran through the restart (rc $rc)" "$(eq $rc 0)"
	[ $rc = 0 ] || { cat "$dir/rc-$layout.err"; continue; }
	j=$dir/rc-$layout.json
	a0=$(field "$j" q0_after_reconnect); a1=$(field "$j" q1_after_reconnect)
	t0=$(testpmd_queue_rx "$dir/tp-b-$layout.log" 0); t1=$(testpmd_queue_rx "$dir/tp-b-$layout.log" 1)
	echo "     $layout: $(field "$j" disconnects) disconnect(s), $(field "$j" reconnects) reconnect(s); since:" \
		"vnet q0 $a0 q1 $a1, new testpmd q0 $t0 q1 $t1"
	check_restart "$layout" "$j" "$a0" "$a1" "$t0" "$t1"
done

finish "PASS: vhost-user against dpdk-testpmd: 2 queue pairs (split, packed) and a backend restart"
