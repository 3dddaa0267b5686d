#!/usr/bin/env bash
# bench/peer/compare.sh — vnet-bench (vhost-user frontend) against DPDK's
# net_virtio_user frontend over the same DPDK net_vhost backend
# (dpdk-testpmd), made so that where the host places the two vCPUs cannot
# decide it: short windows, the two frontends alternated many times, the
# cross-CPU round trip (xcpu_rtt) taken between windows, each window
# classed near or far by the round trips before and after it, pairs
# compared only within one class (compare_report.py). The same session
# runs the ring bound (ring_bound) and vnet's round-trip latency.
# A benchmark, not a test: run it by hand, as root, on an idle machine.
#
#   bench/peer/compare.sh [--build DIR] [--bench VNET_BENCH] [--pairs 20] [--rounds 4] [--window 0.8]
#        [--warmup 0.2] [--modes "txonly rxonly macswap"] [--frames "64 1518"]
#        [--rings "split packed"] [--latency 1] [--bound 1] [--threshold NS]
#        [--max-minutes 15] [--nice N] [--out DIR] [--save NAME]
#
# --pairs is per configuration (ring x mode x frame), spread over --rounds
# rounds so that each configuration sees the whole session's placements.
# Processes, kept up for the whole run (testpmd takes ~2 s to start): one
# backend for vnet (vnet-bench connects and disconnects each window), and
# per ring layout one backend with its DPDK frontend connected. Forwarding
# is started around each window only, so the round-trip probe runs on two
# idle CPUs. Backends and frontends on cpu1 and cpu0, each testpmd's main
# and forwarding lcores on one CPU.
# Mode names are the backend's view of our frontend: txonly = the
# frontend sends (backend rxonly), rxonly = it receives (backend txonly),
# macswap = round trip (frontend flowgen -> backend macswap -> frontend).
# The meter, the same for both frontends: testpmd's "show port stats" on
# the backend's vhost port between two shows a window apart: Rx-pps for
# txonly, Tx-pps for rxonly and macswap (frames put into the frontend's RX
# ring; the vhost PMD counts only what it enqueued).
# Packed: vnet --packed against virtio_user packed_vq=1,vectorized=1,
# mrg_rxbuf=0 with --force-max-simd-bitwidth=512 when the CPU has
# AVX512F/BW/VL; the path DPDK took is read from its log (dpdk_path).
# --nice N (default -20; 0: off): this script and everything it starts
# (testpmd, vnet-bench, ring_bound, xcpu_rtt) run at nice N, so other work
# on the machine (at nice 0) gets about 1 % of a CPU a poller wants, the
# same for both frontends. (Not SCHED_RR: two pollers at a real-time
# priority leave nothing for the script that starts and stops them.)
# Output in --out: raw.jsonl (one line per window), classed.jsonl (the
# same with class and threshold), report.md (the tables), compare.png;
# --save NAME copies them into the tree as docs/results/peer-NAME.jsonl
# (the classed lines and the session line), docs/results/peer-NAME.md and
# docs/img/peer-NAME.png.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$here/../../build/host
pairs=20 rounds=4 win=0.8 warm=0.2 modes="txonly rxonly macswap" frames="64 1518" rings="split packed"
do_lat=1 do_bound=1 threshold="" max_min=15 ring=256 bench="" save="" niceness=-20
out=/tmp/vnet-compare.$$
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift ;;
	--bench) bench=$2; shift ;;
	--pairs) pairs=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--window) win=$2; shift ;;
	--warmup) warm=$2; shift ;;
	--modes) modes=$2; shift ;;
	--frames) frames=$2; shift ;;
	--rings) rings=$2; shift ;;
	--latency) do_lat=$2; shift ;;
	--bound) do_bound=$2; shift ;;
	--threshold) threshold=$2; shift ;;
	--max-minutes) max_min=$2; shift ;;
	--out) out=$2; shift ;;
	--save) save=$2; shift ;;
	--nice) niceness=$2; shift ;;
	*) sed -n '2,46p' "$0"; exit 2 ;;
	esac
	shift
