#!/usr/bin/env bash
# bench/peer/run.sh — vnet-bench (vhost-user frontend) side by side with
# DPDK's net_virtio_user frontend, against the same DPDK net_vhost backend
# (dpdk-testpmd), alternating the two frontends (ABAB) within one run.
# Settings (pitfalls of this kind of comparison learnt the hard way): FE on
# cpu0, BE on cpu1, testpmd driven through FIFOs, --single-file-segments for
# virtio_user, runs retaken when a worker got < 97 % of its CPU, the
# cross-CPU round trip recorded before and after each run.
# A benchmark, not a test: run it by hand, as root.
#
#   bench/peer/run.sh [compare.sh's options]      the comparison by placement
#                                                 class (compare.sh: short
#                                                 windows, many pairs)
#   bench/peer/run.sh --long [--bench PATH] [--frames "64 1518"] [--modes "txonly rxonly macswap"]
#                     [--rounds 2] [--seconds 10] [--warmup 2] [--ring 256] [--out DIR]
# Mode names are the backend's view of our frontend: txonly = we send (BE
# rxonly), rxonly = we receive (BE txonly), macswap = round trip (FE
# flowgen -> BE macswap -> FE).
# The rates compared are the backend's counts for both frontends, one meter
# per mode: testpmd's "show port stats all" throughput of the backend's
# vhost port over the measured window (the last "since last show" lines):
#   txonly   the backend's Rx-pps: frames it took from the frontend's TX ring
#   rxonly   the backend's Tx-pps: frames it put into the frontend's RX ring
#            (the vhost PMD counts only what it enqueued: a full ring's
#            frames are dropped and not counted)
#   macswap  the backend's Tx-pps: frames it sent back to the frontend
# Each row also keeps the backend's other direction (be_rx_pps, be_tx_pps)
# and the frontend's own count (fe_pps: vnet-bench's mpps, or the DPDK
# frontend's Rx-pps), for reference only: those are other meters and are
# never divided by each other.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# Long windows swing with where the host places the two vCPUs, so the
# default is compare.sh; --long keeps the long-window runs below.
[ "${1:-}" = --long ] || exec "$here/compare.sh" "$@"
shift
bench=${VNET_BENCH:-$here/../../build/host/bench/vnet-bench}
frames="64 1518" modes="txonly rxonly macswap" rounds=2 secs=10 warm=2 ring=256
out=/tmp/vnet-peer.$$
while [ $# -gt 0 ]; do
	case $1 in
	--bench) bench=$2; shift ;;
	--frames) frames=$2; shift ;;
	--modes) modes=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--warmup) warm=$2; shift ;;
	--ring) ring=$2; shift ;;
	--out) out=$2; shift ;;
	*) sed -n '2,21p' "$0"; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "peer: run as root" >&2; exit 1; }
[ -x "$bench" ] || { echo "peer: no vnet-bench at $bench (build first, or --bench)" >&2; exit 1; }
log() { printf 'peer: %s\n' "$*" >&2; }

# ---- DPDK from Debian (dpdk-dev has dpdk-testpmd), installed here only --
if ! command -v dpdk-testpmd >/dev/null; then
	mapfile -t pk < <(grep -v '^#' "$here/packages.txt" | awk 'NF{print $1}')
	log "installing ${pk[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pk[@]}" >/dev/null
fi

# ---- hugepages -----------------------------------------------------------
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
hp_before=$(cat /proc/sys/vm/nr_hugepages)
[ "$hp_before" -ge 512 ] || echo 512 > /proc/sys/vm/nr_hugepages

