# SPDX-License-Identifier: BSD-3-Clause
"""The end of every e2e run of the echo appliance: its own error counters.

After "quit" the appliance prints its counters once more and then
"echo: quit, ..., N recoveries" (examples/echo/echo.c). The driver's error
counters on that last "stats: rx" line (drops: bad-id, bad-len, bad-idx:
a device that broke the ring protocol) and the recoveries (vnet_dev_recover()
after the device broke) must all be 0, unless the run injects faults
(faults_ok: reported, not checked). pool-empty is reported only (a busy
guest may run its pool dry without anything being wrong).

Used by echo_check.py, echo_clients.py, gro_check.py and syn_flood.py,
inside the test's namespace with $SERIAL set (tools/qemu-run).
"""
import os
import re
import time

# (an image older than the recoveries on this line gives them on its exit line only)
DROPS = re.compile(r"drops: bad-id (\d+) bad-len (\d+) bad-idx (\d+) pool-empty (\d+)(?: \| recoveries (\d+))?")
END = re.compile(r"^echo: (quit|stopped), .*?(\d+) recoveries\s*$", re.M)


def serial_text():
    path = os.environ.get("SERIAL")
    if not path:
        return None
    with open(path, errors="replace") as f:
        return f.read()


def check(text, faults_ok=False, final=True):
    """The last counters in text. final: they must be the exit's (the END
    line printed after them)."""
    if text is None:
        return {"ok": False, "error": "no $SERIAL: the guest's console is not readable"}
    found = DROPS.findall(text)
    if not found:
        return {"ok": False, "error": "no counters (drops: bad-id ...) on the guest's console"}
    bad_id, bad_len, bad_idx, pool_empty = (int(x) for x in found[-1][:4])
    rec = int(found[-1][4]) if found[-1][4] else None
    res = {"bad_id": bad_id, "bad_len": bad_len, "bad_idx": bad_idx, "pool_empty": pool_empty,
           "recoveries": rec, "faults_ok": faults_ok}
    if final:
        end = None
        for end in END.finditer(text):
            pass
        if not end:
            res["error"] = "the guest never printed its exit line (echo: quit, ... recoveries)"
            res["ok"] = False
            return res
        res["exit"] = end.group(1)
        if rec is not None and int(end.group(2)) != rec:
            res["error"] = "the exit line's recoveries differ from the counters'"
            res["ok"] = False
            return res
        rec = res["recoveries"] = int(end.group(2))
    if rec is None:
        res["error"] = "the guest's counters do not say how often it recovered"
        res["ok"] = False
        return res
    res["ok"] = faults_ok or bad_id == bad_len == bad_idx == rec == 0
    return res


def after_quit(faults_ok=False, timeout=30.0):
    """Wait (bounded) for the guest's exit line after "quit", then check
    its last counters."""
    t0 = time.monotonic()
    text = serial_text()
    while text is not None and not END.search(text) and time.monotonic() - t0 < timeout:
        time.sleep(0.2)
        text = serial_text()
    return check(text, faults_ok, final=True)
