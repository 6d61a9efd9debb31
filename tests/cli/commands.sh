#!/bin/sh
# commands.sh COFFER MODULE - every coffer command's happy path, its output
# checked against OpenSSL where OpenSSL can check it, and each command's
# main refusal: info, mechanisms, keygen of every type (flags read back
# with objects --json), sign/verify, encrypt/decrypt, digest, random,
# wrap/unwrap, imports (encrypted PKCS#8, PEM public key, raw AES),
# export (PEM, DER), set-pin, unlock and delete. Prints TAP.
set -u

COFFER=${1:?usage: commands.sh COFFER MODULE}
MODULE=${2:?usage: commands.sh COFFER MODULE}
case $COFFER in
/*) ;;
*) COFFER=$(pwd)/$COFFER ;;
esac

. "$(dirname "$0")/../interop/lib.sh"

export COFFER_MODULE=$MODULE
export COFFER_TEST_PIN=1234
PIN="--pin-source env:COFFER_TEST_PIN"
S=$SCRATCH

# cof ARGS...: runs coffer, stdout in $OUT.out, both in $OUT, status in rc.
cof() {
	"$COFFER" "$@" >"$OUT.out" 2>"$OUT.err"
	rc=$?
	cat "$OUT.out" "$OUT.err" >"$OUT"
}

# fails DESCRIPTION PATTERN ARGS...: non-zero exit and a message matching
# PATTERN on stderr.
fails() {
	coffer_fails "$OUT.err" "$@"
}

# check DESCRIPTION COMMAND...: a shell check, $OUT shown when it fails.
check() {
	desc=$1
	shift
	if "$@" >>"$OUT" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}

# run ARGS...: coffer must succeed (its output then in $OUT.out).
run() {
	cof "$@"
	[ "$rc" -eq 0 ]
}

# obj LABEL CLASS: the objects --json line of that object.
obj() {
	# shellcheck disable=SC2086
	"$COFFER" objects "pkcs11:object=$1" --json $PIN 2>/dev/null |
		grep "\"class\": \"$2\""
}

# flags LABEL CLASS: its flags, comma-separated.
flags() {
	obj "$1" "$2" | sed 's/.*"flags": \[\([^]]*\)\].*/\1/; s/"//g'
}

count() {
	# shellcheck disable=SC2086
	"$COFFER" objects --json $PIN 2>/dev/null | grep -c '"class"'
}

echo "TAP version 13"
echo "# module $MODULE"

"$COFFER" init-token --label cmds --so-pin 12345678 >/dev/null 2>&1
# shellcheck disable=SC2086
"$COFFER" init-pin --so-pin 12345678 $PIN >/dev/null 2>&1
printf 'the data to sign and encrypt\n' >"$S/data"

# ---- info, mechanisms ----
cof info
ossl=$(openssl version | cut -d' ' -f2)
if [ "$rc" -eq 0 ] && grep -q "^module: *$MODULE\$" "$OUT.out" &&
	grep -q "^openssl: *OpenSSL $ossl" "$OUT.out" &&
	grep -q "^library: *coffer" "$OUT.out" &&
	grep -Eq "^cryptoki: *[23]\.[0-9]+" "$OUT.out"; then
	ok "info names the module, its library and the OpenSSL version"
else
	not_ok "info names the module, its library and the OpenSSL version"
fi
cof mechanisms
if [ "$rc" -eq 0 ] &&
	grep -Eq "^CKM_AES_GCM +16-32 +encrypt,decrypt" "$OUT.out" &&
	grep -Eq "^CKM_SHA256 +0-0 +digest" "$OUT.out" &&
	grep -Eq "^CKM_RSA_PKCS_KEY_PAIR_GEN .*generate-key-pair" "$OUT.out"; then
	ok "mechanisms lists names, key sizes and flags"
else
	not_ok "mechanisms lists names, key sizes and flags"
fi
fails "mechanisms on a missing token" "token 'nosuch' not found" \
	mechanisms --token nosuch

