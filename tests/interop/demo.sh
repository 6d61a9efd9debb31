#!/bin/sh
# demo.sh BUILDDIR - what `make demo` shows: coffer's PKCS#11 module used by
# the tools people already have (OpenSC's pkcs11-tool, openssl), start to
# finish, in a scratch directory that is removed afterwards.
#
# DEMO_MODULE=/usr/lib/softhsm/libsofthsm2.so runs the same steps against
# another module, for comparison.
set -u

BUILD=${1:?usage: demo.sh BUILDDIR}
MODULE=${DEMO_MODULE:-$BUILD/src/token/libcoffer.so}
case $MODULE in
/*) ;;
*) MODULE=$(pwd)/$MODULE ;;
esac
LABEL=demo
SO_PIN=12345678
PIN=1234

if [ -t 1 ]; then
	BOLD=$(printf '\033[1m')
	PLAIN=$(printf '\033[0m')
else
	BOLD=
	PLAIN=
fi

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/coffer-demo-XXXXXX") || exit 1
trap 'rm -rf "$SCRATCH"' EXIT
trap 'exit 1' HUP INT PIPE TERM

step=0
heading() {
	step=$((step + 1))
	printf '\n%s== %d. %s ==%s\n' "$BOLD" "$step" "$1" "$PLAIN"
}

# run CMD...: shows the command, runs it, stops the demo if it fails.
run() {
	printf '$ %s\n' "$*" | sed "s|$SCRATCH|\$DEMO|g"
	if ! "$@" 2>&1; then
		printf '\ndemo FAILED at step %d: %s\n' "$step" "$*" >&2
		exit 1
	fi
}

p11() {
	run pkcs11-tool --module "$MODULE" "$@"
}

heading "The module"
echo "PKCS#11 module: $MODULE"
if [ ! -f "$MODULE" ]; then
	echo "demo FAILED: $MODULE is missing; run 'make' first" >&2
	exit 1
fi
case $MODULE in
*softhsm*)
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n' \
		"$SCRATCH/tokens" >"$SCRATCH/softhsm2.conf"
	export SOFTHSM2_CONF="$SCRATCH/softhsm2.conf"
	;;
*)
	# Only the token directory is set; every other setting keeps its
	# built-in default.
	printf 'token_dir = %s\n' "$SCRATCH/tokens" >"$SCRATCH/coffer.conf"
	export COFFER_CONF="$SCRATCH/coffer.conf"
	echo "config: \$DEMO/coffer.conf (\$DEMO is a scratch directory):"
	sed 's|^|    |' "$SCRATCH/coffer.conf" | sed "s|$SCRATCH|\$DEMO|g"
	;;
esac
mkdir "$SCRATCH/tokens"
p11 --show-info

heading "Initialise a token in the free slot"
p11 --init-token --label "$LABEL" --so-pin "$SO_PIN"

heading "Set the user PIN (as the security officer)"
p11 --token-label "$LABEL" --login --login-type so --so-pin "$SO_PIN" \
	--init-pin --pin "$PIN"

heading "Make a self-signed certificate with openssl"
run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=coffer demo/O=coffer" -days 30 \
	-keyout "$SCRATCH/key.pem" -outform DER -out "$SCRATCH/cert.der"
run openssl x509 -inform DER -in "$SCRATCH/cert.der" -noout -subject \
	-fingerprint -sha256

heading "Write the certificate into the token"
p11 --token-label "$LABEL" --login --pin "$PIN" \
	--write-object "$SCRATCH/cert.der" --type cert --id 01 \
	--label demo-cert

heading "List the token and its objects"
p11 --list-token-slots
p11 --token-label "$LABEL" --login --pin "$PIN" --list-objects

heading "Read the certificate back"
p11 --token-label "$LABEL" --read-object --type cert --id 01 \
	-o "$SCRATCH/back.der"
run openssl x509 -inform DER -in "$SCRATCH/back.der" -noout -subject \
	-fingerprint -sha256
run cmp "$SCRATCH/cert.der" "$SCRATCH/back.der"
echo "the certificate came back byte for byte"

printf '\n%s== What to try next ==%s\n' "$BOLD" "$PLAIN"
cat <<EOF
- Keep a token: put 'token_dir = /some/dir' in ~/.config/coffer/coffer.conf
  (or point \$COFFER_CONF at a file; docs/configuration.md lists the keys)
  and run the same pkcs11-tool commands with --module $MODULE
- Store a private data object, readable only after login:
    pkcs11-tool --module $MODULE --token-label $LABEL --login \\
      --write-object notes.txt --type data --label notes --private
- Look inside a token database: secrets are sealed before SQLite sees them
    sqlite3 "\$(find /some/dir -name '*.db' | head -n 1)" .dump
- Watch every acknowledged write survive kill -9:
    meson test -C $BUILD --suite crash
- Run everything (unit, PKCS#11 API, crash, interop): make check
EOF
echo
echo "demo finished; its scratch directory goes away now"
