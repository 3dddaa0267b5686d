# shellcheck shell=bash source-path=SCRIPTDIR
# SPDX-License-Identifier: BSD-3-Clause
# tools/lib/qemu.sh — the one place that decides how QEMU runs and how its
# command line is built. Sourced by every launcher and every test that
# boots a guest (tools/qemu is its command-line form).
#
# The accelerator:
#   vnet_accel ARCH   sets VNET_QEMU (an array: qemu-system-ARCH and its
#                     -accel options) and VNET_ACCEL_USED (kvm or tcg), and
#                     says in one line on stderr which and why. Returns 1
#                     (with a message) when VNET_ACCEL=kvm and KVM does not
#                     work here, or when QEMU for ARCH is not installed.
#   vnet_vhost        after vnet_accel: sets VNET_VHOST (on or off) for a tap
#                     netdev, and says which and why. Returns 1 when
#                     VNET_VHOST=on and vhost-net does not work here.
#
# The command line, appended piece by piece to the array VNET_ARGS (the
# caller adds its own -netdev, -kernel and -append):
#   vnet_args_reset                  VNET_ARGS=()
#   vnet_machine ARCH MACHINE [PROPS [CPU]]
#                     x86_64: q35 or microvm; aarch64, riscv64: virt (with
#                     the CPU model a vnet image expects under TCG)
#   vnet_headless SERIAL [MEM]       no default devices, no display, no
#                     reboot (a triple fault ends QEMU), console on SERIAL
#                     (file:PATH, stdio, none), MEM megabytes
#   vnet_exit_device ARCH            how the guest's exit status becomes
#                     QEMU's: isa-debug-exit (x86_64), semihosting
#                     (aarch64), the virt machine's sifive_test (riscv64)
#   vnet_nic ARCH pci|mmio modern|legacy|transitional [PROPS]
#                     one virtio-net device; modern is virtio 1.x only
#                     (PCI: disable-legacy=on; MMIO: version 2), legacy
#                     virtio 0.9.5 only (PCI: disable-modern=on; MMIO:
#                     version 1), transitional both (PCI only)
# Running it, always bounded by timeout(1):
#   vnet_qemu_bounded SECONDS        in the foreground; QEMU's status
#   vnet_qemu_start NAME SECONDS [NETNS]   in the background (inside NETNS),
#                     with a pidfile; stopped at exit if still running
#   vnet_qemu_wait NAME              its exit status (124: the bound)
#   vnet_qemu_stop NAME              TERM, then KILL after 5 s
#   vnet_wait_line FILE ERE SECONDS [NAME]  until a line of FILE matches,
#                     or QEMU NAME ended, or SECONDS passed (status 1 then)
# Clean-up:
#   vnet_at_exit CMD [ARGS...]       run CMD when this shell exits (on any
#                     path: error, INT, TERM), last registered first
#   vnet_workdir                     VNET_WORK: a temp dir, removed at exit
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
# shellcheck source=netns.sh
. "$VNET_LIB_DIR/netns.sh"

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
# prints how long it took and returns 0. The command that runs QEMU (the
# binary and its -accel options, possibly behind ip netns exec) follows DIR;
# NIC-ARGS after a "--" give the probe a network device.
vnet_probe_boot() {  # DIR COMMAND... [-- NIC-ARGS...]
	local dir=$1 rc t0 ms cmd=() VNET_ARGS=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do cmd+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	vnet_machine x86_64 q35
	vnet_headless none 64
	vnet_exit_device x86_64
	t0=$(date +%s%N)
	timeout --kill-after=1 "${VNET_PROBE_SECONDS:-5}" "${cmd[@]}" "${VNET_ARGS[@]}" "$@" \
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
# (in a namespace of its own) whose netdev insists on vhost. Runs in a
# subshell (the caller's $(...)), so the namespace goes at its exit.
vnet_vhost_probe() {  # DIR BIN
	local ns=vnetprobe$$$RANDOM VNET_ARGS=()
	vnet_netns_new "$ns" 2>/dev/null || { echo "cannot make a network namespace (root?)"; return 1; }
	vnet_netns_tap "$ns" tap0 || { echo "cannot make a tap in a network namespace"; return 1; }
	vnet_nic x86_64 pci modern netdev=n0
	vnet_probe_boot "$1" ip netns exec "$ns" "${VNET_QEMU[@]}" -- \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on,vhostforce=on "${VNET_ARGS[@]}"
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

# ---- clean-up ---------------------------------------------------------------

# Handlers are kept with the shell that registered them ($BASHPID), so that
# a subshell running its own handlers at its exit never runs its parent's.
VNET_AT_EXIT=()
vnet_at_exit() {  # CMD [ARGS...]
	VNET_AT_EXIT+=("$BASHPID $(printf '%q ' "$@")")
	trap vnet_exit_handlers EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

vnet_exit_handlers() {
	local rc=$? i
	for ((i = ${#VNET_AT_EXIT[@]} - 1; i >= 0; i--)); do
		[ "${VNET_AT_EXIT[i]%% *}" = "$BASHPID" ] && { eval "${VNET_AT_EXIT[i]#* }" || true; }
	done
	VNET_AT_EXIT=()
	exit $rc
}

vnet_workdir() {
	VNET_WORK=$(mktemp -d)
	vnet_at_exit rm -rf "$VNET_WORK"
}

# ---- the command line -------------------------------------------------------

vnet_args_reset() { VNET_ARGS=(); }

vnet_machine() {  # ARCH MACHINE [PROPS [CPU]]
	local arch=$1 m=$2${3:+,$3} cpu=${4:-}
	case $arch/$2 in
	x86_64/q35|x86_64/microvm) VNET_ARGS+=(-machine "$m") ;;
	# under KVM, VNET_QEMU already has -cpu host
	aarch64/virt) VNET_ARGS+=(-machine "$m")
		[ "${VNET_ACCEL_USED:-}" = kvm ] || VNET_ARGS+=(-cpu "${cpu:-cortex-a57}") ;;
	riscv64/virt) VNET_ARGS+=(-machine "$m")
		[ "${VNET_ACCEL_USED:-}" = kvm ] || [ -z "$cpu" ] || VNET_ARGS+=(-cpu "$cpu") ;;
	*) echo "qemu: no machine '$2' for $arch (x86_64: q35, microvm; aarch64, riscv64: virt)" >&2; return 1 ;;
	esac
}

vnet_headless() {  # SERIAL [MEM]
	VNET_ARGS+=(-nodefaults -no-reboot -display none -serial "$1")
	[ -z "${2:-}" ] || VNET_ARGS+=(-m "$2")
}

# The guest ends QEMU with status (code << 1) | 1: vnet_exit(0x10) is 33.
vnet_exit_device() {  # ARCH
	case $1 in
	x86_64) VNET_ARGS+=(-device "isa-debug-exit,iobase=0xf4,iosize=0x04") ;;
	# SYS_EXIT; the guest can then reach host files: run only vnet's images
	aarch64) VNET_ARGS+=(-semihosting-config "enable=on,target=native") ;;
	riscv64) ;; # the virt machine's sifive_test device, always there
	*) echo "qemu: no exit device for $1" >&2; return 1 ;;
	esac
}

