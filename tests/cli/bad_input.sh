#!/bin/sh
# bad_input.sh COFFER MODULE - coffer refuses bad input with a clear
# message and a non-zero exit, and leaves the token's objects as they were:
# unknown command, missing token, ambiguous URI, wrong PIN (tries left),
# malformed PEM and DER, csr with keys that cannot sign, a failed PKCS#12
# import and an import undone midway. Also a PKCS#12 import that works,
# with key and certificate under one CKA_ID. Prints TAP.
set -u

COFFER=${1:?usage: bad_input.sh COFFER MODULE}
MODULE=${2:?usage: bad_input.sh COFFER MODULE}
case $COFFER in
/*) ;;
*) COFFER=$(pwd)/$COFFER ;;
esac

. "$(dirname "$0")/../interop/lib.sh"

export COFFER_MODULE=$MODULE
export COFFER_TEST_PIN=1234
PIN="--pin-source env:COFFER_TEST_PIN"

# cof ARGS...: runs coffer, output (stdout and stderr) in $OUT, status in rc.
cof() {
	"$COFFER" "$@" >"$OUT" 2>&1
	rc=$?
}

# fails DESCRIPTION PATTERN ARGS...: coffer must exit non-zero and say
# something matching PATTERN.
fails() {
	coffer_fails "$OUT" "$@"
}

succeeds() {
	desc=$1
	shift
	cof "$@"
	if [ "$rc" -eq 0 ]; then ok "$desc"; else not_ok "$desc (exit $rc)"; fi
}

count() {
	# shellcheck disable=SC2086
	"$COFFER" objects --json $PIN 2>/dev/null | grep -c '"class"'
}

# unchanged BEFORE DESCRIPTION: the token holds BEFORE objects still.
unchanged() {
	now=$(count)
	if [ "$now" -eq "$1" ]; then
		ok "$2"
	else
		echo "objects: $1 before, $now after" >"$OUT"
		not_ok "$2"
	fi
}

echo "TAP version 13"
echo "# module $MODULE"

"$COFFER" init-token --label cli --so-pin 12345678 >/dev/null 2>&1
# shellcheck disable=SC2086
"$COFFER" init-pin --so-pin 12345678 $PIN >/dev/null 2>&1
for t in ec:P-256 x25519 aes:128; do
	# shellcheck disable=SC2086
	"$COFFER" keygen "$t" --label "${t%%:*}" $PIN >/dev/null 2>&1
done
# Two keys under one label make a URI ambiguous.
# shellcheck disable=SC2086
"$COFFER" keygen aes:128 --label twin --id aa $PIN >/dev/null 2>&1
# shellcheck disable=SC2086
"$COFFER" keygen aes:128 --label twin --id bb $PIN >/dev/null 2>&1
base=$(count)
if [ "$base" -eq 7 ]; then ok "setup: 7 objects"; else
	echo "setup made $base objects" >"$OUT"
	not_ok "setup: 7 objects"
fi

# Every command listed by coffer --help has its own --help.
"$COFFER" --help >"$SCRATCH/help" 2>&1
cmds=$(sed -n 's/^  \([a-z-]*\)  .*/\1/p' "$SCRATCH/help")
nohelp=""
for c in $cmds; do
	"$COFFER" "$c" --help 2>&1 | grep -q "^usage: coffer $c" || nohelp="$nohelp $c"
done
if [ "$(echo "$cmds" | wc -w)" -ge 22 ] && [ -z "$nohelp" ]; then
	ok "coffer --help lists the commands, each has --help"
else
	echo "commands: $cmds; without --help:$nohelp" >"$OUT"
	not_ok "coffer --help lists the commands, each has --help"
fi
fails "unknown command is refused" "unknown command 'frobnicate'" frobnicate
fails "unknown option is refused" "unknown option '--frob'" objects --frob
fails "missing token names the tokens there are" \
	"token 'nosuch' not found \(tokens: cli\)" objects --token nosuch
fails "missing token in a URI" "token 'pkcs11:token=nosuch' not found" \
	objects "pkcs11:token=nosuch"
# shellcheck disable=SC2086
fails "ambiguous URI for delete" \
	"2 objects match pkcs11:object=twin; add id= or type=" \
	delete "pkcs11:object=twin" $PIN
unchanged "$base" "ambiguous delete removes nothing"
# shellcheck disable=SC2086
fails "ambiguous URI for csr" "2 objects match" csr \
	--key "pkcs11:object=twin;type=secret-key" --subject /CN=x $PIN

# coffer.conf (lib.sh) locks the PIN after 5 failures: the token's flags
# say when few tries are left and when the next is the last.
fails "wrong PIN is named" "wrong user PIN" objects --pin 9999
fails "wrong PIN again: few tries left" "wrong user PIN, few tries left" \
	objects --pin 9999
