#!/bin/sh
# nss_certutil.sh COFFER MODULE [COFFERD INNER] - NSS's own tools
# (libnss3-tools) with the module: modutil adds it to a fresh NSS database
# and lists its token; certutil lists the token, makes an EC key in it and
# a PKCS#10 request that openssl accepts, makes an RSA-2048 key in it, lists
# the keys, and makes a self-signed certificate whose key and certificate
# are stored in the token, which openssl then verifies. With COFFERD and
# INNER, MODULE is libcoffer-client.so and a cofferd started here on a Unix
# socket exports INNER (libcoffer.so). Prints TAP; exits non-zero when a
# step fails.
set -u

COFFER=${1:?usage: nss_certutil.sh COFFER MODULE [COFFERD INNER]}
MODULE=${2:?usage: nss_certutil.sh COFFER MODULE [COFFERD INNER]}
COFFERD=${3:-}
INNER=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/interop/lib.sh
. "$HERE/../lib.sh"
COFFER=$(abs_path "$COFFER")

tap_header
[ -n "$COFFERD" ] && start_cofferd

# run DESCRIPTION CMD...: tool_step (NSS's tools get the ASan runtime
# preloaded; standard input is /dev/null: certutil would otherwise wait on
# the terminal).
run() {
	tool_step "$@"
}

export COFFER_MODULE="$MODULE"
init_coffer_token nss

DB=sql:$SCRATCH/nssdb
mkdir "$SCRATCH/nssdb"
# certutil's key generation wants noise; -f reads the token's PIN.
head -c 64 /dev/urandom >"$SCRATCH/noise"
NSSPW="-f $SCRATCH/pin -z $SCRATCH/noise"

run "modutil -create makes a fresh database" modutil -dbdir "$DB" -create \
	-force
# FRIENDLY: the token's certificates are public objects, so NSS may read
# them without logging in (else it asks for the PIN first, on the
# terminal, whenever it looks one up by nickname).
run "modutil -add adds the module" modutil -dbdir "$DB" -add coffer \
	-libfile "$MODULE" -mechanisms FRIENDLY -force
run "modutil -list" modutil -dbdir "$DB" -list coffer
listed "Token Name: nss " "modutil -list shows the token"
run "certutil -U" certutil -U -d "$DB"
listed "token: nss" "certutil -U lists the token"

# shellcheck disable=SC2086
run "certutil -R makes an EC P-256 key in the token and a request" \
	certutil -R -d "$DB" -h nss -k ec -q nistp256 \
	-s "CN=nss.example,O=Coffer" $NSSPW -a -o "$SCRATCH/ec.csr"
run "openssl req -verify accepts the request" openssl req -verify -noout \
	-in "$SCRATCH/ec.csr"
run "openssl req -text" openssl req -noout -text -in "$SCRATCH/ec.csr"
listed "NIST CURVE: P-256" "the request is for a P-256 key"
# shellcheck disable=SC2086
run "certutil -G makes an RSA-2048 key in the token" certutil -G -d "$DB" \
	-h nss -k rsa -g 2048 $NSSPW
# shellcheck disable=SC2086
run "certutil -K" certutil -K -d "$DB" -h nss $NSSPW
listed "^<[ 0-9]+> ec " "certutil -K lists the EC key"
listed "^<[ 0-9]+> rsa " "certutil -K lists the RSA key"

# shellcheck disable=SC2086
run "certutil -S -x makes a key and a self-signed certificate in the token" \
	certutil -S -x -d "$DB" -h nss -n web -s CN=web.example -t CT,, \
	-k ec -q nistp256 -v 12 $NSSPW
# shellcheck disable=SC2086
run "certutil -L -h nss" certutil -L -d "$DB" -h nss $NSSPW
listed "^nss:web " "certutil -L lists the token's certificate"
run "certutil -L -a exports it without a PIN" certutil -L -d "$DB" \
	-n nss:web -a
cp "$OUT" "$SCRATCH/web.pem"
run "openssl verify accepts the self-signed certificate" openssl verify \
	-CAfile "$SCRATCH/web.pem" "$SCRATCH/web.pem"
run "coffer objects" "$COFFER" objects --token nss \
	--pin-source "file:$SCRATCH/pin"
listed "subject: /CN=web.example" "the certificate is a token object"
# shellcheck disable=SC2086
run "certutil -K -n nss:web" certutil -K -d "$DB" -h nss $NSSPW
listed "nss:web$" "certutil pairs the token's key with its certificate"

finish
