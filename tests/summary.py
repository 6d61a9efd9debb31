#!/usr/bin/env python3
"""Counts test cases across meson test logs and prints 'N passed, N failed'.

A TAP test (cmocka) counts each of its cases; any other test counts once.
A test that failed or timed out without printing TAP counts as one failure.
"""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print(f"summary: {path}: {e}")
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get("stdout") or ""
        oks = len(re.findall(r"^ok \d+", out, re.M))
        noks = len(re.findall(r"^not ok \d+", out, re.M))
        skips = len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
        res = t.get("result")
        if oks + noks > 0:
            passed += oks - skips
            skipped += skips
            failed += noks
            if res not in ("OK", "EXPECTEDFAIL", "SKIP") and noks == 0:
                failed += 1  # crashed or timed out after its last case
        elif res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
