#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""tools/mutants --features JSON...: for each row of README.md's feature
table, the tests its "where it is tested" cell names and the mutants those
tests killed in the given tools/mutants summaries (a later file wins for a
mutant run twice). A row whose tests killed no mutant is marked: nothing
yet shows that its tests can fail. Exits 1 when such a row names a host
test (rows of e2e tests only, or of no test, are listed but do not fail)."""
import json
import re
import sys

TEST = re.compile(r"`((?:test|fuzz|soak)_[a-z0-9_]+)`")


def killed_by(paths):
    status = {}
    for p in paths:
        for m in json.load(open(p))["mutants"]:
            status[m["name"]] = m
    kb = {}
    for m in status.values():
        if m["status"] == "killed":
            for t in m.get("killed_by") or []:
                kb.setdefault(t, set()).add(m["name"])
    return kb


def feature_rows(readme):
    text = open(readme).read()
    start = text.index("| feature |")
    table = text[start:text.index("\n\n", start)].splitlines()[2:]
    for line in table:
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        yield cells[0], sorted(set(TEST.findall(cells[-1])))


def main(argv):
    if not argv:
        print("usage: tools/mutants --features SUMMARY.json...", file=sys.stderr)
        return 2
    kb = killed_by(argv)
    bad = 0
    print(f"{'feature':52}  {'tests':>5}  mutants their tests killed")
    for feat, tests in feature_rows("README.md"):
        muts = sorted(set().union(*(kb.get(t, set()) for t in tests))) if tests else []
        mark = "" if muts else ("  <- no host test" if not tests else "  <- NO MUTANT KILLED")
        bad |= bool(tests and not muts)
        shown = ", ".join(muts[:3]) + (f" (+{len(muts) - 3})" if len(muts) > 3 else "")
        print(f"{feat[:52]:52}  {len(tests):>5}  {shown}{mark}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
