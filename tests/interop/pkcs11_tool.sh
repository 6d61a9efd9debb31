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

. "$(dirname "$0")/lib.sh"

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
