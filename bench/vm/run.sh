#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/vm/run.sh — vnet-bench as a bare-metal image under QEMU, side by
# side with a Linux guest, both counted on the host side of a tap inside a
# private network namespace (tools/qemu-run). Run as root.
#
#   bench/vm/run.sh [--frames "60 1514"] [--duration SEC] [--warmup SEC]
#                   [--rounds N] [--burst N] [--ring N] [--machine q35|microvm]
#                   [--queues "1 2"] [--flows N] [--peer host|vm] [--netdev dgram|socket]
#                   [--no-linux] [--no-latency] [--no-plot] [--out DIR]
#                   [--guest "K=V ..."]   (more vnet-bench-bm options, e.g. idle=50)
#                   [--bm-build DIR] [--host-build DIR]   (build/bm, build/host)
#
# For each round and frame size, in this order (alternating the contenders,
# as the host's load drifts): vnet-bench-bm txonly (host sink counts),
# vnet-bench-bm rxonly (host generator; the tap's counters say what QEMU
# took), the Linux guest (pktgen, then a receive phase; same counting).
# Then latency: vnet-bench-bm latency against the host reflector (guest-side
# round trips and per-stage cycles) and mode=forward under the host's
# ping-pong (host-side round trips). Both guests' busy cycles per packet
# are compared too: vnet-bench-bm's window less its halts (txonly and
# rxonly halt by default: idle=20 txwait=200), the Linux guest's
# /proc/stat around each phase. Writes DIR/results.jsonl, DIR/summary.md
# and DIR/vmbench.png, and prints the summary. KVM and vhost-net are used
# only where a probe has shown that they work here (tools/lib/qemu.sh;
# VNET_ACCEL and VNET_VHOST force them); the output says which and why.
#
# --queues "1 2": vnet-bench-bm's txonly and rxonly once per queue-pair
# count, alternating within each round (queues=N in the guest, mq=on and a
# multiqueue tap with queues=N in QEMU; the host generator sends --flows
# UDP flows, 8 by default with N > 1, for the tap to spread by flow hash).
# --peer vm: no host side at all: two vnet-bench-bm guests joined by
# QEMU's dgram (or socket) netdev on 127.0.0.1 (bench/vm/vm-pair):
# rxonly <- txonly, then forward <- latency; each guest counts its own
# side; needs no root. Both guests' JSON lines and tables are printed,
# then the summary. The image and the host peer (bench/peer/vmb-peer) come
# from the bare-metal and host builds (bench/vm/build.sh).
set -euo pipefail
vm=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$vm/../.." && pwd)
# shellcheck source=../../tools/lib/qemu.sh
. "$root/tools/lib/qemu.sh"
frames="60 1514" dur=3 warm=0.5 rounds=1 burst=32 ring=256 machine=q35
linux=1 latency=1 plot=1 out="" queues=1 flows="" peer=host netdev=dgram gopts=""
bm_build=$root/build/bm host_build=$root/build/host
while [ $# -gt 0 ]; do
	case $1 in
	--frames) frames=$2; shift ;;
	--duration) dur=$2; shift ;;
	--warmup) warm=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--burst) burst=$2; shift ;;
	--ring) ring=$2; shift ;;
	--machine) machine=$2; shift ;;
	--queues) queues=$2; shift ;;
	--flows) flows=$2; shift ;;
	--peer) peer=$2; shift ;;
	--netdev) netdev=$2; shift ;;
	--no-linux) linux=0 ;;
	--no-latency) latency=0 ;;
	--no-plot) plot=0 ;;
	--guest) gopts=$2; shift
		case $gopts in *[!a-z0-9_=.\ ]*) echo "vmbench: --guest takes K=V words" >&2; exit 2 ;; esac ;;
	--out) out=$2; shift ;;
	--bm-build) bm_build=$2; shift ;;
	--host-build) host_build=$2; shift ;;
	-h|--help) sed -n '2,37p' "$0"; exit 0 ;;
	*) echo "vmbench: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
case $peer in host|vm) ;; *) echo "vmbench: --peer is host or vm" >&2; exit 2 ;; esac
for q in $queues; do
	case $q in [1-9]|1[0-6]) ;; *) echo "vmbench: queue pairs are 1..16" >&2; exit 2 ;; esac
done
[ -n "$queues" ] || { echo "vmbench: --queues needs a count" >&2; exit 2; }
if [ "$peer" = vm ] && [ "$queues" != 1 ]; then
	# dgram and socket netdevs have one queue; QEMU's MQ needs tap (or vhost-user)
	echo "vmbench: --peer vm runs one queue pair (QEMU's dgram/socket netdevs have one queue)" >&2; exit 2
