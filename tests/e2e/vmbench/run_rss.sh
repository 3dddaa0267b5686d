#!/usr/bin/env bash
# e2e: receive-side scaling and hash report on QEMU (label e2e, bounded to
# 90 s). vnet-bench-bm rxonly with queues=2 on q35 (virtio-net-pci
# mq=on,rss=on,hash=on) or microvm (virtio-net-device, MMIO; the same
# properties) over a multiqueue tap, via tools/qemu-run --mq 2; QEMU
# computes RSS in software when it cannot use eBPF, and always for hash
# reports; vhost-net off: it takes no hash report. The host generator
# sends 16 UDP flows (source ports 10000..10015) at 2000 frames/s (QEMU
# 7.2's software RSS stalls under a flood a TCG guest cannot keep up with:
# docs/GUIDE.md).
#   run_rss.sh IMAGE BUILD_DIR table [q35|microvm]   rss=1 hash=1: the default key and
#                        round-robin table. Each flow must have come on the
#                        queue the table names for its Toeplitz hash,
#                        computed here from the key the guest printed, every
#                        frame of it on that queue; both queues must have
#                        received flows; every flow must carry a UDPv4 hash
#                        report equal to the hash computed here, and the
#                        guest's rx_hashed counters must be > 0.
#   run_rss.sh IMAGE BUILD_DIR queue1 [q35|microvm]  rss=1 rss_queue=1 hash=0: a table
#                        whose every entry (and unclassified) is queue 1:
#                        every frame on queue 1, none on queue 0, no hash.
# The host generator is vmb-peer of the host build BUILD_DIR (built there
# if missing). Exits 77 (skip) when not root or QEMU or python3 is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
usage="usage: run_rss.sh IMAGE BUILD_DIR table|queue1 [q35|microvm]"
image=${1:?$usage}
build=${2:?$usage}
what=${3:?$usage}
machine=${4:-q35}
case $what/$machine in table/q35|queue1/q35|table/microvm|queue1/microvm) ;; *) echo "$usage" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "rss: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "rss: no QEMU; skipped"; exit 77; }
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
[ -n "$py" ] || { echo "rss: no python3; skipped"; exit 77; }
[ -f "$image" ] || { echo "rss: no image $image (is bench/baremetal in the bare-metal build?)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peer=$("$root/bench/vm/build.sh" peer "$build")
# the host side, in the namespace once the guest printed READY: the host's
# own IPv6 off on the tap, then 16 flows to the guest's MAC
cat >"$tmp/host.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
tmp=$1 peer=$2
sysctl -qw net.ipv6.conf.tap0.disable_ipv6=1
sleep 0.3
mac=$(sed -n 's/^READY mac=\([0-9a-f:]*\).*/\1/p' "$SERIAL" | head -n1)
"$peer" gen --iface tap0 --dst "$mac" --frame 60 --rate 2000 --warmup 0.3 --duration 1.5 --tail 0.3 \
	--flows 16 --label rss --quiet >"$tmp/host.json" 2>"$tmp/gen.err" || { cat "$tmp/gen.err" >&2; exit 1; }
for _ in $(seq 300); do grep -q '^vnet-bench-bm: done' "$SERIAL" && break; sleep 0.1; done
EOF
chmod +x "$tmp/host.sh"
append="mode=rxonly frame=60 warmup=0.3 duration=1.5 wait=20 queues=2 drain=0.5 rss=1"
if [ "$what" = table ]; then append="$append hash=1"; else append="$append rss_queue=1 hash=0"; fi
rc=0
VNET_VHOST=off timeout 80 "$root/tools/qemu-run" --machine "$machine" --mq 2 --devopts rss=on,hash=on --timeout 45 \
	--serial "$tmp/serial.log" --append "$append" "$image" -- "$tmp/host.sh" "$tmp" "$peer" || rc=$?
grep -E '^\{"(per_queue|rss)|^rss: |^READY|^vnet (error|warn)' "$tmp/serial.log" || true
if [ $rc != 0 ]; then
	echo "rss: FAIL (qemu-run status $rc: guest status not 33, or the host side failed)"
	exit 1
fi
"$py" - "$tmp/serial.log" "$what" "$machine" <<'EOF'
import json, re, sys

log, what, machine = sys.argv[1], sys.argv[2], sys.argv[3]

def toeplitz(key, data):
    """The Toeplitz hash (virtio spec 5.1.6.4.3): for each input bit set,
    XOR in the 32 key bits starting at its position."""
    k = int.from_bytes(key, "big")
    kbits = len(key) * 8
    h = 0
    for i in range(len(data) * 8):
        if data[i // 8] & (0x80 >> (i % 8)):
            h ^= ((k << i) >> (kbits - 32)) & 0xffffffff
    return h

def ip4(s):
    return bytes(int(x) for x in s.split("."))

cfg = q = summary = None
flows = []
for line in open(log, errors="replace"):
    if line.startswith("rss: "):
        cfg = dict(kv.split("=", 1) for kv in line.split()[1:])
    elif line.startswith('{"per_queue"'):
        q = json.loads(line)
    elif line.startswith('{"rss_flow"'):
        flows.append(json.loads(line))
    elif line.startswith('{"rss"'):
        summary = json.loads(line)
if not cfg or not q or not summary:
    sys.exit("rss: FAIL (no rss:, per_queue or rss result lines on the console)")
# the published verification suite's key and first flow: the hash
# computed here is the spec's Toeplitz; vnet's default key is that one
published = bytes.fromhex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa")
assert toeplitz(published, ip4("66.9.149.187") + ip4("161.142.100.80") + (2794).to_bytes(2, "big")
                + (1766).to_bytes(2, "big")) == 0x51ccc178
key = bytes.fromhex(cfg["key"])
n = int(cfg["table_len"])
pairs = q["queues"]
if cfg["table"] == "rr":
    table = [i % pairs for i in range(n)]
else:
    table = [int(cfg["table"].split(":")[1])] * n
ours = [f for f in flows if f["dport"] == 9 and 10000 <= f["sport"] < 10016]
bad = []
per_queue = [0] * pairs
matched = 0
for f in ours:
    h = toeplitz(key, ip4(f["src"]) + ip4(f["dst"]) + f["sport"].to_bytes(2, "big") + f["dport"].to_bytes(2, "big"))
    want = table[h & (n - 1)]
    per_queue[f["queue"]] += 1
    if f["queue"] != want or f["moved"]:
        bad.append(f"flow {f['sport']}: queue {f['queue']} ({f['moved']} frames elsewhere), "
                   f"the table says {want} for hash {h:#010x}")
    if what == "table":
        if f["hashed"] != f["frames"] or f["report"] != 3 or f["hash"] != h or f["hash_changed"]:
            bad.append(f"flow {f['sport']}: {f['hashed']} of {f['frames']} frames hashed, report {f['report']}, "
                       f"hash {f['hash']:#010x} (computed here {h:#010x})")
        else:
            matched += 1
    elif f["hashed"]:
        bad.append(f"flow {f['sport']}: hashed without hash=1")
if key != published:
    bad.append(f"the default key is {key.hex()}, not the published one")
if len(ours) != 16:
    bad.append(f"{len(ours)} of the 16 flows arrived")
if what == "table":
    if not all(per_queue) or sum(summary["rx_hashed"]) == 0 or any(summary["rx_bad_hash"]):
        bad.append(f"flows per queue {per_queue}, rx_hashed {summary['rx_hashed']}, "
                   f"rx_bad_hash {summary['rx_bad_hash']}")
else:
    # every frame of the flows is on queue 1 (checked per flow above); on
    # queue 0 at most frames that are not theirs: the host's own (IPv6
    # neighbour discovery as the tap comes up) can arrive before the
    # table is set
    if q["rx"][0] > summary["other_frames"] or q["rx"][1] < sum(f["frames"] for f in ours) \
            or sum(summary["rx_hashed"]):
        bad.append(f"frames per queue {q['rx']} (the flows' all on 1; on 0 at most the "
                   f"{summary['other_frames']} other frames), rx_hashed {summary['rx_hashed']}")
print(f"rss {what}, {machine}: {'FAIL' if bad else 'PASS'} ({len(ours)} flows, per queue {per_queue}, frames per queue "
      f"{q['rx']}, {matched} hashes equal to the host's Toeplitz, rx_hashed {summary['rx_hashed']})")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
