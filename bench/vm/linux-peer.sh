#!/usr/bin/env bash
# bench/vm/linux-peer.sh PEER OUTDIR FRAME WARMUP DURATION — the host
# side of the Linux guest's two phases (bench/vm/linux-init.sh), run
# by tools/qemu-run inside the namespace once the guest printed READY:
# the sink counts pktgen's frames, then, once the guest printed RXPHASE,
# the generator sends to it. $SERIAL is the guest's console log.
set -euo pipefail
peer=$1 out=$2 frame=$3 warm=$4 dur=$5
mac=$(sed -n 's/^READY mac=\([0-9a-f:]*\).*/\1/p' "$SERIAL" | head -n1)
"$peer" sink --iface tap0 --frame "$frame" --warmup "$warm" --duration "$dur" --wait 30 \
	--label linux --quiet >"$out/linux-tx-$frame.json"
for _ in $(seq 600); do grep -q '^RXPHASE' "$SERIAL" && break; sleep 0.1; done
grep -q '^RXPHASE' "$SERIAL" || { echo "linux-peer: the guest never reached RXPHASE" >&2; exit 1; }
"$peer" gen --iface tap0 --dst "$mac" --frame "$frame" --warmup "$warm" --duration "$dur" --tail 0.5 \
	--label linux --quiet >"$out/linux-rx-$frame.json"
