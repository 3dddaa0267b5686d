#!/usr/bin/env bash
# End-to-end test of the echo appliance's offloads under QEMU (q35,
# virtio-net-pci on a tap in a private namespace; tools/qemu-run removes it
# afterwards): the appliance negotiates what MODE asks for and says so on
# its console (checked), then the host pings it (100 pings, none lost),
# echoes TCP (content checked) and UDP through it, runs iperf2 against
# lwiperf and a flood ping (ping -f, bounded), asks for the appliance's
# counters after that traffic (checked: the offloads were used, not only
# negotiated), then sends "quit"; its last counters must show no driver
# error and no recovery (echo_check.py). The counters (the lwIP glue's,
# struct vnet_iface_stats):
#   tx gso      TSO frames sent (HOST_TSO4/6: segments cut by the device)
#   tx csum     frames sent with NEEDS_CSUM (the checksum left to the device)
#   rx gso      large segments received whole (GUEST_TSO4/6)
#   rx chained  frames that spanned several receive buffers (MRG_RXBUF
#               num_buffers > 1)
#   tx jumbo    frames sent from the jumbo TX pool (past a pool buffer)
#   run_offload.sh IMAGE MODE [qemu-run options...]
#     MODE on     offload=on: CSUM, GUEST_CSUM, HOST_TSO4, GUEST_TSO4, MRG_RXBUF;
#                 tx gso, tx csum, rx gso and rx chained all > 0
#     MODE off    offload=off: none of them (checksums in software, one
#                 buffer per frame): tx gso, tx csum, rx gso, rx chained 0
#     MODE jumbo  offload=off mrg=on mtu=9000, the host's tap at MTU 9000:
#                 MRG_RXBUF chains and jumbo TX buffers, no TSO: rx chained
#                 and tx jumbo > 0, tx gso, tx csum and rx gso 0
#     MODE ipv6   offload=on with ip6=fd00:99::2/64 (CSUM, GUEST_CSUM,
#                 HOST_TSO4/6, GUEST_TSO4/6, MRG_RXBUF): after an IPv4 ping
#                 and a ping of the link-local address (fe80:: from QEMU's
#                 MAC 52:54:00:12:34:56), every step over IPv6 (iperf -V);
#                 the appliance's counters must show large segments over
#                 IPv6 both ways (rx gso6, tx gso6) and no bad GSO header
#     MODE ipv6off  the same with offload=off (counters at 0)
# Prints one JSON line (and writes it to $ECHO_RESULT when set); iperf in
# Mbit/s and the flood ping in round trips per second are the figures to
# compare with a Linux guest (bench/vm/vs-linux.sh, README "Against a Linux guest").
# IPERF_SECONDS (5) and FLOOD (5000) change the run length; each run stays
# under 60 s. Exits 77 (skip) when not root or QEMU is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${1:?usage: run_offload.sh IMAGE on|off|jumbo|ipv6|ipv6off [qemu-run options...]}
mode=${2:?usage: run_offload.sh IMAGE on|off|jumbo|ipv6|ipv6off [qemu-run options...]}
shift 2
[ "$(id -u)" = 0 ] || { echo "run_offload: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "run_offload: no QEMU; skipped"; exit 77; }
command -v iperf >/dev/null || { echo "run_offload: no iperf; skipped"; exit 77; }

secs=${IPERF_SECONDS:-5} flood=${FLOOD:-5000}
check=(--pings 100 --tcp-bytes 1048576 --iperf-seconds "$secs" --flood "$flood" --label "offload-$mode")
case $mode in
on)
	args="offload=on"
	check+=(--expect-serial "negotiated:.* CSUM GUEST_CSUM .*GUEST_TSO4 .*HOST_TSO4 .*MRG_RXBUF"
	        --expect-serial "offloads in use: tx-csum rx-csum tso tso6 lro lro6 mrg; mtu 1500"
	        --stats-expect "offloads: rx chained [1-9][0-9]* gso [1-9][0-9]* "
	        --stats-expect "\| tx csum [1-9][0-9]* jumbo [0-9]+ gso [1-9][0-9]* ") ;;
off)
	args="offload=off"
	check+=(--expect-serial "offloads in use: none; mtu 1500"
	        --stats-expect "offloads: rx chained 0 gso 0 "
	        --stats-expect "\| tx csum 0 jumbo [0-9]+ gso 0 ") ;;
jumbo)
	args="offload=off mrg=on mtu=9000"
	check+=(--tap-mtu 9000 --expect-serial "offloads in use: mrg; mtu 9000"
	        --stats-expect "offloads: rx chained [1-9][0-9]* gso 0 "
	        --stats-expect "\| tx csum 0 jumbo [1-9][0-9]* gso 0 ") ;;
ipv6|ipv6off)
	[ "$mode" = ipv6 ] && args="offload=on" || args="offload=off"
	args="$args ip6=fd00:99::2/64"
	check=(--pings 100 --tcp-bytes 4194304 --iperf-seconds "$secs" --flood "$flood" --label "offload-$mode"
	       --ipv6 fd00:99::2 --host6 fd00:99::1/64 --ll6 fe80::5054:ff:fe12:3456
	       --expect-serial "ipv6 fe80::5054:ff:fe12:3456/64 fd00:99::2/64")
	if [ "$mode" = ipv6 ]; then
		check+=(--expect-serial "negotiated:.* GUEST_TSO6 .*HOST_TSO6 "
		        --expect-serial "offloads in use: tx-csum rx-csum tso tso6 lro lro6 mrg; mtu 1500"
		        --stats-expect "rx gso6 [1-9][0-9]* bad-gso 0 \| tx gso6 [1-9]")
	else
		check+=(--expect-serial "offloads in use: none; mtu 1500"
		        --stats-expect "rx gso6 0 bad-gso 0 \| tx gso6 0 ")
	fi ;;
*)
	echo "run_offload: MODE is on, off, jumbo, ipv6 or ipv6off" >&2; exit 2 ;;
esac
check+=(--expect-serial "ring layout: split")
exec timeout 75 "$here/../../tools/qemu-run" --machine q35 --timeout 60 "$@" \
	--append "ip=10.99.0.2/24 gw=10.99.0.1 $args" "$image" -- \
	python3 "$here/echo_check.py" "${check[@]}"