vnet_nic() {  # ARCH pci|mmio modern|legacy|transitional [PROPS]
	local arch=$1 tr=$2 kind=$3 props=${4:-} dev
	case $tr/$kind in
	pci/modern) dev=virtio-net-pci,disable-legacy=on ;;
	pci/legacy) dev=virtio-net-pci,disable-legacy=off,disable-modern=on ;; # legacy only
	pci/transitional) dev=virtio-net-pci,disable-legacy=off,disable-modern=off ;; # both interfaces
	mmio/*) dev=virtio-net-device ;;
	*) echo "qemu: vnet_nic pci|mmio modern|legacy|transitional, not $tr $kind" >&2; return 1 ;;
	esac
	# off x86_64 no firmware would run the device's boot ROM
	[ "$tr" = pci ] && [ "$arch" != x86_64 ] && dev=$dev,romfile=
	# QEMU's virtio-mmio is version 1 (legacy) unless told otherwise, once
	# for every device of the machine
	if [ "$tr/$kind" = mmio/modern ] && [[ " ${VNET_ARGS[*]-} " != *" virtio-mmio.force-legacy=false "* ]]; then
		VNET_ARGS+=(-global virtio-mmio.force-legacy=false)
	fi
	VNET_ARGS+=(-device "$dev${props:+,$props}")
}

# ---- running it -------------------------------------------------------------

vnet_qemu_bounded() {  # SECONDS
	timeout --kill-after=5 "$1" "${VNET_QEMU[@]}" "${VNET_ARGS[@]}"
}

vnet_qemu_start() {  # NAME SECONDS [NETNS]
	local name=$1 secs=$2 ns=${3:-} pre=()
	[ -n "${VNET_WORK:-}" ] || vnet_workdir
	[ -z "$ns" ] || pre=(ip netns exec "$ns")
	rm -f "$VNET_WORK/$name.pid"
	"${pre[@]}" timeout --kill-after=5 "$secs" "${VNET_QEMU[@]}" "${VNET_ARGS[@]}" \
		-pidfile "$VNET_WORK/$name.pid" </dev/null &
	printf -v "VNET_WRAP_$name" '%s' "$!"
	vnet_at_exit vnet_qemu_stop "$name"
}

vnet_qemu_wait() {  # NAME
	local var=VNET_WRAP_$1 rc=0
	[ -n "${!var:-}" ] || return 1
	wait "${!var}" || rc=$?
	printf -v "$var" ''
	return $rc
}

vnet_qemu_stop() {  # NAME
	local var=VNET_WRAP_$1 q
	q=$(cat "${VNET_WORK:-/nonexistent}/$1.pid" 2>/dev/null || true)
	if [ -n "${!var:-}" ] && [ -n "$q" ] && kill -0 "$q" 2>/dev/null; then
		kill "$q" 2>/dev/null || true
		vnet_wait_gone "$q" 5 || kill -9 "$q" 2>/dev/null || true
	fi
	# timeout(1) passes TERM on to QEMU when the pidfile was not there yet
	[ -z "${!var:-}" ] || kill "${!var}" 2>/dev/null || true
	printf -v "$var" ''
}

vnet_wait_gone() {  # PID SECONDS: 0 once PID is gone
	local _
	for _ in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

vnet_wait_line() {  # FILE ERE SECONDS [NAME]
	local _ var=VNET_WRAP_${4:-}
	for _ in $(seq $(($3 * 10))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		[ -z "${4:-}" ] || { [ -n "${!var:-}" ] && kill -0 "${!var}" 2>/dev/null; } || return 1
		sleep 0.1
	done
	return 1
}
