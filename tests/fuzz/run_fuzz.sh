#!/bin/sh
# run_fuzz.sh FUZZER CORPUS_DIR SECONDS
# Runs one libFuzzer target for a bounded time on a copy of its seed corpus
# in a temporary directory, so that a run never modifies the repository.
# A crash leaves its reproducer in the temporary directory, which is kept
# and named on stderr; otherwise it is removed.
set -u
fuzzer=$1 corpus=$2 secs=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/coffer-fuzz.XXXXXX") || exit 1
mkdir -p "$work/corpus" "$work/artifacts"
if [ -d "$corpus" ]; then
	cp -R "$corpus/." "$work/corpus/" 2>/dev/null || true
fi
"$fuzzer" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=20 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	"$work/corpus"
rc=$?
if [ $rc -ne 0 ]; then
	echo "run_fuzz: $fuzzer failed (rc $rc); reproducers in $work/artifacts" >&2
else
	rm -rf "$work"
fi
exit $rc
