#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Host side of the run-time receive offloads end-to-end test
(run_rxoff.sh): the echo appliance negotiated GUEST_CSUM, GUEST_TSO4/6 and
CTRL_GUEST_OFFLOADS; the host sends it bulk TCP in three phases and reads
its counters before and after the traffic of each (the deltas are checked:
the datagram that switched was received before):
  on      iperf2 -n BYTES to lwiperf: large segments arrive whole (rx gso
          grows) and checksums are left to the device (csum trusted grows)
  off     "rxoff" on UDP port 9 (the appliance calls
          vnet_dev_set_rx_offloads(dev, 0); its console must say that
          nothing is in force), the same transfer and --echo-bytes through
          the TCP echo port (content checked): no large segment arrives at
          all (rx gso and bad-gso unchanged: none taken, none dropped),
          no checksum is trusted (csum trusted unchanged), lwIP's checksum
          checks pass (chkerr tcp 0) and every byte is counted
  on      "rxon", the same transfer: large segments again (rx gso grows)
Every lwiperf report must count what iperf sent less iperf's header. Then
"quit", and the guest's last counters must show no driver error and no
recovery (guest_counters.py). Every step is bounded in time. Prints one
JSON line (and writes it to $ECHO_RESULT when set); exits non-zero if a
check failed.

  rxoff_check.py [--bytes N] [--echo-bytes N] [--label L] [--expect-serial REGEX]...
"""
import argparse
import os
import re
import socket
import sys
import time

from echo_check import finish, tcp_echo
from gro_check import iperf_bytes, serial_text

PORT_CTL = 9
STATS = {
    "rx_gso": re.compile(r"stats: offloads: rx chained \d+ gso (\d+) csum trusted (\d+) \(partial (\d+)"),
    "chkerr": re.compile(r"chkerr tcp (\d+) ip (\d+)"),
    "bad_gso": re.compile(r"stats: ipv6: rx gso6 \d+ bad-gso (\d+)"),
    "in_force": re.compile(r"stats: rx offloads in force:(.*)$", re.M),
}


def names(text):
    """The offloads a console line lists ("none": nothing)."""
    n = text.replace("\r", "").split()
    return [] if n == ["none"] else n


def log(msg):
    print(f"rxoff_check: {msg}", file=sys.stderr, flush=True)


def ctl(ip, word):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(word.encode(), (ip, PORT_CTL))


def guest_stats(ip):
    """Ask for the counters; read them off the console once a new set is
    complete (the line that closes it: ipv6)."""
    before = len(STATS["bad_gso"].findall(serial_text()))
    ctl(ip, "stats")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        text = serial_text()
        if len(STATS["bad_gso"].findall(text)) > before:
            gso, trusted, partial = STATS["rx_gso"].findall(text)[-1]
            tcp_chk, ip_chk = STATS["chkerr"].findall(text)[-1]
            return {"ok": True, "rx_gso": int(gso), "csum_trusted": int(trusted), "csum_partial": int(partial),
                    "chkerr_tcp": int(tcp_chk), "chkerr_ip": int(ip_chk),
                    "bad_gso": int(STATS["bad_gso"].findall(text)[-1]),
                    "in_force": names(STATS["in_force"].findall(text)[-1])}
        time.sleep(0.3)
    return {"ok": False, "error": "no stats on the console"}


def switch(ip, word, expect):
    """rxoff/rxon; the appliance's answer on the console must say what is
    in force now."""
    pat = re.compile(r"echo: receive offloads (on|off): ([^;]*); in force:(.*)$", re.M)
    before = len(pat.findall(serial_text()))
    ctl(ip, word)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        found = pat.findall(serial_text())
        if len(found) > before:
            how, rc, force = found[-1]
            force = names(force)
            return {"ok": rc.strip().lower() == "success" and force == expect, "result": rc, "in_force": force}
        time.sleep(0.2)
    return {"ok": False, "error": f"no answer to {word} on the console"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", type=int, default=50_000_000)
    ap.add_argument("--echo-bytes", type=int, default=8 << 20)
    ap.add_argument("--header-max", type=int, default=128)
    ap.add_argument("--label", default="rxoff")
    ap.add_argument("--expect-serial", action="append", default=[])
    a = ap.parse_args()
    ip = os.environ.get("GUEST_IP", "10.99.0.2")
    res = {"label": a.label, "guest": ip}
    all_on = ["GUEST_CSUM", "GUEST_TSO4", "GUEST_TSO6"]
    phases = [("on", None, all_on), ("off", "rxoff", []), ("on_again", "rxon", all_on)]
    for name, word, expect in phases:
        ph = {}
        if word:
            ph["switch"] = switch(ip, word, expect)
            log(f"{name} switch: {ph['switch']}")
        ph["before"] = guest_stats(ip)
        ph["iperf"] = iperf_bytes(ip, a.bytes, a.header_max)
        log(f"{name} iperf: {ph['iperf']}")
        if name == "off" and a.echo_bytes:
            ph["tcp_echo"] = tcp_echo(ip, a.echo_bytes)
            log(f"{name} tcp_echo: {ph['tcp_echo']}")
        ph["stats"] = guest_stats(ip)
        log(f"{name} stats: {ph['stats']}")
        res[name] = ph
    checks = {}
    if all(res[p][k]["ok"] for p, _, _ in phases for k in ("before", "stats")):
        d = {p: {k: res[p]["stats"][k] - res[p]["before"][k]
                 for k in ("rx_gso", "csum_trusted", "bad_gso", "chkerr_tcp", "chkerr_ip")} for p, _, _ in phases}
        res["deltas"] = d
        checks["in_force"] = all(res[p][k]["in_force"] == expect for p, _, expect in phases for k in ("before", "stats"))
        checks["on_large"] = d["on"]["rx_gso"] > 0 and d["on"]["csum_trusted"] > 0
        # none taken, none dropped: the device sent no large segment at all
        checks["off_no_large"] = d["off"]["rx_gso"] == 0 and d["off"]["bad_gso"] == 0
        checks["off_nothing_trusted"] = d["off"]["csum_trusted"] == 0
        checks["off_checksums_fine"] = d["off"]["chkerr_tcp"] == 0 and d["off"]["chkerr_ip"] == 0
        checks["again_large"] = d["on_again"]["rx_gso"] > 0 and d["on_again"]["bad_gso"] == 0
    res["checks"] = {"ok": bool(checks) and all(checks.values()), **checks}
    log(f"checks: {res['checks']}")
    finish(ip, res, a.expect_serial)
    ok = [res[p][k]["ok"] for p, _, _ in phases for k in res[p]]
    ok += [res[k]["ok"] for k in ("checks", "serial", "guest_errors") if k in res]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
