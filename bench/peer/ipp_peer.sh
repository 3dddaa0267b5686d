#!/usr/bin/env bash
# bench/peer/ipp_peer.sh — driver instructions per packet, counted by
# callgrind, for DPDK's virtio PMD (net_virtio_user, dpdk-testpmd) and for
# vnet (vnet-bench's vhost-user frontend), both over the same DPDK
# net_vhost backend (a native dpdk-testpmd on cpu1, txonly to feed the
# frontend's RX, rxonly to drain its TX).
# Instructions, not seconds; but how many calls move nothing depends on
# timing (below). Run it by hand, as root, with no other benchmark
# running (a busy-polling testpmd of another run takes its CPUs).
#
#   bench/peer/ipp_peer.sh [--build DIR] [--rings "split split-vec packed"] [--seconds 10]
#        [--packets 1000000] [--out DIR] [--save]
#
# Each frontend gets a backend of its own (a fresh dpdk-testpmd, natively
# on cpu1 at nice -20 so that it keeps ahead of a frontend under callgrind)
# and is counted twice: a forwarding window (the backend feeding or
# draining it) and an idle one (the backend stopped: every call finds
# nothing to receive, or a full ring to send into). Over a real backend
# the share of calls that move nothing depends on timing, so the table
# gives the measured figure and the fit of both windows to
#   instructions = a * packets + e * calls
# whose "whole bursts" figure a + e/32 is what a packet costs when every
# call moves 32 (e: the instructions of a call that moves nothing).
# DPDK: testpmd with net_virtio_user (hugepages, --single-file-segments,
# as compare.sh) under valgrind --tool=callgrind, instrumentation off
# until callgrind_control switches it on; each window is dumped with
# callgrind_control -d (--no-flush-rx: "start" receives nothing the
# forward statistics leave out). Debian's library has no symbols at all,
# so the count is per object: the self instructions of librte_net_virtio,
# everything its burst functions do (RX with its refill, TX with its
# cleanup of finished sends, mbuf alloc and free inlined from DPDK's
# headers). Apart: the inclusive instructions of its calls into
# librte_mbuf/librte_mempool*/librte_ring (buffer work done out of line)
# and into other objects (ld.so's __tls_get_addr for rte_lcore_id() in a
# dlopen()ed driver). Packets: testpmd's forward statistics of the
# frontend's port at "stop" (RX-packets; TX-packets). Calls: callgrind's
# count of testpmd's calls into the driver.
# vnet: vnet-bench --packets under callgrind with tools/ipp's
# --toggle-collect set (TX: vnet_tx_burst; RX: vnet_rx_burst +
# vnet_rx_refill, with the buffers from vnet's own pool inside); packets:
# vnet-bench's count; calls: callgrind's count of vnet_{rx,tx}_burst.
# The idle vnet run ends at vnet-bench's own bound (4 x --packets + 1000
# polls with nothing).
# Ring layouts: split = each frontend's defaults (both negotiate IN_ORDER
# with this backend); split-vec = DPDK in_order=0,mrg_rxbuf=0,vectorized=1
# (its vectorized RX path: vnet as in split, it has no switch to leave
# IN_ORDER out); packed = DPDK packed_vq=1,vectorized=1,mrg_rxbuf=0
# (as compare.sh; valgrind's CPU has no AVX-512, so DPDK may fall back to
# its scalar packed path: the path it used is read from its init log) and
# vnet --packed.
# Output: JSON lines and a table on stdout and in --out; --save copies
# them into the tree as docs/results/ipp-peer.{jsonl,md}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$here/../../build/host
rings="split split-vec packed" secs=10 packets=1000000 save=0 out=/tmp/vnet-ipp-peer.$$
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift ;;
	--rings) rings=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--packets) packets=$2; shift ;;
	--out) out=$2; shift ;;
	--save) save=1 ;;
	*) sed -n '2,52p' "$0"; exit 2 ;;
	esac
	shift
