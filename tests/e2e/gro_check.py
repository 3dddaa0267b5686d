#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Host side of the software receive coalescing (GRO) end-to-end test
(run_gro.sh): one-way bulk transfers into the echo appliance, whose byte
counts and content must come out exact.

Runs inside the test's network namespace (tools/qemu-run starts it there)
against the guest at $GUEST_IP, the guest's console in $SERIAL:
  iperf      iperf2 -n BYTES to lwiperf (port 5001); lwiperf prints on the
             console the bytes it received ("lwiperf: report type 0: N
             bytes"), which must be what iperf sent less iperf's own header
             (lwiperf does not count it: 0 to --header-max bytes). A
             coalesced segment that passed lwIP's 16-bit pbuf length made
             lwiperf count 65,536 bytes too many per such segment.
  echo       --echo-bytes random bytes to the TCP echo port (7), read back
             concurrently: every byte must come back, in order.
  stats      the guest's counters ("stats" on UDP port 9): coalesced
             segments, how often the bound stopped a join (capped), lwIP's
             checksum drops; reported, and --expect-serial checked.
Then "quit", and the guest's last counters must show no driver error and
no recovery (guest_counters.py). Every step is bounded in time. Prints one JSON line (and
writes it to $ECHO_RESULT when set); exits non-zero if a check failed.

  gro_check.py --bytes N [--echo-bytes N] [--tap-mtu N] [--label L]
               [--header-max N] [--expect-serial REGEX]...
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import time

from echo_check import finish, run_steps, tcp_echo

PORT_IPERF = 5001
PORT_CTL = 9
REPORT = re.compile(r"lwiperf: report type (\d+): (\d+) bytes in (\d+) ms")


def log(msg):
    print(f"gro_check: {msg}", file=sys.stderr, flush=True)


def serial_text():
    path = os.environ.get("SERIAL")
    if not path:
        return ""
    with open(path, errors="replace") as f:
        return f.read()


def iperf_bytes(ip, nbytes, header_max):
    """iperf -n: a one-way transfer of nbytes; the guest's lwiperf report
    must account for all of them but iperf's header."""
    before = len(REPORT.findall(serial_text()))
    t0 = time.monotonic()
    try:
        out = subprocess.run(["iperf", "-c", ip, "-p", str(PORT_IPERF), "-n", str(nbytes), "-l", "128K",
                              "-f", "m", "-y", "C"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "iperf timed out"}
    line = [l for l in out.stdout.splitlines() if l.count(",") >= 8]
    if not line:
        return {"ok": False, "error": (out.stdout + out.stderr).strip()[-300:]}
    f = line[-1].split(",")
    sent, bps = int(f[7]), float(f[8])
    # the report follows the FIN: wait for it (bounded)
    reports = []
    while time.monotonic() - t0 < 60:
        reports = REPORT.findall(serial_text())[before:]
        if reports:
            break
        time.sleep(0.2)
    if not reports:
        return {"ok": False, "sent": sent, "error": "no lwiperf report on the console"}
    rtype, got, ms = (int(x) for x in reports[0])
    short = sent - got
    return {"ok": rtype == 0 and sent == nbytes and 0 <= short <= header_max, "sent": sent, "received": got,
            "not_counted": short, "report_type": rtype, "guest_ms": ms, "mbit_s": round(bps / 1e6, 1)}


def guest_stats(ip):
    """Ask for the guest's counters and read them off the console."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"stats", (ip, PORT_CTL))
    t0 = time.monotonic()
    m = None
    while time.monotonic() - t0 < 5:
        text = serial_text()
        found = re.findall(r"chkerr tcp (\d+) ip (\d+) \| announces \d+ \| rx coalesced (\d+) \((\d+) segments"
                           r"(?:, capped (\d+))?\)", text)
        if found:
            m = found[-1]
            break
        time.sleep(0.3)
    if m is None:
        return {"ok": False, "error": "no stats on the console"}
    tcp_chk, ip_chk, gro, segs, capped = m
    return {"ok": True, "coalesced": int(gro), "segments": int(segs),
            "capped": int(capped) if capped else None, "chkerr_tcp": int(tcp_chk), "chkerr_ip": int(ip_chk)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--echo-bytes", type=int, default=64 << 20)
    ap.add_argument("--header-max", type=int, default=128)
    ap.add_argument("--tap-mtu", type=int, default=0)
    ap.add_argument("--label", default="")
    ap.add_argument("--expect-serial", action="append", default=[])
    a = ap.parse_args()
    ip = os.environ.get("GUEST_IP", "10.99.0.2")
    res = {"label": a.label, "guest": ip}
    if a.tap_mtu:
        subprocess.run(["ip", "link", "set", "tap0", "mtu", str(a.tap_mtu)], check=True)
        res["tap_mtu"] = a.tap_mtu
    steps = [("iperf", lambda: iperf_bytes(ip, a.bytes, a.header_max))]
    if a.echo_bytes:
        steps.append(("tcp_echo", lambda: tcp_echo(ip, a.echo_bytes)))
    steps.append(("stats", lambda: guest_stats(ip)))
    run_steps(steps, res)
    finish(ip, res, a.expect_serial)
    return 0 if all(res[k]["ok"] for k in ("iperf", "tcp_echo", "stats", "serial", "guest_errors") if k in res) else 1


if __name__ == "__main__":
    sys.exit(main())
