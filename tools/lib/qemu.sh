# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/lib/qemu.sh — the one place that decides how QEMU runs. Sourced by
# every launcher and every test that boots a guest (tools/qemu is its
# command-line form, for POSIX sh scripts).
#
#   vnet_accel ARCH   sets VNET_QEMU (an array: qemu-system-ARCH and its
#                     -accel options) and VNET_ACCEL_USED (kvm or tcg), and
#                     says in one line on stderr which and why. Returns 1
#                     (with a message) when VNET_ACCEL=kvm and KVM does not
#                     work here, or when QEMU for ARCH is not installed.
#   vnet_vhost        after vnet_accel: sets VNET_VHOST (on or off) for a tap
#                     netdev, and says which and why. Returns 1 when
#                     VNET_VHOST=on and vhost-net does not work here.
#
# KVM is used only after a probe has shown that it boots a guest to the end
# on this machine: /dev/kvm can exist and still be unable to run one (QEMU
# aborts setting up the vCPU, or KVM fails to emulate an instruction and the
# guest hangs). The probe's guest (accel-probe.c) goes through the same PVH
# entry as every bare-metal image of this repository (lib/arch/x86_64/boot.S:
# long mode, paging, SSE), copies memory with SSE, and exits through
# isa-debug-exit. It runs with the options the launchers use (-accel kvm
# -cpu host), bounded by VNET_PROBE_SECONDS (5). Its answer is cached per
# boot of the machine (the kernel's boot_id), per QEMU binary. vhost-net gets
# the same treatment: the probe guest is booted once more with a tap netdev
# and vhost=on,vhostforce=on.
#
# Environment:
#   VNET_ACCEL=kvm|tcg     skip the probe's verdict: tcg always works; kvm is
#                          an error (exit, not a hang) where the probe fails
#   VNET_VHOST=on|off      the same for vhost-net
#   VNET_PROBE_SECONDS=N   the probe's bound (5)
#   VNET_ACCEL_CACHE=DIR   where answers are cached (/run/vnet)
#   VNET_KVM_DEV, VNET_VHOST_DEV   the device nodes (/dev/kvm, /dev/vhost-net)

VNET_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VNET_TOP=$(cd "$VNET_LIB_DIR/../.." && pwd)

# Cache key: this boot of the machine, the QEMU binary (path, size, time),
# and the device node, so that a new QEMU or a new boot probes again.
vnet_probe_key() {  # WHAT BIN DEV
	local boot bin
	boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo noboot)
	bin=$(command -v "$2")
	printf '%s %s %s %s\n' "$boot" "$(stat -Lc '%n %s %Y' "$bin")" "$3" "$1" | md5sum | cut -c1-16
}

# Build the probe guest into DIR/probe.elf with the host's gcc.
vnet_probe_image() {  # DIR
	gcc -O2 -ffreestanding -fno-pie -fno-pic -fno-stack-protector -mno-red-zone \
		-nostdlib -static -no-pie -Wl,-T,"$VNET_TOP/lib/arch/x86_64/linker.ld" \
		-Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
		-o "$1/probe.elf" "$VNET_TOP/lib/arch/x86_64/boot.S" "$VNET_LIB_DIR/accel-probe.c" 2>"$1/cc.log"
}

# Boot the probe guest; prints why it failed (one line) and returns 1, or
# prints how long it took and returns 0. Extra QEMU options follow DIR.
vnet_probe_boot() {  # DIR QEMU-ARGS...
	local dir=$1 rc t0 ms
	shift
	t0=$(date +%s%N)
	timeout --kill-after=1 "${VNET_PROBE_SECONDS:-5}" "$@" -machine q35 -m 64 -nodefaults \
		-no-reboot -display none -serial none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$dir/probe.elf" </dev/null >"$dir/qemu.log" 2>&1
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	if [ $rc = 33 ]; then
		echo "a probe guest booted and exited in $ms ms"
		return 0
	fi
	local first
	first=$(grep -v -e '^$' -e 'warning:' "$dir/qemu.log" | head -n1 | sed 's/^qemu-system-[a-z0-9_]*: //' | cut -c1-120)
	case $rc in
	124|137) echo "the probe guest hung for ${VNET_PROBE_SECONDS:-5} s and was killed${first:+ ($first)}" ;;
	35) echo "the probe guest read back wrong memory" ;;
	*) echo "QEMU ended with status $rc${first:+: $first}" ;;
	esac
	return 1
}

