#!/usr/bin/env bash
# e2e: two queue pairs end to end (label e2e, bounded to 90 s). vnet-bench-bm
# with queues=2 on q35 (virtio-net-pci mq=on, vectors=6) or microvm
# (virtio-net-device mq=on, MMIO) over a multiqueue tap (queues=2) in a
# private namespace, via tools/qemu-run --mq 2.
#   run_mq.sh IMAGE tx [q35|microvm]   txonly: each guest TX queue writes to its own tap
#                        queue; both queues must have sent frames and the
#                        tap must have counted their sum (less at most what
#                        was still in the rings when the guest reset them)
#   run_mq.sh IMAGE rx [q35|microvm]   rxonly: the host generator sends 16 UDP flows, which
#                        the tap spreads over its queues by flow hash; both
#                        guest RX queues must have received frames
# Exits 77 (skip) when not root or QEMU, cc or python3 is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
image=${1:?usage: run_mq.sh IMAGE tx|rx}
dir=${2:?usage: run_mq.sh IMAGE tx|rx [q35|microvm]}
machine=${3:-q35}
case $dir/$machine in tx/q35|rx/q35|tx/microvm|rx/microvm) ;;
*) echo "usage: run_mq.sh IMAGE tx|rx [q35|microvm]" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "mq: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "mq: no QEMU; skipped"; exit 77; }
command -v cc >/dev/null || { echo "mq: no cc; skipped"; exit 77; }
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
[ -n "$py" ] || { echo "mq: no python3; skipped"; exit 77; }
[ -f "$image" ] || { echo "mq: no image $image (is bench/baremetal in the bare-metal build?)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Wall -Wextra -Werror -I "$root/bench" -I "$root/bench/baremetal" -I "$root/include" -o "$tmp/vmb-peer" \
	"$root/tools/vmbench/vmb-peer.c" "$root/bench/baremetal/frame.c" "$root/bench/baremetal/hist.c" \
	"$root/bench/bench_out.c"
# the host side, in the namespace once the guest printed READY
cat >"$tmp/host.sh" <<'EOF'
#!/usr/bin/env bash
# tx: wait (bounded) for the guest to finish, then read what the tap took in
# rx: send 16 flows to the guest's MAC
set -euo pipefail
tmp=$1 dir=$2
if [ "$dir" = tx ]; then
	for _ in $(seq 300); do grep -q '^vnet-bench-bm: done' "$SERIAL" && break; sleep 0.1; done
	sleep 0.2
	cat /sys/class/net/tap0/statistics/rx_packets >"$tmp/tap_rx"
else
	mac=$(sed -n 's/^READY mac=\([0-9a-f:]*\).*/\1/p' "$SERIAL" | head -n1)
	"$tmp/vmb-peer" gen --iface tap0 --dst "$mac" --frame 60 --warmup 0.3 --duration 2 --tail 0.5 \
		--flows 16 --label mq --quiet >"$tmp/host.json"
fi
EOF
chmod +x "$tmp/host.sh"
if [ "$dir" = tx ]; then
	append="mode=txonly frame=60 warmup=0.2 duration=2 queues=2"
else
	append="mode=rxonly frame=60 warmup=0.3 duration=2 wait=20 queues=2"
fi
rc=0
timeout 80 "$root/tools/qemu-run" --machine "$machine" --mq 2 --timeout 45 --serial "$tmp/serial.log" \
	--append "$append" "$image" -- "$tmp/host.sh" "$tmp" "$dir" || rc=$?
grep -E '^\{"(backend|per_queue)"|^queue |^READY|queue pairs' "$tmp/serial.log" || true
[ -f "$tmp/host.json" ] && cat "$tmp/host.json"
if [ $rc != 0 ]; then
	echo "mq: FAIL (qemu-run status $rc: guest status not 33, or the host side failed)"
	grep -q 'does the PCI transport re-read num_queues' "$tmp/serial.log" &&
		echo "mq: the PCI transport kept the queue count it read before MQ was negotiated (QEMU has 3 queues until then)"
	exit 1
fi
"$py" - "$tmp/serial.log" "$dir" "$tmp/tap_rx" "$machine" <<'EOF'
import json, sys

log, d, tap = sys.argv[1], sys.argv[2], sys.argv[3]
g = q = None
for line in open(log, errors="replace"):
    if line.startswith('{"backend"'):
        g = json.loads(line)
    elif line.startswith('{"per_queue"'):
        q = json.loads(line)
if not g or not q:
    sys.exit("mq: FAIL (no result lines on the console)")
if g["queues"] != 2 or q["queues"] != 2 or len(q["rx"]) != 2 or len(q["tx"]) != 2:
    sys.exit(f"mq: FAIL (the guest ran {g['queues']} queue pair(s), not 2)")
if d == "tx":
    host = int(open(tap).read())
    sent = sum(q["tx"])
    ok = all(n > 0 for n in q["tx"]) and sent == g["tx_total"] and sent - 2 * 256 <= host <= sent
    what = f"guest TX queues sent {q['tx'][0]} + {q['tx'][1]} = {sent}; the tap took in {host}"
else:
    ok = all(n > 0 for n in q["rx"]) and sum(q["rx"]) == g["rx_total"]
    what = f"guest RX queues received {q['rx'][0]} + {q['rx'][1]} (window {q['window'][0]} + {q['window'][1]})"
print(f"mq {d}, {sys.argv[4]}: {'PASS' if ok else 'FAIL'} ({what})")
sys.exit(0 if ok else 1)
EOF
