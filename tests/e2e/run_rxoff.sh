#!/usr/bin/env bash
# End-to-end test of receive offloads switched at run time
# (VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, spec 5.1.6.5.6.1) under QEMU (q35,
# virtio-net-pci on a tap in a private namespace, its ctrl_guest_offloads
# and guest_csum/guest_tso4/guest_tso6 on, as by default): the echo
# appliance with offload=on negotiates them (checked on its console); the
# host sends it bulk TCP with them on, after "rxoff" (the appliance calls
# vnet_dev_set_rx_offloads(dev, 0): QEMU turns the tap's offloads off, the
# host's kernel cuts and checksums what it sends), and after "rxon"
# (rxoff_check.py). The appliance's counters must show large receives
# before, none after rxoff (none taken, none dropped), none of its
# checksums trusted, lwIP's own checks passing, and large receives again
# after rxon; then its last counters no driver error and no recovery.
#   run_rxoff.sh IMAGE [qemu-run options...]
# Prints one JSON line (and writes it to $ECHO_RESULT when set).
# RXOFF_BYTES (5e7 per phase) changes the run length; RXOFF_APPEND adds to
# the appliance's command line (packed=on, with the qemu-run option
# --packed: the commands go over the packed ring's control queue; the
# console must name the layout). Exits 77 (skip) when
# not root or QEMU or iperf is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${1:?usage: run_rxoff.sh IMAGE [qemu-run options...]}
shift
[ "$(id -u)" = 0 ] || { echo "run_rxoff: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "run_rxoff: no QEMU; skipped"; exit 77; }
command -v iperf >/dev/null || { echo "run_rxoff: no iperf; skipped"; exit 77; }
case " ${RXOFF_APPEND:-} " in
*" packed=on "*) ring=packed ;;
*) ring=split ;;
esac

exec timeout 150 "$here/../../tools/qemu-run" --machine q35 --timeout 130 \
	--devopts "ctrl_guest_offloads=on,guest_csum=on,guest_tso4=on,guest_tso6=on" "$@" \
	--append "ip=10.99.0.2/24 gw=10.99.0.1 offload=on ${RXOFF_APPEND:-}" "$image" -- \
	python3 "$here/rxoff_check.py" --bytes "${RXOFF_BYTES:-50000000}" --label rxoff \
	--expect-serial "negotiated:.* GUEST_CSUM .*GUEST_TSO4 .*CTRL_GUEST_OFFLOADS" \
	--expect-serial "offloads in use: tx-csum rx-csum tso tso6 lro lro6 mrg; mtu 1500" \
	--expect-serial "ring layout: $ring"
