#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""SYN flood against the echo appliance, with a legitimate client beside it.

Runs inside the test's network namespace (tools/qemu-run starts it there,
with $GUEST_IP and $SERIAL set). Nothing leaves the namespace: the spoofed
SYNs are written straight onto the host end of the tap (an AF_PACKET
socket on tap0, addressed to the guest's MAC), and the guest's SYN-ACKs to
the spoofed off-subnet sources go to its gateway, the host end of the tap,
whose kernel drops them (no forwarding in the namespace).

During --seconds of flood at --rate SYNs per second (spoofed sources in
198.18.0.0/15, the benchmarking range, each 4-tuple new for 65536 SYNs):
  - --connects legitimate connections, spread over the flood: each time
    to connect (socket.create_connection, the kernel's own SYN retries),
    then 100 bytes echoed back;
  - one connection opened before the flood keeps echoing 4 KiB round
    trips: the longest round trip during the flood is reported;
  - a ping every 0.2 s.
Then the guest's counters ("stats" on UDP port 9) are read from its
console: SYNs seen by listeners, half-open connections shed, the peak of
half-open connections, the TCP PCBs in use. Prints one JSON line; exits 1
unless the connect time at p99 (nearest rank) is within --bound seconds,
every connection echoed, the established one kept flowing (no round trip
over --bound), 90% of the pings came back, the guest shed something and its
half-open connections stayed within their bound, and (after "quit") its
last counters show no driver error and no recovery (guest_counters.py).
--no-check only reports (for measuring the code before the defence).
"""
import argparse
import json
import math
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

import guest_counters

PORT_ECHO = 7
PORT_CTL = 9


def log(msg):
    print(f"syn_flood: {msg}", file=sys.stderr, flush=True)


def csum_fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def words(b):
    return sum(struct.unpack(f"!{len(b) // 2}H", b))


def build_frames(guest_ip, dst_mac, src_mac, count):
    """count Ethernet frames, each a SYN from a different spoofed source.
    Checksums are the constant part plus the varying words, folded."""
    dst = socket.inet_aton(guest_ip)
    eth = dst_mac + src_mac + b"\x08\x00"
    frames = []
    for i in range(count):
        src = bytes([198, 18 + (i >> 16 & 1), i >> 8 & 255, i & 255])
        sport = 1024 + (i * 7919) % 64000
        seq = (i * 2654435761) & 0xFFFFFFFF
        # IPv4: 20 bytes, TTL 64, DF, protocol 6, total 44 (SYN + MSS option)
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 44, i & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
        iph = iph[:10] + struct.pack("!H", 0xFFFF - csum_fold(words(iph))) + iph[12:]
        tcph = struct.pack("!HHIIBBHHH", sport, PORT_ECHO, seq, 0, 6 << 4, 0x02, 64240, 0, 0) + \
            b"\x02\x04\x05\xb4"
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcph))
        c = 0xFFFF - csum_fold(words(pseudo) + words(tcph))
        tcph = tcph[:16] + struct.pack("!H", c) + tcph[18:]
        frames.append(eth + iph + tcph)
    return frames


def flooder(frames, rate, seconds, out, stop):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(("tap0", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sent = errors = 0
    n = len(frames)
    t0 = time.monotonic()
    end = t0 + seconds
    tick = 0.002
    per_tick = max(1, round(rate * tick))
    nxt = t0
    while not stop.is_set():
        now = time.monotonic()
        if now >= end:
            break
        if now < nxt:
            time.sleep(nxt - now)
            continue
        # catch up at most one tick behind, so the rate stays the asked one
        due = min(per_tick * 2, int((now - t0) * rate) - sent)
        for _ in range(max(0, due)):
            try:
                s.send(frames[sent % n])
                sent += 1
            except OSError:  # ENOBUFS: the tap's queue is full
                errors += 1
                sent += 1
        nxt += tick
    dt = time.monotonic() - t0
    s.close()
    out.update({"sent": sent, "send_errors": errors, "seconds": round(dt, 2),
                "rate_per_s": round((sent - errors) / dt) if dt > 0 else 0})


def established(ip, stop, out):
    """A connection opened before the flood: 4 KiB round trips every 20 ms."""
    rtts = []
    bad = 0
    try:
        with socket.create_connection((ip, PORT_ECHO), timeout=5) as s:
            s.settimeout(5)
            out["opened"] = True
            out["ready"].set()
            t_end = time.monotonic() + 120
            while not stop.is_set() and time.monotonic() < t_end:
                msg = os.urandom(4096)
                t0 = time.monotonic()
                s.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    chunk = s.recv(len(msg) - len(got))
                    if not chunk:
                        raise ConnectionError("closed by the guest")
                    got += chunk
                rtts.append(time.monotonic() - t0)
                bad += got != msg
                time.sleep(0.02)
    except Exception as e:  # reported, not raised
        out["error"] = repr(e)
    finally:
        out["ready"].set()
    out.update({"rounds": len(rtts), "bad": bad,
                "max_rtt_s": round(max(rtts), 4) if rtts else None,
                "p50_rtt_s": round(sorted(rtts)[len(rtts) // 2], 4) if rtts else None})


def connect_once(ip, timeout):
    t0 = time.monotonic()
    try:
        s = socket.create_connection((ip, PORT_ECHO), timeout=timeout)
    except OSError as e:
        return {"ok": False, "connect_s": None, "error": repr(e)}
    dt = time.monotonic() - t0
    try:
        s.settimeout(5)
        msg = os.urandom(100)
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
        ok = got == msg
        err = None if ok else f"echoed {len(got)} of 100 bytes"
    except OSError as e:
        ok, err = False, repr(e)
    finally:
        s.close()
    return {"ok": ok, "connect_s": round(dt, 4), "error": err}


def nearest_rank(xs, p):
    xs = sorted(xs)
    return xs[max(0, math.ceil(p / 100.0 * len(xs)) - 1)] if xs else None


def guest_stats(ip, serial):
    """Ask for the counters; return the last guard line on the console."""
    size = os.path.getsize(serial) if serial else 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"stats", (ip, PORT_CTL))
    time.sleep(1.5)
    if not serial:
        return ""
    with open(serial, errors="replace") as f:
        f.seek(size)
        text = f.read()
    lines = [l for l in text.splitlines() if "syn guard" in l]
    return lines[-1] if lines else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--connects", type=int, default=20)
    ap.add_argument("--bound", type=float, default=1.0, help="connect time at p99, seconds")
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--no-quit", action="store_true")
    a = ap.parse_args()
    ip = os.environ.get("GUEST_IP", "10.99.0.2")
    serial = os.environ.get("SERIAL", "")
    res = {"guest": ip, "rate_asked": a.rate, "seconds_asked": a.seconds}

    subprocess.run(["ping", "-c", "2", "-W", "2", "-q", ip], capture_output=True, timeout=10)
    neigh = subprocess.run(["ip", "neigh", "show", ip, "dev", "tap0"], capture_output=True, text=True).stdout
    m = re.search(r"lladdr ([0-9a-f:]{17})", neigh)
    if not m:
        print(json.dumps({"ok": False, "error": f"no neighbour entry for {ip}: {neigh!r}"}))
        return 1
    dst_mac = bytes.fromhex(m.group(1).replace(":", ""))
    with open("/sys/class/net/tap0/address") as f:
        src_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    t0 = time.monotonic()
    frames = build_frames(ip, dst_mac, src_mac, 65536)
    log(f"{len(frames)} SYN frames built in {time.monotonic() - t0:.1f} s")

    stop = threading.Event()
    est = {"ready": threading.Event()}
    th_est = threading.Thread(target=established, args=(ip, stop, est), daemon=True)
    th_est.start()
    est["ready"].wait(10)
    fl = {}
    th_fl = threading.Thread(target=flooder, args=(frames, a.rate, a.seconds, fl, stop), daemon=True)
    pinger = subprocess.Popen(["ping", "-c", str(int(a.seconds / 0.2) - 5), "-i", "0.2", "-W", "2", "-q", ip],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    th_fl.start()
    time.sleep(min(1.0, a.seconds / 10))
    # every attempt in its own thread at its own time, so that all of them
    # fall inside the flood however long one waits
    conns = [None] * a.connects
    spacing = (a.seconds * 0.8) / max(1, a.connects)

    def attempt(i):
        conns[i] = connect_once(ip, 8.0)
        log(f"connect {i + 1}/{a.connects}: {conns[i]}")

    ths = []
    t_first = time.monotonic()
    for i in range(a.connects):
        time.sleep(max(0.0, t_first + i * spacing - time.monotonic()))
        th = threading.Thread(target=attempt, args=(i,), daemon=True)
        th.start()
        ths.append(th)
    for th in ths:
        th.join(20)
    conns = [c if c is not None else {"ok": False, "connect_s": None, "error": "no answer"} for c in conns]
    th_fl.join(a.seconds + 30)
    stop.set()
    th_est.join(15)
    est.pop("ready", None)
    try:
        pout, _ = pinger.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        pinger.kill()
        pout = ""
    pm = re.search(r"(\d+) packets transmitted, (\d+) received", pout or "")
    res["flood"] = fl
    times = [c["connect_s"] if c["connect_s"] is not None else float("inf") for c in conns]
    def finite(x):  # JSON has no infinity: an attempt that never connected is null
        return None if x is None or math.isinf(x) else x

    res["connect"] = {"attempts": len(conns), "echo_ok": sum(c["ok"] for c in conns),
                      "connected": sum(c["connect_s"] is not None for c in conns),
                      "p50_s": finite(nearest_rank(times, 50)), "p99_s": finite(nearest_rank(times, 99)),
                      "max_s": finite(max(times)) if times else None,
                      "errors": [c["error"] for c in conns if c["error"]][:5]}
    res["established"] = est
    res["ping"] = {"sent": int(pm.group(1)), "received": int(pm.group(2))} if pm else {"error": pout[-200:]}
    line = guest_stats(ip, serial)
    res["guest_guard"] = line
    g = re.search(r"syns (\d+) shed (\d+) \(pool reserve (\d+)\) \| half-open (\d+), peak (\d+), bound (\d+)"
                  r".*tcp pcbs (\d+) of (\d+)", line)
    if g:
        keys = ("guest_syns", "guest_shed", "guest_shed_reserve", "half_open_now", "half_open_peak",
                "half_open_bound", "pcbs_used", "pcbs")
        res.update(zip(keys, (int(x) for x in g.groups())))
    checks = {
        "connect_p99": res["connect"]["p99_s"] is not None and res["connect"]["p99_s"] <= a.bound,
        "connect_echo": res["connect"]["echo_ok"] == len(conns),
        "established": est.get("opened", False) and "error" not in est and est.get("bad", 1) == 0 and
        est.get("max_rtt_s") is not None and est["max_rtt_s"] <= a.bound,
        "ping": bool(pm) and int(pm.group(2)) >= 0.9 * int(pm.group(1)),
        "shed": res.get("guest_shed", 0) + res.get("guest_shed_reserve", 0) > 0,
        # memory: half-open PCBs never past their bound (the PCB pool is static)
        "bounded": "half_open_peak" in res and res["half_open_peak"] <= res["half_open_bound"],
    }
    if not a.no_quit:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(3):
                s.sendto(b"quit", (ip, PORT_CTL))
                time.sleep(0.2)
        res["guest_errors"] = guest_counters.after_quit()
    else:
        res["guest_errors"] = guest_counters.check(guest_counters.serial_text(), final=False)
    log(f"guest_errors: {res['guest_errors']}")
    checks["guest_errors"] = res["guest_errors"]["ok"]
    res["checks"] = checks
    res["ok"] = all(checks.values())
    print(json.dumps(res), flush=True)
    out = os.environ.get("ECHO_RESULT")
    if out:
        with open(out, "w") as f:
            json.dump(res, f)
    return 0 if res["ok"] or a.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