cof objects --pin 9999
fails "wrong PIN, the last try is announced" "wrong user PIN, 1 try left" \
	objects --pin 9999
# shellcheck disable=SC2086
succeeds "the right PIN still works (and resets the count)" objects $PIN

# Malformed inputs: clear messages, nothing created.
printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' \
	>"$SCRATCH/bad.pem"
# shellcheck disable=SC2086
fails "malformed PEM is refused" "malformed PEM" import "$SCRATCH/bad.pem" $PIN
unchanged "$base" "malformed PEM leaves the token unchanged"
printf -- '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n' >"$SCRATCH/trunc.pem"
# shellcheck disable=SC2086
fails "truncated PEM is refused" "malformed PEM" import "$SCRATCH/trunc.pem" $PIN
head -c 300 /dev/urandom | tr '\055' '\056' >"$SCRATCH/bad.der"
# shellcheck disable=SC2086
fails "malformed DER is refused" "malformed DER" import "$SCRATCH/bad.der" $PIN
unchanged "$base" "malformed DER leaves the token unchanged"

# csr with keys that cannot sign.
# shellcheck disable=SC2086
fails "csr with an X25519 key" "cannot sign" csr \
	--key "pkcs11:object=x25519" --subject /CN=x $PIN --out "$SCRATCH/x.csr"
# shellcheck disable=SC2086
fails "csr with an AES key" "secret-key object, not a private one" csr \
	--key "pkcs11:object=aes" --subject /CN=x $PIN --out "$SCRATCH/x.csr"
if [ -e "$SCRATCH/x.csr" ]; then
	echo "x.csr was written" >"$OUT"
	not_ok "no request file is written"
else
	ok "no request file is written"
fi
unchanged "$base" "failed csr leaves the token unchanged"
fails "export refuses a secret key" "coffer exports only certificates" \
	export "pkcs11:object=aes" $PIN

# PKCS#12: a key, its certificate and a CA certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$SCRATCH/ca.key" -out "$SCRATCH/ca.pem" -subj /CN=CA \
	-days 2 >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$SCRATCH/leaf.key" \
	-out "$SCRATCH/leaf.csr" -subj /CN=leaf >/dev/null 2>&1
openssl x509 -req -in "$SCRATCH/leaf.csr" -CA "$SCRATCH/ca.pem" \
	-CAkey "$SCRATCH/ca.key" -CAcreateserial -days 1 \
	-out "$SCRATCH/leaf.pem" >/dev/null 2>&1
openssl pkcs12 -export -inkey "$SCRATCH/leaf.key" -in "$SCRATCH/leaf.pem" \
	-certfile "$SCRATCH/ca.pem" -passout pass:p12pass \
	-out "$SCRATCH/leaf.p12" >/dev/null 2>&1
export P12PASS=wrong
# shellcheck disable=SC2086
fails "PKCS#12 with a wrong passphrase" "cannot open the PKCS#12 bundle" \
	import "$SCRATCH/leaf.p12" --key-pass-source env:P12PASS $PIN
unchanged "$base" "failed PKCS#12 import leaves the token unchanged"
export P12PASS=p12pass
# shellcheck disable=SC2086
succeeds "PKCS#12 import" import "$SCRATCH/leaf.p12" --label tls \
	--key-pass-source env:P12PASS $PIN
unchanged $((base + 4)) "PKCS#12: key pair, certificate and CA certificate"
# shellcheck disable=SC2086
"$COFFER" objects "pkcs11:object=tls" --json $PIN >"$OUT" 2>&1
ids=$(sed -n 's/.*"id": "\([0-9a-f]*\)".*/\1/p' "$OUT" | sort -u)
classes=$(grep -c '"class"' "$OUT")
if [ "$classes" -eq 3 ] && [ "$(echo "$ids" | wc -l)" -eq 1 ] &&
	[ -n "$ids" ]; then
	ok "PKCS#12: key, public key and certificate share one CKA_ID"
else
	not_ok "PKCS#12: key, public key and certificate share one CKA_ID"
fi
# shellcheck disable=SC2086
succeeds "the imported key signs a CSR" csr --key "pkcs11:object=tls" \
	--subject /CN=again $PIN --out "$SCRATCH/again.csr"
if openssl req -verify -noout -in "$SCRATCH/again.csr" >"$OUT" 2>&1; then
	ok "openssl accepts it"
else
	not_ok "openssl accepts it"
fi

# An import that fails midway is undone: 17 certificates in one file go
# past coffer's per-import limit of 16 objects after 16 were created.
base=$(count)
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17; do
	cat "$SCRATCH/ca.pem"
done >"$SCRATCH/many.pem"
# shellcheck disable=SC2086
fails "an import failing midway" "too many objects" import \
	"$SCRATCH/many.pem" $PIN
unchanged "$base" "the objects made before the failure are removed"

echo "1..$n"
[ "$failed" -eq 0 ]
