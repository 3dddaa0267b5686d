#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Many TCP echo clients at once, as a peer would use the echo port.

Each client connects, sends its bytes while reading what comes back, shuts
down its sending side (half-close) as soon as everything is sent, with data
still in flight, and reads until the guest closes: every byte must come
back, in order, before the guest's FIN. All clients run at once in one
thread (non-blocking sockets, selectors), bounded by --timeout.

Used by echo_check.py (import) and on its own inside the test's namespace:
  echo_clients.py --clients N --bytes B [--empty M] [--timeout S]
                  [--stats-expect REGEX]... [--no-quit]
--empty M: M more clients that send nothing and half-close at once (the
guest must still close them: a FIN from a client waiting for a slot).
--stats-expect: afterwards, ask the guest for its counters ("stats" on UDP
port 9) and match each REGEX against its console ($SERIAL). After "quit",
the guest's last counters must show no driver error and no recovery
(guest_counters.py; --faults-ok: reported only).
Prints one JSON line; exits 1 unless every client got all its bytes back.
"""
import argparse
import errno
import json
import os
import re
import selectors
import socket
import sys
import time

import guest_counters

PORT_ECHO = 7
PORT_CTL = 9
CHUNK = 65536


class Client:
    def __init__(self, n, size):
        self.n = n
        self.data = os.urandom(size) if size else b""
        self.view = memoryview(self.data)
        self.sent = 0
        self.got = bytearray()
        self.sock = None
        self.connected = False
        self.shut = False
        self.done = False
        self.error = None
        self.t0 = self.t_conn = self.t_end = None


def run_clients(ip, sizes, timeout=60.0, port=PORT_ECHO):
    """Run one client per entry of sizes, all at once. Returns a dict."""
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sel = selectors.DefaultSelector()
    clients = [Client(i, n) for i, n in enumerate(sizes)]
    t0 = time.monotonic()
    for c in clients:
        c.sock = socket.socket(fam, socket.SOCK_STREAM)
        c.sock.setblocking(False)
        c.t0 = time.monotonic()
        rc = c.sock.connect_ex((ip, port))
        if rc not in (0, errno.EINPROGRESS):
            c.error, c.done = f"connect: {os.strerror(rc)}", True
            c.sock.close()
            continue
        sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    left = sum(not c.done for c in clients)
    while left and time.monotonic() - t0 < timeout:
        for key, ev in sel.select(timeout=0.5):
            c = key.data
            try:
                if not c.connected and ev & selectors.EVENT_WRITE:
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, os.strerror(err))
                    c.connected, c.t_conn = True, time.monotonic()
                if c.connected and ev & selectors.EVENT_WRITE and not c.shut:
                    if c.sent < len(c.data):
                        c.sent += c.sock.send(c.view[c.sent:c.sent + CHUNK])
                    if c.sent == len(c.data):
                        c.sock.shutdown(socket.SHUT_WR)  # half-close, echo still in flight
                        c.shut = True
                        sel.modify(c.sock, selectors.EVENT_READ, c)
                if ev & selectors.EVENT_READ:
                    chunk = c.sock.recv(262144)
                    if chunk:
                        c.got += chunk
                    else:
                        c.done, c.t_end = True, time.monotonic()
            except BlockingIOError:
                continue
            except OSError as e:
                c.error = "reset" if e.errno == errno.ECONNRESET else repr(e)
                c.done = True
            if c.done:
                sel.unregister(c.sock)
                c.sock.close()
                left -= 1
    for c in clients:
        if not c.done:
            c.error = c.error or "timed out"
            try:
                sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            c.sock.close()
    sel.close()
    dt = time.monotonic() - t0
    ok = [c for c in clients if not c.error and bytes(c.got) == c.data]
    bad = [c for c in clients if c not in ok]
    conn_t = sorted(c.t_conn - c.t0 for c in clients if c.t_conn)
    end_t = sorted(c.t_end - t0 for c in clients if c.t_end)
    return {
        "ok": len(ok) == len(clients), "clients": len(clients), "completed": len(ok),
        "reset": sum(c.error == "reset" for c in clients),
        "timed_out": sum(c.error == "timed out" for c in clients),
        "bytes": sum(sizes), "seconds": round(dt, 2),
        "connect_max_s": round(conn_t[-1], 3) if conn_t else None,
        "done_p50_s": round(end_t[len(end_t) // 2], 2) if end_t else None,
        "done_max_s": round(end_t[-1], 2) if end_t else None,
        "failures": [{"client": c.n, "size": len(c.data), "echoed": len(c.got),
                      "same_prefix": bytes(c.got) == c.data[:len(c.got)], "error": c.error} for c in bad[:5]],
    }


def ask_stats(ip, serial):
    """The guest prints its counters on the console when asked: the text
    it printed since."""
    size = os.path.getsize(serial) if serial else 0
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"stats", (ip, PORT_CTL))
    time.sleep(1.5)
    if not serial:
        return ""
    with open(serial, errors="replace") as f:
        f.seek(size)
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--bytes", type=int, default=65536)
    ap.add_argument("--empty", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--stats-expect", action="append", default=[])
    ap.add_argument("--no-quit", action="store_true")
    ap.add_argument("--label", default="")
    ap.add_argument("--faults-ok", action="store_true")
    a = ap.parse_args()
    ip = os.environ.get("GUEST_IP", "10.99.0.2")
    res = {"label": a.label, "guest": ip}
    res["clients"] = run_clients(ip, [a.bytes] * a.clients + [0] * a.empty, a.timeout)
    print(f"echo_clients: {res['clients']}", file=sys.stderr, flush=True)
    text = ask_stats(ip, os.environ.get("SERIAL", ""))
    m = re.search(r"stats: echo: .*", text)
    res["guest_conns"] = m.group(0) if m else ""
    m = re.search(r"stats: syn guard: .*", text)
    res["guest_tcp"] = m.group(0) if m else ""
    missing = [r for r in a.stats_expect if not re.search(r, text)]
    res["serial"] = {"ok": not missing, "missing": missing}
    if not a.no_quit:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(3):
                s.sendto(b"quit", (ip, PORT_CTL))
                time.sleep(0.2)
        res["guest_errors"] = guest_counters.after_quit(a.faults_ok)
    else:
        res["guest_errors"] = guest_counters.check(text, a.faults_ok, final=False)
    print(f"echo_clients: guest_errors: {res['guest_errors']}", file=sys.stderr, flush=True)
    print(json.dumps(res), flush=True)
    out = os.environ.get("ECHO_RESULT")
    if out:
        with open(out, "w") as f:
            json.dump(res, f)
    return 0 if res["clients"]["ok"] and res["serial"]["ok"] and res["guest_errors"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
