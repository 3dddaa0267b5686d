#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Summarise a bench/vm/run.sh output folder: DIR/results.jsonl (one
record per measurement) and a Markdown report on stdout (medians over
rounds; ratios are vnet-bench / Linux guest, both counted on the host).
Files: rR-vnet-KIND-FRAME[-qN].{json,log} (host peer; -qN: N queue pairs),
rR-linux-..., rR-vm2vm-KIND-FRAME.log (two guests, no host side)."""
import argparse
import glob
import json
import os
import re
import statistics


def json_lines(path):
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip()
                if line.startswith("{") and line.endswith("}"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def first(rows, key, value=None):
    for r in rows:
        if key in r and (value is None or r[key] == value):
            return r
    return None


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def kpps(v):
    return "-" if v is None else f"{v / 1e3:.1f}"


def collect(d):
    recs = []
    for path in sorted(glob.glob(os.path.join(d, "r*-*.json")) + glob.glob(os.path.join(d, "r*-*.log"))):
        name = os.path.basename(path)
        m = re.match(r"r(\d+)-(vnet|linux|vm2vm)-(?:([a-z]+)-)?(\d+)(?:-q(\d+))?\.(json|log)$", name)
        if not m:
            continue
        rnd, who, kind, frame, ext = int(m[1]), m[2], m[3], int(m[4]), m[6]
        rows = json_lines(path)
        base = {"round": rnd, "guest": who, "frame": frame, "queues": int(m[5] or 1)}
        if ext == "json":
            h = first(rows, "side", "host")
            if not h:
                continue
            if kind in ("tx", "rx"):
                recs.append(dict(base, kind=kind, where="host", pps=h["mpps"] * 1e6, drops=h.get("iface_drops")))
            elif kind == "ping":
                recs.append(dict(base, kind="rtt_host", **{k: h[k] for k in h if k.endswith("_ns") or k in ("samples", "lost")}))
        else:
            g = first(rows, "backend")
            st = first(rows, "stages")
            if g:
                mode = g["mode"]
                rec = dict(base, kind={"txonly": "tx", "rxonly": "rx"}.get(mode, mode), where="guest",
                           pps=g["mpps"] * 1e6, backend=g["backend"])
                if mode == "latency":
                    rec.update({k: g[k] for k in g if k.endswith("_ns")}, samples=g["packets"], lost=g["lost"])
                for k in ("rx_total", "tx_total", "busy_cyc_per_pkt", "busy_share"):
                    if k in g:
                        rec[k] = g[k]
                pq = first(rows, "per_queue")
                if pq:
                    rec["per_queue"] = {k: pq[k] for k in ("window", "rx", "tx")}
                recs.append(rec)
            if st:
                recs.append(dict(base, kind="stages", mode=st["stages"], tsc_mhz=st["tsc_mhz"], p50=st["p50"],
                                 mean=st["mean"], tx_calls=st.get("tx_calls"), kicked=st.get("tx_calls_kicked")))
            if who == "linux":
                text = open(path, errors="replace").read()
                t = re.search(r"LINUXTX tx_packets=(\d+) seconds=([\d.]+)", text)
                p = re.search(r"(\d+)pps", text)
                if t:
                    recs.append(dict(base, kind="tx", where="guest", pps=float(p[1]) if p else None))
                for c in re.finditer(r"LINUXCPU phase=(tx|rx) busy_ticks=(\d+) total_ticks=(\d+) hz=(\d+) "
                                     r"tsc_khz=(\d+) packets=(\d+)", text):
                    busy, total, hz, khz, pk = (int(c[i]) for i in range(2, 7))
                    if pk and total and hz and khz:
                        recs.append(dict(base, kind="cpu", mode=c[1], busy_share=busy / total,
                                         busy_cyc_per_pkt=busy / hz * khz * 1e3 / pk))
    return recs


def cycles_table(recs, frames):
    """What each guest spent per packet: its busy time (not halted) over the packets it moved."""
    rows = []
    for kind, label in (("tx", "guest TX (txonly / pktgen)"), ("rx", "guest RX (rxonly / driver)")):
        for fr in frames:
            v = [r for r in recs if r["guest"] == "vnet" and r.get("kind") == kind and r.get("where") == "guest"
                 and r["frame"] == fr and r.get("queues", 1) == 1 and r.get("busy_cyc_per_pkt")]
            lx = [r for r in recs if r["guest"] == "linux" and r.get("kind") == "cpu" and r["mode"] == kind
                  and r["frame"] == fr]
            if not v and not lx:
                continue
            vc, lc = med([r["busy_cyc_per_pkt"] for r in v]), med([r["busy_cyc_per_pkt"] for r in lx])
            vb, lb = med([r["busy_share"] for r in v]), med([r["busy_share"] for r in lx])
            cell = lambda c, b: "-" if c is None else f"{c:,.0f} ({b * 100:.0f} %)"
            ratio = f"{vc / lc:.2f}" if vc and lc else "-"
            rows.append(f"| {label} | {fr} | {cell(vc, vb)} | {cell(lc, lb)} | {ratio} |")
    if not rows:
        return
    print("\nGuest CPU per packet: TSC cycles the guest was busy (not halted) per packet it moved, medians over")
    print("rounds (in brackets: the share of the time it was busy). vnet-bench-bm: its window's cycles less")
    print("those halted (idle=, txwait=), over its own count; Linux: /proc/stat's busy ticks over the phase")
    print("(all but idle and iowait) at the TSC rate the kernel measured, over its interface's count:\n")
    print("| direction | frame | vnet-bench-bm | Linux guest | vnet / Linux |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


def mq_tables(recs, frames):
    """vnet-bench-bm with 1 vs N queue pairs (bench/vm/run.sh --queues "1 2")."""
    qs = sorted({r.get("queues", 1) for r in recs if r["guest"] == "vnet"})
    if qs == [1] or not qs:
        return
    print("\nQueue pairs (vnet-bench-bm, host-counted and guest-counted kpps, medians over rounds; per")
    print("queue: each pair's share of the guest's count, kpps):\n")
    print("| direction | frame | queue pairs | host | guest | per queue (guest) |")
    print("|---|---|---|---|---|---|")
    for kind, label in (("tx", "guest TX (txonly)"), ("rx", "guest RX (rxonly)")):
        for fr in frames:
            for q in qs:
                rs = [r for r in recs if r.get("kind") == kind and r["guest"] == "vnet" and r["frame"] == fr
                      and r.get("queues", 1) == q]
                if not rs:
                    continue
                host = med([r["pps"] for r in rs if r.get("where") == "host"])
                guest = med([r["pps"] for r in rs if r.get("where") == "guest"])
                # each queue's share of the guest's window count, as a rate
                pq = [[r["pps"] * n / max(1, sum(r["per_queue"]["window"])) for n in r["per_queue"]["window"]]
                      for r in rs if r.get("where") == "guest" and r.get("per_queue")]
                per = " / ".join(kpps(med([w[i] for w in pq if len(w) > i])) for i in range(q)) if pq else "-"
                print(f"| {label} | {fr} | {q} | {kpps(host)} | {kpps(guest)} | {per} |")


def vm2vm_table(recs, frames):
    """Two vnet-bench-bm guests over QEMU's dgram netdev (bench/vm/run.sh --peer vm)."""
    vv = [r for r in recs if r["guest"] == "vm2vm" and r.get("kind") in ("tx", "rx")]
    if not vv:
        return
    print("\nVM to VM (two vnet-bench-bm guests joined by QEMU's dgram netdev on 127.0.0.1, no host stack):")
    print("each guest's own count over its window, kpps (medians over rounds); whole-run totals: frames the")
    print("receiver took / frames the sender queued (summed over rounds):\n")
    print("| pair | frame | sender (txonly) | receiver (rxonly) | received / sent | share |")
    print("|---|---|---|---|---|---|")
    for fr in frames:
        tx = [r for r in vv if r["kind"] == "tx" and r["frame"] == fr]
        rx = [r for r in vv if r["kind"] == "rx" and r["frame"] == fr]
        if not tx and not rx:
            continue
        sent = sum(r.get("tx_total", 0) for r in tx)
        got = sum(r.get("rx_total", 0) for r in rx)
        share = f"{got / sent * 100:.0f}%" if sent else "-"
        print(f"| txonly -> rxonly | {fr} | {kpps(med([r['pps'] for r in tx]))} | "
              f"{kpps(med([r['pps'] for r in rx]))} | {got} / {sent} | {share} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--accel", default="?")
    ap.add_argument("--machine", default="q35")
    a = ap.parse_args()
    recs = collect(a.dir)
    with open(os.path.join(a.dir, "results.jsonl"), "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    rounds = max([r["round"] for r in recs] or [0])
    frames = sorted({r["frame"] for r in recs})
    if any(r["guest"] != "vm2vm" for r in recs):
        print(f"# vmbench: vnet-bench-bm vs a Linux guest ({a.machine}, {a.accel}, {rounds} round(s))\n")
    else:
        print(f"# vmbench: vnet-bench-bm to vnet-bench-bm ({a.machine}, {a.accel}, {rounds} round(s))")
    rows = []
    for kind, label in (("tx", "guest TX (txonly / pktgen)"), ("rx", "guest RX (rxonly / driver)")):
        for fr in frames:
            def sel(who, where):
                return med([r["pps"] for r in recs if r.get("kind") == kind and r["guest"] == who
                            and r.get("where") == where and r["frame"] == fr and r.get("queues", 1) == 1])
            vh, vg, lh, lg = sel("vnet", "host"), sel("vnet", "guest"), sel("linux", "host"), sel("linux", "guest")
            if vh is None and lh is None:
                continue
            ratio = f"{vh / lh:.2f}" if vh and lh else "-"
            rows.append(f"| {label} | {fr} | {kpps(vh)} | {kpps(vg)} | {kpps(lh)} | {kpps(lg)} | {ratio} |")
    if rows:
        print("Packets per second in thousands (kpps), medians over rounds. *host* = counted on the host side")
        print("of the tap (sink: frames that arrived; generator: frames QEMU took from the tap); *guest* = the")
        print("guest's own count (vnet-bench-bm's JSON; pktgen's result).\n")
        print("| direction | frame | vnet-bench (host) | vnet-bench (guest) | Linux (host) | Linux (guest) | vnet / Linux |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    cycles_table(recs, frames)
    mq_tables(recs, frames)
    vm2vm_table(recs, frames)
    lat = [r for r in recs if r.get("kind") in ("latency", "rtt_host")]
    if lat:
        print("\nRound trips, microseconds (median over rounds of each percentile):\n")
        print("| measured | frame | p50 | p90 | p99 | p99.9 | max | samples | lost |")
        print("|---|---|---|---|---|---|---|---|---|")
        for kind, who, label in (("latency", "vnet", "guest-side: vnet-bench latency <-> host reflector"),
                                 ("rtt_host", "vnet", "host-side: host ping-pong <-> vnet-bench forward"),
                                 ("latency", "vm2vm", "VM-to-VM: vnet-bench latency <-> vnet-bench forward")):
            for fr in frames:
                rs = [r for r in lat if r["kind"] == kind and r["guest"] == who and r["frame"] == fr]
                if not rs:
                    continue
                cells = [f"{med([r.get(k) for r in rs]) / 1e3:.1f}" for k in ("p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns")]
                print(f"| {label} | {fr} | " + " | ".join(cells) +
                      f" | {int(med([r.get('samples') for r in rs]))} | {int(med([r.get('lost', 0) for r in rs]))} |")
    st = [r for r in recs if r.get("kind") == "stages"]
    if st:
        print("\nPer-stage cost inside the guest, TSC cycles per packet: median (mean), around the public calls")
        print("(harvest = vnet_rx_burst, or the TX reclaim in txonly; app = fill/macswap/free; refill =")
        print("vnet_rx_refill; publish + kick = vnet_tx_burst, split by whether the call kicked; n/a: every")
        print("call kicked, so the kick column holds the whole call):\n")
        print("| mode | frame | harvest | app | refill | publish | kick | tx calls kicked | TSC MHz |")
        print("|---|---|---|---|---|---|---|---|---|")
        groups = sorted({(r["guest"], r.get("queues", 1)) for r in st}, key=lambda g: (g[0] != "vnet", g))
        for who, q in groups:
            for mode in ("txonly", "rxonly", "forward", "latency"):
                for fr in frames:
                    rs = [r for r in st if r["mode"] == mode and r["frame"] == fr and r["guest"] == who
                          and r.get("queues", 1) == q]
                    if not rs:
                        continue
                    name = mode + (" (VM to VM)" if who == "vm2vm" else "") + (f" ({q} pairs)" if q > 1 else "")
                    cells = []
                    for k in ("harvest", "app", "refill", "publish", "kick"):
                        p, m = med([r["p50"][k] for r in rs]), med([r["mean"][k] for r in rs])
                        cells.append("n/a" if p < 0 else f"{p:.0f} ({m:.0f})")
                    calls = med([r["tx_calls"] or 0 for r in rs])
                    kicked = med([r["kicked"] or 0 for r in rs])
                    kk = f"{kicked / calls * 100:.0f}%" if calls else "-"
                    print(f"| {name} | {fr} | " + " | ".join(cells) + f" | {kk} | {med([r['tsc_mhz'] for r in rs]):.0f} |")


if __name__ == "__main__":
    main()
