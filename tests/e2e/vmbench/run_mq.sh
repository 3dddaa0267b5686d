#!/usr/bin/env bash
# e2e: two queue pairs end to end (label e2e, bounded to 90 s). vnet-bench-bm
# with queues=2 on q35 (virtio-net-pci mq=on, vectors=6) or microvm
# (virtio-net-device mq=on, MMIO) over a multiqueue tap (queues=2) in a
# private namespace, via tools/qemu-run --mq 2.
#   run_mq.sh IMAGE BUILD_DIR tx [q35|microvm]   txonly: each guest TX queue writes to its own tap
#                        queue; both queues must have sent frames and the
#                        tap must have counted their sum (less at most what
#                        was still in the rings when the guest reset them)
#   run_mq.sh IMAGE BUILD_DIR rx [q35|microvm]   rxonly: the host generator sends 16 UDP flows, which
#                        the tap spreads over its queues by flow hash; both
#                        guest RX queues must have received frames, and
#                        what they received must be what the host sent:
#                        the guest takes frames until the generator has
#                        stopped (drain=) and the host's own IPv6 is off on
#                        the tap during the count, so the tap must have
#                        handed QEMU the generator's sent count, less at
#                        most the frames it dropped (tx_dropped), and the
#                        guest's queues must have received every one of
#                        those and no more than the tap ever handed QEMU
#                        (tx_packets; the few before the generator started
#                        are the host stack's)
# The host generator is vmb-peer of the host build BUILD_DIR (built there
# if missing). Exits 77 (skip) when not root or QEMU or python3 is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
usage="usage: run_mq.sh IMAGE BUILD_DIR tx|rx [q35|microvm]"
image=${1:?$usage}
build=${2:?$usage}
dir=${3:?$usage}
machine=${4:-q35}
case $dir/$machine in tx/q35|rx/q35|tx/microvm|rx/microvm) ;;
*) echo "$usage" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "mq: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "mq: no QEMU; skipped"; exit 77; }
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
[ -n "$py" ] || { echo "mq: no python3; skipped"; exit 77; }
[ -f "$image" ] || { echo "mq: no image $image (is bench/baremetal in the bare-metal build?)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peer=$("$root/bench/vm/build.sh" peer "$build")
# the host side, in the namespace once the guest printed READY
cat >"$tmp/host.sh" <<'EOF'
#!/usr/bin/env bash
# tx: wait (bounded) for the guest to finish, then read what the tap took in
# rx: the host's own IPv6 off on the tap (nothing but the generator's frames
# from here), the tap's counters, 16 flows to the guest's MAC, then (once
# the guest has drained and finished) the tap's counters again
set -euo pipefail
tmp=$1 dir=$2 peer=$3
st=/sys/class/net/tap0/statistics
done_wait() { for _ in $(seq 300); do grep -q '^vnet-bench-bm: done' "$SERIAL" && break; sleep 0.1; done; }
if [ "$dir" = tx ]; then
	done_wait
	sleep 0.2
	cat $st/rx_packets >"$tmp/tap_rx"
else
	sysctl -qw net.ipv6.conf.tap0.disable_ipv6=1
	sleep 0.3
	echo "$(cat $st/tx_packets) $(cat $st/tx_dropped)" >"$tmp/tap_before"
	mac=$(sed -n 's/^READY mac=\([0-9a-f:]*\).*/\1/p' "$SERIAL" | head -n1)
	"$peer" gen --iface tap0 --dst "$mac" --frame 60 --warmup 0.3 --duration 2 --tail 0.5 \
		--flows 16 --label mq --quiet >"$tmp/host.json" 2>"$tmp/gen.err" || { cat "$tmp/gen.err" >&2; exit 1; }
	cat "$tmp/gen.err" >&2
	done_wait
	echo "$(cat $st/tx_packets) $(cat $st/tx_dropped)" >"$tmp/tap_after"
fi
EOF
chmod +x "$tmp/host.sh"
if [ "$dir" = tx ]; then
	append="mode=txonly frame=60 warmup=0.2 duration=2 queues=2"
else
	append="mode=rxonly frame=60 warmup=0.3 duration=2 wait=20 queues=2 drain=0.5"
fi
rc=0
timeout 80 "$root/tools/qemu-run" --machine "$machine" --mq 2 --timeout 45 --serial "$tmp/serial.log" \
	--append "$append" "$image" -- "$tmp/host.sh" "$tmp" "$dir" "$peer" || rc=$?
grep -E '^\{"(backend|per_queue)"|^queue |^READY|queue pairs|drained' "$tmp/serial.log" || true
[ -f "$tmp/host.json" ] && cat "$tmp/host.json"
if [ $rc != 0 ]; then
	echo "mq: FAIL (qemu-run status $rc: guest status not 33, or the host side failed)"
	grep -q 'does the PCI transport re-read num_queues' "$tmp/serial.log" &&
		echo "mq: the PCI transport kept the queue count it read before MQ was negotiated (QEMU has 3 queues until then)"
	exit 1
fi
"$py" - "$tmp/serial.log" "$dir" "$tmp/tap_rx" "$machine" "$tmp" <<'EOF'
import json, os, re, sys

log, d, tap, tmp = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5]
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
    # the host's counts: what the generator sent (sendmmsg), what the tap
    # handed to QEMU (tx_packets) and dropped (tx_dropped), before the
    # generator started and after the guest finished
    m = re.search(r"gen: (\d+) frames sent", open(os.path.join(tmp, "gen.err")).read())
    if not m:
        sys.exit("mq: FAIL (no sent count from the generator)")
    sent = int(m.group(1))
    t0, d0 = map(int, open(os.path.join(tmp, "tap_before")).read().split())
    t1, d1 = map(int, open(os.path.join(tmp, "tap_after")).read().split())
    got = sum(q["rx"])
    dropped = d1 - d0
    during = t1 - t0
    # the tap's account: it handed QEMU what the generator sent, less at
    # most what it dropped; the guest's: it received every frame the tap
    # handed QEMU during the run, and nothing more than the tap ever
    # handed (t0: the host stack's frames before the generator started)
    ok = (all(n > 0 for n in q["rx"]) and got == g["rx_total"]
          and sent - dropped <= during <= sent and during <= got <= t1)
    what = (f"guest RX queues received {q['rx'][0]} + {q['rx'][1]} = {got} (window {q['window'][0]} + "
            f"{q['window'][1]}); the generator sent {sent}; the tap handed {during} to QEMU while it ran "
            f"(and {t0} before) and dropped {dropped}")
print(f"mq {d}, {sys.argv[4]}: {'PASS' if ok else 'FAIL'} ({what})")
sys.exit(0 if ok else 1)
EOF
