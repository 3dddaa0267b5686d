#!/usr/bin/env bash
# End-to-end test of software receive coalescing (GRO) with jumbo frames
# under QEMU (q35, virtio-net-pci on a tap in a private namespace): the
# echo appliance in the jumbo configuration of run_offload.sh (offload=off
# mrg=on mtu=9000, the host's tap at MTU 9000: no GUEST_TSO4, so the host
# sends 8960-byte segments and the glue coalesces them), then one-way bulk
# transfers whose byte counts and content must come out exact
# (gro_check.py): iperf -n GRO_BYTES to lwiperf, whose count must be what
# iperf sent less its header, and GRO_ECHO_BYTES through the TCP echo
# port, every byte checked. A slow guest takes a whole window of the
# host's segments in one RX burst; before the glue bounded coalescing by
# the running total, eight of them made a 71,734-byte segment that wrapped
# lwIP's 16-bit pbuf length.
#   run_gro.sh IMAGE [on|off] [qemu-run options...]
#     on   gro=on (the default): the bound must hold
#     off  gro=off: the same transfers without coalescing
# Prints one JSON line (and writes it to $ECHO_RESULT when set), with the
# guest's counters (coalesced, segments, capped). GRO_BYTES (2e9) and
# GRO_ECHO_BYTES (64 MiB) change the run length; the run stays under 60 s.
# Exits 77 (skip) when not root or QEMU or iperf is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${1:?usage: run_gro.sh IMAGE [on|off] [qemu-run options...]}
shift
gro=on
if [ $# -gt 0 ] && [[ $1 != -* ]]; then
	gro=$1
	shift
fi
case $gro in on|off) ;; *) echo "run_gro: the mode is on or off" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "run_gro: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "run_gro: no QEMU; skipped"; exit 77; }
command -v iperf >/dev/null || { echo "run_gro: no iperf; skipped"; exit 77; }

exec timeout 75 "$here/../../tools/qemu-run" --machine q35 --timeout 60 "$@" \
	--append "ip=10.99.0.2/24 gw=10.99.0.1 offload=off mrg=on mtu=9000 gro=$gro" "$image" -- \
	python3 "$here/gro_check.py" --bytes "${GRO_BYTES:-2000000000}" --echo-bytes "${GRO_ECHO_BYTES:-67108864}" \
	--tap-mtu 9000 --label "gro-$gro" --expect-serial "offloads in use: mrg; mtu 9000"
