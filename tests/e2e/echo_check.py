#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Host side of the echo appliance's end-to-end test.

Runs inside the test's network namespace (tools/qemu-run starts it there)
against the guest at $GUEST_IP: ping, TCP echo (content checked), TCP
clients that half-close with their echo in flight (echo_clients.py: one of
1,000,000 bytes, sizes that are not multiples of a segment, and many
clients at once), UDP echo, iperf2 against lwiperf, then the quit command
on the control port.
Every step is bounded in time. Prints one JSON line with the results and
exits non-zero if a check failed.

  echo_check.py [--pings N] [--tcp-bytes N] [--iperf-seconds S] [--no-quit]
                [--half-close BYTES] [--clients N]
                [--flood N] [--tap-mtu N] [--expect-serial REGEX]... [--min-iperf MBIT]
                [--ipv6 ADDR --host6 ADDR/LEN [--ll6 ADDR]] [--stats-expect REGEX]...
                [--faults-ok]

--half-close BYTES (1000000): one client sends BYTES while reading, shuts
down its sending side and must get every byte back before the guest's FIN,
three times (0: skip); the same then for a few odd sizes at once (1 byte, a segment
less one, a segment and one, ...). --clients N (32): N such clients at
once, of 40,000 to 71,000 bytes each (0: skip).
--flood N: a flood ping of N echo requests (ping -f, bounded by -w), the
rate in round trips per second. --tap-mtu: the host end's MTU (jumbo
frames). --expect-serial: a regular expression the guest's console
($SERIAL) must match, e.g. the offloads it negotiated.
--ipv6 ADDR: run every step over IPv6 against the guest's ADDR (the host
end of the tap gets --host6, without duplicate address detection; the
guest's own detection takes about a second, waited for), after a short
IPv4 ping; --ll6: also ping the guest's link-local address. iperf runs
with -V. --stats-expect: before quitting, ask the guest for its counters
("stats" on the control port) and match each REGEX against the console.
Every run ends with the guest's own error counters (guest_counters.py):
after "quit", its last counters must show the driver's bad-id, bad-len and
bad-idx at 0 and no recovery (with --no-quit: its counters asked for
then); --faults-ok (a run that injects faults) reports them only.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import guest_counters
from echo_clients import run_clients

PORT_ECHO = 7
# not multiples of a 1460-byte segment (nor of 1448, with timestamps)
ODD_SIZES = [1, 1459, 1461, 2921, 65537, 100003, 333333]
PORT_IPERF = 5001
PORT_CTL = 9


def log(msg):
    print(f"echo_check: {msg}", file=sys.stderr, flush=True)


def is_v6(ip):
    return ":" in ip


