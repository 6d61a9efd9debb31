#!/usr/bin/env python3
"""check_log.py FUNCTIONS_DIR SPY REAL PROGRAM...: runs each API program
through libcoffer-spy.so (SPY) wrapping REAL with a fresh log, then checks
what the log holds, as TAP:

  - every entry names a PKCS#11 function, the thread, its return value by
    CKR_ name and the time, and shows one line per input argument of the
    function (src/pkcs11/functions.py), so every call is decoded;
  - no value is "unknown" unless the module rejected the call or the value
    is vendor-defined (which libcoffer.so supports none of but its own
    attribute, which the spy names): the API tests feed invalid values on
    purpose, and the spy must show them as what they are;
  - no PIN of the harness (tests/api/harness.h) appears: each PIN argument
    is "<N bytes hidden>" and neither PIN shows as text or hex in the
    entries of the functions that take one;
  - a summary follows every successful C_Finalize, and its call counts add
    up to the entries logged.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, sys.argv[1])
import functions  # noqa: E402

PINS = ["1234", "12345678"]
PIN_FUNCS = {"C_InitToken", "C_InitPIN", "C_SetPIN", "C_Login",
             "C_LoginUser"}
PIN_ARGS = ("pPin", "pOldPin", "pNewPin")
# Kinds with no line before the call: pure outputs.
OUTPUT_ONLY = ("ulong_out", "info_out")

HEADER = re.compile(r"^(C_\w+|summary) thread=\d+$")
RV = re.compile(r"^  -> (CKR_\w+|0x[0-9a-f]+ \(unknown\)) in \d+\.\d{3} ms$")
UNKNOWN = re.compile(r"(0x[0-9a-f]+)( \(unknown\)| unknown\))")
SUMMARY_ROW = re.compile(r"^  (C_\w+|total)\s+(\d+)\s+(\d+)\s+\d+\.\d{3}$")

n = 0
failed = 0


def result(ok, desc, detail=""):
    global n, failed
    n += 1
    if ok:
        print("ok %d - %s" % (n, desc))
    else:
        failed += 1
        print("not ok %d - %s" % (n, desc))
        for line in detail.splitlines()[:40]:
            print("# " + line)


def entries(text):
    cur = None
    for line in text.splitlines():
        if not line.startswith(" "):
            if cur is not None:
                yield cur
            cur = [line]
        elif cur is not None:
            cur.append(line)
    if cur is not None:
        yield cur


def expected_inputs():
    """name -> number of argument lines before the call (None: LOCAL)."""
    out = {}
    for _, name, args in functions.FUNCTIONS:
        if args == functions.LOCAL:
            out[name] = None
            continue
        out[name] = sum(1 for a in args
                        if functions.split(a)[0] not in OUTPUT_ONLY)
    return out


def check(prog, log):
    want = expected_inputs()
    bad_header, undecoded, unknown, pins, no_rv = [], [], [], [], []
    calls = {}
    summaries = []
    finalized = 0
    with open(log, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for e in entries(text):
        m = HEADER.match(e[0])
        if m is None:
            bad_header.append(e[0])
            continue
        name = m.group(1)
        if name == "summary":
            summaries.append(e)
            continue
        if name not in want:
            bad_header.append(e[0])
            continue
        calls[name] = calls.get(name, 0) + 1
        rvs = [i for i, line in enumerate(e) if RV.match(line)]
        if len(rvs) != 1:
            no_rv.append("\n".join(e))
            continue
        rv = RV.match(e[rvs[0]]).group(1)
        if name == "C_Finalize" and rv == "CKR_OK":
            finalized += 1
        # One top-level line ("  NAME = ..." or "  NAME:") per input.
        inputs = [line for line in e[1:rvs[0]]
                  if re.match(r"^  [A-Za-z*]\w*( =|:)", line)]
        if want[name] is not None and len(inputs) != want[name]:
            undecoded.append("%s: %d argument lines, want %d\n%s"
                             % (name, len(inputs), want[name], "\n".join(e)))
        for line in e:
            for um in UNKNOWN.finditer(line):
                vendor = int(um.group(1), 16) >= 0x80000000
                if rv == "CKR_OK" and not vendor:
                    unknown.append("%s -> %s: %s" % (name, rv, line))
        if name in PIN_FUNCS:
            body = "\n".join(e)
            for line in e:
                if line.strip().startswith(PIN_ARGS) and \
                        "bytes hidden>" not in line and \
                        "= NULL (" not in line:
                    pins.append(line)
            for pin in PINS:
                if '"%s"' % pin in body or pin.encode().hex() in body:
                    pins.append("%s shows %s" % (name, pin))
    result(not bad_header, "%s: every entry names a function and its thread"
           % prog, "\n".join(bad_header))
    result(not no_rv, "%s: every call shows its return value and time" % prog,
           "\n".join(no_rv))
    result(bool(calls) and not undecoded,
           "%s: every call shows each of its input arguments (%d functions)"
           % (prog, len(calls)), "\n".join(undecoded))
    result(not unknown, "%s: no unknown value in a call the module took"
           % prog, "\n".join(unknown))
    result(not pins, "%s: no PIN in the log" % prog, "\n".join(pins))
    totals = {}
    bad_summary = []
    for s in summaries:
        rows = [SUMMARY_ROW.match(line) for line in s[2:]]
        if not rows or any(r is None for r in rows) or \
                rows[-1].group(1) != "total":
            bad_summary.append("\n".join(s))
            continue
        for r in rows[:-1]:
            totals[r.group(1)] = totals.get(r.group(1), 0) + int(r.group(2))
    result(finalized > 0 and len(summaries) == finalized and not bad_summary
           and totals == calls,
           "%s: a summary after each C_Finalize counts every call" % prog,
           "%d finalize, %d summaries\n%s\ncounted %s\nlogged %s"
           % (finalized, len(summaries), "\n".join(bad_summary),
              sorted(totals.items()), sorted(calls.items())))


def main():
    spy, real, progs = sys.argv[2], sys.argv[3], sys.argv[4:]
    with tempfile.TemporaryDirectory(prefix="coffer-spy-") as tmp:
        for prog in progs:
            name = os.path.basename(prog)
            log = os.path.join(tmp, name + ".log")
            env = dict(os.environ, COFFER_SPY_MODULE=real, COFFER_SPY_LOG=log)
            env.pop("COFFER_SPY_SHOW_SECRETS", None)
            env.pop("COFFER_SPY_CONF", None)
            p = subprocess.run([prog, spy], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=240)
            result(p.returncode == 0, "%s passes through the spy" % name,
                   p.stdout.decode(errors="replace")[-3000:])
            check(name, log)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