done
log() { printf 'compare: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
num() { [[ $2 =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$1 wants a number, not '$2'"; }
int() { [[ $2 =~ ^[0-9]{1,4}$ ]] || die "$1 wants a whole number, not '$2'"; }
int --pairs "$pairs"; int --rounds "$rounds"; int --max-minutes "$max_min"; num --window "$win"; num --warmup "$warm"
awk -v w="$win" 'BEGIN{exit !(w >= 0.1 && w <= 60)}' || die "--window: 0.1..60 s"
[[ $do_lat =~ ^[01]$ && $do_bound =~ ^[01]$ ]] || die "--latency and --bound are 0 or 1"
[ -z "$threshold" ] || num --threshold "$threshold"
[ -z "$save" ] || [[ $save =~ ^[A-Za-z0-9._-]+$ ]] || die "--save NAME: letters, digits, . _ - only"
[ "$rounds" -ge 1 ] && [ "$pairs" -ge "$rounds" ] || die "--pairs must be at least --rounds (>= 1)"
for m in $modes; do case $m in txonly | rxonly | macswap) ;; *) die "unknown mode $m" ;; esac; done
for r in $rings; do case $r in split | packed) ;; *) die "unknown ring $r" ;; esac; done
for f in $frames; do [[ $f =~ ^[0-9]+$ ]] && [ "$f" -ge 64 ] && [ "$f" -le 1518 ] || die "frame $f: 64..1518"; done
[ "$(id -u)" = 0 ] || die "run as root (hugepages, testpmd)"
bench=${bench:-$build/bench/vnet-bench} rtt_bin=$build/bench/peer/xcpu_rtt bound_bin=$build/bench/peer/ring_bound
for b in "$bench" "$rtt_bin" "$bound_bin"; do
	[ -x "$b" ] || die "no $b (cmake --preset host && cmake --build build/host -j2, or --build DIR)"
done
# the report draws with Debian's matplotlib (python3-matplotlib, bench/peer/packages.txt)
py=/usr/bin/python3; [ -x "$py" ] || py=python3
command -v dpdk-testpmd >/dev/null || die "no dpdk-testpmd (apt-get install dpdk-dev: bench/peer/packages.txt)"
[[ $niceness =~ ^-?[0-9]+$ ]] && [ "$niceness" -ge -20 ] && [ "$niceness" -le 0 ] || die "--nice: -20..0"
per_round=$(( (pairs + rounds - 1) / rounds ))
deadline=$(( $(date +%s) + max_min * 60 ))

