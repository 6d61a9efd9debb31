#!/bin/sh
# seed_flow.sh COFFER MODULE - the seeds' "Init CTK" flow done with coffer
# alone: init token and PIN, RSA-2048 and P-256 key pairs, a CSR for each,
# certificates issued by a throwaway openssl CA and written back to the
# token beside their keys (same CKA_ID), the objects listed; openssl
# accepts the requests and the certificates. Also a self-signed
# certificate made by coffer. Prints TAP; exits non-zero when a step fails.
set -u

COFFER=${1:?usage: seed_flow.sh COFFER MODULE}
MODULE=${2:?usage: seed_flow.sh COFFER MODULE}
case $COFFER in
/*) ;;
*) COFFER=$(pwd)/$COFFER ;;
esac

. "$(dirname "$0")/lib.sh"

# The coffer binary of a sanitized build carries its own ASan runtime: no
# preload. SoftHSMv2 keeps allocations for the life of the process that
# LeakSanitizer would report from inside it; coffer's own leaks are checked
# by the runs against libcoffer.so.
case $MODULE in
*softhsm*) export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 ;;
esac
export COFFER_MODULE=$MODULE
printf '1234\n' >"$SCRATCH/pin"
printf '12345678\n' >"$SCRATCH/sopin"
PIN="--pin-source file:$SCRATCH/pin"

# cof DESCRIPTION ARGS...: one coffer call that must succeed.
cof() {
	desc=$1
	shift
	if "$COFFER" "$@" >"$OUT" 2>&1; then ok "$desc"; else not_ok "$desc (exit $?)"; fi
}

# ossl DESCRIPTION ARGS...: one openssl call that must succeed.
ossl() {
	desc=$1
	shift
	if openssl "$@" >"$OUT" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}

echo "TAP version 13"
echo "# module $MODULE"

cof "init-token" init-token --label ctk --so-pin-source "file:$SCRATCH/sopin"
cof "init-pin" init-pin --token ctk --so-pin-source "file:$SCRATCH/sopin" \
	--pin-source "file:$SCRATCH/pin"
# shellcheck disable=SC2086
cof "keygen rsa:2048" keygen rsa:2048 --label rsa-key --id 01 $PIN
# shellcheck disable=SC2086
cof "keygen ec:P-256" keygen ec:P-256 --label ec-key --id 02 $PIN

ossl "a throwaway openssl CA" req -x509 -newkey ec \
	-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$SCRATCH/ca.key" \
	-out "$SCRATCH/ca.pem" -subj "/CN=Throwaway CA" -days 2

for k in rsa ec; do
	# shellcheck disable=SC2086
	cof "$k: csr" csr --key "pkcs11:token=ctk;object=$k-key" \
		--subject "/CN=$k.ctk.example/O=Coffer" \
		--san "DNS:$k.ctk.example" $PIN --out "$SCRATCH/$k.csr"
	ossl "$k: openssl req -verify accepts the CSR" req -verify -noout \
		-in "$SCRATCH/$k.csr"
	ossl "$k: the CA issues a certificate" x509 -req \
		-in "$SCRATCH/$k.csr" -CA "$SCRATCH/ca.pem" \
		-CAkey "$SCRATCH/ca.key" -CAcreateserial -days 1 \
		-out "$SCRATCH/$k.pem"
	ossl "$k: openssl verify accepts the certificate" verify \
		-CAfile "$SCRATCH/ca.pem" "$SCRATCH/$k.pem"
	# shellcheck disable=SC2086
	cof "$k: import writes the certificate to the token" import \
		"$SCRATCH/$k.pem" $PIN
done

# shellcheck disable=SC2086
cof "objects lists the token" objects $PIN
listed "^certificate" "objects lists certificates"
# shellcheck disable=SC2086
cof "objects --json" objects --json $PIN
for id in 01 02; do
	# The certificate sits beside its key: same CKA_ID, the key's label.
	cnt=$(grep -c "\"id\": \"$id\"" "$OUT")
	if [ "$cnt" -eq 3 ]; then
		ok "id $id: private key, public key and certificate"
	else
		echo "id $id appears $cnt times" >>"$OUT"
		not_ok "id $id: private key, public key and certificate"
	fi
done
grep '"class": "certificate"' "$OUT" >"$SCRATCH/certs"
if grep -q '"label": "rsa-key"' "$SCRATCH/certs" &&
	grep -q '"label": "ec-key"' "$SCRATCH/certs"; then
	ok "the certificates carry their keys' labels"
else
	not_ok "the certificates carry their keys' labels"
fi
cof "export the RSA certificate" export \
	"pkcs11:token=ctk;object=rsa-key;type=cert" --out "$SCRATCH/rsa.back.pem"
same "$SCRATCH/rsa.pem" "$SCRATCH/rsa.back.pem" \
	"the exported certificate is the imported one"

# shellcheck disable=SC2086
cof "cert --self-signed" cert --key "pkcs11:token=ctk;object=ec-key" \
	--self-signed --subject "/CN=coffer self-signed" --ca $PIN \
	--out "$SCRATCH/self.pem"
ossl "openssl verify accepts the self-signed certificate" verify \
	-CAfile "$SCRATCH/self.pem" "$SCRATCH/self.pem"
# shellcheck disable=SC2086
cof "cert issued by the token CA key" cert \
	--key "pkcs11:token=ctk;object=rsa-key" \
	--ca-key "pkcs11:token=ctk;object=ec-key" --ca-cert "$SCRATCH/self.pem" \
	--subject "/CN=leaf" --san DNS:leaf.example --ext-key-usage serverAuth \
	$PIN --out "$SCRATCH/leaf.pem"
ossl "openssl verify accepts the token-issued certificate" verify \
	-CAfile "$SCRATCH/self.pem" "$SCRATCH/leaf.pem"

echo "1..$n"
[ "$failed" -eq 0 ]