# ---- keygen: every type, its class, type, size and default flags ----
# keygen_ok TYPE LABEL CLASS KTYPE SIZE FLAGS [PUBFLAGS]
keygen_ok() {
	t=$1 l=$2 cls=$3 kt=$4 size=$5 fl=$6 pfl=${7:-}
	# shellcheck disable=SC2086
	cof keygen "$t" --label "$l" $PIN
	line=$(obj "$l" "$cls")
	got=$(flags "$l" "$cls")
	echo "$line" >>"$OUT"
	if [ "$rc" -ne 0 ]; then
		not_ok "keygen $t (exit $rc)"
	elif ! echo "$line" | grep -q "\"type\": \"$kt\", .*\"size\": \"$size\""; then
		not_ok "keygen $t: type $kt, size $size"
	elif [ "$got" != "$fl" ]; then
		echo "flags: $got, expected $fl" >>"$OUT"
		not_ok "keygen $t: flags"
	elif [ -n "$pfl" ] && [ "$(flags "$l" public-key)" != "$pfl" ]; then
		echo "public flags: $(flags "$l" public-key), expected $pfl" >>"$OUT"
		not_ok "keygen $t: public key flags"
	else
		ok "keygen $t: $kt $size, flags $fl"
	fi
}
keygen_ok rsa:2048 rsa private-key RSA "2048 bits" \
	sign,decrypt,private,sensitive verify,encrypt
keygen_ok ec:P-256 p256 private-key EC prime256v1 sign,private,sensitive verify
keygen_ok ec:P-384 p384 private-key EC secp384r1 sign,private,sensitive verify
keygen_ok ec:P-521 p521 private-key EC secp521r1 sign,private,sensitive verify
keygen_ok ec:secp256k1 k256 private-key EC secp256k1 sign,private,sensitive verify
keygen_ok ed25519 ed25519 private-key EC_EDWARDS ED25519 sign,private,sensitive verify
keygen_ok ed448 ed448 private-key EC_EDWARDS ED448 sign,private,sensitive verify
keygen_ok x25519 x25519 private-key EC_MONTGOMERY X25519 derive,private,sensitive derive
keygen_ok x448 x448 private-key EC_MONTGOMERY X448 derive,private,sensitive derive
keygen_ok aes:128 aes128 secret-key AES "128 bits" \
	encrypt,decrypt,wrap,unwrap,private,sensitive
keygen_ok aes:256 kek secret-key AES "256 bits" \
	encrypt,decrypt,wrap,unwrap,private,sensitive
keygen_ok hmac:256 hmac secret-key GENERIC_SECRET "256 bits" \
	sign,verify,private,sensitive
keygen_ok generic:128 generic secret-key GENERIC_SECRET "128 bits" \
	sign,verify,derive,private,sensitive
# shellcheck disable=SC2086
cof keygen ec:P-256 --label both --id 0102 $PIN
if [ "$(obj both private-key | grep -c '"id": "0102"')" -eq 1 ] &&
	[ "$(obj both public-key | grep -c '"id": "0102"')" -eq 1 ]; then
	ok "keygen --id names both halves of the pair"
else
	not_ok "keygen --id names both halves of the pair"
fi
# shellcheck disable=SC2086
cof keygen aes:192 --label tgt --usage encrypt,decrypt --extractable $PIN
check "keygen --usage encrypt,decrypt --extractable" \
	test "$(flags tgt secret-key)" = \
	"encrypt,decrypt,private,sensitive,extractable"
# shellcheck disable=SC2086
cof keygen ec:P-256 --label aa --usage sign --always-auth $PIN
check "keygen --usage sign --always-auth: the private key" \
	test "$(flags aa private-key)" = "sign,private,sensitive,always-auth"
check "keygen --usage sign: the public key gets no verify" \
	test "$(flags aa public-key)" = ""
# shellcheck disable=SC2086
fails "keygen of an unknown curve" "ec:CURVE with CURVE P-256" \
	keygen ec:P-192 --label bad $PIN
# shellcheck disable=SC2086
fails "keygen with an unknown usage" "--usage: unknown 'sing'" \
	keygen aes:128 --label bad --usage sing $PIN

