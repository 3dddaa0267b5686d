#!/usr/bin/env bash
# bench/peer/selftest.sh — ctest peer_selftest: the pieces of the DPDK
# comparison that run without DPDK, each checked on what it printed.
#   selftest.sh RING_BOUND VNET_BENCH [SOURCE_DIR]   (SOURCE_DIR: where
#   compare_report.py is; default: this script's directory)
# 1. ring_bound moves slots between two CPUs (skipped on one CPU) and
#    refuses bad arguments;
# 2. vnet-bench's latency mode (on the model) reports p50/p99/p99.9 and
#    the driver's stages of the round trip;
# 3. compare_report.py classes windows by their round trips, discards
#    those whose before and after disagree, pairs only within one class,
#    and prints the right counts and medians for a known set of windows.
set -euo pipefail
bound=$1 bench=$2 here=${3:-$(cd "$(dirname "$0")" && pwd)}
fail() { echo "peer_selftest: FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
field() { sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.]*\).*/\1/p" <<<"$2"; }

# ---- 1. ring_bound -----------------------------------------------------------
if [ "$(nproc)" -ge 2 ]; then
	j=$("$bound" --seconds=0.1 --warmup=0.02 --cpus=0,1)
	s=$(field slots_per_s "$j")
	[ -n "$s" ] && awk -v s="$s" 'BEGIN{exit !(s > 0)}' || fail "ring_bound moved nothing: $j"
	[ "$(field ring "$j")" = 256 ] && [ "$(field burst "$j")" = 32 ] || fail "ring_bound defaults: $j"
else
	echo "peer_selftest: one CPU: ring_bound run skipped"
fi
for bad in --ring=100 --burst=0 --cpus=1,1 --seconds=0 --nonsense; do
	rc=0; "$bound" "$bad" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "ring_bound $bad: exit $rc, not 2"
done

# ---- 2. vnet-bench latency: percentiles and stages ---------------------------------
j=$("$bench" --mode=latency --duration=0.2 --warmup=0.05 --quiet | grep '^{"backend"')
for k in p50_ns p99_ns p999_ns harvest_ns publish_ns; do
	v=$(field "$k" "$j")
	[ -n "$v" ] && awk -v v="$v" 'BEGIN{exit !(v > 0)}' || fail "latency: $k missing or 0: $j"
done
for k in app_ns refill_ns kick_ns device_wait_ns; do
	[ -n "$(field "$k" "$j")" ] || fail "latency: no $k: $j"
done
awk -v a="$(field p50_ns "$j")" -v b="$(field p99_ns "$j")" -v c="$(field p999_ns "$j")" \
	'BEGIN{exit !(a <= b && b <= c)}' || fail "latency percentiles out of order: $j"

# ---- 3. compare_report.py on known windows ----------------------------------------
# round trips near 60-80 ns and far 400-480 ns (the threshold falls in
# the gap); pair 1 and 2 near (ratios 1.5, 2.0), pair 3 far (0.8), pair 4
# has a DPDK window whose before/after disagree (discarded), pair 5 a
# starved vnet window (discarded); bounds: near 60 Mpps, far 40 Mpps.
# The backend's empty polls in the near pairs: vnet 40 and 20 %, DPDK 60
# and 80 % (medians 30 and 70 %).
w() { # who pair before after pps [fe_cpu] [more fields]
	printf '{"kind":"window","seq":%d,"who":"%s","ring":"split","mode":"txonly","frame":64,"round":1,"pair":%d,"rtt_before_ns":%d,"rtt_after_ns":%d,"pps":%d,"fe_cpu":%s,"be_cpu":1.0%s}\n' \
		"$RANDOM" "$1" "$2" "$3" "$4" "$5" "${6:-1.0}" "${7:-}"
}
{
	w vnet 1 60 70 30000000 1.0 ',"be_rx_zero_pct":40'; w dpdk 1 70 65 20000000 1.0 ',"be_rx_zero_pct":60'
	w vnet 2 62 64 40000000 1.0 ',"be_rx_zero_pct":20'; w dpdk 2 64 80 20000000 1.0 ',"be_rx_zero_pct":80'
	w vnet 3 400 420 16000000; w dpdk 3 420 480 20000000
	w vnet 4 70 61 30000000; w dpdk 4 61 450 10000000
	w vnet 5 450 460 30000000 0.5; w dpdk 5 460 470 10000000
	w bound 1 60 62 60000000; w bound 2 470 400 40000000
	echo '{"kind":"session","dpdk":"test"}'
} >"$tmp/raw.jsonl"
py=/usr/bin/python3; [ -x "$py" ] || py=python3
"$py" "$here/compare_report.py" "$tmp/raw.jsonl" --out "$tmp/classed.jsonl" >"$tmp/report.md" ||
	fail "compare_report.py failed"
grep -q 'near 6, far 4, discarded: mixed (before/after disagree) 1, starved (a worker < 0.90 CPU) 1' "$tmp/report.md" ||
	fail "window classes: $(head -1 "$tmp/report.md")"
thr=$(sed -n 's/.*threshold \([0-9]*\) ns (widest gap).*/\1/p' "$tmp/report.md")
[ -n "$thr" ] && [ "$thr" -gt 80 ] && [ "$thr" -lt 400 ] || fail "threshold not in the gap: $(sed -n 2p "$tmp/report.md")"
grep -q '^| split | txonly | 64 | near | 2 | 1.75 | 1.50-2.00 |' "$tmp/report.md" || fail "near pairs: $(cat "$tmp/report.md")"
grep -q '^| split | txonly | 64 | far | 1 | 0.80 |' "$tmp/report.md" || fail "far pairs: $(cat "$tmp/report.md")"
# shares of the bound: vnet near median 30 of 60 Mpps, far 16 of 40
grep -q '^| near | 60.00 (1) | split | txonly | 50 % |' "$tmp/report.md" || fail "near bound share: $(cat "$tmp/report.md")"
grep -q '^| far | 40.00 (1) | split | txonly | 40 % |' "$tmp/report.md" || fail "far bound share: $(cat "$tmp/report.md")"
# who waited: the medians of the near pairs, nothing where not recorded
grep -q '^| split | txonly | 64 | near | 2 | - | - | 30 % | 70 % |' "$tmp/report.md" || fail "who waited: $(cat "$tmp/report.md")"
grep -q '^| split | txonly | 64 | far |.* - | - | - | - |' "$tmp/report.md" && fail "who waited: a row with nothing recorded"
[ "$(grep -c '"class": "mixed"' "$tmp/classed.jsonl")" = 1 ] || fail "classed lines: mixed count"
echo "peer_selftest: ok"
