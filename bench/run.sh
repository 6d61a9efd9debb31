#!/bin/sh
# bench/run.sh BUILDDIR [--quick] [coffer-bench options...]
#
# What `make bench` runs. Builds nothing: runs BUILDDIR/bench/coffer-bench
# against libcoffer.so and SoftHSMv2 side by side, the table on stdout and
# the figures in BUILDDIR/bench/results.json. --quick: sizes 100,1000 and
# one-second loops, a smoke run of a few minutes. Further options go to
# coffer-bench (e.g. --workload find-label,find-id).
set -eu

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILDDIR [--quick] [coffer-bench options...]" >&2
	exit 2
fi
build=$1
shift

quick=""
if [ "${1:-}" = "--quick" ]; then
	quick="--sizes 100,1000 --seconds 1"
	shift
fi

bench=$build/bench/coffer-bench
coffer=$build/src/token/libcoffer.so
softhsm=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

for f in "$bench" "$coffer" "$softhsm"; do
	if [ ! -e "$f" ]; then
		echo "$0: $f is missing (build first: make build)" >&2
		exit 2
	fi
done

# shellcheck disable=SC2086 # $quick is a list of words on purpose
exec "$bench" \
	--module "coffer=$coffer" \
	--module "softhsm=$softhsm" \
	$quick \
	--json "$build/bench/results.json" \
	"$@"