fi
case $flows in ''|[1-9]|[1-5][0-9]|6[0-4]) ;; *) echo "vmbench: flows is 1..64" >&2; exit 2 ;; esac
[ "$peer" = vm ] || [ "$(id -u)" = 0 ] || { echo "vmbench: needs root (network namespace, tap)" >&2; exit 2; }
case $rounds in [1-9]|10) ;; *) echo "vmbench: rounds is 1..10" >&2; exit 2 ;; esac
case $ring in 64|128|256|512|1024) ;; *) echo "vmbench: ring is 64, 128, 256, 512 or 1024" >&2; exit 2 ;; esac
case $burst in [1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-6]) ;; *) echo "vmbench: burst is 1..256" >&2; exit 2 ;; esac
for f in $frames; do
	case $f in *[!0-9]*|'') echo "vmbench: bad frame size $f" >&2; exit 2 ;; esac
	[ "$f" -ge 60 ] && [ "$f" -le 1514 ] || { echo "vmbench: frames are 60..1514 bytes" >&2; exit 2; }
done
awk -v d="$dur" -v w="$warm" 'BEGIN { exit !(d > 0 && d <= 60 && w >= 0 && w <= 10) }' ||
	{ echo "vmbench: duration 0..60 s, warmup 0..10 s" >&2; exit 2; }
plus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }

out=${out:-/tmp/vmbench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
cache=${VNET_CACHE:-${HOME:-/root}/.cache/vnet}/vmbench
vnet_accel x86_64 || exit 2
accel=${VNET_ACCEL_USED^^}
if [ "$peer" = host ]; then # the dgram netdev has no vhost
	vnet_vhost || exit 2
	[ "$VNET_VHOST" = on ] && accel="$accel+vhost"
fi
echo "vmbench: $machine, $accel, frames $frames, ${dur}s windows after ${warm}s warm-up, $rounds round(s)," \
	"peer $peer, queue pairs $queues, out $out"

what="the image"
[ "$peer" = vm ] || what="the image and the host peer"
echo "vmbench: building $what" >&2
image=$("$vm/build.sh" image "$bm_build")
if [ "$peer" = host ]; then
	hpeer=$("$vm/build.sh" peer "$host_build")
else
	linux=0 plot=0 # the Linux guest is counted by a host peer; the plot is of host counts
fi
if [ $linux = 1 ]; then
	read -r vmlinuz initrd < <("$vm/linux-guest.sh" "$cache")
fi

qsize=256
case $ring in 512|1024) qsize=$ring ;; esac
qv=("$root/tools/qemu-run" --machine "$machine" --queue-size "$qsize")
common="burst=$burst ring=$ring $gopts"
# txonly and rxonly halt rather than spin while the device has the work
# (as the appliance does), so that the guest's busy cycles per packet
# measure its own cost, not the device's rate; --guest "idle=0 txwait=0"
# spins (the last word of a key wins)
pps="burst=$burst ring=$ring idle=20 txwait=200 $gopts"
# QEMU caps a tap device's TX queue at 256 (larger only with vhost-user)
if [ "$ring" -gt 256 ]; then common="$common txring=256" pps="$pps txring=256"; fi
fails=0
run() {  # LABEL LOG -- qemu-run args...
	local label=$1 log=$2; shift 3
	if ! "${qv[@]}" --serial "$log" "$@" >"$log.qemu" 2>&1; then
		echo "vmbench: $label failed (see $log, $log.qemu)" >&2
		fails=$((fails + 1))
		return 0
	fi
	echo "vmbench: $label done" >&2
}
# two guests, no host side: A (receiver/reflector) first, then B (sender)
pair() {  # LABEL LOG_A LOG_B "A's ARGS" "B's ARGS"
	local label=$1
	if ! "$vm/vm-pair" --machine "$machine" --netdev "$netdev" --queue-size "$qsize" --timeout 60 \
		--serial-a "$2" --serial-b "$3" "$image" "$4" "$5" >"$2.qemu" 2>&1; then
		echo "vmbench: $label failed (see $2, $3, $2.qemu)" >&2
		fails=$((fails + 1))
		return 0
	fi
	echo "vmbench: $label done" >&2
}
show() {  # LOG...: a guest's JSON lines and tables
	local l
	for l in "$@"; do
		echo "== $(basename "$l" .log) =="
		grep -E '^\{"(backend|per_queue)"|^\|' "$l" || echo "(no result: see $l)"
	done
}
qsuffix() { [ "$1" = 1 ] || echo "-q$1"; }
hflows() { if [ -n "$flows" ]; then echo "$flows"; elif [ "$1" -gt 1 ]; then echo 8; else echo 1; fi; }

