#!/usr/bin/env bash
# bench/vm/vs-linux.sh — the echo appliance against a Linux guest (Debian's
# 6.1 kernel, virtio_net; bench/vm/linux-serve.sh) in the same QEMU
# configuration (tools/qemu-run: q35, virtio-net-pci modern, tap in a
# private namespace), booted alternately in the same run: iperf2 from the
# host to the guest and back (iperf -r: after the host's test the guest's
# iperf server connects back and sends for as long), then a flood ping.
# Run as root.
#
#   bench/vm/vs-linux.sh [--rounds N] [--seconds S] [--pings N] [--modes "on off"]
#                        [--vnet "idle=200 idle=0"] [--image ECHO_ELF] [--out DIR] [--no-linux]
#
# --modes: "on" = the device's default offloads (CSUM, TSO, MRG_RXBUF...),
#   "off" = the same device with every offload property off, for both guests.
# --vnet: appliance variants, each a word of extra boot options ("-" none).
# Each round boots, per mode: every appliance variant, then Linux. Writes
# DIR/results.jsonl (one line per boot) and DIR/summary.md (medians and
# the ratio to Linux) and prints the summary. Without --image, the
# appliance is built in build/bm (the preset bm-x86_64).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=3 secs=5 pings=5000 modes="on off" variants="idle=200 idle=0" image="" out="" linux=1
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--pings) pings=$2; shift ;;
	--modes) modes=$2; shift ;;
	--vnet) variants=$2; shift ;;
	--image) image=$2; shift ;;
	--out) out=$2; shift ;;
	--no-linux) linux=0 ;;
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	*) echo "vs-linux: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "vs-linux: needs root (network namespace, tap)" >&2; exit 2; }
case $rounds in [1-9]|1[0-9]|20) ;; *) echo "vs-linux: rounds is 1..20" >&2; exit 2 ;; esac
case $secs in [1-9]|[1-5][0-9]|60) ;; *) echo "vs-linux: seconds is 1..60" >&2; exit 2 ;; esac
case $pings in [1-9]*) [ "$pings" -le 100000 ] 2>/dev/null || { echo "vs-linux: pings is 1..100000" >&2; exit 2; } ;;
	*) echo "vs-linux: pings is 1..100000" >&2; exit 2 ;; esac
for m in $modes; do case $m in on|off) ;; *) echo "vs-linux: modes are on and off" >&2; exit 2 ;; esac; done
for v in $variants; do
	case $v in -|[a-z]*=[a-z0-9]*) ;; *) echo "vs-linux: bad appliance variant '$v' (K=V or -)" >&2; exit 2 ;; esac
done
for t in qemu-system-x86_64 iperf ping; do
	command -v $t >/dev/null || { echo "vs-linux: no $t (tools/setup installs it)" >&2; exit 2; }
done
if [ -z "$image" ]; then
	image=$root/build/bm/examples/echo.elf
	echo "vs-linux: building the appliance (build/bm)" >&2
	cmake -S "$root" --preset bm-x86_64 >/dev/null
	cmake --build "$root/build/bm" -j2 --target echo >/dev/null
fi
[ -f "$image" ] || { echo "vs-linux: no image $image" >&2; exit 2; }
cache=${VNET_CACHE:-${HOME:-/root}/.cache/vnet}/vmbench
vmlinuz="" initrd=""
[ $linux = 0 ] || read -r vmlinuz initrd < <("$here/linux-serve.sh" "$cache")
out=${out:-/tmp/vs-linux-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
: >"$out/results.jsonl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
offdev="csum=off,guest_csum=off,guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off"
offdev="$offdev,host_tso4=off,host_tso6=off,host_ecn=off,host_ufo=off,mrg_rxbuf=off"

# The host side, inside the namespace: wait until the guest's iperf server
# answers (bounded), measure, print "iperf MBIT" and "ping N_RECEIVED MS".
cat >"$work/measure.sh" <<'MEAS'
#!/usr/bin/env bash
for _ in $(seq 40); do iperf -c "$GUEST_IP" -t 1 -f m >/dev/null 2>&1 && break; sleep 0.25; done
# -r: the host's test (the first rate), then the guest's (the second)
r=$(timeout $((2 * SECS + 20)) iperf -c "$GUEST_IP" -t "$SECS" -r -f m 2>/dev/null | grep -oE '[0-9.]+ Mbits/sec' | cut -d' ' -f1)
echo "iperf $(sed -n 1p <<<"$r")"
echo "iperf_rev $(sed -n 2p <<<"$r")"
p=$(ping -f -q -c "$PINGS" -w 20 "$GUEST_IP" 2>/dev/null | grep transmitted)
echo "ping $(sed -E 's/.* ([0-9]+) received.*time ([0-9]+)ms.*/\1 \2/' <<<"$p")"
[ -n "${QUIT:-}" ] && for _ in 1 2 3; do python3 -c "
import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'quit', ('$GUEST_IP', 9))"; sleep 0.2; done
exit 0
MEAS
chmod +x "$work/measure.sh"