# ---- export ----
cof export "pkcs11:object=rsa;type=public" --out "$S/rsa.pem"
check "export PEM of a generated public key parses with openssl" \
	openssl pkey -pubin -in "$S/rsa.pem" -noout
cof export "pkcs11:object=rsa;type=public" --der --out "$S/rsa.der"
openssl pkey -pubin -in "$S/rsa.pem" -outform DER -out "$S/rsa.der2" \
	>/dev/null 2>&1
same "$S/rsa.der" "$S/rsa.der2" "export --der is the PEM's key in DER"
for k in p256 ed25519; do
	"$COFFER" export "pkcs11:object=$k;type=public" \
		--out "$S/$k.pem" >/dev/null 2>&1
done
# A certificate made on the token comes back out as it went in.
# shellcheck disable=SC2086
cof cert --key "pkcs11:object=rsa;type=private" --self-signed \
	--subject /CN=export.test --days 1 --write --out "$S/made.pem" $PIN
cof export "pkcs11:object=rsa;type=cert" --out "$S/cert.pem"
same "$S/made.pem" "$S/cert.pem" "export of a certificate gives the stored PEM"
cof export "pkcs11:object=rsa;type=cert" --der --out "$S/cert.der"
openssl x509 -in "$S/made.pem" -outform DER -out "$S/made.der" >/dev/null 2>&1
same "$S/made.der" "$S/cert.der" "export --der of a certificate"
# shellcheck disable=SC2086
fails "export of a private key is refused" "is a private key: coffer exports only" \
	export "pkcs11:object=rsa;type=private" $PIN
# A key pair's label, logged in (so the private key matches too), names
# its public key: the only one of the two that can leave the token.
# shellcheck disable=SC2086
cof export "pkcs11:object=p256" --out "$S/p256-bylabel.pem" $PIN
same "$S/p256.pem" "$S/p256-bylabel.pem" \
	"export by a key pair's label gives its public key"
# rsa has a certificate too: which one is meant must be said.
# shellcheck disable=SC2086
fails "export of a label with a certificate and a public key asks for type=" \
	"2 objects match pkcs11:object=rsa; add type=cert or type=public" \
	export "pkcs11:object=rsa" $PIN

# ---- sign and verify, checked by openssl ----
# shellcheck disable=SC2086
cof sign --key pkcs11:object=rsa --mechanism sha256-rsa-pkcs \
	--in "$S/data" --out "$S/rsa.sig" $PIN
check "sign sha256-rsa-pkcs: openssl verifies the signature" \
	openssl dgst -sha256 -verify "$S/rsa.pem" -signature "$S/rsa.sig" \
	"$S/data"
# shellcheck disable=SC2086
cof sign --key pkcs11:object=rsa --mechanism CKM_SHA256_RSA_PKCS_PSS \
	--in "$S/data" --out "$S/pss.sig" $PIN
check "sign sha256-rsa-pkcs-pss: openssl verifies it (salt 32)" \
	openssl dgst -sha256 -sigopt rsa_padding_mode:pss \
	-sigopt rsa_pss_saltlen:32 -verify "$S/rsa.pem" \
	-signature "$S/pss.sig" "$S/data"
# shellcheck disable=SC2086
cof sign --key pkcs11:object=p256 --mechanism ecdsa-sha256 --der \
	--in "$S/data" --out "$S/ec.sig" $PIN
check "sign ecdsa-sha256 --der: openssl verifies it" \
	openssl dgst -sha256 -verify "$S/p256.pem" -signature "$S/ec.sig" \
	"$S/data"
# shellcheck disable=SC2086
cof sign --key pkcs11:object=ed25519 --mechanism eddsa \
	--in "$S/data" --out "$S/ed.sig" $PIN
check "sign eddsa (Ed25519): openssl verifies it" \
	openssl pkeyutl -verify -pubin -inkey "$S/ed25519.pem" -rawin \
	-in "$S/data" -sigfile "$S/ed.sig"
