#!/bin/sh
# run.sh LOG PROGRAM ARGS...: runs one API program with COFFER_SPY_LOG=LOG,
# the log emptied first so that it holds this run only.
log=$1
shift
: >"$log" || exit 1
COFFER_SPY_LOG=$log
export COFFER_SPY_LOG
exec "$@"