mkdir -p "$out"
prefix=vnetpeer$$
sock=$out/vh.sock
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -f "$sock" "$out"/*.in
	rm -f /dev/hugepages/"$prefix"*
	rm -rf /var/run/dpdk/"$prefix"*
	[ "$hp_before" -ge 512 ] || echo "$hp_before" > /proc/sys/vm/nr_hugepages
}
trap cleanup EXIT INT TERM

cc -O2 -pthread "$here/xcpu_rtt.c" -o "$out/xcpu_rtt"
probe() { "$out/xcpu_rtt" 0 1 || echo "rtt_ns=0 tsc_mhz=2100"; }   # rtt_ns=N tsc_mhz=M
tsc_mhz=$(probe | sed 's/.*tsc_mhz=//')

# CPU time (ns) of one thread, from schedstat
cpu_ns() { awk '{print $1}' "/proc/$1/task/$2/schedstat" 2>/dev/null || echo 0; }
# the testpmd forwarding thread
worker_tid() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = rte-worker-1 ] && { basename "$t"; return; }
	done
	echo "$1"
}
# start a testpmd reading commands from a FIFO; sets $tp_pid and $tp_fifo
start_testpmd() { # name args...
	local name=$1; shift
	tp_fifo=$out/$name.in
	rm -f "$tp_fifo"; mkfifo "$tp_fifo"
	stdbuf -oL dpdk-testpmd "$@" <"$tp_fifo" >"$out/$name.log" 2>&1 &
	tp_pid=$!
	pids+=("$tp_pid")
	exec {tp_fd}>"$tp_fifo"   # hold the FIFO open for writing
	eval "fd_$name=$tp_fd"
}
tp_cmd() { local fd="fd_$1"; echo "$2" >&"${!fd}"; }
stop_testpmd() { # name pid
	tp_cmd "$1" stop || true; tp_cmd "$1" quit || true
	local i; for i in $(seq 50); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
	kill "$2" 2>/dev/null || true
	local v="fd_$1"; eval "exec ${!v}>&-" 2>/dev/null || true
	rm -f /dev/hugepages/"$prefix"* 2>/dev/null || true
}
# last "Rx-pps" / "Tx-pps" of port 0 in a testpmd log (throughput since the
# previous "show port stats all": the measured window)
last_rx_pps() { grep -a 'Rx-pps:' "$1" | tail -1 | awk '{print $2}'; }
last_tx_pps() { grep -a 'Tx-pps:' "$1" | tail -1 | awk '{print $2}'; }

results=$out/results.jsonl
: >"$results"

one_run() { # contender mode frame round
	local who=$1 mode=$2 frame=$3 round=$4 be_fwd fe_fwd
	case $mode in
	txonly) be_fwd=rxonly fe_fwd=txonly ;;
	rxonly) be_fwd=txonly fe_fwd=rxonly ;;
	macswap) be_fwd=macswap fe_fwd=flowgen ;;
	esac
	rm -f "$sock"
	start_testpmd be --no-pci --file-prefix="${prefix}b" --huge-dir /dev/hugepages -m 256 \
		--lcores 0@1,1@1 --vdev "net_vhost0,iface=$sock,queues=1" -- -i --disable-link-check \
		--forward-mode=$be_fwd --txpkts="$frame" --burst=32
	local be_pid=$tp_pid i
	for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
	local rtt0; rtt0=$(probe | sed 's/rtt_ns=\([0-9]*\).*/\1/')
	local fe_pid fe_tid be_tid rate fe_json=""
	if [ "$who" = vnet ]; then
		tp_cmd be start
		"$bench" --backend="vhost-user:$sock" --mode=$fe_fwd --frame="$frame" --cpu=0 \
			--ring="$ring" --burst=32 --warmup="$warm" --duration="$((secs + 1))" --quiet \
			>"$out/vnet.json" 2>"$out/vnet.err" &
		fe_pid=$!; pids+=("$fe_pid"); fe_tid=$fe_pid
	else
		start_testpmd fe --no-pci --file-prefix="${prefix}f" --huge-dir /dev/hugepages \
			--single-file-segments -m 256 --lcores 0@0,1@0 \
			--vdev "net_virtio_user0,path=$sock,queues=1,queue_size=$ring" -- -i \
			--forward-mode=$fe_fwd --txpkts="$frame" --burst=32 --record-core-cycles
		fe_pid=$tp_pid
		sleep 1
		tp_cmd be start; tp_cmd fe start
	fi
	sleep "$warm"
	tp_cmd be "show port stats all"
	[ "$who" = dpdk ] && tp_cmd fe "show port stats all"
	sleep 0.2
	be_tid=$(worker_tid "$be_pid")
	[ "$who" = dpdk ] && fe_tid=$(worker_tid "$fe_pid")
	local t0 f0 b0 t1 f1 b1
	t0=$(date +%s%N); f0=$(cpu_ns "$fe_pid" "$fe_tid"); b0=$(cpu_ns "$be_pid" "$be_tid")
	sleep "$(awk -v s="$secs" 'BEGIN{print s - 0.6}')"
	t1=$(date +%s%N); f1=$(cpu_ns "$fe_pid" "$fe_tid"); b1=$(cpu_ns "$be_pid" "$be_tid")
	tp_cmd be "show port stats all"
	[ "$who" = dpdk ] && tp_cmd fe "show port stats all"
	sleep 0.5
	if [ "$who" = vnet ]; then
		for i in $(seq 100); do kill -0 "$fe_pid" 2>/dev/null || break; sleep 0.1; done
		wait "$fe_pid" 2>/dev/null || true
		fe_json=$(grep '^{' "$out/vnet.json" | head -1)
	else
		stop_testpmd fe "$fe_pid"
	fi
	stop_testpmd be "$be_pid"
	local rtt1; rtt1=$(probe | sed 's/rtt_ns=\([0-9]*\).*/\1/')
	local fe_share be_share
	fe_share=$(awk -v a="$f0" -v b="$f1" -v s="$t0" -v e="$t1" 'BEGIN{printf "%.3f", (b - a) / (e - s)}')
	be_share=$(awk -v a="$b0" -v b="$b1" -v s="$t0" -v e="$t1" 'BEGIN{printf "%.3f", (b - a) / (e - s)}')
	# the rate: the backend's count, the same meter for both frontends
	local be_rx be_tx fe_pps meter
	be_rx=$(last_rx_pps "$out/be.log"); be_rx=${be_rx:-0}
	be_tx=$(last_tx_pps "$out/be.log"); be_tx=${be_tx:-0}
	case $mode in
	txonly) rate=$be_rx meter="backend Rx-pps" ;;   # what the backend took from the frontend
	rxonly) rate=$be_tx meter="backend Tx-pps" ;;   # what the backend put into the frontend's RX ring
	macswap) rate=$be_tx meter="backend Tx-pps" ;;  # what the backend sent back to the frontend
	esac
	# the frontend's own count: reference only (another meter, never compared)
	if [ "$who" = vnet ]; then
		fe_pps=$(echo "$fe_json" | sed -n 's/.*"mpps":\([0-9.]*\).*/\1/p' | awk '{printf "%d", $1*1e6}')
	else
		fe_pps=$(last_rx_pps "$out/fe.log")
	fi
	fe_pps=${fe_pps:-0}
	rate=${rate:-0}
	local cyc; cyc=$(awk -v c="$fe_share" -v m="$tsc_mhz" -v r="$rate" 'BEGIN{printf "%.1f", c * m * 1e6 / (r + 1)}')
	printf '{"who":"%s","mode":"%s","frame":%s,"round":%s,"pps":%s,"meter":"%s","be_rx_pps":%s,"be_tx_pps":%s,"fe_pps":%s,"fe_cpu":%s,"be_cpu":%s,"fe_cyc_per_pkt":%s,"rtt_before_ns":%s,"rtt_after_ns":%s}\n' \
		"$who" "$mode" "$frame" "$round" "$rate" "$meter" "$be_rx" "$be_tx" "$fe_pps" "$fe_share" "$be_share" "$cyc" "$rtt0" "$rtt1" | tee -a "$results"
	last_ok=$(awk -v f="$fe_share" -v b="$be_share" 'BEGIN{print (f >= 0.97 && b >= 0.97) ? 1 : 0}')
}

