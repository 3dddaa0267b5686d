#!/usr/bin/env bash
# bench/vm/vnet-peer.sh PEER KIND OUTFILE FRAME WARMUP DURATION [FLOWS] — the
# host side of one vnet-bench-bm run, started by tools/qemu-run inside the
# namespace once the guest printed READY ($SERIAL is its console log):
#   tx       sink: count the guest's txonly frames
#   rx       gen: send to the guest's MAC (rxonly), over FLOWS UDP flows (1)
#            so that a multiqueue tap spreads them over its queues
#   ping     host-side round trips through the guest (mode=forward);
#            the histogram goes to OUTFILE.hist
#   reflect  answer the guest's latency probes
set -euo pipefail
peer=$1 kind=$2 out=$3 frame=$4 warm=$5 dur=$6 flows=${7:-1}
mac=$(sed -n 's/^READY mac=\([0-9a-f:]*\).*/\1/p' "$SERIAL" | head -n1)
case $kind in
tx) exec "$peer" sink --iface tap0 --frame "$frame" --warmup "$warm" --duration "$dur" --wait 20 \
	--label vnet --quiet >"$out" ;;
rx) exec "$peer" gen --iface tap0 --dst "$mac" --frame "$frame" --warmup "$warm" --duration "$dur" \
	--tail 0.5 --flows "$flows" --label vnet --quiet >"$out" ;;
ping) exec "$peer" ping --iface tap0 --dst "$mac" --frame "$frame" --warmup "$warm" --duration "$dur" \
	--hist "$out.hist" --label vnet --quiet >"$out" ;;
reflect) exec "$peer" reflect --iface tap0 --frame "$frame" --duration "$dur" --label vnet --quiet >"$out" ;;
*) echo "vnet-peer: unknown kind $kind" >&2; exit 2 ;;
esac
