#!/bin/sh
# bench/run-remote.sh BUILDDIR [--quick] [--seconds S] [--spin-us N] ...
#
# Issue 4's measurement of the remote path in one command: starts cofferd
# (unix socket and TLS), p11-kit server over SoftHSMv2, measures the
# round-trip floor and every column with coffer-bench, stops what it
# started by PID, and prints every remote figure as a ratio to the floor
# of the same run. Figures also go to BUILDDIR/bench/remote.json.
# --quick is a smoke run (tiny loops), not a measurement. See
# bench/README.md, "The remote path".
set -eu
exec python3 "$(dirname "$0")/remote.py" "$@"
