#!/usr/bin/env bash
# tests/linux/build-initramfs.sh — a Linux guest for the libpciaccess test:
# Debian's kernel (apt-get download linux-image-6.1.0-*-amd64, unpacked
# with dpkg-deb -x, cached) and an initramfs of busybox-static, the virtio
# PCI modules, a statically linked test binary and an /init script.
#
#   build-initramfs.sh TEST_BINARY OUT_DIR
# Writes OUT_DIR/vmlinuz and OUT_DIR/initrd.gz. Exit 77 when the kernel
# package cannot be had (offline): the caller skips.
set -euo pipefail
bin=$1 out=$2
cache=${VNET_CACHE:-${HOME:-/root}/.cache/vnet}/guest
log() { printf 'guest: %s\n' "$*" >&2; }
mkdir -p "$cache" "$out"
[ -x /bin/busybox ] && command -v cpio >/dev/null || { log "needs busybox-static and cpio"; exit 77; }

# ---- the kernel: newest linux-image-6.1.0-N-amd64 apt knows, cached ------
kdir=$(ls -d "$cache"/6.1.0-*-amd64 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$kdir" ] || [ ! -f "$kdir/vmlinuz" ]; then
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
	      awk '{print $1}' | sort -V | tail -1)
	[ -n "$pkg" ] || { log "no linux-image-6.1.0-*-amd64 in apt's lists (apt-get update?)"; exit 77; }
	log "downloading $pkg"
	tmp=$(mktemp -d "$cache/dl.XXXXXX")
	( cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1 ) || { rm -rf "$tmp"; log "cannot download $pkg"; exit 77; }
	dpkg-deb -x "$tmp"/*.deb "$tmp/x"
	kdir=$cache/${pkg#linux-image-}
	mkdir -p "$kdir"
	cp "$tmp"/x/boot/vmlinuz-* "$kdir/vmlinuz"
	ver=$(ls "$tmp/x/lib/modules")
	for m in drivers/virtio/virtio.ko drivers/virtio/virtio_ring.ko \
	         drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko \
	         drivers/virtio/virtio_pci.ko; do
		cp "$tmp/x/lib/modules/$ver/kernel/$m" "$kdir/"
	done
	rm -rf "$tmp"
fi
cp "$kdir/vmlinuz" "$out/vmlinuz"

# ---- the initramfs ----------------------------------------------------------
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev,lib/modules,tmp}
cp /bin/busybox "$root/bin/busybox"
cp "$kdir"/*.ko "$root/lib/modules/"
cp "$bin" "$root/pci_guest"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
echo 8 > /proc/sys/vm/nr_hugepages
# Bind the kernel's virtio-pci to both NICs, then hand 00:04.0 back: the
# test must refuse 00:03.0 (bound) and drive 00:04.0 (unbound).
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci; do
	insmod /lib/modules/$m.ko
done
echo 0000:00:04.0 > /sys/bus/pci/drivers/virtio-pci/unbind
echo "GUEST-START"
rc=0
/pci_guest refuse 0000:00:03.0 || rc=1
VNET_PCI_AUTO=1 /pci_guest traffic || rc=1
echo "GUEST-DONE rc=$rc"
poweroff -f
INIT
chmod +x "$root/init"
( cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 ) >"$out/initrd.gz"
log "kernel $kdir, initrd $(du -h "$out/initrd.gz" | cut -f1)"