one() { # guest mode variant
	local guest=$1 mode=$2 variant=$3 dev="" res load ser=$work/serial.log
	[ "$mode" = off ] && dev=$offdev
	load=$(cut -d' ' -f1 /proc/loadavg)
	if [ "$guest" = vnet ]; then
		local extra=""
		[ "$variant" != - ] && extra=$variant
		[ "$mode" = off ] && extra="$extra offload=off"
		res=$(SECS=$secs PINGS=$pings QUIT=1 timeout 200 "$root/tools/qemu-run" --machine q35 --timeout 150 \
			--devopts "$dev" --serial "$ser" --append "ip=10.99.0.2/24 gw=10.99.0.1 $extra" "$image" \
			-- "$work/measure.sh" 2>/dev/null) || true
	else
		res=$(SECS=$secs PINGS=$pings timeout 200 "$root/tools/qemu-run" --machine q35 --timeout 150 \
			--devopts "$dev" --serial "$ser" --initrd "$initrd" --expect-exit 0 \
			--append "console=ttyS0 quiet lg_life=$((2 * secs + 25))" "$vmlinuz" -- "$work/measure.sh" 2>/dev/null) || true
	fi
	local mbit rev recv ms
	mbit=$(sed -n 's/^iperf \([0-9.]*\)$/\1/p' <<<"$res")
	rev=$(sed -n 's/^iperf_rev \([0-9.]*\)$/\1/p' <<<"$res")
	read -r recv ms < <(sed -n 's/^ping \([0-9]*\) \([0-9]*\)$/\1 \2/p' <<<"$res"; echo)
	printf '{"guest":"%s","mode":"%s","variant":"%s","load":%s,"iperf_mbit":%s,"iperf_rev_mbit":%s,"ping_received":%s,"ping_ms":%s}\n' \
		"$guest" "$mode" "$variant" "$load" "${mbit:-null}" "${rev:-null}" "${recv:-null}" "${ms:-null}" | tee -a "$out/results.jsonl"
}

echo "vs-linux: $rounds rounds, iperf ${secs} s, flood ping of $pings, modes: $modes; appliance variants: $variants" >&2
for _ in $(seq "$rounds"); do
	for m in $modes; do
		for v in $variants; do one vnet "$m" "$v"; done
		[ $linux = 0 ] || one linux "$m" -
	done
done
python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
rows = [json.loads(l) for l in open(out + "/results.jsonl")]
def med(xs):
    xs = [x for x in xs if x is not None]
    return (statistics.median(xs), len(xs)) if xs else (None, 0)
keys = []
for r in rows:
    k = (r["mode"], r["guest"], r["variant"])
    if k not in keys:
        keys.append(k)
lines = ["| offloads | guest | iperf2 host to guest, Mbit/s (median, runs) | guest to host | flood ping round trips/s (median, runs) | iperf vs Linux | guest to host vs Linux | ping vs Linux |",
         "|---|---|---|---|---|---|---|---|"]
lin = {}
for mode, guest, var in keys:
    sel = [r for r in rows if (r["mode"], r["guest"], r["variant"]) == (mode, guest, var)]
    ip = med([r["iperf_mbit"] for r in sel])
    rv = med([r.get("iperf_rev_mbit") for r in sel])
    pr = med([r["ping_received"] * 1000.0 / r["ping_ms"] if r["ping_received"] and r["ping_ms"] else None for r in sel])
    if guest == "linux":
        lin[mode] = (ip[0], rv[0], pr[0])
    keys_val = (mode, guest, var, ip, rv, pr)
    lines.append(keys_val)
res = lines[:2]
for mode, guest, var, ip, rv, pr in lines[2:]:
    l = lin.get(mode, (None, None, None))
    ratio = lambda a, b: "%.2fx" % (a / b) if a and b else "-"
    name = "Linux 6.1 virtio_net" if guest == "linux" else "vnet echo" + ("" if var == "-" else " (" + var + ")")
    num = lambda m: ("%.0f (%d)" % m) if m[0] else "-"
    res.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
        mode, name, num(ip), num(rv), num(pr),
        ratio(ip[0], l[0]) if guest != "linux" else "", ratio(rv[0], l[1]) if guest != "linux" else "",
        ratio(pr[0], l[2]) if guest != "linux" else ""))
open(out + "/summary.md", "w").write("\n".join(res) + "\n")
print("\n".join(res))
PY
echo "vs-linux: results in $out" >&2
