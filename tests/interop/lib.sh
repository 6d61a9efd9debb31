# lib.sh - shared by the interop scripts: absolute module path, a scratch
# token directory with the module's config (softhsm2.conf for a path
# containing "softhsm", coffer.conf otherwise), the ASan preload for a
# sanitized module, and TAP helpers. Source it after setting MODULE.
case $MODULE in
/*) ;;
*) MODULE=$(pwd)/$MODULE ;;
esac

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/coffer-interop-XXXXXX") || exit 1
trap 'rm -rf "$SCRATCH"' EXIT
trap 'exit 1' HUP INT PIPE TERM
mkdir "$SCRATCH/tokens"
case $MODULE in
*softhsm*)
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$SCRATCH/tokens" >"$SCRATCH/softhsm2.conf"
	export SOFTHSM2_CONF="$SCRATCH/softhsm2.conf"
	;;
*)
	printf 'token_dir = %s\nkdf_cost = 10\npin_lockout = 5\n' \
		"$SCRATCH/tokens" >"$SCRATCH/coffer.conf"
	export COFFER_CONF="$SCRATCH/coffer.conf"
	;;
esac

# A module built with -Db_sanitize=address needs the ASan runtime loaded
# first into the (uninstrumented) pkcs11-tool. Leak checking stays off
# there: the tool does not free its own OpenSSL state, and the module keeps
# its private library context for the life of the process by design; the
# unit and API suites check the module's leaks.
ASAN_LIB=$(ldd "$MODULE" 2>/dev/null | awk '/libasan/ { print $3 }')
# pkcs11-tool 0.23 frees the OSSL_PARAM array it then hands to
# EVP_PKEY_fromdata when it exports an EC public key (--read-object --type
# pubkey); the preloaded runtime reports that from inside OpenSSL. Reports
# from inside EVP_PKEY_fromdata are suppressed here only: the module's own
# calls of it are checked by the API suite under ASan, with no
# suppressions.
printf 'interceptor_via_fun:EVP_PKEY_fromdata\n' >"$SCRATCH/asan.supp"

n=0
failed=0
OUT=$SCRATCH/out

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

# p11 ARGS...: runs pkcs11-tool on the module, output in $OUT.
p11() {
	if [ -n "$ASAN_LIB" ]; then
		LD_PRELOAD=$ASAN_LIB \
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:suppressions=$SCRATCH/asan.supp \
			"$TOOL" --module "$MODULE" "$@" >"$OUT" 2>&1
	else
		"$TOOL" --module "$MODULE" "$@" >"$OUT" 2>&1
	fi
}

# step DESCRIPTION ARGS...: one pkcs11-tool call that must succeed.
step() {
	desc=$1
	shift
	if p11 "$@"; then ok "$desc"; else not_ok "$desc (exit $?)"; fi
}

# step_fails DESCRIPTION ARGS...: one pkcs11-tool call that must fail.
step_fails() {
	desc=$1
	shift
	if p11 "$@"; then not_ok "$desc (succeeded)"; else ok "$desc"; fi
}

# listed PATTERN DESCRIPTION: the last output matches PATTERN.
listed() {
	if grep -Eq "$1" "$OUT"; then ok "$2"; else not_ok "$2"; fi
}

# not_listed PATTERN DESCRIPTION: the last output does not match PATTERN.
not_listed() {
	if grep -Eq "$1" "$OUT"; then not_ok "$2"; else ok "$2"; fi
}

same() {
	if cmp -s "$1" "$2"; then
		ok "$3"
	else
		echo "$1 and $2 differ" >"$OUT"
		not_ok "$3"
	fi
}

