#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The report of bench/peer/compare.sh: classes, pairs, the table.

    compare_report.py RAW.jsonl [--threshold NS] [--min-cpu 0.9]
                      [--out CLASSED.jsonl] [--plot PNG]

RAW.jsonl holds one line per window (compare.sh writes them): who (vnet,
dpdk, bound, latency), ring, mode, frame, round, pair, the cross-CPU round
trip before and after (rtt_before_ns, rtt_after_ns), the rate (pps, the
backend's count) and the workers' CPU shares. Each window is classed near
or far by its round trips: both under the threshold is near, both at or
above it far; a window whose two disagree is discarded (class "mixed") and
counted, as is one whose worker got less than --min-cpu of its CPU
("starved"). The threshold, unless given, is the geometric middle of the
widest gap between the sorted round trips (the host's two placements make
them bimodal) when that gap is a factor of 1.5 or more; else 250 ns.

A pair is a vnet window and a DPDK window of one configuration taken back
to back; it counts in a class only when both windows are of that class.
Printed per configuration and class: pairs, median ratio vnet/DPDK, its
min/max and interquartile range, and the median rates; then the ring
bound per class with each side's 64-byte rate as a share of it; who
waited (the backend's bursts that moved nothing, where recorded); then
vnet's round-trip latency per class. --out writes the windows again with
their class and the threshold; --plot draws ratios and round trips.
"""
import argparse
import json
import math
import statistics as st
import sys

DEFAULT_THRESHOLD = 250.0
MIN_GAP = 1.5


def pick_threshold(rtts):
    """Geometric middle of the widest gap (as a ratio) between sorted
    round trips, each side holding at least 5 % of them (and 2); None
    when no gap reaches MIN_GAP."""
    v = sorted(x for x in rtts if x > 0)
    edge = max(2, len(v) // 20)
    best, where = 0.0, None
    for i in range(edge, len(v) - edge + 1):
        lo, hi = v[i - 1], v[i]
        if lo > 0 and hi / lo > best:
            best, where = hi / lo, math.sqrt(lo * hi)
    return where if best >= MIN_GAP else None


def classify(w, thr, min_cpu):
    b, a = w.get("rtt_before_ns", 0), w.get("rtt_after_ns", 0)
    if w.get("error"):
        return "error"
    if b <= 0 or a <= 0 or (b < thr) != (a < thr):
        return "mixed"
    for k in ("fe_cpu", "be_cpu", "producer_cpu", "consumer_cpu"):
        if k in w and w[k] < min_cpu:
            return "starved"
    return "near" if b < thr else "far"


def quartiles(xs):
    xs = sorted(xs)
    if len(xs) < 2:
        return xs[0], xs[0]
    q = st.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def config_key(w):
    return (w["ring"], w["mode"], int(w["frame"]))


def pairs_of(windows):
    """(config, class, vnet window, dpdk window) for each pair whose two
    windows share one class."""
    by = {}
    for w in windows:
        if w["who"] in ("vnet", "dpdk"):
            by.setdefault((config_key(w), w["round"], w["pair"]), {})[w["who"]] = w
    out = []
    for (cfg, _r, _p), d in sorted(by.items(), key=lambda kv: str(kv[0])):
        v, p = d.get("vnet"), d.get("dpdk")
        if not v or not p or v["class"] != p["class"] or v["class"] not in ("near", "far"):
            continue
        if p["pps"] > 0:
            out.append((cfg, v["class"], v, p))
    return out


def fmt_m(x):
    return "%.2f" % (x / 1e6)


def table_pairs(windows, pairs):
    print("\n## vnet / DPDK virtio_user, per placement class (rate = the backend's count over the window)\n")
    print("| ring | mode | frame | class | pairs | median ratio vnet/DPDK | min-max | IQR | vnet Mpps | DPDK Mpps |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    cfgs = sorted({config_key(w) for w in windows if w["who"] in ("vnet", "dpdk")},
                  key=lambda k: (k[0] != "split", ["txonly", "rxonly", "macswap"].index(k[1])
                                 if k[1] in ("txonly", "rxonly", "macswap") else 9, k[2]))
    for cfg in cfgs:
        for cls in ("near", "far"):
            sel = [(v, p) for c, k, v, p in pairs if c == cfg and k == cls]
            if not sel:
                continue
            r = [v["pps"] / p["pps"] for v, p in sel]
            q1, q3 = quartiles(r)
            print("| %s | %s | %d | %s | %d | %.2f | %.2f-%.2f | %.2f-%.2f | %s | %s |" % (
                cfg[0], cfg[1], cfg[2], cls, len(sel), st.median(r), min(r), max(r), q1, q3,
                fmt_m(st.median(v["pps"] for v, _ in sel)), fmt_m(st.median(p["pps"] for _, p in sel))))


def table_waits(pairs):
    """Who waited, from the backend's burst statistics over the same pairs:
    the share of its bursts that moved nothing. rxonly: sends that found
    no free buffer in the frontend's RX ring (the backend waited for that
    frontend); txonly: polls that found no frame (the backend had time to
    spare); macswap: both."""
    rows = []
    for cfg in sorted({c for c, _k, _v, _p in pairs}, key=lambda k: (k[0] != "split", k[1], k[2])):
        for cls in ("near", "far"):
            sel = [(v, p) for c, k, v, p in pairs if c == cfg and k == cls]
            cells = []
            for key in ("be_tx_zero_pct", "be_rx_zero_pct"):
                for side in (0, 1):
                    x = [w[side][key] for w in sel if key in w[side]]
                    cells.append("%.0f %%" % st.median(x) if x else "-")
            if sel and any(c != "-" for c in cells):
                rows.append("| %s | %s | %d | %s | %d | %s |" % (cfg[0], cfg[1], cfg[2], cls, len(sel), " | ".join(cells)))
    if not rows:
        return
    print("\n## Who waited: the backend's bursts that moved nothing (testpmd --record-burst-stats), medians over the pairs\n")
    print("| ring | mode | frame | class | pairs | sends finding the RX ring full, vnet | the same, DPDK "
          "| polls finding nothing, vnet | the same, DPDK |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)


def table_bound(windows):
    print("\n## Ring bound (bench/peer/ring_bound, cpu0 -> cpu1) and 64-byte rates as a share of it\n")
    print("| class | bound Mpps (windows) | ring | mode | vnet share | DPDK share |")
    print("|---|---|---|---|---|---|")
    for cls in ("near", "far"):
        b = [w["pps"] for w in windows if w["who"] == "bound" and w["class"] == cls]
        if not b:
            continue
        bound = st.median(b)
        for ring in ("split", "packed"):
            for mode in ("txonly", "rxonly"):
                side = {}
                for who in ("vnet", "dpdk"):
                    x = [w["pps"] for w in windows if w["who"] == who and w["class"] == cls
                         and w["ring"] == ring and w["mode"] == mode and int(w["frame"]) == 64]
                    side[who] = ("%.0f %%" % (100 * st.median(x) / bound)) if x else "-"
                if side["vnet"] == "-" and side["dpdk"] == "-":
                    continue
                print("| %s | %s (%d) | %s | %s | %s | %s |" % (cls, fmt_m(bound), len(b), ring, mode,
                                                              side["vnet"], side["dpdk"]))


def table_latency(windows):
    lat = [w for w in windows if w["who"] == "latency" and w["class"] in ("near", "far")]
    if not lat:
        return
    print("\n## vnet round trip (vnet-bench latency, 64 B, backend macswap), medians over windows\n")
    print("| ring | class | windows | p50 ns | p99 ns | p99.9 ns | harvest | publish | kick | device+wait (ns) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for ring in ("split", "packed"):
        for cls in ("near", "far"):
            s = [w for w in lat if w["ring"] == ring and w["class"] == cls]
            if not s:
                continue
            m = lambda k: "%.0f" % st.median(w.get(k, 0) for w in s)
            print("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                ring, cls, len(s), m("p50_ns"), m("p99_ns"), m("p999_ns"), m("harvest_ns"),
                m("publish_ns"), m("kick_ns"), m("device_wait_ns")))


def plot(windows, pairs, thr, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 2]})
    cfgs = sorted({c for c, _k, _v, _p in pairs}, key=lambda k: (k[0] != "split", k[1], k[2]))
    colour = {"near": "tab:green", "far": "tab:blue"}
    for i, cfg in enumerate(cfgs):
        for j, cls in enumerate(("near", "far")):
            r = [v["pps"] / p["pps"] for c, k, v, p in pairs if c == cfg and k == cls]
            if r:
                x = i + (j - 0.5) * 0.3
                ax1.scatter([x] * len(r), r, s=10, alpha=0.5, color=colour[cls], label=cls)
                ax1.hlines(st.median(r), x - 0.12, x + 0.12, color="black")
    ax1.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax1.set_xticks(range(len(cfgs)))
    ax1.set_xticklabels(["%s\n%s %d" % c for c in cfgs], fontsize=7)
    ax1.set_ylabel("vnet / DPDK (backend's count)")
    ax1.set_title("pairs by placement class (bar: median)")
    handles, labels = ax1.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax1.legend(uniq.values(), uniq.keys(), fontsize=8)
    seq = sorted(windows, key=lambda w: w["seq"])
    ax2.scatter([w["seq"] for w in seq], [w["rtt_before_ns"] for w in seq], s=4,
                c=[colour.get(w["class"], "tab:red") for w in seq])
    ax2.axhline(thr, color="grey", ls="--", lw=0.8)
    ax2.set_yscale("log")
    ax2.set_xlabel("window")
    ax2.set_ylabel("cross-CPU round trip before (ns)")
    ax2.set_title("placement over the run (red: discarded)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--min-cpu", type=float, default=0.9)
    ap.add_argument("--out")
    ap.add_argument("--plot")
    a = ap.parse_args(argv)
    lines = [json.loads(l) for l in open(a.raw) if l.strip().startswith("{")]
    windows = [w for w in lines if w.get("kind", "window") == "window"]
    for s in (x for x in lines if x.get("kind") == "session"):
        print("session: DPDK %s; DPDK paths: split %s, packed %s; load average before %s, after %s%s"
              % (s.get("dpdk", "?"), s.get("path_split") or "-", s.get("path_packed") or "-",
                 s.get("load_before", "?"), s.get("load_after", "?"),
                 "; left out (vnet moved no frames): " + s["skipped_rings"] if s.get("skipped_rings") else ""))
    if not windows:
        print("compare_report: no windows in %s" % a.raw, file=sys.stderr)
        return 1
    rtts = [x for w in windows for x in (w.get("rtt_before_ns", 0), w.get("rtt_after_ns", 0))]
    picked = pick_threshold(rtts)
    thr = a.threshold or picked or DEFAULT_THRESHOLD
    how = "given" if a.threshold else ("widest gap" if picked else "default (no gap of x%.1f)" % MIN_GAP)
    for w in windows:
        w["class"] = classify(w, thr, a.min_cpu)
        w["threshold_ns"] = round(thr)
    count = lambda c: sum(1 for w in windows if w["class"] == c)
    v = sorted(x for x in rtts if x > 0)
    print("windows %d: near %d, far %d, discarded: mixed (before/after disagree) %d, starved (a worker < %.2f CPU) %d, "
          "error %d" % (len(windows), count("near"), count("far"), count("mixed"), a.min_cpu, count("starved"),
                        count("error")))
    if v:
        print("cross-CPU round trip: min %.0f, median %.0f, max %.0f ns; threshold %.0f ns (%s)"
              % (v[0], st.median(v), v[-1], thr, how))
    pairs = pairs_of(windows)
    table_pairs(windows, pairs)
    table_waits(pairs)
    table_bound(windows)
    table_latency(windows)
    if a.out:
        with open(a.out, "w") as f:
            for w in windows:
                f.write(json.dumps(w, sort_keys=True) + "\n")
    if a.plot and pairs:
        plot(windows, pairs, thr, a.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