# ---- hugepages, processes, clean-up on every exit path -------------------
# tp_begin, tp_end, start_tp, tp, logsize, wait_log, tp_do: testpmd
# through a FIFO
# shellcheck source=tp.sh
. "$here/tp.sh"
prefix=vnetcmp$$
tp_begin "$prefix" 1024
cleanup() {
	trap - EXIT INT TERM
	[ -f "$out/vnet.pid" ] && pids+=("$(cat "$out/vnet.pid")")
	tp_end
	rm -f "$out/vnet.pid"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM
# this script and all it starts inherit it
[ "$niceness" = 0 ] || renice -n "$niceness" -p $$ >/dev/null || die "--nice $niceness: renice refused"

avx512=0
grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && avx512=1

# show NAME: the port's counters and rates since the last show, as
# "rx_pkts tx_pkts rx_pps tx_pps"
show() {
	local o; o=$(logsize "$1")
	tp "$1" "show port stats 0"
	wait_log "$1" "$o" "Tx-pps:"
	tail -c +"$(( o + 1 ))" "$out/$1.log" | awk '
		/RX-packets:/ {rx = $2} /TX-packets:/ {tx = $2}
		/Rx-pps:/ {rp = $2} /Tx-pps:/ {tpp = $2}
		END {print rx + 0, tx + 0, rp + 0, tpp + 0}'
}
worker_tid() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = rte-worker-1 ] && { basename "$t"; return; }
	done
	echo "$1"
}
cpu_ns() { awk '{print $1}' "/proc/$1/task/$2/schedstat" 2>/dev/null || echo 0; }
probe() { "$rtt_bin" 0 1 20000 3 2>/dev/null | sed -n 's/^rtt_ns=\([0-9]*\).*/\1/p' | grep . || echo 0; }
fwd_of() { # mode -> "backend frontend" forwarding modes
	case $1 in txonly) echo "rxonly txonly" ;; rxonly) echo "txonly rxonly" ;; macswap) echo "macswap flowgen" ;; esac
}
meter_of() { case $1 in txonly) echo "backend Rx-pps" ;; *) echo "backend Tx-pps" ;; esac; }
# zero_bursts NAME: the share of the backend's bursts since its forward
# statistics were last cleared that moved nothing (--record-burst-stats):
# be_rx_zero_pct, polls that found no frame from the frontend;
# be_tx_zero_pct, sends that found no free buffer in the frontend's RX
# ring (the backend waited for that frontend)
zero_bursts() {
	local o; o=$(logsize "$1")
	tp "$1" "show fwd stats all"
	wait_log "$1" "$o" "Accumulated forward statistics"
	tail -c +"$(( o + 1 ))" "$out/$1.log" | awk '
		/RX-bursts :/ && rx == "" { if (match($0, /\[[0-9]+% of 0 pkts/)) rx = substr($0, RSTART + 1, RLENGTH - 1) + 0 }
		/TX-bursts :/ && tx == "" { if (match($0, /\[[0-9]+% of 0 pkts/)) tx = substr($0, RSTART + 1, RLENGTH - 1) + 0 }
		END { if (rx != "") printf ",\"be_rx_zero_pct\":%d", rx; if (tx != "") printf ",\"be_tx_zero_pct\":%d", tx }'
}

# ---- the processes --------------------------------------------------------
# --total-num-mbufs: testpmd's default pool (~155k mbufs, ~340 MB) would
# not let five of them share the hugepages; 32k is still far more than
# the rings and the per-lcore caches hold, so it bounds memory, not speed.
be_args() { # socket prefix-suffix
	echo --no-pci --file-prefix="$prefix$2" --huge-dir /dev/hugepages -m 256 --lcores 0@1,1@1 \
		--vdev "net_vhost0,iface=$1,queues=1" -- -i --disable-link-check --forward-mode=rxonly \
		--txpkts=64 --burst=32 --total-num-mbufs=32768 --record-burst-stats
}
start_be() { # name socket
	local o
	start_tp "$1" dpdk-testpmd $(be_args "$2" "$1")
	wait_log "$1" 0 "testpmd>" 30
	for o in $(seq 300); do [ -S "$2" ] && return 0; sleep 0.01; done
	die "backend $1: no socket $2"
}
start_fe() { # ring
	local dev="net_virtio_user0,path=$out/$1.sock,queues=1,queue_size=$ring" simd=()
	if [ "$1" = packed ]; then
		dev="$dev,packed_vq=1,vectorized=1,mrg_rxbuf=0"
		[ $avx512 = 1 ] && simd=(--force-max-simd-bitwidth=512)
	fi
	start_tp "fe_$1" dpdk-testpmd --no-pci --file-prefix="${prefix}fe$1" --huge-dir /dev/hugepages --single-file-segments \
		-m 256 --lcores 0@0,1@0 "${simd[@]}" --log-level=pmd.net.virtio.init:debug --vdev "$dev" -- -i \
		--forward-mode=txonly --txpkts=64 --burst=32 --total-num-mbufs=32768
	wait_log "fe_$1" 0 "testpmd>" 30
	wait_log "be_$1" 0 "virtio is now ready" 10
}

log "starting the backends and DPDK frontends ($(nproc) CPUs, avx512=$avx512)"
start_be be_vnet "$out/vnet.sock"
for r in $rings; do start_be "be_$r" "$out/$r.sock"; start_fe "$r"; done

# ---- one window of each kind; each prints the JSON fields it measured ------
set_modes() { # name fwd frame
	tp "$1" "set fwd $2"
	tp_do "$1" "set txpkts $3" "testpmd>"
}
# the path DPDK's virtio PMD chose (its init log), once per frontend
dpdk_path() {
	grep -a -o 'virtio: using .* path' "$out/fe_$1.log" 2>/dev/null | sed 's/virtio: using //; s/ path$//' |
		sort -u | tr '\n' ';' | sed 's/;$//' || true
}
measure() { # backend-name fe-pid fe-tid: JSON fields of the window's meter and shares
	local be=$1 bp bt s0 s1 t0 t1 f0 f1 b0 b1
	eval "bp=\$pid_$be"; bt=$(worker_tid "$bp")
	s0=$(show "$be"); t0=$(date +%s%N); f0=$(cpu_ns "$2" "$3"); b0=$(cpu_ns "$bp" "$bt")
	tp "$be" "clear fwd stats all" # the burst statistics: this window's only
	sleep "$win"
	s1=$(show "$be"); t1=$(date +%s%N); f1=$(cpu_ns "$2" "$3"); b1=$(cpu_ns "$bp" "$bt")
	local z; z=$(zero_bursts "$be")
	# a frontend that ended or moved nothing inside the window is no rate
	kill -0 "$2" 2>/dev/null || printf '"error":"the frontend ended before the window did",'
	awk -v s0="$s0" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v f0="$f0" -v f1="$f1" -v b0="$b0" -v b1="$b1" 'BEGIN {
		split(s0, a, " "); split(s1, b, " "); d = t1 - t0
		printf "\"be_rx_pps\":%d,\"be_tx_pps\":%d,\"be_rx_pkts\":%d,\"be_tx_pkts\":%d,\"seconds\":%.3f,\"fe_cpu\":%.3f,\"be_cpu\":%.3f",
			b[3], b[4], b[1] - a[1], b[2] - a[2], d / 1e9, (f1 - f0) / d, (b1 - b0) / d }'
	printf '%s' "$z"
}
win_vnet() { # ring mode frame
	local fw be_f fe_f pk="" vp m
	fw=$(fwd_of "$2"); be_f=${fw% *}; fe_f=${fw#* }
	[ "$1" = packed ] && pk=--packed
	set_modes be_vnet "$be_f" "$3"
	tp_do be_vnet start "testpmd>"
	# vnet-bench runs until stopped (the window is the backend's two shows,
	# however long the commands take); its own count is not the meter
	"$bench" --backend="vhost-user:$out/vnet.sock" --mode="$fe_f" --frame="$3" --cpu=0 --ring="$ring" \
		--burst=32 --warmup=0 --duration=30 --quiet $pk >"$out/vnet.json" 2>"$out/vnet.err" &
	vp=$!; echo "$vp" >"$out/vnet.pid" # this runs in a subshell: cleanup reads the file
	sleep "$warm"
	m=$(measure be_vnet "$vp" "$vp")
	local rc=0
	if kill -0 "$vp" 2>/dev/null; then
		kill "$vp"
		wait "$vp" 2>/dev/null || true
	else
		wait "$vp" 2>/dev/null || rc=$?
	fi
	rm -f "$out/vnet.pid"
	tp_do be_vnet stop "Done"
	printf '%s' "$m"
	[ "$rc" = 0 ] || printf ',"error":"vnet-bench exit %d: %s"' "$rc" "$(head -c 200 "$out/vnet.err" | tr -d '"\\\n')"
}
win_dpdk() { # ring mode frame
	local fw be_f fe_f fp ft m
	fw=$(fwd_of "$2"); be_f=${fw% *}; fe_f=${fw#* }
	set_modes "be_$1" "$be_f" "$3"
	set_modes "fe_$1" "$fe_f" "$3"
	tp_do "be_$1" start "testpmd>"
	tp_do "fe_$1" start "testpmd>"
	eval "fp=\$pid_fe_$1"; ft=$(worker_tid "$fp")
	sleep "$warm"
	m=$(measure "be_$1" "$fp" "$ft")
	tp_do "fe_$1" stop "Done"
	tp_do "be_$1" stop "Done"
	local v="path_$1"
	printf '%s,"dpdk_path":"%s"' "$m" "${!v}"
}
win_bound() {
	local j; j=$("$bound_bin" --seconds="$win" --warmup=0.1 --cpus=0,1) || { printf '"error":"ring_bound failed"'; return; }
	# the line's own "ring" is its size; the window's "ring" is the layout
	echo "$j" | sed -n 's/^{\(.*\)}$/\1/p' | sed 's/"slots_per_s":/"pps":/; s/"ring":/"ring_size":/'
}
win_latency() { # ring
	local pk="" j
	[ "$1" = packed ] && pk=--packed
	set_modes be_vnet macswap 64
	tp_do be_vnet start "testpmd>"
	j=$(timeout 10 "$bench" --backend="vhost-user:$out/vnet.sock" --mode=latency --frame=64 --cpu=0 \
		--ring="$ring" --warmup="$warm" --duration="$win" --quiet $pk 2>"$out/lat.err" | grep -a '^{"backend"' | head -1) || true
	tp_do be_vnet stop "Done"
	[ -n "$j" ] || { printf '"error":"latency run failed: %s"' "$(head -c 200 "$out/lat.err" | tr -d '"\\\n')"; return; }
	echo "$j" | sed 's/^{\(.*\)}$/\1/' |
		sed 's/"backend":"[^"]*",//; s/"mode":"[^"]*",//; s/"frame":[0-9]*,//; s/"ring":/"ring_size":/'
}

path_split="" path_packed=""
for r in $rings; do eval "path_$r=\"\$(dpdk_path $r)\""; done
log "DPDK paths: split: ${path_split:-?}; packed: ${path_packed:-?}"

# Does vnet move frames over this backend with each ring layout? A layout
# that moves none is left out of the comparison (said here and in the
# session line), not counted as a string of failed windows.
skipped=""
preflight() { # ring: 0 when vnet-bench moved frames
	local pk="" j n
	[ "$1" = packed ] && pk=--packed
	set_modes be_vnet rxonly 64
	tp_do be_vnet start "testpmd>"
	j=$(timeout 10 "$bench" --backend="vhost-user:$out/vnet.sock" --mode=txonly --cpu=0 --warmup=0.1 \
		--duration=0.3 --quiet $pk 2>"$out/preflight.err" | grep -a '^{' | head -1) || true
	tp_do be_vnet stop "Done"
	n=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' <<<"$j")
	[ "${n:-0}" -gt 0 ]
}
kept=""
for r in $rings; do
	if preflight "$r"; then kept="$kept $r"; else
		log "vnet-bench moved no frames with the $r ring over net_vhost ($(head -c 200 "$out/preflight.err")): $r left out"
		skipped="$skipped $r"
	fi
done
rings=${kept# }
[ -n "$rings" ] || die "vnet-bench moved no frames with any ring layout"

raw=$out/raw.jsonl
: >"$raw"
seq_n=0
rtt_prev=$(probe)
# window WHO RING MODE FRAME ROUND PAIR: run it, probe after, write its line
window() {
	local who=$1 ring_l=$2 mode=$3 frame=$4 fields meter="" t
	t=$(date +%s.%N)
	case $who in
	vnet) fields=$(win_vnet "$ring_l" "$mode" "$frame") ;;
	dpdk) fields=$(win_dpdk "$ring_l" "$mode" "$frame") ;;
	bound) fields=$(win_bound) ;;
	latency) fields=$(win_latency "$ring_l") ;;
	esac
	local rtt_next; rtt_next=$(probe)
	case $who in vnet | dpdk) meter=$(meter_of "$mode") ;; esac
	local pps=0
	if [ -n "$meter" ]; then
		if [ "$mode" = txonly ]; then pps=$(sed -n 's/.*"be_rx_pps":\([0-9]*\).*/\1/p' <<<"$fields")
		else pps=$(sed -n 's/.*"be_tx_pps":\([0-9]*\).*/\1/p' <<<"$fields"); fi
	fi
	if [ -n "$meter" ] && [ "${pps:-0}" = 0 ] && [[ $fields != *'"error"'* ]]; then
		fields="$fields,\"error\":\"the backend counted no packets\""
	fi
	seq_n=$((seq_n + 1))
	printf '{"kind":"window","seq":%d,"t":%.1f,"who":"%s","ring":"%s","mode":"%s","frame":%d,"round":%d,"pair":%d,"rtt_before_ns":%d,"rtt_after_ns":%d,"meter":"%s",%s%s}\n' \
		"$seq_n" "$t" "$who" "$ring_l" "$mode" "$frame" "$5" "$6" "$rtt_prev" "$rtt_next" "$meter" \
		"$([ -n "$meter" ] && echo "\"pps\":${pps:-0},")" "$fields" >>"$raw"
	rtt_prev=$rtt_next
}

