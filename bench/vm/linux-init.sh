#!/bin/busybox sh
# shellcheck shell=dash
# /init of the Linux comparison guest (bench/vm/linux-guest.sh).
# Kernel command line: vmb_tx=SEC vmb_rx=SEC vmb_frame=BYTES vmb_dst=MAC
# vmb_dst_ip=A.B.C.D vmb_burst=N. Two phases, announced on the console:
#   READY mac=...   then pktgen sends vmb_frame-byte UDP frames to port 9
#                   (as vnet-bench-bm txonly) for vmb_tx seconds;
#   RXPHASE         then the guest only receives for vmb_rx seconds (frames
#                   addressed to it, no IP address: the stack drops them
#                   after the driver counted them), and prints its counters.
# Then powers off (QEMU exits with status 0).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

tx=5 rx=5 frame=60 dst=02:00:00:00:00:01 dst_ip=10.99.0.1 burst=32
for w in $(cat /proc/cmdline); do
	case $w in
	vmb_tx=*) tx=${w#*=} ;;
	vmb_rx=*) rx=${w#*=} ;;
	vmb_frame=*) frame=${w#*=} ;;
	vmb_dst=*) dst=${w#*=} ;;
	vmb_dst_ip=*) dst_ip=${w#*=} ;;
	vmb_burst=*) burst=${w#*=} ;;
	esac
done

for m in $(cat /modules.order); do
	insmod /lib/modules/$m || echo "linux-guest: insmod $m failed"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up
ip link set eth0 up
# MTU-sized frames: no offloads on the path that pktgen does not use anyway
mac=$(cat /sys/class/net/eth0/address)
echo "READY mac=$mac kernel=$(uname -r)"

stat() { cat /sys/class/net/eth0/statistics/$1; }
# The CPU's busy and total time in USER_HZ ticks (/proc/stat's first line:
# user nice system idle iowait irq softirq steal): busy is all but idle and
# iowait. Read around each phase, with the TSC rate the kernel measured, so
# that the host can work out the cycles the guest spent per packet.
cpu() { awk '/^cpu /{ t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }
cpuline() { # PHASE BUSY0 TOTAL0 PACKETS
	set -- "$1" "$2" "$3" "$4" $(cpu)
	echo "LINUXCPU phase=$1 busy_ticks=$(( $5 - $2 )) total_ticks=$(( $6 - $3 )) hz=100 tsc_khz=$tsc_khz packets=$4"
}
tsc_khz=$(awk -F': *' '/^cpu MHz/{ printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
if [ "$tx" != 0 ]; then
	pg() { echo "$2" >"$1" || echo "linux-guest: pktgen $1: $2 refused"; }
	pg /proc/net/pktgen/kpktgend_0 "rem_device_all"
	pg /proc/net/pktgen/kpktgend_0 "add_device eth0"
	d=/proc/net/pktgen/eth0
	pg $d "count 0"
	pg $d "clone_skb 1000"
	pg $d "pkt_size $frame"
	pg $d "burst $burst"
	pg $d "delay 0"
	pg $d "dst $dst_ip"
	pg $d "dst_mac $dst"
	pg $d "udp_src_min 9"
	pg $d "udp_src_max 9"
	pg $d "udp_dst_min 9"
	pg $d "udp_dst_max 9"
	t0=$(stat tx_packets)
	read -r b0 c0 <<EOC
$(cpu)
EOC
	echo start >/proc/net/pktgen/pgctrl &
	pgpid=$!
	sleep "$tx"
	echo stop >/proc/net/pktgen/pgctrl
	wait $pgpid
	sent=$(( $(stat tx_packets) - t0 ))
	cpuline tx "$b0" "$c0" "$sent"
	echo "LINUXTX tx_packets=$sent seconds=$tx"
	grep -E "pps|Result" $d | head -n 3
fi
if [ "$rx" != 0 ]; then
	r0=$(stat rx_packets)
	read -r b0 c0 <<EOC
$(cpu)
EOC
	echo "RXPHASE"
	sleep "$rx"
	got=$(( $(stat rx_packets) - r0 ))
	cpuline rx "$b0" "$c0" "$got"
	echo "LINUXRX rx_packets=$got rx_dropped=$(stat rx_dropped) seconds=$rx"
fi
echo "linux-guest: done"
poweroff -f