done
log() { printf 'ipp_peer: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
[[ $secs =~ ^[0-9]{1,3}$ && $secs -ge 1 ]] || die "--seconds: 1..999"
[[ $packets =~ ^[0-9]{1,9}$ && $packets -ge 1000 ]] || die "--packets: 1000..999999999"
for r in $rings; do case $r in split | split-vec | packed) ;; *) die "unknown ring $r" ;; esac; done
[ "$(id -u)" = 0 ] || die "run as root (hugepages, testpmd)"
bench=$build/bench/vnet-bench
[ -x "$bench" ] || die "no $bench (cmake --preset host && cmake --build build/host -j2, or --build DIR)"
command -v dpdk-testpmd >/dev/null || die "no dpdk-testpmd (apt-get install dpdk-dev: bench/peer/packages.txt)"
{ command -v valgrind && command -v callgrind_control; } >/dev/null || die "no valgrind (tools/setup)"

# ---- hugepages (the backend's), processes, clean-up on every exit path ----
# tp_begin, tp_end, start_tp, tp, logsize, wait_log, tp_do: testpmd
# through a FIFO
# shellcheck source=tp.sh
. "$here/tp.sh"
prefix=vnetipp$$
tp_begin "$prefix" 512
cleanup() {
	trap - EXIT INT TERM
	tp_end
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# end_tp NAME: quit, wait for the process (bounded), forget it
end_tp() {
	local v="pid_$1" f="fd_$1" i
	tp "$1" quit || true
	for i in $(seq 300); do kill -0 "${!v}" 2>/dev/null || break; sleep 0.1; done
	kill "${!v}" 2>/dev/null || true
	wait "${!v}" 2>/dev/null || true
	eval "exec ${!f}>&-"
	local keep=() p
	for p in "${pids[@]}"; do [ "$p" = "${!v}" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}

# (mawk's %d stops at 2^31: counts are printed with %.0f)
# the DPDK run's objects: virtio's self Ir, its calls into the buffer
# libraries and into other objects (inclusive), from callgrind's out file
objects() {
	awk '
	function nm(s,   n, r) { # "(id) name" or "(id)" (name compression) -> name
		if (match(s, /^\([0-9]+\)/)) {
			n = substr(s, 2, RLENGTH - 2); r = substr(s, RLENGTH + 2)
			if (r != "") names[n] = r
			return names[n]
		}
		return s
	}
	/^ob=/ { ob = nm(substr($0, 4)); next }
	/^cob=/ { cob = nm(substr($0, 5)); next }
	/^calls=/ { incall = 1; split(substr($0, 7), a, " "); ncalls = a[1]; next }
	/^[0-9+*-]/ {
		c = $NF; v = ob ~ /librte_net_virtio/
		if (incall) {
			callee = cob == "" ? ob : cob
			if (v && callee !~ /librte_net_virtio/) {
				if (callee ~ /librte_(mbuf|mempool|ring)/) buf += c; else { other += c; on[callee] = 1 }
			}
			if (!v && callee ~ /librte_net_virtio/) calls += ncalls # testpmd -> the burst function
			incall = 0; cob = ""
		} else if (v) self += c
		next
	}
	END {
		for (o in on) { sub(/.*\//, "", o); names_o = names_o (names_o == "" ? "" : " ") o }
		printf "%.0f %.0f %.0f %.0f %s\n", self, buf, other, calls, names_o == "" ? "-" : names_o
	}' "$1"
}
# calls OUT FUNCTION: how many times FUNCTION was called (callgrind out file)
calls() {
	awk -v f="$2" '
	function nm(s,   n, r) {
		if (match(s, /^\([0-9]+\)/)) {
			n = substr(s, 2, RLENGTH - 2); r = substr(s, RLENGTH + 2)
			if (r != "") names[n] = r
			return names[n]
		}
		return s
	}
	/^fn=/ { fn = nm(substr($0, 4)) }
	/^cfn=/ { cfn = nm(substr($0, 5)) }
	/^calls=/ && cfn == f && fn != f { split(substr($0, 7), a, " "); n += a[1] }
	END { printf "%.0f\n", n }' "$1"
}

be_start() { # NAME: a backend, natively on cpu1 at nice -20, its socket $out/NAME.sock
	start_tp "$1" nice -n -20 dpdk-testpmd --no-pci --file-prefix="$prefix$1" --huge-dir /dev/hugepages -m 256 \
		--lcores 0@1,1@1 --vdev "net_vhost0,iface=$out/$1.sock,queues=1" -- -i --disable-link-check \
		--forward-mode=rxonly --txpkts=64 --burst=32 --total-num-mbufs=32768
	wait_log "$1" 0 "testpmd>" 30
	local i
	for i in $(seq 300); do [ -S "$out/$1.sock" ] && return 0; sleep 0.01; done
	die "backend $1: no socket"
}
# fwd_stats TEXT DIR: "packets dropped" from testpmd's forward statistics
# of its port (the first block, before the accumulated one)
fwd_stats() { awk -v k="$([ "$2" = rx ] && echo RX || echo TX)-packets:" '$1 == k {print $2, $4; exit}' <<<"$1"; }

# dpdk RING DIR BE: the DPDK frontend under callgrind against backend BE:
# a forwarding window (dumped as part 1) and an idle one (backend stopped,
# part 2); "packets dropped virtio_ir buf_ir other_ir calls objects" of each in
# $out/BE.w1 and $out/BE.w0, the path in $out/BE.path
dpdk() {
	local r=$1 d=$2 be=$3 n=fe_$3 dev="net_virtio_user0,path=$out/$3.sock,queues=1,queue_size=256" simd=()
	local fe_m be_m vp w st
	case $r in
	packed)
		dev="$dev,packed_vq=1,vectorized=1,mrg_rxbuf=0"
		grep -qw avx512f /proc/cpuinfo && simd=(--force-max-simd-bitwidth=512) ;;
	split-vec) dev="$dev,in_order=0,mrg_rxbuf=0,vectorized=1" ;;
	esac
	if [ "$d" = rx ]; then fe_m=rxonly be_m=txonly; else fe_m=txonly be_m=rxonly; fi
	start_tp "$n" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/$n.out" \
		dpdk-testpmd --no-pci --huge-dir /dev/hugepages --single-file-segments -m 256 --file-prefix="$prefix$n" \
		--lcores 0@0,1@0 "${simd[@]}" --log-level=pmd.net.virtio.init:debug --vdev "$dev" -- -i \
		--forward-mode="$fe_m" --txpkts=64 --burst=32 --total-num-mbufs=32768 --no-flush-rx
	wait_log "$n" 0 "testpmd>" 120
	wait_log "$be" 0 "virtio is now ready" 30
	eval "vp=\$pid_$n"
	tp_do "$be" "set fwd $be_m" "testpmd>"
	tp_do "$be" start "testpmd>"
	timeout 60 callgrind_control -i on "$vp" >/dev/null || die "callgrind_control -i on $vp failed"
	for w in 1 0; do # 1: the backend forwarding; 0: stopped (idle polls)
		[ $w = 1 ] || tp_do "$be" stop "Done"
		tp_do "$n" start "testpmd>" 60
		sleep "$([ $w = 1 ] && echo "$secs" || echo 2)"
		local o; o=$(logsize "$n")
		tp "$n" stop
		wait_log "$n" "$o" "Accumulated forward statistics" 120
		st=$(tail -c +"$(( o + 1 ))" "$out/$n.log")
		timeout 60 callgrind_control -d "$vp" >/dev/null || die "callgrind_control -d $vp failed"
		local part=$(( 2 - w )) i
		for i in $(seq 300); do [ -s "$out/$n.out.$part" ] && break; sleep 0.1; done
		[ -s "$out/$n.out.$part" ] || die "no callgrind dump $out/$n.out.$part"
		echo "$(fwd_stats "$st" "$d") $(objects "$out/$n.out.$part")" >"$out/$be.w$w"
	done
	timeout 60 callgrind_control -i off "$vp" >/dev/null || true
	end_tp "$n"
	grep -a -o "virtio: using .* ${d^} path" "$out/$n.log" | sed 's/virtio: using //; s/ path$//' | tail -1 >"$out/$be.path" || true
}

# vnet RING DIR BE: vnet-bench under callgrind (tools/ipp's counted set)
# against backend BE, forwarding then idle; "packets calls ir" of each in
# $out/BE.w1 and $out/BE.w0
vnet() {
	local r=$1 d=$2 be=$3 m be_m pk="" w f
	local tg=(--toggle-collect=vnet_tx_burst)
	if [ "$d" = rx ]; then m=rxonly be_m=txonly tg=(--toggle-collect=vnet_rx_burst --toggle-collect=vnet_rx_refill)
	else m=txonly be_m=rxonly; fi
	[ "$r" = packed ] && pk=--packed
	tp_do "$be" "set fwd $be_m" "testpmd>"
	for w in 1 0; do
		[ $w = 1 ] && tp_do "$be" start "testpmd>"
		f=$out/$be.$w
		# idle: vnet-bench stops after 4 x --packets + 1000 polls with nothing
		timeout 600 valgrind --tool=callgrind --callgrind-out-file="$f.out" "${tg[@]}" \
			"$bench" --backend="vhost-user:$out/$be.sock" --mode="$m" --packets="$packets" --burst=32 --frame=64 \
			--ring=256 --cpu=0 --quiet $pk >"$f.json" 2>"$f.err" || die "vnet-bench $r $d failed: $(tail -c 300 "$f.err")"
		[ $w = 0 ] || tp_do "$be" stop "Done"
		echo "$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' "$f.json" | head -1) $(calls "$f.out" "vnet_${d}_burst")" \
			"$(awk '/^summary:/ {print $2}' "$f.out")" >"$out/$be.w$w"
	done
	read -r n _ <"$out/$be.w1"
	[ "${n:-0}" -gt 0 ] || die "vnet $r $d: no packets (see $out/$be.1.err)"
}

# fit: I = a * packets + e * calls over the two windows (forwarding, idle);
# prints "a e full" where full = a + e / 32, the instructions per packet
# when every call moves a whole burst
fit() { # I1 P1 C1 I0 P0 C0
	awk -v i1="$1" -v p1="$2" -v c1="$3" -v i0="$4" -v p0="$5" -v c0="$6" 'BEGIN {
		d = c0 * p1 - c1 * p0
		if (d == 0 || p1 == 0) { print "0 0 0"; exit }
		e = (i0 * p1 - i1 * p0) / d; a = (i1 - e * c1) / p1
		printf "%.1f %.1f %.1f\n", a, e, a + e / 32 }'
}

raw=$out/ipp-peer.jsonl
: >"$raw"
for r in $rings; do
	for d in rx tx; do
		log "$r $d: DPDK frontend under callgrind ($secs s forwarding, 2 s idle)"
		be_start "be_${r//-/_}_${d}_dpdk"
		dpdk "$r" "$d" "be_${r//-/_}_${d}_dpdk"
		end_tp "be_${r//-/_}_${d}_dpdk"
		log "$r $d: vnet-bench under callgrind ($packets packets forwarding, then idle)"
		be_start "be_${r//-/_}_${d}_vnet"
		vnet "$r" "$d" "be_${r//-/_}_${d}_vnet"
		end_tp "be_${r//-/_}_${d}_vnet"
		read -r dp ddrop dv db dother dc dobj <"$out/be_${r//-/_}_${d}_dpdk.w1"
		read -r dp0 _ dv0 db0 dother0 dc0 _ <"$out/be_${r//-/_}_${d}_dpdk.w0"
		read -r vp vc vi <"$out/be_${r//-/_}_${d}_vnet.w1"
		read -r vp0 vc0 vi0 <"$out/be_${r//-/_}_${d}_vnet.w0"
		[ "${dp:-0}" -gt 0 ] || die "DPDK $r $d: the frontend counted no packets"
		read -r da de dfull <<<"$(fit "$dv" "$dp" "$dc" "$dv0" "$dp0" "$dc0")"
		read -r _ _ dtfull <<<"$(fit $(( dv + db + dother )) "$dp" "$dc" $(( dv0 + db0 + dother0 )) "$dp0" "$dc0")"
		read -r va ve vfull <<<"$(fit "$vi" "$vp" "$vc" "$vi0" "$vp0" "$vc0")"
		awk -v r="$r" -v d="$d" -v path="$(cat "$out/be_${r//-/_}_${d}_dpdk.path")" -v dp="$dp" -v ddrop="$ddrop" -v dc="$dc" \
			-v dv="$dv" -v db="$db" -v do_="$dother" -v dobj="$dobj" -v dp0="$dp0" -v dc0="$dc0" -v dv0="$dv0" \
			-v da="$da" -v de="$de" -v dfull="$dfull" -v dtfull="$dtfull" -v vp="$vp" -v vc="$vc" -v vi="$vi" \
			-v vp0="$vp0" -v vc0="$vc0" -v vi0="$vi0" -v va="$va" -v ve="$ve" -v vfull="$vfull" 'BEGIN {
			printf "{\"ring\":\"%s\",\"dir\":\"%s\",\"frame\":64,\"burst\":32,\"ring_size\":256,\"dpdk_path\":\"%s\",", r, d, path
			printf "\"dpdk_packets\":%.0f,\"dpdk_dropped\":%.0f,\"dpdk_calls\":%.0f,\"dpdk_virtio_ir\":%.0f,\"dpdk_buf_ir\":%.0f,\"dpdk_other_ir\":%.0f,\"dpdk_other_objects\":\"%s\",", dp, ddrop, dc, dv, db, do_, dobj
			printf "\"dpdk_idle_packets\":%.0f,\"dpdk_idle_calls\":%.0f,\"dpdk_idle_virtio_ir\":%.0f,", dp0, dc0, dv0
			printf "\"dpdk_ipp\":%.1f,\"dpdk_buf_ipp\":%.1f,\"dpdk_other_ipp\":%.1f,\"dpdk_per_call\":%.1f,\"dpdk_full_burst_ipp\":%.1f,\"dpdk_total_full_burst_ipp\":%.1f,", dv / dp, db / dp, do_ / dp, de, dfull, dtfull
			printf "\"vnet_packets\":%.0f,\"vnet_calls\":%.0f,\"vnet_ir\":%.0f,\"vnet_idle_packets\":%.0f,\"vnet_idle_calls\":%.0f,\"vnet_idle_ir\":%.0f,", vp, vc, vi, vp0, vc0, vi0
			printf "\"vnet_ipp\":%.1f,\"vnet_per_call\":%.1f,\"vnet_full_burst_ipp\":%.1f,", vi / vp, ve, vfull
			printf "\"vnet_over_dpdk_full_burst\":%.2f}\n", (dfull > 0 ? vfull / dfull : 0) }' >>"$raw"
	done
done
printf '{"kind":"session","dpdk":"%s","valgrind":"%s","seconds":%d,"vnet_packets_asked":%d}\n' \
	"$(dpkg-query -W -f '${Version}' dpdk-dev 2>/dev/null || echo ?)" "$(valgrind --version)" "$secs" "$packets" >>"$raw"

# the table: instructions per packet, as measured and fitted to whole bursts
{
	cat "$raw"
	printf '\n| ring | direction | DPDK path | DPDK packets/call | DPDK PMD, measured | DPDK PMD, whole bursts | mbuf/mempool called by the PMD | other calls by the PMD | vnet packets/call | vnet, measured | vnet, whole bursts | vnet / DPDK PMD (whole bursts) |\n'
	printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
	grep -v '"kind":"session"' "$raw" | awk '
		function f(k,   s) { match($0, "\"" k "\":(\"[^\"]*\"|-?[0-9.]+)"); s = substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3); gsub(/"/, "", s); return s }
		{ printf "| %s | %s | %s | %.1f | %s | %s | %s | %s | %.1f | %s | %s | %.2f |\n", f("ring"), toupper(f("dir")), f("dpdk_path"),
			f("dpdk_packets") / f("dpdk_calls"), f("dpdk_ipp"), f("dpdk_full_burst_ipp"), f("dpdk_buf_ipp"), f("dpdk_other_ipp"),
			f("vnet_packets") / f("vnet_calls"), f("vnet_ipp"), f("vnet_full_burst_ipp"), f("vnet_full_burst_ipp") / f("dpdk_full_burst_ipp") }'
} | tee "$out/ipp-peer.md"
if [ $save = 1 ]; then
	cp "$raw" "$here/../../docs/results/ipp-peer.jsonl"
	cp "$out/ipp-peer.md" "$here/../../docs/results/ipp-peer.md"
	log "saved docs/results/ipp-peer.jsonl and docs/results/ipp-peer.md"
fi
log "raw lines $raw, table $out/ipp-peer.md"
