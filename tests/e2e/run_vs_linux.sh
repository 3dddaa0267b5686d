#!/usr/bin/env bash
# Smoke test of bench/vm/vs-linux.sh, the appliance's side only (--no-linux: the
# Linux guest needs a kernel package download): one round, offloads on
# and off, the default and idle=0 appliance; every run must report an
# iperf rate and every flood-ping reply, and the summary must be written.
#   run_vs_linux.sh ECHO_IMAGE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=$1
[ "$(id -u)" = 0 ] || { echo "run_vs_linux: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "run_vs_linux: no QEMU; skipped"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
timeout 400 "$here/../../bench/vm/vs-linux.sh" --no-linux --rounds 1 --seconds 2 --pings 500 --vnet "- idle=0" \
	--image "$image" --out "$out"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = [json.loads(l) for l in open(out + "/results.jsonl")]
assert len(rows) == 4, f"want 4 runs (2 modes x 2 variants), got {len(rows)}"
for r in rows:
    assert r["guest"] == "vnet", r
    assert r["iperf_mbit"] and r["iperf_mbit"] > 0, f"no iperf rate: {r}"
    assert r["ping_received"] == 500 and r["ping_ms"] and r["ping_ms"] > 0, f"flood ping: {r}"
summary = open(out + "/summary.md").read()
assert summary.count("| vnet echo") == 4, summary
print("run_vs_linux: ok,", ", ".join(f"{r['mode']}/{r['variant']}: {r['iperf_mbit']} Mbit/s" for r in rows))
PY
