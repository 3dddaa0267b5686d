#!/usr/bin/env bash
# e2e smoke test of the bare-metal benchmark (label e2e, bounded to 60 s):
# boot vnet-bench-bm on q35 (virtio-net-pci, tap in a private namespace,
# via tools/qemu-run) for ~3 s of txonly against the host sink
# (vmb-peer of the host build BUILD_DIR, built there if missing), then
# check that frames arrived on the host side and that the guest exited
# with status 33. Then the same with txwait=200 (halt while the TX ring
# is full): frames still arrive, the guest halted, and it was busy for
# less of the window (busy_share < 0.9) - what bench/vm/run.sh's guest
# cycles per packet rest on.
#   run.sh IMAGE BUILD_DIR
# Exits 77 (skip) when not root or QEMU is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
image=${1:?usage: run.sh IMAGE BUILD_DIR}
build=${2:?usage: run.sh IMAGE BUILD_DIR}
[ "$(id -u)" = 0 ] || { echo "vmbench smoke: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "vmbench smoke: no QEMU; skipped"; exit 77; }
[ -f "$image" ] || { echo "vmbench smoke: no image $image (is bench/baremetal in the bare-metal build?)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peer=$("$root/bench/vm/build.sh" peer "$build")
rc=0
timeout 60 "$root/tools/qemu-run" --machine q35 --timeout 45 --serial "$tmp/serial.log" \
	--append "mode=txonly frame=60 warmup=0.2 duration=3" "$image" -- \
	"$peer" sink --iface tap0 --warmup 0.2 --duration 1.5 --wait 20 --label smoke --quiet \
	>"$tmp/host.json" || rc=$?
cat "$tmp/host.json"
grep -E '^\{"backend"|^stages|^READY' "$tmp/serial.log" || true
[ $rc = 0 ] || { echo "vmbench smoke: FAIL (qemu-run status $rc: guest status not 33, or the sink failed)"; exit 1; }
host=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' "$tmp/host.json" | head -n1)
guest=$(sed -n 's/^{"backend".*"packets":\([0-9]*\).*/\1/p' "$tmp/serial.log" | head -n1)
if ! [ "${host:-0}" -gt 0 ] || ! [ "${guest:-0}" -gt 0 ] || ! grep -q '^vnet-bench-bm: done' "$tmp/serial.log"; then
	echo "vmbench smoke: FAIL (host counted ${host:-none}, guest ${guest:-none})"
	tail -n 30 "$tmp/serial.log"
	exit 1
fi
echo "vmbench smoke: spinning: $host frames counted on the host in 1.5 s; the guest sent $guest in its window"
rc=0
timeout 60 "$root/tools/qemu-run" --machine q35 --timeout 45 --serial "$tmp/halt.log" \
	--append "mode=txonly frame=60 warmup=0.2 duration=3 txwait=200" "$image" -- \
	"$peer" sink --iface tap0 --warmup 0.2 --duration 1.5 --wait 20 --label smoke --quiet \
	>"$tmp/halt.json" || rc=$?
grep -E '^\{"backend"' "$tmp/halt.log" || true
[ $rc = 0 ] || { echo "vmbench smoke: FAIL (txwait: qemu-run status $rc)"; exit 1; }
host=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' "$tmp/halt.json" | head -n1)
row=$(grep '^{"backend"' "$tmp/halt.log" | head -n1)
halts=$(sed -n 's/.*"halts":\([0-9]*\).*/\1/p' <<<"$row")
share=$(sed -n 's/.*"busy_share":\([0-9.]*\).*/\1/p' <<<"$row")
if [ "${host:-0}" -gt 0 ] && [ "${halts:-0}" -gt 0 ] && awk -v s="${share:-1}" 'BEGIN { exit !(s < 0.9) }'; then
	echo "vmbench smoke: PASS (txwait=200: $host frames on the host, $halts halts, busy $share of the window)"
	exit 0
fi
echo "vmbench smoke: FAIL (txwait=200: host counted ${host:-none}, halts ${halts:-none}, busy share ${share:-none})"
tail -n 30 "$tmp/halt.log"
exit 1