cof verify --key pkcs11:object=rsa --mechanism sha256-rsa-pkcs \
	--in "$S/data" --sig "$S/rsa.sig"
if [ "$rc" -eq 0 ] && grep -q "signature is valid" "$OUT.out"; then
	ok "verify with a public key needs no PIN and accepts the signature"
else
	not_ok "verify with a public key needs no PIN and accepts the signature"
fi
cof verify --key pkcs11:object=p256 --mechanism ecdsa-sha256 --der \
	--in "$S/data" --sig "$S/ec.sig"
check "verify --der takes the DER ECDSA signature back" test "$rc" -eq 0
cp "$S/data" "$S/tampered"
printf 'x' >>"$S/tampered"
fails "verify of a tampered file fails" "^coffer: signature is invalid\$" \
	verify --key pkcs11:object=rsa --mechanism sha256-rsa-pkcs \
	--in "$S/tampered" --sig "$S/rsa.sig"
check "... and prints no 'valid'" test ! -s "$OUT.out"
# shellcheck disable=SC2086
fails "sign with a mechanism for another key type" \
	"sign: CKR_KEY_TYPE_INCONSISTENT" sign --key pkcs11:object=rsa \
	--mechanism ecdsa-sha256 --in "$S/data" --out "$S/x.sig" $PIN
# shellcheck disable=SC2086
fails "sign with a missing --in file" "cannot open $S/nosuch: No such file" \
	sign --key pkcs11:object=rsa --mechanism sha256-rsa-pkcs \
	--in "$S/nosuch" --out "$S/x.sig" $PIN
# shellcheck disable=SC2086
fails "sign with an unknown mechanism" "unknown mechanism 'CKM_SHA257_RSA'" \
	sign --key pkcs11:object=rsa --mechanism sha257-rsa \
	--in "$S/data" $PIN
# The key made with --always-auth asks for the PIN again at each use
# (C_Login CKU_CONTEXT_SPECIFIC after C_SignInit).
# shellcheck disable=SC2086
cof sign --key pkcs11:object=aa --mechanism ecdsa-sha256 --der \
	--in "$S/data" --out "$S/aa.sig" $PIN
"$COFFER" export "pkcs11:object=aa;type=public" --out "$S/aa.pem" \
	>/dev/null 2>&1
check "sign with an --always-auth key: openssl verifies it" \
	openssl dgst -sha256 -verify "$S/aa.pem" -signature "$S/aa.sig" \
	"$S/data"
# shellcheck disable=SC2086
cof csr --key pkcs11:object=aa --subject /CN=aa --out "$S/aa.csr" $PIN
check "csr with an --always-auth key: openssl accepts the request" \
	openssl req -verify -noout -in "$S/aa.csr"
# shellcheck disable=SC2086
cof sign --key pkcs11:object=hmac --mechanism sha256-hmac \
	--in "$S/data" --out "$S/hmac.sig" $PIN
# shellcheck disable=SC2086
cof verify --key pkcs11:object=hmac --mechanism sha256-hmac \
	--in "$S/data" --sig "$S/hmac.sig" $PIN
check "sign/verify with an HMAC secret key" test "$rc" -eq 0

# ---- encrypt and decrypt ----
IV=000102030405060708090a0b0c0d0e0f
# shellcheck disable=SC2086
cof encrypt --key pkcs11:object=aes128 --mechanism aes-cbc-pad --iv $IV \
	--in "$S/data" --out "$S/cbc" $PIN
# shellcheck disable=SC2086
cof decrypt --key pkcs11:object=aes128 --mechanism aes-cbc-pad --iv $IV \
	--in "$S/cbc" --out "$S/cbc.plain" $PIN
same "$S/data" "$S/cbc.plain" "encrypt/decrypt aes-cbc-pad round trip"
# shellcheck disable=SC2086
cof encrypt --key pkcs11:object=aes128 --mechanism aes-gcm --iv 0001020304050607 \
	--aad 0a0b --in "$S/data" --out "$S/gcm" $PIN
check "aes-gcm ciphertext carries a 16-byte tag" \
	test "$(wc -c <"$S/gcm")" -eq $(($(wc -c <"$S/data") + 16))