uptime_before=$(uptime)
log "load before: $uptime_before"
log "$rounds rounds x $per_round pairs per configuration, windows of $win s"
stopped=0
for round in $(seq "$rounds"); do
	for r in $rings; do
		for mode in $modes; do
			for frame in $frames; do
				for p in $(seq "$per_round"); do
					[ "$(date +%s)" -lt "$deadline" ] || { stopped=1; break 5; }
					pair=$(( (round - 1) * per_round + p ))
					[ "$pair" -le "$pairs" ] || continue
					if [ $(( pair % 2 )) = 1 ]; then order="vnet dpdk"; else order="dpdk vnet"; fi
					for who in $order; do window "$who" "$r" "$mode" "$frame" "$round" "$pair"; done
					if [ "$do_bound" = 1 ] && [ "$mode" = txonly ] && [ "$frame" = 64 ]; then
						window bound "$r" txonly 64 "$round" "$pair"
					fi
				done
			done
		done
		[ "$do_lat" = 1 ] && window latency "$r" latency 64 "$round" 0
	done
	log "round $round done ($(wc -l <"$raw") windows, $(( deadline - $(date +%s) )) s left of --max-minutes)"
done
[ $stopped = 0 ] || log "stopped at --max-minutes $max_min: the report covers what ran"
uptime_after=$(uptime)
log "load after: $uptime_after"
printf '{"kind":"session","nice":%d,"skipped_rings":"%s","dpdk":"%s","path_split":"%s","path_packed":"%s","avx512":%d,"window_s":%s,"pairs":%d,"rounds":%d,"load_before":"%s","load_after":"%s","tsc_mhz":%s}\n' \
	"$niceness" "${skipped# }" "$(dpkg-query -W -f '${Version}' dpdk-dev 2>/dev/null || echo ?)" "$path_split" "$path_packed" "$avx512" "$win" \
	"$pairs" "$rounds" "$(echo "$uptime_before" | sed 's/.*load average: //')" \
	"$(echo "$uptime_after" | sed 's/.*load average: //')" \
	"$("$rtt_bin" 0 1 1000 1 | sed -n 's/.*tsc_mhz=\([0-9]*\).*/\1/p')" >>"$raw"
"$py" "$here/compare_report.py" "$raw" ${threshold:+--threshold "$threshold"} --out "$out/classed.jsonl" \
	--plot "$out/compare.png" | tee "$out/report.md"
log "raw lines $raw, classed $out/classed.jsonl, table $out/report.md, plot $out/compare.png"
if [ -n "$save" ]; then
	docs=$here/../../docs
	{ cat "$out/classed.jsonl"; grep '"kind":"session"' "$raw"; } >"$docs/results/peer-$save.jsonl"
	cp "$out/report.md" "$docs/results/peer-$save.md"
	[ ! -f "$out/compare.png" ] || cp "$out/compare.png" "$docs/img/peer-$save.png"
	log "saved docs/results/peer-$save.jsonl, docs/results/peer-$save.md, docs/img/peer-$save.png"
fi
