#!/bin/sh
# pkcs11_tool.sh MODULE - OpenSC's pkcs11-tool against a PKCS#11 module:
# token and PIN setup, PIN change, listing, writing, reading back and
# deleting a certificate and a data object. Prints TAP; exits non-zero when
# a step fails. Works against libcoffer.so and SoftHSMv2 (a path containing
# "softhsm" gets a softhsm2.conf instead of a coffer.conf).
set -u

MODULE=${1:?usage: pkcs11_tool.sh MODULE}
TOOL=${PKCS11_TOOL:-pkcs11-tool}
LABEL=interop
SO_PIN=12345678
PIN=1234
NEW_PIN=4321

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
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
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

echo "TAP version 13"
echo "1..23"
echo "# module $MODULE"

step "--init-token on the free slot" \
	--init-token --label "$LABEL" --so-pin "$SO_PIN"
step "--init-pin as SO" \
	--token-label "$LABEL" --login --login-type so --so-pin "$SO_PIN" \
	--init-pin --pin "$PIN"
step "--login --change-pin" \
	--token-label "$LABEL" --login --pin "$PIN" --change-pin \
	--new-pin "$NEW_PIN"
step_fails "old user PIN no longer logs in" \
	--token-label "$LABEL" --login --pin "$PIN" -O
step "new user PIN logs in" \
	--token-label "$LABEL" --login --pin "$NEW_PIN" -O

step "-L lists the slots" -L
listed "token label *: *$LABEL\$" "-L shows the token label '$LABEL'"
listed "token flags *:.*PIN initialized" "-L shows the user PIN initialized"

if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=coffer interop test" -days 1 \
	-keyout "$SCRATCH/key.pem" -outform DER -out "$SCRATCH/cert.der" \
	>"$OUT" 2>&1; then
	ok "openssl makes a self-signed DER certificate"
else
	not_ok "openssl makes a self-signed DER certificate"
fi
head -c 777 /dev/urandom >"$SCRATCH/data.bin"

step "--write-object --type cert --id 01" \
	--token-label "$LABEL" --login --pin "$NEW_PIN" \
	--write-object "$SCRATCH/cert.der" --type cert --id 01 \
	--label interop-cert
step "--write-object --type data" \
	--token-label "$LABEL" --login --pin "$NEW_PIN" \
	--write-object "$SCRATCH/data.bin" --type data --label interop-data

step "-O lists the objects" --token-label "$LABEL" --login --pin "$NEW_PIN" -O
listed "label: *interop-cert" "-O shows the certificate"
listed "label: *'?interop-data" "-O shows the data object"

step "--read-object --type cert --id 01" \
	--token-label "$LABEL" --login --pin "$NEW_PIN" \
	--read-object --type cert --id 01 -o "$SCRATCH/cert.out"
same "$SCRATCH/cert.der" "$SCRATCH/cert.out" \
	"the certificate reads back byte for byte"
step "--read-object --type data --label" \
	--token-label "$LABEL" --login --pin "$NEW_PIN" \
	--read-object --type data --label interop-data -o "$SCRATCH/data.out"
same "$SCRATCH/data.bin" "$SCRATCH/data.out" \
	"the data object reads back byte for byte"

step "--delete-object --type cert --id 01" \
	--token-label "$LABEL" --login --pin "$NEW_PIN" \
	--delete-object --type cert --id 01
step "--delete-object --type data --label" \
	--token-label "$LABEL" --login --pin "$NEW_PIN" \
	--delete-object --type data --label interop-data
step "-O after the deletes" --token-label "$LABEL" --login --pin "$NEW_PIN" -O
not_listed "interop-cert" "-O no longer shows the certificate"
not_listed "interop-data" "-O no longer shows the data object"

if [ "$n" -ne 23 ]; then
	echo "# ran $n steps, planned 23"
	exit 1
fi
[ "$failed" -eq 0 ]