# shellcheck disable=SC2086
cof decrypt --key pkcs11:object=aes128 --mechanism aes-gcm --iv 0001020304050607 \
	--aad 0a0b --in "$S/gcm" --out "$S/gcm.plain" $PIN
same "$S/data" "$S/gcm.plain" "encrypt/decrypt aes-gcm with AAD round trip"
# shellcheck disable=SC2086
fails "aes-gcm with other AAD fails to decrypt" "decrypt: CKR_" \
	decrypt --key pkcs11:object=aes128 --mechanism aes-gcm \
	--iv 0001020304050607 --aad 0a0c --in "$S/gcm" $PIN
# shellcheck disable=SC2086
fails "a bad --iv length is named" \
	"--iv: CKM_AES_CBC_PAD needs a 16-byte IV \(32 hex digits\), not 2 bytes" \
	encrypt --key pkcs11:object=aes128 --mechanism aes-cbc-pad --iv 0011 \
	--in "$S/data" $PIN
# shellcheck disable=SC2086
fails "a missing --iv is named" "CKM_AES_GCM needs --iv HEX" \
	encrypt --key pkcs11:object=aes128 --mechanism aes-gcm \
	--in "$S/data" $PIN
# shellcheck disable=SC2086
fails "encrypt with an RSA mechanism on an AES key" \
	"encrypt: CKR_KEY_TYPE_INCONSISTENT" encrypt \
	--key pkcs11:object=aes128 --mechanism rsa-pkcs-oaep \
	--in "$S/data" $PIN
# shellcheck disable=SC2086
fails "decrypt with a missing --in file" "cannot open $S/nosuch" \
	decrypt --key pkcs11:object=aes128 --mechanism aes-cbc-pad --iv $IV \
	--in "$S/nosuch" $PIN
# RSA-OAEP both ways with openssl.
openssl pkeyutl -encrypt -pubin -inkey "$S/rsa.pem" -in "$S/data" \
	-out "$S/oaep" -pkeyopt rsa_padding_mode:oaep \
	-pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 >/dev/null 2>&1
# shellcheck disable=SC2086
cof decrypt --key pkcs11:object=rsa --mechanism rsa-pkcs-oaep --hash sha256 \
	--in "$S/oaep" --out "$S/oaep.plain" $PIN
same "$S/data" "$S/oaep.plain" "decrypt rsa-pkcs-oaep (SHA-256) of openssl's ciphertext"
cof encrypt --key pkcs11:object=rsa --mechanism rsa-pkcs-oaep \
	--in "$S/data" --out "$S/oaep1"
# shellcheck disable=SC2086
cof decrypt --key pkcs11:object=rsa --mechanism rsa-pkcs-oaep \
	--in "$S/oaep1" --out "$S/oaep1.plain" $PIN
same "$S/data" "$S/oaep1.plain" "encrypt rsa-pkcs-oaep with the public key, no PIN; decrypt"

# ---- imports: raw AES (checked against openssl enc), PEM public key,
# encrypted PKCS#8 ----
KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
# The 32 bytes of $KEY (printf takes octal escapes only).
k16='\000\021\042\063\104\125\146\167\210\231\252\273\314\335\356\377'
# shellcheck disable=SC2059
printf "$k16$k16" >"$S/raw.key"
# shellcheck disable=SC2086
cof import "$S/raw.key" --type aes --label raw $PIN
check "import of a raw AES key" test "$rc" -eq 0
# shellcheck disable=SC2086
cof encrypt --key pkcs11:object=raw --mechanism aes-cbc-pad --iv $IV \
	--in "$S/data" --out "$S/raw.cbc" $PIN
openssl enc -aes-256-cbc -K "$KEY" -iv "$IV" -in "$S/data" \
	-out "$S/raw.cbc.ossl" >/dev/null 2>&1
same "$S/raw.cbc" "$S/raw.cbc.ossl" "raw AES key: aes-cbc-pad equals openssl enc"
# shellcheck disable=SC2086
cof encrypt --key pkcs11:object=raw --mechanism aes-ctr --iv $IV \
	--in "$S/data" --out "$S/raw.ctr" $PIN
