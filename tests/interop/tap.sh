# tap.sh - TAP output shared by the interop scripts. Sourced after the
# script has set OUT (the file whose lines become a failure's diagnostics).
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	sed 's/^/# /' "$OUT"
}

# check DESC CMD...: ok when CMD succeeds; its output is the diagnostics.
check() {
	desc=$1
	shift
	if "$@" >"$OUT" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}
