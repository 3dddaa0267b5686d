#!/usr/bin/env bash
# A legacy device must get a clear error naming the QEMU flag that makes
# it modern, and the appliance must exit (status 3 = vnet_main returned 1)
# rather than hang or crash.
#   run_refusal.sh IMAGE q35|microvm
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=$1 machine=$2
[ "$(id -u)" = 0 ] || { echo "run_refusal: needs root; skipped"; exit 77; }
serial=$(mktemp)
trap 'rm -f "$serial"' EXIT
timeout 120 "$here/../../tools/qemu-run" --machine "$machine" --legacy --timeout 60 --expect-exit 3 \
	--serial "$serial" "$image"
case $machine in
q35) want='disable-legacy=on' ;;
*) want='force-legacy=false' ;;
esac
grep -q -- "$want" "$serial" || { echo "run_refusal: no error naming $want:"; cat "$serial"; exit 1; }
grep -- "$want" "$serial" | head -n 2
echo "run_refusal: $machine legacy device refused with a clear error"