openssl enc -aes-256-ctr -K "$KEY" -iv "$IV" -in "$S/data" \
	-out "$S/raw.ctr.ossl" >/dev/null 2>&1
same "$S/raw.ctr" "$S/raw.ctr.ossl" "aes-ctr (IV = counter block) equals openssl enc"
head -c 20 /dev/zero >"$S/short.key"
# shellcheck disable=SC2086
fails "raw AES key of a wrong length" "16, 24 or 32 raw bytes, not 20" \
	import "$S/short.key" --type aes --label short $PIN

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$S/ec.key" >/dev/null 2>&1
openssl pkey -in "$S/ec.key" -pubout -out "$S/ec.pub.pem" >/dev/null 2>&1
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$S/ec.key" -passout pass:p8pass \
	-out "$S/ec.p8" >/dev/null 2>&1
export P8PASS=wrong
# shellcheck disable=SC2086
fails "encrypted PKCS#8 with a wrong passphrase" \
	"cannot decrypt the private key" import "$S/ec.p8" \
	--key-pass-source env:P8PASS --label p8 $PIN
export P8PASS=p8pass
# shellcheck disable=SC2086
cof import "$S/ec.p8" --key-pass-source env:P8PASS --label p8 $PIN
check "import of an encrypted PKCS#8 key" test "$rc" -eq 0
# shellcheck disable=SC2086
cof sign --key pkcs11:object=p8 --mechanism ecdsa-sha256 --der \
	--in "$S/data" --out "$S/p8.sig" $PIN
check "the imported key signs; openssl verifies with the original key" \
	openssl dgst -sha256 -verify "$S/ec.pub.pem" -signature "$S/p8.sig" \
	"$S/data"
cof export "pkcs11:object=p8;type=public" --out "$S/p8.pem"
same "$S/ec.pub.pem" "$S/p8.pem" "export PEM equals openssl's public key of the imported key"

openssl genpkey -algorithm ED25519 -out "$S/ed.key" >/dev/null 2>&1
openssl pkey -in "$S/ed.key" -pubout -out "$S/ed.pub.pem" >/dev/null 2>&1
# shellcheck disable=SC2086
cof import "$S/ed.pub.pem" --label edpub $PIN
check "import of a PEM public key" \
	test "$(obj edpub public-key | grep -c '"type": "EC_EDWARDS"')" -eq 1
openssl pkeyutl -sign -inkey "$S/ed.key" -rawin -in "$S/data" \
	-out "$S/ossl.sig" >/dev/null 2>&1
cof verify --key pkcs11:object=edpub --mechanism eddsa --in "$S/data" \
	--sig "$S/ossl.sig"
check "the imported public key verifies openssl's Ed25519 signature" \
	test "$rc" -eq 0
cof export pkcs11:object=edpub --der --out "$S/edpub.der"
openssl pkey -pubin -in "$S/ed.pub.pem" -outform DER -out "$S/ed.pub.der" \
	>/dev/null 2>&1
same "$S/ed.pub.der" "$S/edpub.der" "export --der of the imported public key"

# ---- digest, random ----
cof digest --mechanism sha256 --in "$S/data"
want=$(openssl dgst -sha256 -r "$S/data" | cut -d' ' -f1)
check "digest sha256 equals openssl dgst" test "$(cat "$OUT.out")" = "$want"
cof digest --mechanism CKM_SHA384 --in "$S/data" --out "$S/d384"
openssl dgst -sha384 -binary "$S/data" >"$S/d384.ossl"
same "$S/d384" "$S/d384.ossl" "digest sha384 --out writes the binary digest"
fails "digest of a missing --in file" "cannot open $S/nosuch" \
	digest --mechanism sha256 --in "$S/nosuch"
fails "digest with a signing mechanism" "digest: CKR_MECHANISM_INVALID" \
	digest --mechanism sha256-rsa-pkcs --in "$S/data"
