#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vhost-user in server mode against DPDK's backend as the client
# (dpdk-testpmd, net_vhost with client=1, macswap): vnet-bench
# --vhost-server listens and waits; testpmd connects, two queue pairs
# carry frames, testpmd is killed (SIGKILL) mid-traffic and a new one
# connects to the same socket: vnet-bench must notice, get every buffer
# back, accept the new backend, renegotiate both pairs and carry frames
# again on both (counts since the reconnect, and the new testpmd's
# statistics), with the pool whole and the socket removed at the end.
# Split ring, then packed.
# usage: run_server.sh VNET_BENCH
set -euo pipefail
bench=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../../tools/lib/testpmd.sh
. "$here/../../../tools/lib/testpmd.sh"
if ! command -v dpdk-testpmd >/dev/null; then
	echo "FAIL: dpdk-testpmd not found (Debian package dpdk-dev, listed in tools/packages/e2e.txt: run tools/setup)"
	exit 1
fi
dir=$(mktemp -d /tmp/vnet-vus-e2e.XXXXXX)
sock=$dir/vu.sock
pids=()
bpid=
cleanup() {
	local p
	if [ -n "$bpid" ]; then kill -KILL "$bpid" 2>/dev/null || true; fi
	for p in "${pids[@]}"; do testpmd_stop "$p"; done
	testpmd_cleanup
	rm -rf "$dir"
}
trap cleanup EXIT
# check, field, eq, check_restart, finish
# shellcheck source=checks.sh
. "$here/checks.sh"

for layout in split packed; do
	flag=(); [ $layout = packed ] && flag=(--packed)
	# vnet first: it listens and waits (up to 10 s) for testpmd to connect
	timeout 60 "$bench" --backend="vhost-user:$sock" --vhost-server --mode=flowgen --queues=2 \
		--reconnect --duration=10 --warmup=0 --quiet "${flag[@]}" \
		>"$dir/sv-$layout.json" 2>"$dir/sv-$layout.err" &
	bpid=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	check "$layout: vnet-bench listens on the socket" "$([ -S "$sock" ] && echo 0 || echo 1)"
	testpmd_start_client "$dir/tp-a-$layout.log" "$sock" 2
	pids+=("$TESTPMD_PID")
	sleep 4
	testpmd_kill "$TESTPMD_PID"
	sleep 1
	testpmd_start_client "$dir/tp-b-$layout.log" "$sock" 2
	pids+=("$TESTPMD_PID")
	rc=0
	wait $bpid || rc=$?
	bpid=
	testpmd_stop "$TESTPMD_PID"
	check "$layout: vnet-bench ran through the restart (rc $rc)" "$(eq $rc 0)"
	check "$layout: the socket is gone after vnet-bench ended" "$([ -e "$sock" ] && echo 1 || echo 0)"
	[ $rc = 0 ] || { cat "$dir/sv-$layout.err"; continue; }
	j=$dir/sv-$layout.json
	a0=$(field "$j" q0_after_reconnect); a1=$(field "$j" q1_after_reconnect)
	q0=$(field "$j" q0_pkts); q1=$(field "$j" q1_pkts)
	t0=$(testpmd_queue_rx "$dir/tp-b-$layout.log" 0); t1=$(testpmd_queue_rx "$dir/tp-b-$layout.log" 1)
	echo "     $layout: $(field "$j" disconnects) disconnect(s), $(field "$j" reconnects) reconnect(s);" \
		"vnet q0 $q0 q1 $q1 in all, since: vnet q0 $a0 q1 $a1, new testpmd q0 $t0 q1 $t1"
	check "$layout: the ring layout is $layout" "$(eq "$(field "$j" layout)" $layout)"
	check "$layout: both pairs carried frames before the kill" \
		"$([ $((q0 - a0)) -ge 1000 ] && [ $((q1 - a1)) -ge 1000 ] && echo 0 || echo 1)"
	check_restart "$layout" "$j" "$a0" "$a1" "$t0" "$t1"
done

finish "PASS: vhost-user server mode against dpdk-testpmd client=1: 2 queue pairs (split, packed) through a backend restart"
