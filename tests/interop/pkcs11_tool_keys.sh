#!/bin/sh
# pkcs11_tool_keys.sh MODULE - keys made and used inside the token through
# OpenSC's pkcs11-tool: --keypairgen for RSA-2048, EC P-256 and Ed25519,
# --sign / --verify round trips, each signature also verified by openssl
# against the public key read back from the token, and pkcs11-tool's own
# --test --login self-test. Prints TAP; exits non-zero when a step fails.
set -u

MODULE=${1:?usage: pkcs11_tool_keys.sh MODULE}
TOOL=${PKCS11_TOOL:-pkcs11-tool}
LABEL=interop-keys
SO_PIN=12345678
PIN=1234

. "$(dirname "$0")/lib.sh"

# ossl DESCRIPTION ARGS...: one openssl call that must succeed.
ossl() {
	desc=$1
	shift
	if openssl "$@" >"$OUT" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}

USER="--token-label $LABEL --login --pin $PIN"

echo "TAP version 13"
echo "# module $MODULE"

step "--init-token" --init-token --label "$LABEL" --so-pin "$SO_PIN"
step "--init-pin" --token-label "$LABEL" --login --login-type so \
	--so-pin "$SO_PIN" --init-pin --pin "$PIN"
head -c 1000 /dev/urandom >"$SCRATCH/data"

# pair KEYTYPE ID SIGN-MECH SIGN-FORMAT-ARGS: one key pair's whole story.
pair() {
	kt=$1 id=$2 mech=$3
	shift 3
	# shellcheck disable=SC2086
	step "--keypairgen --key-type $kt" $USER --keypairgen --key-type "$kt" \
		--id "$id" --label "key-$id"
	# shellcheck disable=SC2086
	step "$kt: --read-object --type pubkey" $USER --read-object \
		--type pubkey --id "$id" -o "$SCRATCH/$id.pub.der"
	# pkcs11-tool (0.23) writes RSA and EC public keys as DER, Edwards
	# ones as PEM.
	form=DER
	if grep -q -- "-----BEGIN" "$SCRATCH/$id.pub.der"; then form=PEM; fi
	ossl "$kt: openssl reads the public key" pkey -pubin -inform "$form" \
		-in "$SCRATCH/$id.pub.der" -out "$SCRATCH/$id.pub.pem"
	# shellcheck disable=SC2086
	step "$kt: --sign -m $mech" $USER --sign --id "$id" -m "$mech" \
		-i "$SCRATCH/data" -o "$SCRATCH/$id.sig" "$@"
	# pkcs11-tool --verify exits 0 for a bad signature too: read what
	# it says.
	# shellcheck disable=SC2086
	p11 $USER --verify --id "$id" -m "$mech" -i "$SCRATCH/data" \
		--signature-file "$SCRATCH/$id.sig" "$@"
	listed "^Signature is valid" "$kt: --verify -m $mech says valid"
	cp "$SCRATCH/data" "$SCRATCH/data.bad"
	printf 'x' >>"$SCRATCH/data.bad"
	# shellcheck disable=SC2086
	p11 $USER --verify --id "$id" -m "$mech" -i "$SCRATCH/data.bad" \
		--signature-file "$SCRATCH/$id.sig" "$@"
	listed "^Invalid signature" "$kt: --verify on changed data says invalid"
}

pair rsa:2048 10 SHA256-RSA-PKCS
ossl "rsa:2048: openssl verifies the token's signature" dgst -sha256 \
	-verify "$SCRATCH/10.pub.pem" -signature "$SCRATCH/10.sig" \
	"$SCRATCH/data"

pair EC:prime256v1 11 ECDSA-SHA256 --signature-format openssl
ossl "EC:prime256v1: openssl verifies the token's signature" dgst -sha256 \
	-verify "$SCRATCH/11.pub.pem" -signature "$SCRATCH/11.sig" \
	"$SCRATCH/data"

pair EC:edwards25519 12 EDDSA
ossl "EC:edwards25519: openssl verifies the token's signature" pkeyutl \
	-verify -pubin -inkey "$SCRATCH/12.pub.pem" -rawin \
	-in "$SCRATCH/data" -sigfile "$SCRATCH/12.sig"

# shellcheck disable=SC2086
step "--test --login (pkcs11-tool's self-test)" $USER --test

echo "1..$n"
[ "$failed" -eq 0 ]