for mode in $modes; do
	for frame in $frames; do
		for round in $(seq "$rounds"); do
			for who in vnet dpdk; do
				for try in 1 2 3; do
					one_run "$who" "$mode" "$frame" "$round"
					[ "$last_ok" = 1 ] && break
					log "$who $mode $frame: a worker got < 97 % CPU; retaking ($try)"
				done
			done
		done
	done
done

python3 - "$results" <<'EOF'
import json, sys, statistics as st
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = lambda r: r["fe_cpu"] >= 0.97 and r["be_cpu"] >= 0.97
print("\nRates: the backend's counts (testpmd net_vhost port, throughput over the measured window), the same")
print("meter for both frontends: txonly the backend's Rx-pps, rxonly and macswap its Tx-pps (column 'meter').")
print("\n| mode | frame | meter | vnet Mpps (runs) | DPDK Mpps (runs) | median ratio vnet/DPDK | vnet cyc/pkt | DPDK cyc/pkt | FE cpu vnet/DPDK | RTT ns |")
print("|---|---|---|---|---|---|---|---|---|---|")
keys = sorted({(r["mode"], r["frame"]) for r in rows}, key=lambda k: (k[0], k[1]))
for m, f in keys:
    sel = [r for r in rows if r["mode"] == m and r["frame"] == f and ok(r)]
    v = [r for r in sel if r["who"] == "vnet"]; d = [r for r in sel if r["who"] == "dpdk"]
    ratios = [a["pps"] / b["pps"] for a in v for b in d if a["round"] == b["round"] and b["pps"]]
    fmt = lambda xs: " ".join("%.2f" % (x["pps"] / 1e6) for x in xs) or "-"
    med = lambda xs, k: ("%.0f" % st.median([x[k] for x in xs])) if xs else "-"
    rtts = [x["rtt_before_ns"] for x in sel] + [x["rtt_after_ns"] for x in sel]
    meters = sorted({x.get("meter", "?") for x in sel}) or ["-"]
    print("| %s | %d | %s | %s | %s | %s | %s | %s | %s/%s | %s-%s |" % (
        m, f, ", ".join(meters), fmt(v), fmt(d), ("%.2f" % st.median(ratios)) if ratios else "-",
        med(v, "fe_cyc_per_pkt"), med(d, "fe_cyc_per_pkt"),
        ("%.2f" % st.median([x["fe_cpu"] for x in v])) if v else "-",
        ("%.2f" % st.median([x["fe_cpu"] for x in d])) if d else "-",
        min(rtts) if rtts else "-", max(rtts) if rtts else "-"))
EOF
log "results in $results"