cof random --bytes 37 --out "$S/r1"
"$COFFER" random --bytes 37 --out "$S/r2" >/dev/null 2>&1
if [ "$rc" -eq 0 ] && [ "$(wc -c <"$S/r1")" -eq 37 ] &&
	! cmp -s "$S/r1" "$S/r2"; then
	ok "random --bytes 37 gives 37 bytes, different each time"
else
	not_ok "random --bytes 37 gives 37 bytes, different each time"
fi
fails "random --bytes 0 is refused" "--bytes N with N from 1" random --bytes 0

# ---- wrap and unwrap ----
# shellcheck disable=SC2086
cof wrap --key pkcs11:object=kek --target pkcs11:object=tgt \
	--mechanism aes-key-wrap-pad --out "$S/wrapped" $PIN
check "wrap aes-key-wrap-pad of a 192-bit key gives 32 bytes" \
	test "$(wc -c <"$S/wrapped")" -eq 32
# shellcheck disable=SC2086
cof unwrap --key pkcs11:object=kek --mechanism aes-key-wrap-pad \
	--in "$S/wrapped" --type aes --label tgt2 $PIN
# Like keygen and import, unwrap gives the new key a random 16-byte
# CKA_ID and prints the URI that names it.
unwrap_printed() {
	grep -Eq "^unwrapped key 'tgt2' id [0-9a-f]{32}\$" "$OUT.out" &&
		grep -q '^pkcs11:.*object=tgt2' "$OUT.out"
}
check "unwrap prints a 16-byte id and the new key's URI" unwrap_printed
check "unwrap makes a non-extractable AES key" \
	test "$(obj tgt2 secret-key | grep -c '"size": "192 bits"')" -eq 1 -a \
	"$(flags tgt2 secret-key | grep -c extractable)" -eq 0
for k in tgt tgt2; do
	# shellcheck disable=SC2086
	"$COFFER" encrypt --key "pkcs11:object=$k" --mechanism aes-cbc-pad \
		--iv $IV --in "$S/data" --out "$S/$k.cbc" $PIN >/dev/null 2>&1
done
if [ -s "$S/tgt.cbc" ]; then
	same "$S/tgt.cbc" "$S/tgt2.cbc" "the unwrapped key encrypts as the original"
else
	not_ok "the unwrapped key encrypts as the original"
fi
# shellcheck disable=SC2086
fails "wrap of a non-extractable key" "wrap: CKR_KEY_UNEXTRACTABLE" \
	wrap --key pkcs11:object=kek --target pkcs11:object=tgt2 \
	--mechanism aes-key-wrap-pad --out "$S/w2" $PIN
check "the refusal says the key can never leave the token" \
	grep -q "it can never leave the token" "$OUT.err"
# The key-role lock and the wrapping rule, each refused with its reason
# (docs/security.md, "Key roles and wrapping"): raw was used for data,
# kek wraps keys, raw2 is an imported key nobody marked trusted.
# shellcheck disable=SC2086
fails "wrap under a key used for data says it is locked to its role" \
	"CKR_KEY_FUNCTION_NOT_PERMITTED \(.*locked to its first role" \
	wrap --key pkcs11:object=raw --target pkcs11:object=tgt \
	--mechanism aes-key-wrap-pad --out "$S/w3" $PIN
# shellcheck disable=SC2086
fails "encrypt with a wrapping key says it is locked to its role" \
	"CKR_KEY_FUNCTION_NOT_PERMITTED \(.*locked to its first role" \
	encrypt --key pkcs11:object=kek --mechanism aes-cbc-pad --iv $IV \
	--in "$S/data" --out "$S/kek.cbc" $PIN
# shellcheck disable=SC2059
printf "$k16$k16" >"$S/raw2.key"
# shellcheck disable=SC2086
cof import "$S/raw2.key" --type aes --label raw2 $PIN
# shellcheck disable=SC2086
fails "wrap of a sensitive key under an untrusted imported key says why" \
	"CKR_KEY_NOT_WRAPPABLE \(.*CKA_TRUSTED" \
	wrap --key pkcs11:object=raw2 --target pkcs11:object=tgt \
	--mechanism aes-key-wrap-pad --out "$S/w4" $PIN
