#!/usr/bin/env bash
# bench/vm/linux-serve.sh — the Linux guest that the echo appliance is
# compared with (bench/vm/vs-linux.sh): Debian's 6.1 kernel and the virtio_net
# modules of bench/vm/linux-guest.sh's initramfs, with this /init
# instead: eth0 at 10.99.0.2/24 (MTU from lg_mtu=), an iperf2 server (the
# host's /usr/bin/iperf and its libraries), "READY" on the console, then
# power off after lg_life= seconds (60).
#   bench/vm/linux-serve.sh CACHE_DIR     prints "VMLINUZ INITRD"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: linux-serve.sh CACHE_DIR}
log() { printf 'linux-serve: %s\n' "$*" >&2; }
command -v iperf >/dev/null || { log "no iperf (tools/setup installs it)"; exit 1; }
read -r vmlinuz base < <("$here/linux-guest.sh" "$cache")
initrd=$cache/serve-$(basename "$base")
if [ -f "$initrd" ] && [ "$initrd" -nt "$base" ] && [ "$initrd" -nt "$0" ]; then
	echo "$vmlinuz $initrd"; exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
(cd "$root" && gzip -dc "$base" | cpio -id --quiet)
# iperf and the shared libraries it loads, at the same paths
mkdir -p "$root/usr/bin"
cp "$(command -v iperf)" "$root/usr/bin/iperf"
for lib in $(ldd "$(command -v iperf)" | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /modules.order); do insmod /lib/modules/$m 2>/dev/null; done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
life=60 mtu=1500
for w in $(cat /proc/cmdline); do
	case $w in
	lg_life=*) life=${w#*=} ;;
	lg_mtu=*) mtu=${w#*=} ;;
	esac
done
ip link set lo up
ip link set eth0 mtu "$mtu"
ip link set eth0 up
ip addr add 10.99.0.2/24 dev eth0
iperf -s -D >/dev/null 2>&1
echo "READY kernel=$(uname -r) features=$(cat /sys/class/net/eth0/device/features 2>/dev/null)"
sleep "$life"
echo "linux-serve: rx_packets=$(cat /sys/class/net/eth0/statistics/rx_packets)"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
mv "$initrd.tmp" "$initrd"
log "initramfs $initrd (virtio_net + iperf)"
echo "$vmlinuz $initrd"
