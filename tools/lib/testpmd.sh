# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/lib/testpmd.sh — DPDK's dpdk-testpmd as a vhost-user backend
# (--vdev net_vhost0) for the tests: no hugepages (--no-huge), no PCI
# device, its own runtime directory (file prefix), forwarding from the
# start, stopped by its pid only.
#
#   testpmd_start LOG SOCK QUEUES [FWD]
#                        a testpmd serving QUEUES queue pairs on the unix
#                        socket SOCK (removed first: a killed backend
#                        leaves it), forwarding mode FWD (macswap), its
#                        output in LOG; sets TESTPMD_PID; returns once the
#                        socket is there (or 1 after 10 s)
#   testpmd_start_client LOG SOCK QUEUES [FWD]
#                        the same with client=1: testpmd connects to SOCK
#                        (vnet's server mode listens there), retrying
#                        until it can; returns at once (sets TESTPMD_PID)
#   testpmd_stop PID     SIGINT (testpmd prints its forward statistics and
#                        quits), SIGKILL after 10 s; reaped
#   testpmd_kill PID     SIGKILL at once (a backend that dies), reaped
#   testpmd_cleanup      remove the runtime directories (/var/run/dpdk)
#                        of every testpmd this shell started
#   testpmd_queue_rx LOG Q
#                        RX packets of stream "RX Port= 0/Queue= Q" in the
#                        statistics testpmd printed when it stopped (0: none)

testpmd_start() {  # LOG SOCK QUEUES [FWD]
	local log=$1 sock=$2 q=$3 fwd=${4:-macswap} i
	rm -f "$sock"
	TESTPMD_N=$((${TESTPMD_N:-0} + 1))
	dpdk-testpmd --no-pci --no-huge -m 512 -l 0-1 --file-prefix="vnet-tp-$$-$TESTPMD_N" \
		--vdev "net_vhost0,iface=$sock,queues=$q" -- --rxq="$q" --txq="$q" --nb-cores=1 \
		--forward-mode="$fwd" --stats-period=1 --disable-link-check --total-num-mbufs=16384 \
		</dev/null >"$log" 2>&1 &
	TESTPMD_PID=$!
	for i in $(seq 100); do
		[ -S "$sock" ] && return 0
		kill -0 "$TESTPMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "testpmd did not create $sock; its log:" >&2
	tail -20 "$log" >&2
	return 1
}

testpmd_start_client() {  # LOG SOCK QUEUES [FWD]
	local log=$1 sock=$2 q=$3 fwd=${4:-macswap}
	TESTPMD_N=$((${TESTPMD_N:-0} + 1))
	dpdk-testpmd --no-pci --no-huge -m 512 -l 0-1 --file-prefix="vnet-tp-$$-$TESTPMD_N" \
		--vdev "net_vhost0,iface=$sock,queues=$q,client=1" -- --rxq="$q" --txq="$q" --nb-cores=1 \
		--forward-mode="$fwd" --stats-period=1 --disable-link-check --total-num-mbufs=16384 \
		</dev/null >"$log" 2>&1 &
	TESTPMD_PID=$!
}

testpmd_stop() {  # PID
	local i
	kill -INT "$1" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

testpmd_kill() {  # PID
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

testpmd_cleanup() {
	rm -rf /var/run/dpdk/vnet-tp-$$-*
}

testpmd_queue_rx() {  # LOG Q
	awk -v q="$2" '
		BEGIN { cur = "none" }
		/Forward Stats for RX Port= *0\/Queue= *[0-9]+/ {
			s = $0; sub(/.*Queue= */, "", s); sub(/ .*/, "", s); cur = s; next }
		cur == q && /RX-packets:/ { print $2; found = 1; exit }
		END { if (!found) print 0 }' "$1"
}
