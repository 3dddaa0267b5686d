#!/usr/bin/env bash
# e2e: VM to VM with no host stack (label e2e, bounded to 90 s). Two
# vnet-bench-bm guests on q35 joined by QEMU's dgram netdev on 127.0.0.1
# (bench/vm/vm-pair): A in rxonly, B in txonly for ~2 s of A's window.
# Checks that both exited with status 33, that both JSON lines parse, that
# A received frames (in its window and in the whole run), and that the
# counts are consistent: A's window <= A's total <= B's total sent, B's
# window <= B's total, per-queue counts summing to the totals.
#   run_vm2vm.sh IMAGE
# Exits 77 (skip) when QEMU or python3 is missing. Needs no root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
image=${1:?usage: run_vm2vm.sh IMAGE}
command -v qemu-system-x86_64 >/dev/null || { echo "vm2vm: no QEMU; skipped"; exit 77; }
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
[ -n "$py" ] || { echo "vm2vm: no python3; skipped"; exit 77; }
[ -f "$image" ] || { echo "vm2vm: no image $image (is bench/baremetal in the bare-metal build?)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
timeout 80 "$root/bench/vm/vm-pair" --machine q35 --timeout 40 --serial-a "$tmp/rx.log" --serial-b "$tmp/tx.log" \
	"$image" "mode=rxonly frame=60 warmup=0.3 duration=2 wait=20" "mode=txonly frame=60 warmup=0.2 duration=4.5" || rc=$?
grep -hE '^\{"(backend|per_queue)"|^READY' "$tmp/rx.log" "$tmp/tx.log" || true
[ $rc = 0 ] || { echo "vm2vm: FAIL (vm-pair status $rc: a guest did not exit with 33)"; exit 1; }
"$py" - "$tmp/rx.log" "$tmp/tx.log" <<'EOF'
import json, sys

def rows(path):
    out = {}
    for line in open(path, errors="replace"):
        line = line.strip()
        for key in ("backend", "per_queue"):
            if line.startswith('{"%s"' % key):
                out[key] = json.loads(line)  # raises if it does not parse
    if "backend" not in out or "per_queue" not in out:
        sys.exit(f"vm2vm: FAIL ({path}: no result line)")
    return out["backend"], out["per_queue"]

(rx, rxq), (tx, txq) = rows(sys.argv[1]), rows(sys.argv[2])
checks = [
    (rx["mode"] == "rxonly" and tx["mode"] == "txonly", "modes"),
    (rx["packets"] > 0, "the receiver counted frames in its window"),
    (0 < rx["rx_total"] <= tx["tx_total"], "received <= sent over the whole run"),
    (rx["packets"] <= rx["rx_total"], "receiver: window <= whole run"),
    (0 < tx["packets"] <= tx["tx_total"], "sender: window <= whole run"),
    (sum(rxq["rx"]) == rx["rx_total"] and sum(txq["tx"]) == tx["tx_total"], "per-queue counts sum to the totals"),
    (rx["drops"] == 0 and tx["drops"] == 0, "no bad descriptors"),
    (rx["mpps"] > 0 and tx["mpps"] > 0 and rx["seconds"] > 0, "rates"),
]
bad = [what for ok, what in checks if not ok]
if bad:
    sys.exit("vm2vm: FAIL (" + "; ".join(bad) + ")")
print(f"vm2vm: PASS (receiver {rx['packets']} frames in {rx['seconds']} s = {rx['mpps'] * 1e3:.1f} kpps, "
      f"{rx['rx_total']} of the sender's {tx['tx_total']} in the whole run; "
      f"sender {tx['mpps'] * 1e3:.1f} kpps)")
EOF