# Run the probe named WHAT unless this boot already has its answer; prints
# "yes REASON" or "no REASON".
vnet_probe_cached() {  # WHAT BIN DEV PROBE-FUNCTION
	local cache=${VNET_ACCEL_CACHE:-/run/vnet} key file dir why
	key=$(vnet_probe_key "$1" "$2" "$3")
	file=$cache/probe-$1-$key
	if [ -s "$file" ]; then
		echo "$(cat "$file") (cached for this boot)"
		return 0
	fi
	dir=$(mktemp -d)
	if ! vnet_probe_image "$dir"; then
		echo "no cannot build the probe guest: $(head -n1 "$dir/cc.log")"
		rm -rf "$dir"
		return 0
	fi
	if why=$("$4" "$dir" "$2"); then why="yes $why"; else why="no $why"; fi
	rm -rf "$dir"
	mkdir -p "$cache" && echo "$why" >"$file.$$" && mv -f "$file.$$" "$file"
	echo "$why"
}

vnet_kvm_probe() {  # DIR BIN
	vnet_probe_boot "$1" "$2" -accel kvm -cpu host
}

vnet_accel() {  # ARCH
	local arch=$1 want=${VNET_ACCEL:-} bin=qemu-system-$1 dev=${VNET_KVM_DEV:-/dev/kvm} why ans
	case $want in ''|kvm|tcg) ;; *) echo "qemu: VNET_ACCEL is kvm or tcg, not '$want'" >&2; return 1 ;; esac
	command -v "$bin" >/dev/null || { echo "qemu: $bin is not installed (tools/setup installs it)" >&2; return 1; }
	if [ "$want" = tcg ]; then
		ans="no VNET_ACCEL=tcg"
	elif [ "$(uname -m)" != "$arch" ]; then
		ans="no the host is $(uname -m), the guest $arch"
	elif [ "$arch" != x86_64 ]; then
		ans="no there is no KVM probe for $arch guests"
	elif [ ! -e "$dev" ]; then
		ans="no there is no $dev"
	elif [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
		ans="no $dev is not readable and writable for $(id -un)"
	else
		ans=$(vnet_probe_cached kvm "$bin" "$dev" vnet_kvm_probe)
	fi
	why=${ans#* }
	if [ "${ans%% *}" = yes ]; then
		VNET_QEMU=("$bin" -accel kvm -cpu host) VNET_ACCEL_USED=kvm
		echo "qemu: accel kvm: $why" >&2
	elif [ "$want" = kvm ]; then
		echo "qemu: VNET_ACCEL=kvm, but KVM cannot run a guest here: $why" >&2
		return 1
	else
		VNET_QEMU=("$bin" -accel tcg) VNET_ACCEL_USED=tcg
		[ "$want" = tcg ] || why="KVM not usable: $why"
		echo "qemu: accel tcg: $why" >&2
	fi
}

# vhost-net's probe: the probe guest with a virtio-net-pci device on a tap
# (in a namespace of its own) whose netdev insists on vhost.
vnet_vhost_probe() {  # DIR BIN
	local ns=vnetprobe$$$RANDOM why rc=0
	ip netns add "$ns" 2>/dev/null || { echo "cannot make a network namespace (root?)"; return 1; }
	ip -n "$ns" tuntap add tap0 mode tap && ip -n "$ns" link set tap0 up
	why=$(ip netns exec "$ns" bash -c "$(declare -f vnet_probe_boot); vnet_probe_boot \"\$@\"" _ "$1" \
		"${VNET_QEMU[@]}" -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on,vhostforce=on \
		-device virtio-net-pci,disable-legacy=on,netdev=n0) || rc=1
	ip netns del "$ns" 2>/dev/null
	echo "$why"
	return $rc
}

vnet_vhost() {
	local want=${VNET_VHOST:-} dev=${VNET_VHOST_DEV:-/dev/vhost-net} ans why
	case $want in ''|on|off) ;; *) echo "qemu: VNET_VHOST is on or off, not '$want'" >&2; return 1 ;; esac
	if [ "$want" = off ]; then
		ans="no VNET_VHOST=off"
	elif [ ! -e "$dev" ]; then
		ans="no there is no $dev"
	elif [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
		ans="no $dev is not readable and writable for $(id -un)"
	else
		ans=$(vnet_probe_cached "vhost-$VNET_ACCEL_USED" "${VNET_QEMU[0]}" "$dev" vnet_vhost_probe)
	fi
	why=${ans#* }
	if [ "${ans%% *}" = yes ]; then
		VNET_VHOST=on
		echo "qemu: vhost-net on: $why" >&2
	elif [ "$want" = on ]; then
		echo "qemu: VNET_VHOST=on, but vhost-net does not work here: $why" >&2
		return 1
	else
		VNET_VHOST=off
		echo "qemu: vhost-net off: $why" >&2
	fi
}