for r in $(seq "$rounds"); do
	p=$out/r$r
	for f in $frames; do
		if [ "$peer" = vm ]; then
			# the sender outlasts the receiver's warm-up and window (it starts
			# counting at its first frame, after B's boot)
			pair "round $r VM-to-VM rxonly <- txonly $f" "$p-vm2vm-rx-$f.log" "$p-vm2vm-tx-$f.log" \
				"mode=rxonly frame=$f $common warmup=$warm duration=$dur wait=20" \
				"mode=txonly frame=$f $common warmup=0.2 duration=$(plus "$warm" "$dur" | awk '{print $1 + 2}')"
			show "$p-vm2vm-rx-$f.log" "$p-vm2vm-tx-$f.log"
			continue
		fi
		for q in $queues; do
			s=$(qsuffix "$q")
			qa="queues=$q"
			run "round $r vnet txonly $f, $q queue pair(s)" "$p-vnet-tx-$f$s.log" -- --timeout 60 --mq "$q" \
				--append "mode=txonly frame=$f $pps $qa warmup=0.2 duration=$(plus "$warm" "$dur" | awk '{print $1 + 2}')" \
				"$image" -- "$vm/vnet-peer.sh" "$hpeer" tx "$p-vnet-tx-$f$s.json" "$f" "$warm" "$dur"
			run "round $r vnet rxonly $f, $q queue pair(s)" "$p-vnet-rx-$f$s.log" -- --timeout 60 --mq "$q" \
				--append "mode=rxonly frame=$f $pps $qa warmup=$warm duration=$dur wait=20" \
				"$image" -- "$vm/vnet-peer.sh" "$hpeer" rx "$p-vnet-rx-$f$s.json" "$f" "$warm" "$dur" "$(hflows "$q")"
		done
		if [ $linux = 1 ]; then
			ph=$(plus "$(plus "$warm" "$dur")" 1.5)
			run "round $r Linux guest $f" "$p-linux-$f.log" -- --timeout 180 --expect-exit 0 --initrd "$initrd" \
				--append "console=ttyS0 quiet panic=-1 vmb_tx=$ph vmb_rx=$ph vmb_frame=$f vmb_burst=$burst" \
				"$vmlinuz" -- "$vm/linux-peer.sh" "$hpeer" "$out" "$f" "$warm" "$dur"
			for d in tx rx; do
				[ -f "$out/linux-$d-$f.json" ] && mv "$out/linux-$d-$f.json" "$p-linux-$d-$f.json"
			done
		fi
	done
	if [ $latency = 1 ]; then
		f=${frames%% *}
		if [ "$peer" = vm ]; then
			pair "round $r VM-to-VM forward <- latency $f" "$p-vm2vm-fwd-$f.log" "$p-vm2vm-lat-$f.log" \
				"mode=forward frame=$f $common warmup=0.1 duration=$(plus "$warm" "$dur" | awk '{print $1 + 3}') wait=20" \
				"mode=latency frame=$f $common warmup=$warm duration=$dur"
			show "$p-vm2vm-fwd-$f.log" "$p-vm2vm-lat-$f.log"
			continue
		fi
		run "round $r vnet latency $f (guest-side)" "$p-vnet-lat-$f.log" -- --timeout 60 \
			--append "mode=latency frame=$f $common warmup=$warm duration=$dur" \
			"$image" -- "$vm/vnet-peer.sh" "$hpeer" reflect "$p-vnet-reflect-$f.json" "$f" 0 "$(plus "$warm" "$dur" | awk '{print $1 + 3}')"
		run "round $r vnet forward $f (host ping-pong)" "$p-vnet-fwd-$f.log" -- --timeout 60 \
			--append "mode=forward frame=$f $common warmup=0.1 duration=$(plus "$warm" "$dur" | awk '{print $1 + 3}')" \
			"$image" -- "$vm/vnet-peer.sh" "$hpeer" ping "$p-vnet-ping-$f.json" "$f" "$warm" "$dur"
	fi
done

py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" "$vm/summary.py" --accel "$accel" --machine "$machine" "$out" | tee "$out/summary.md"
if [ $plot = 1 ]; then
	if ! "$py" -c 'import matplotlib' 2>/dev/null; then
		echo "vmbench: installing python3-matplotlib for the plot" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends python3-matplotlib >/dev/null ||
			echo "vmbench: no matplotlib; skipping the plot" >&2
	fi
	"$py" -c 'import matplotlib' 2>/dev/null && "$py" "$vm/plot.py" "$out" "$out/vmbench.png" &&
		echo "vmbench: plot $out/vmbench.png"
fi
[ $fails = 0 ] || { echo "vmbench: $fails run(s) failed" >&2; exit 1; }
