#!/usr/bin/env bash
# Many TCP echo clients at once against the echo appliance under QEMU (q35,
# on a tap in a private namespace; tools/qemu-run removes it afterwards):
# CLIENTS connections at the same moment, each sending BYTES while reading
# and then half-closing (echo_clients.py); every one must get all its bytes
# back, none may be reset. Then the appliance's counters must show that it
# reset nothing: no overrun, no connection refused for want of an entry.
#   run_concurrent.sh IMAGE CLIENTS BYTES [qemu-run options...]
# ECHO_APPEND adds to the guest's command line (conns=16: 16 slots, so that
# most clients wait for one; the counters must then show waiting).
# ECHO_EMPTY=M adds M clients that send nothing and half-close at once.
# Writes the JSON result to $ECHO_RESULT when set. Exits 77 (skip) when not
# root or QEMU is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${1:?usage: run_concurrent.sh IMAGE CLIENTS BYTES [qemu-run options...]}
clients=${2:?usage: run_concurrent.sh IMAGE CLIENTS BYTES}
bytes=${3:?usage: run_concurrent.sh IMAGE CLIENTS BYTES}
shift 3
[ "$(id -u)" = 0 ] || { echo "run_concurrent: needs root for the namespace; skipped"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "run_concurrent: no QEMU; skipped"; exit 77; }
empty=${ECHO_EMPTY:-0}
expect=(--stats-expect "$((clients + empty)) connections accepted"
        --stats-expect "[0-9]+ finished after the peer's FIN, 0 ended by the peer, 0 overruns, 0 refused")
case " ${ECHO_APPEND:-} " in
*" conns="*) expect+=(--stats-expect "[1-9][0-9]* waited for a slot") ;;
esac
exec timeout 280 "$here/../../tools/qemu-run" --machine q35 --timeout 240 "$@" \
	--append "ip=10.99.0.2/24 gw=10.99.0.1 ${ECHO_APPEND:-}" "$image" -- \
	python3 "$here/echo_clients.py" --clients "$clients" --bytes "$bytes" --empty "$empty" --timeout 180 \
	--label "concurrent-$clients" "${expect[@]}"