def ping(ip, count):
    out = subprocess.run(["ping", "-6" if is_v6(ip) else "-4", "-c", str(count), "-i", "0.01", "-W", "2", "-q", ip],
                         capture_output=True, text=True, timeout=60 + count // 10)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out.stdout)
    rtt = re.search(r"= [\d.]+/([\d.]+)/", out.stdout)
    if not m:
        return {"ok": False, "error": out.stdout + out.stderr}
    sent, got = int(m.group(1)), int(m.group(2))
    return {"ok": sent == count and got == count, "sent": sent, "received": got,
            "avg_rtt_ms": float(rtt.group(1)) if rtt else None}


def flood(ip, count, size=56):
    """ping -f: the next request leaves when the reply arrives (or after
    10 ms), so the rate is round trips per second."""
    bound = max(10, count // 500)
    out = subprocess.run(["ping", "-6" if is_v6(ip) else "-4", "-f", "-q", "-c", str(count), "-w", str(bound),
                          "-s", str(size), ip],
                         capture_output=True, text=True, timeout=bound + 15)
    m = re.search(r"(\d+) packets transmitted, (\d+) received.*time (\d+)ms", out.stdout)
    rtt = re.search(r"= [\d.]+/([\d.]+)/([\d.]+)/", out.stdout)
    if not m:
        return {"ok": False, "error": (out.stdout + out.stderr).strip()[-300:]}
    sent, got, ms = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return {"ok": got >= sent * 0.99 and got > 0, "sent": sent, "received": got, "ms": ms,
            "rate_per_s": round(got * 1000.0 / ms) if ms > 0 else None,
            "avg_rtt_ms": float(rtt.group(1)) if rtt else None,
            "max_rtt_ms": float(rtt.group(2)) if rtt else None}


def run_steps(steps, res):
    """Run each (name, fn) step, bounded by the step itself; a failed step
    is a result, not a crash."""
    for name, fn in steps:
        log(f"{name} ...")
        try:
            res[name] = fn()
        except Exception as e:
            res[name] = {"ok": False, "error": repr(e)}
        log(f"{name}: {res[name]}")


def tcp_echo(ip, nbytes, limit_s=60):
    """nbytes of random data to the echo port, read back concurrently; the
    first differing offset is reported when the content differs."""
    data = os.urandom(nbytes)
    got = bytearray()
    t0 = time.monotonic()
    with socket.create_connection((ip, PORT_ECHO), timeout=10) as s:
        s.settimeout(10)
        # a sender thread, so that reading back never waits on writing
        th = threading.Thread(target=s.sendall, args=(data,), daemon=True)
        th.start()
        while len(got) < nbytes and time.monotonic() - t0 < limit_s:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        th.join(5)
    dt = time.monotonic() - t0
    ok = bytes(got) == data
    first_bad = None if ok else next((i for i, (x, y) in enumerate(zip(got, data)) if x != y), len(got))
    return {"ok": ok, "bytes": nbytes, "echoed": len(got), "first_bad": first_bad, "seconds": round(dt, 3),
            "mbit_s": round(nbytes * 8 / dt / 1e6, 2) if dt > 0 else None}


def half_close(ip, nbytes, rounds=3):
    """One client sends nbytes while reading, shuts down its sending side
    and reads to the end; rounds times in a row (the end of the stream is
    in flight at the FIN by a varying amount)."""
    runs = [run_clients(ip, [nbytes], 60) for _ in range(rounds)]
    return {"ok": all(r["ok"] for r in runs), "bytes": nbytes, "rounds": rounds,
            "echoed": [r["failures"][0]["echoed"] if r["failures"] else nbytes for r in runs],
            "seconds": round(sum(r["seconds"] for r in runs), 2)}


def udp_echo(ip, count=20):
    ok = 0
    with socket.socket(socket.AF_INET6 if is_v6(ip) else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        for i in range(count):
            msg = f"vnet-udp-{i}-".encode() + os.urandom(32 + i * 37)
            s.sendto(msg, (ip, PORT_ECHO))
            try:
                data, _ = s.recvfrom(4096)
                ok += data == msg
            except socket.timeout:
                pass
    return {"ok": ok == count, "sent": count, "echoed": ok}


def iperf(ip, seconds):
    try:
        out = subprocess.run(["iperf", "-c", ip, "-p", str(PORT_IPERF), "-t", str(seconds),
                              "-f", "m", "-y", "C"] + (["-V"] if is_v6(ip) else []),
                             capture_output=True, text=True, timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "iperf timed out"}
    line = [l for l in out.stdout.splitlines() if l.count(",") >= 8]
    if not line:
        return {"ok": False, "error": (out.stdout + out.stderr).strip()[-300:]}
    f = line[-1].split(",")
    bps = float(f[8])
    return {"ok": bps > 0, "seconds": seconds, "mbit_s": round(bps / 1e6, 1)}


def quit_guest(ip):
    with socket.socket(socket.AF_INET6 if is_v6(ip) else socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(3):
            s.sendto(b"quit", (ip, PORT_CTL))
            time.sleep(0.2)
    return {"ok": True}


def ask_stats(ip):
    """The guest prints its counters on the console when asked."""
    with socket.socket(socket.AF_INET6 if is_v6(ip) else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"stats", (ip, PORT_CTL))
    time.sleep(1.5)


def serial_check(expect):
    """The console (SERIAL) must match every regex of @expect."""
    text = guest_counters.serial_text() or ""
    missing = [r for r in expect if not re.search(r, text)]
    res = {"ok": not missing, "missing": missing}
    log(f"serial: {res}")
    return res


def finish(ip, res, expect_serial=(), quit=True, faults_ok=False):
    """The end of every check of the appliance: the console checked, the
    guest told to quit, its driver error counters checked
    (guest_counters), the result printed as one JSON line and written to
    $ECHO_RESULT."""
    if expect_serial:
        res["serial"] = serial_check(expect_serial)
    if quit:
        res["quit"] = quit_guest(ip)
        res["guest_errors"] = guest_counters.after_quit(faults_ok)
    else:
        res["guest_errors"] = guest_counters.check(guest_counters.serial_text(), faults_ok, final=False)
    log(f"guest_errors: {res['guest_errors']}")
    print(json.dumps(res), flush=True)
    out = os.environ.get("ECHO_RESULT")
    if out:
        with open(out, "w") as f:
            json.dump(res, f)


def ip6_setup(host6, guest6, wait_s=15):
    """The host end's IPv6 address, then wait (bounded) until the guest
    answers: its address is usable once its duplicate address detection
    has passed."""
    subprocess.run(["ip", "-6", "addr", "add", host6, "dev", "tap0", "nodad"], check=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < wait_s:
        r = subprocess.run(["ping", "-6", "-c", "1", "-W", "1", "-q", guest6], capture_output=True, timeout=10)
        if r.returncode == 0:
            return {"ok": True, "ready_after_s": round(time.monotonic() - t0, 2)}
    return {"ok": False, "error": f"{guest6} did not answer in {wait_s} s"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pings", type=int, default=100)
    ap.add_argument("--tcp-bytes", type=int, default=1 << 20)
    ap.add_argument("--iperf-seconds", type=int, default=3)
    ap.add_argument("--no-quit", action="store_true")
    ap.add_argument("--label", default="")
    ap.add_argument("--flood", type=int, default=0)
    ap.add_argument("--tap-mtu", type=int, default=0)
    ap.add_argument("--expect-serial", action="append", default=[])
    ap.add_argument("--min-iperf", type=float, default=0.0)
    ap.add_argument("--ipv6", default="")
    ap.add_argument("--host6", default="")
    ap.add_argument("--ll6", default="")
    ap.add_argument("--stats-expect", action="append", default=[])
    ap.add_argument("--half-close", type=int, default=1000000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--faults-ok", action="store_true")
    a = ap.parse_args()
    ip = os.environ.get("GUEST_IP", "10.99.0.2")
    res = {"label": a.label, "guest": ip}
    if a.tap_mtu:
        subprocess.run(["ip", "link", "set", "tap0", "mtu", str(a.tap_mtu)], check=True)
        res["tap_mtu"] = a.tap_mtu
    steps = []
    if a.ipv6:
        ip4, ip = ip, a.ipv6
        res["guest6"] = ip
        steps += [("ip6_ready", lambda: ip6_setup(a.host6, ip)),
                  ("ping4", lambda: ping(ip4, 10))]
        if a.ll6:
            steps.append(("ping_ll6", lambda: ping(a.ll6 + "%tap0", 10)))
    steps += [("ping", lambda: ping(ip, a.pings)),
              ("tcp_echo", lambda: tcp_echo(ip, a.tcp_bytes))]
    if a.half_close:
        steps += [("tcp_half_close", lambda: half_close(ip, a.half_close)),
                  ("tcp_odd_sizes", lambda: run_clients(ip, ODD_SIZES, 60))]
    if a.clients:
        steps.append(("tcp_clients", lambda: run_clients(ip, [40000 + 997 * i for i in range(a.clients)], 60)))
    steps += [("udp_echo", lambda: udp_echo(ip)),
              ("iperf", lambda: iperf(ip, a.iperf_seconds))]
    if a.flood:
        steps.append(("flood", lambda: flood(ip, a.flood)))
    run_steps(steps, res)
    if a.min_iperf and res["iperf"].get("ok"):
        res["iperf"]["ok"] = res["iperf"]["mbit_s"] >= a.min_iperf
        res["iperf"]["min_mbit_s"] = a.min_iperf
    if a.stats_expect or a.no_quit:
        ask_stats(ip)
        a.expect_serial += a.stats_expect
    finish(ip, res, a.expect_serial, quit=not a.no_quit, faults_ok=a.faults_ok)
    checks = [k for k in ("ip6_ready", "ping4", "ping_ll6", "ping", "tcp_echo", "tcp_half_close", "tcp_odd_sizes",
                          "tcp_clients", "udp_echo", "iperf", "flood", "serial", "guest_errors") if k in res]
    return 0 if all(res[k]["ok"] for k in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
