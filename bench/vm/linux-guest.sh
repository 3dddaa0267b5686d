#!/usr/bin/env bash
# bench/vm/linux-guest.sh CACHE_DIR — the Linux guest that vnet-bench
# is compared with: Debian's 6.1 kernel (apt-get download + dpkg-deb -x,
# never installed) and a busybox initramfs that loads virtio_net and pktgen
# and runs bench/vm/linux-init.sh. Prints "VMLINUZ INITRD".
# Downloads once into CACHE_DIR (outside git); needs busybox-static and cpio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: linux-guest.sh CACHE_DIR}
log() { printf 'linux-guest: %s\n' "$*" >&2; }
mkdir -p "$cache/dl"

need=()
command -v cpio >/dev/null || need+=(cpio)
# the initramfs has no libc: it needs the static busybox
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || need+=(busybox-static)
if ((${#need[@]})); then
	log "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends "${need[@]}" >&2
fi

kdir=$cache/kernel
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
	deb=$(ls "$cache"/dl/linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | sort -V | tail -n1 || true)
	if [ -z "$deb" ]; then
		pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -n1)
		if [ -z "$pkg" ]; then
			apt-get update -q >&2
			pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -n1)
		fi
		[ -n "$pkg" ] || { log "no linux-image-6.1.0-*-amd64 package known to apt"; exit 1; }
		log "downloading $pkg"
		(cd "$cache/dl" && apt-get download "$pkg" >&2)
		deb=$(ls "$cache"/dl/linux-image-6.1.0-*-amd64_*.deb | sort -V | tail -n1)
	fi
	log "unpacking $(basename "$deb")"
	rm -rf "$kdir.tmp"
	dpkg-deb -x "$deb" "$kdir.tmp"
	rm -rf "$kdir"
	mv "$kdir.tmp" "$kdir"
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | sort -V | tail -n1)
kver=${vmlinuz##*/vmlinuz-}
moddir=$kdir/lib/modules/$kver

initrd=$cache/initrd-$kver.gz
if [ ! -f "$initrd" ] || [ "$here/linux-init.sh" -nt "$initrd" ] || [ "$0" -nt "$initrd" ]; then
	root=$(mktemp -d)
	trap 'rm -rf "$root"' EXIT
	mkdir -p "$root"/{bin,dev,proc,sys,lib/modules,tmp}
	cp /bin/busybox "$root/bin/busybox"
	# the modules virtio_net and pktgen need, dependencies first; the
	# package has no modules.dep (depmod runs at install), so read each
	# module's own "depends=" from its .modinfo section
	declare -A path_of
	while read -r f; do
		n=${f##*/}; n=${n%.xz}; n=${n%.ko}; path_of[${n//-/_}]=$f
	done < <(cd "$moddir" && find kernel -name '*.ko' -o -name '*.ko.xz')
	order=()
	add_mod() {  # $1 = module name, $2 = depth (bounds the recursion)
		local n=$1 f deps d
		[ "$2" -lt 16 ] || { log "module dependencies too deep at $n"; exit 1; }
		f=${path_of[$n]:-}
		[ -n "$f" ] || { log "module $n not found (built in?)"; return 0; }
		case " ${order[*]-} " in *" $f "*) return 0 ;; esac
		case $f in
		*.xz) deps=$(xz -dc "$moddir/$f" | objcopy -O binary --only-section=.modinfo - /dev/stdout 2>/dev/null |
			tr '\0' '\n' | sed -n 's/^depends=//p') ;;
		*) deps=$(objcopy -O binary --only-section=.modinfo "$moddir/$f" /dev/stdout 2>/dev/null |
			tr '\0' '\n' | sed -n 's/^depends=//p') ;;
		esac
		for d in ${deps//,/ }; do add_mod "$d" $(($2 + 1)); done
		order+=("$f")
	}
	for name in virtio_pci virtio_net pktgen; do add_mod "$name" 0; done
	: >"$root/modules.order"
	for m in "${order[@]}"; do
		base=$(basename "$m")
		case $base in
		*.xz) xz -dc "$moddir/$m" >"$root/lib/modules/${base%.xz}"; base=${base%.xz} ;;
		*) cp "$moddir/$m" "$root/lib/modules/$base" ;;
		esac
		echo "$base" >>"$root/modules.order"
	done
	cp "$here/linux-init.sh" "$root/init"
	chmod +x "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	log "initramfs $initrd: modules $(tr '\n' ' ' <"$root/modules.order")"
fi
echo "$vmlinuz $initrd"
