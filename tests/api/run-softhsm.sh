#!/bin/sh
# Runs the API programs against a module (SoftHSMv2 by default) and prints a
# summary. Usage: run-softhsm.sh MODULE PROGRAM...
# Expected failures (softhsm-deviations.txt) are reported as "deviation"
# lines and counted separately; they do not fail the run.
module=${1:-/usr/lib/softhsm/libsofthsm2.so}
shift
[ $# -gt 0 ] || { echo "usage: $0 MODULE PROGRAM..." >&2; exit 2; }

export CMOCKA_MESSAGE_OUTPUT=TAP
log=$(mktemp "${TMPDIR:-/tmp}/api-softhsm.XXXXXX")
trap 'rm -f "$log"' EXIT
status=0
tot_ok=0 tot_fail=0 tot_dev=0
for prog in "$@"; do
	"$prog" "$module" >"$log" 2>/dev/null
	rc=$?
	ok=$(grep -c '^ok ' "$log")
	fail=$(grep -c '^not ok ' "$log")
	dev=$(grep -c '^# deviation: ' "$log")
	printf '%-14s %4d passed (%d as SoftHSMv2 deviations), %d failed%s\n' \
		"$(basename "$prog")" "$ok" "$dev" "$fail" \
		"$([ $rc -gt 1 ] && [ "$fail" -eq 0 ] && echo ", exit $rc")"
	grep '^not ok ' "$log" | sed 's/^/    /'
	tot_ok=$((tot_ok + ok)) tot_fail=$((tot_fail + fail))
	tot_dev=$((tot_dev + dev))
	[ $rc -eq 0 ] || status=1
done
printf 'total: %d passed (%d deviations), %d failed\n' \
	"$tot_ok" "$tot_dev" "$tot_fail"
exit $status