# shellcheck disable=SC2086
fails "unwrap of damaged data" "unwrap: CKR_" unwrap \
	--key pkcs11:object=kek --mechanism aes-key-wrap-pad \
	--in "$S/data" --type aes --label junk $PIN
# shellcheck disable=SC2086
fails "unwrap refuses --usage it would ignore" "option --usage does not apply" \
	unwrap --key pkcs11:object=kek --mechanism aes-key-wrap-pad \
	--in "$S/wrapped" --type aes --label tgt3 --usage encrypt $PIN

# ---- delete ----
# shellcheck disable=SC2086
"$COFFER" keygen aes:128 --label twin --id aa $PIN >/dev/null 2>&1
# shellcheck disable=SC2086
"$COFFER" keygen aes:128 --label twin --id bb $PIN >/dev/null 2>&1
base=$(count)
# shellcheck disable=SC2086
fails "delete refuses an ambiguous URI without --all" \
	"2 objects match pkcs11:object=twin; add id= or type=, or give --all" \
	delete pkcs11:object=twin $PIN
check "... and deletes nothing" test "$(count)" -eq "$base"
# shellcheck disable=SC2086
cof delete "pkcs11:object=twin;id=%aa" $PIN
if [ "$rc" -eq 0 ] && [ "$(count)" -eq $((base - 1)) ] &&
	obj twin secret-key | grep -q '"id": "bb"'; then
	ok "delete removes exactly the object named"
else
	not_ok "delete removes exactly the object named"
fi
# shellcheck disable=SC2086
"$COFFER" keygen aes:128 --label twin --id cc $PIN >/dev/null 2>&1
# shellcheck disable=SC2086
cof delete pkcs11:object=twin --all $PIN
if [ "$rc" -eq 0 ] && grep -q "deleted 2 objects" "$OUT.out" &&
	[ "$(count)" -eq $((base - 2)) ]; then
	ok "delete --all removes every match"
else
	not_ok "delete --all removes every match"
fi
# shellcheck disable=SC2086
fails "delete of nothing" "no object matches pkcs11:object=twin" \
	delete pkcs11:object=twin $PIN

# ---- set-pin, unlock (pin_lockout = 5 in lib.sh's coffer.conf) ----
# shellcheck disable=SC2086
fails "set-pin with a wrong old PIN" "wrong user PIN" \
	set-pin --pin 9999 --new-pin 5678
# shellcheck disable=SC2086
cof set-pin $PIN --new-pin 5678
check "set-pin changes the user PIN" grep -q "user PIN changed" "$OUT.out"
cof objects --pin 5678
check "the new PIN logs in" test "$rc" -eq 0
fails "the old PIN no longer does" "wrong user PIN" objects --pin 1234
cof set-pin --so-pin 12345678 --new-pin 87654321
check "set-pin --so-pin changes the SO PIN" grep -q "SO PIN changed" "$OUT.out"
fails "set-pin of the SO: the old SO PIN no longer logs in" "wrong SO PIN" \
	unlock --so-pin 12345678 --new-pin 5678
# A good login resets the count of failures.
"$COFFER" objects --pin 5678 >/dev/null 2>&1
for _ in 1 2 3 4; do
	"$COFFER" objects --pin 0000 >/dev/null 2>&1
done
fails "the fifth wrong PIN locks the user PIN" \
	"wrong user PIN; the user PIN is now locked \(the SO can reset it with coffer unlock\)" \
	objects --pin 0000
fails "a locked PIN is refused even when right, without 'wrong'" \
	"^coffer: the user PIN is locked \(the SO can reset it" \
	objects --pin 5678
cof unlock --so-pin 87654321 --new-pin 2468
check "unlock resets the user PIN" grep -q "the token is unlocked" "$OUT.out"
cof objects --json --pin 2468
check "the user logs in again with the new PIN" test "$rc" -eq 0

echo "1..$n"
[ "$failed" -eq 0 ]
