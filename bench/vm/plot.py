#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Plot a bench/vm/run.sh folder: throughput (vnet-bench vs the Linux
guest, host-counted), the per-stage cycle breakdown inside the guest, and
the round-trip histograms (guest-side and host-side).

    plot.py DIR OUT.png     (reads DIR/results.jsonl and the hist lines)
"""
import glob
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STAGES = ("harvest", "app", "refill", "publish", "kick")


def load(d):
    with open(os.path.join(d, "results.jsonl")) as f:
        return [json.loads(x) for x in f if x.strip()]


def hists(d, pattern, name):
    out = {}
    for path in sorted(glob.glob(os.path.join(d, pattern))):
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith('{"hist":"%s"' % name):
                    try:
                        h = json.loads(line)
                    except ValueError:
                        continue
                    for ns, n in h["buckets"]:
                        out[ns] = out.get(ns, 0) + n
    return out


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else 0


def main():
    d, png = sys.argv[1], sys.argv[2]
    recs = load(d)
    fig, ax = plt.subplots(1, 3, figsize=(17, 5.2))

    # 1. throughput, host-counted
    frames = sorted({r["frame"] for r in recs if r.get("where") == "host"})
    labels, vn, lx = [], [], []
    for kind in ("tx", "rx"):
        for fr in frames:
            sel = lambda who: med([r["pps"] for r in recs if r.get("kind") == kind and r.get("where") == "host"
                                   and r["guest"] == who and r["frame"] == fr and r.get("queues", 1) == 1]) / 1e3
            labels.append(f"guest {kind.upper()}\n{fr} B")
            vn.append(sel("vnet"))
            lx.append(sel("linux"))
    x = range(len(labels))
    ax[0].bar([i - 0.2 for i in x], vn, 0.4, label="vnet-bench-bm")
    ax[0].bar([i + 0.2 for i in x], lx, 0.4, label="Linux guest (pktgen / driver)")
    for i in x:
        if lx[i]:
            ax[0].annotate(f"{vn[i] / lx[i]:.2f}x", (i, max(vn[i], lx[i])), ha="center", va="bottom", fontsize=8)
    ax[0].set_xticks(list(x))
    ax[0].set_xticklabels(labels, fontsize=8)
    ax[0].set_ylabel("kpps, counted on the host side of the tap")
    ax[0].set_title("Throughput (median over rounds)")
    ax[0].set_ylim(0, max(vn + lx + [1]) * 1.35)  # room for the ratios and the legend
    ax[0].legend(fontsize=8, loc="upper right")

    # 2. per-stage breakdown (median cycles/packet)
    st = [r for r in recs if r.get("kind") == "stages" and r["guest"] != "vm2vm" and r.get("queues", 1) == 1]
    groups = []
    for mode in ("txonly", "rxonly", "forward", "latency"):
        for fr in sorted({r["frame"] for r in st}):
            rs = [r for r in st if r["mode"] == mode and r["frame"] == fr]
            if rs:
                groups.append((f"{mode}\n{fr} B", {k: max(0, med([r["p50"][k] for r in rs])) for k in STAGES}))
    width = 0.8 / len(STAGES)
    for j, k in enumerate(STAGES):
        vals = [max(g[1][k], 1) for g in groups]  # log axis: 1 = nothing
        ax[1].bar([i - 0.4 + width * (j + 0.5) for i in range(len(groups))], vals, width, label=k)
    ax[1].set_yscale("log")
    ax[1].set_xticks(range(len(groups)))
    ax[1].set_xticklabels([g[0] for g in groups], fontsize=8)
    ax[1].set_ylabel("TSC cycles per packet (median per call, log)")
    ax[1].set_title("Per-stage cost inside the guest")
    ax[1].legend(fontsize=8)

    # 3. round-trip histograms
    for pattern, name, label in (("r*-vnet-lat-*.log", "guest_rtt", "guest-side (vnet latency <-> host reflector)"),
                                 ("r*-vnet-ping-*.json.hist", "host_rtt", "host-side (host ping <-> vnet forward)")):
        h = hists(d, pattern, name)
        if not h:
            continue
        total = sum(h.values())
        xs = sorted(h)
        ax[2].step([v / 1e3 for v in xs], [h[v] / total for v in xs], where="post", label=label)
    ax[2].set_xscale("log")
    ax[2].set_xlabel("round trip, microseconds (log)")
    ax[2].set_ylabel("fraction of samples per bucket")
    ax[2].set_title("Round-trip histograms, 60-byte frames")
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    main()
