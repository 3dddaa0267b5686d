#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Host side of the libpciaccess e2e test, run inside the test's network
namespace: echo every frame of ethertype 0x88b5 seen on the tap back to
its sender with the MAC addresses swapped. Bounded by --seconds; prints
how many frames it echoed when it ends."""
import argparse, select, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("ifname")
ap.add_argument("--seconds", type=float, default=150)
a = ap.parse_args()
ETH_P_ALL = 3
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind((a.ifname, 0))
end = time.monotonic() + a.seconds
n = 0
try:
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.5)
        if not r:
            continue
        f, addr = s.recvfrom(65536)
        if addr[2] == socket.PACKET_OUTGOING or len(f) < 14 or f[12:14] != b"\x88\xb5":
            continue
        s.send(f[6:12] + f[0:6] + f[12:])
        n += 1
except KeyboardInterrupt:
    pass
print("tap_echo: echoed %d frames" % n, flush=True)
