#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The accelerator choice (tools/lib/qemu.sh) against a faked KVM: a
# qemu-system-x86_64 wrapper first in PATH that, when asked for -accel kvm,
# hangs (as a KVM that fails to emulate an instruction does), aborts (as
# one that cannot set the vCPU's MSRs does), or works (it runs the guest
# under TCG instead, so the probe's positive path is exercised too). The
# same for vhost-net. /dev/kvm and /dev/vhost-net are stood in for by temp
# files (VNET_KVM_DEV, VNET_VHOST_DEV), the cache by a temp dir.
#   run.sh BOOT_TEST_ELF
# Each case boots the boot test through tools/qemu-run (a real launcher)
# and checks which accelerator it said it used, that the guest passed,
# and that the whole run stayed within the probe's bound.
set -uo pipefail
img=${1:?usage: run.sh BOOT_TEST_ELF}
root=$(cd "$(dirname "$0")/../../.." && pwd)
real=$(command -v qemu-system-x86_64) || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (tools/qemu-run makes a namespace)"; exit 77; }
[ -f "$img" ] || { echo "FAIL: no image $img"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
touch "$tmp/kvm" "$tmp/vhost-net"
# The fake: FAKE_KVM=hang|abort|works, FAKE_VHOST=fail|works; logs each call.
cat >"$tmp/bin/qemu-system-x86_64" <<FAKE
#!/usr/bin/env bash
echo "\$*" >>"$tmp/calls"
args=()
kvm=0 vhost=0
for a in "\$@"; do
	case \$a in
	kvm) kvm=1; a=tcg ;;
	host) [ "\${args[-1]:-}" = -cpu ] && { unset 'args[-1]'; continue; } ;;
	*vhost=on*) vhost=1; a=\${a/,vhost=on/,vhost=off}; a=\${a/,vhostforce=on/} ;;
	esac
	args+=("\$a")
done
if [ \$kvm = 1 ]; then
	case \${FAKE_KVM:-works} in
	hang) echo "KVM internal error. Suberror: 1" >&2; exec sleep 600 ;;
	abort) echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2; kill -ABRT \$\$ ;;
	esac
fi
if [ \$vhost = 1 ] && [ "\${FAKE_VHOST:-works}" = fail ]; then
	echo "qemu-system-x86_64: -netdev tap,vhost=on: vhost-net requested but could not be initialized" >&2
	exit 1
fi
exec "$real" "\${args[@]}"
FAKE
chmod +x "$tmp/bin/qemu-system-x86_64"

fail=0
# case NAME EXPECT-RC EXPECT-REGEX MAX-SECONDS [VAR=VALUE...]: boot through
# tools/qemu-run with the fake first in PATH and a fresh cache.
case_() {
	local name=$1 want=$2 re=$3 max=$4 rc t0 s
	shift 4
	rm -rf "$tmp/cache" "$tmp/calls"
	t0=$(date +%s%N)
	env PATH="$tmp/bin:$PATH" VNET_KVM_DEV="$tmp/kvm" VNET_VHOST_DEV="$tmp/vhost-net" \
		VNET_ACCEL_CACHE="$tmp/cache" VNET_PROBE_SECONDS=3 "$@" \
		timeout 60 "$root/tools/qemu-run" --machine q35 --timeout 30 --append boot_test "$img" \
		>"$tmp/out" 2>&1
	rc=$?
	s=$(( ($(date +%s%N) - t0) / 1000000 ))
	if [ "$rc" = "$want" ] && grep -Eq "$re" "$tmp/out" && [ "$s" -le $((max * 1000)) ]; then
		echo "ok   $name: status $rc in $s ms: $(grep -E '^qemu: (accel|VNET_)' "$tmp/out" | head -n1)"
	else
		echo "FAIL $name: status $rc (want $want) in $s ms (bound $max s), want /$re/; output:"
		sed 's/^/  | /' "$tmp/out"
		fail=1
	fi
}

# A hanging KVM: TCG within the probe's 3 s bound plus the boot.
case_ kvm-hangs 0 'accel tcg: KVM not usable: the probe guest hung' 20 FAKE_KVM=hang
# An aborting KVM: TCG at once.
case_ kvm-aborts 0 'accel tcg: KVM not usable: QEMU ended with status 134' 15 FAKE_KVM=abort
# Forced KVM where it hangs: a clear error within the bound, not a hang.
case_ kvm-forced-broken 2 'VNET_ACCEL=kvm, but KVM cannot run a guest here: the probe guest hung' 10 \
	FAKE_KVM=hang VNET_ACCEL=kvm
# Forced TCG: no probe at all, so the fake never sees -accel kvm.
case_ tcg-forced 0 'accel tcg: VNET_ACCEL=tcg' 15 FAKE_KVM=hang VNET_ACCEL=tcg
if grep -q kvm "$tmp/calls"; then echo "FAIL tcg-forced: KVM was tried: $(grep kvm "$tmp/calls")"; fail=1; fi
# No device node: no probe.
case_ no-kvm-node 0 'accel tcg: KVM not usable: there is no /nonexistent' 15 VNET_KVM_DEV=/nonexistent
# A KVM that works (the fake runs the probe and the guest): KVM is chosen,
# and vhost-net too when it works; its failure leaves vhost off.
case_ kvm-works 0 'accel kvm: a probe guest booted and exited' 15 FAKE_KVM=works
grep -q 'vhost-net on: a probe guest booted' "$tmp/out" || { echo "FAIL kvm-works: vhost-net not on"; fail=1; }
grep -q -- '-netdev tap,.*vhost=on' "$tmp/calls" || { echo "FAIL kvm-works: the guest ran without vhost=on"; fail=1; }
case_ vhost-fails 0 'vhost-net off: QEMU ended with status 1: -netdev tap,vhost=on: vhost-net requested' 15 FAKE_VHOST=fail
case_ vhost-forced-broken 2 'VNET_VHOST=on, but vhost-net does not work here' 15 FAKE_VHOST=fail VNET_VHOST=on

# The answer is cached for this boot: a second run does not probe again.
rm -rf "$tmp/cache"
for i in 1 2; do
	rm -f "$tmp/calls"
	env PATH="$tmp/bin:$PATH" VNET_KVM_DEV="$tmp/kvm" VNET_ACCEL_CACHE="$tmp/cache" \
		VNET_PROBE_SECONDS=3 FAKE_KVM=hang "$root/tools/qemu" --which x86_64 >"$tmp/which" 2>"$tmp/out"
	n=0
	[ -f "$tmp/calls" ] && n=$(grep -c kvm "$tmp/calls")
	if [ $i = 1 ] && [ "$n" != 1 ]; then echo "FAIL cache: first call probed $n times"; fail=1; fi
	if [ $i = 2 ] && { [ "$n" != 0 ] || ! grep -q 'cached for this boot' "$tmp/out"; }; then
		echo "FAIL cache: second call probed $n times: $(cat "$tmp/out")"; fail=1
	fi
	[ "$(cat "$tmp/which")" = tcg ] || { echo "FAIL cache: --which said $(cat "$tmp/which")"; fail=1; }
done
[ $fail = 0 ] && echo "ok   cache: one probe per boot" && echo "accel test: PASS"
exit $fail
