#!/bin/sh
# gnutls.sh MODULE [COFFERD INNER] - GnuTLS's own tools on a coffer token:
# p11tool sets the token up, lists it and its objects and generates an
# ECDSA P-256 and an RSA-2048 key in it; certtool makes a self-signed
# certificate with each key by its pkcs11: URI; gnutls-serv serves TLS with
# the key and gnutls-cli completes a handshake that verifies the
# certificate (and fails against another CA). MODULE is libcoffer.so, or
# libcoffer-client.so with COFFERD and INNER: then a cofferd started here
# on a Unix socket exports INNER. Prints TAP.
#
# gnutls-serv (3.7.9) has no listen-address option and binds the wildcard
# address, so the whole script runs in a private network namespace whose
# only interface is the loopback: the server is reachable on 127.0.0.1
# from here only, and any port is free.
set -u

MODULE=${1:?usage: gnutls.sh MODULE [COFFERD INNER]}
COFFERD=${2:-}
INNER=${3:-}
if [ -z "${COFFER_NETNS:-}" ]; then
	COFFER_NETNS=1
	export COFFER_NETNS
	if [ "$(id -u)" = 0 ]; then exec unshare -n "$0" "$@"; fi
	exec unshare -rn "$0" "$@"
fi
ip link set lo up || exit 1

SO_PIN=12345678
PIN=1234
LABEL=gnutls
PORT=4433

# lib.sh: scratch dir, coffer.conf (cofferd inherits COFFER_CONF), the
# ASan runtime a sanitized module needs preloaded, TAP helpers.
. "$(dirname "$0")/../lib.sh"

SERV_PID=
stop_at_exit SERV_PID

# run PROGRAM ARGS...: one GnuTLS tool, bounded in time, output in $OUT.
# The PINs come from the environment (GnuTLS's tools read GNUTLS_PIN and
# GNUTLS_SO_PIN), never from the command line.
run() {
	timeout_asan 60 "$@" >"$OUT" 2>&1
}
# gstep DESCRIPTION PROGRAM ARGS...: a call that must succeed.
gstep() {
	desc=$1
	shift
	if run "$@"; then ok "$desc"; else not_ok "$desc (exit $?)"; fi
}

tap_header
[ -n "$COFFERD" ] && start_cofferd

P11="p11tool --provider $MODULE"
TOKEN="pkcs11:token=$LABEL"
export GNUTLS_SO_PIN=$SO_PIN GNUTLS_PIN=$PIN

# A fresh token has an empty label: "pkcs11:token=" names it.
# shellcheck disable=SC2086
gstep "p11tool --initialize" $P11 --initialize --label "$LABEL" \
	--set-so-pin "$SO_PIN" "pkcs11:token="
# shellcheck disable=SC2086
gstep "p11tool --initialize-pin" $P11 --initialize-pin --set-pin "$PIN" \
	"$TOKEN"
# shellcheck disable=SC2086
gstep "p11tool --list-tokens" $P11 --list-tokens
listed "^[[:space:]]*Label: $LABEL\$" "--list-tokens shows the token"
listed "Manufacturer: coffer project" "--list-tokens shows coffer's token"

# shellcheck disable=SC2086
gstep "p11tool --generate-privkey ECDSA --curve secp256r1" $P11 --login \
	--generate-privkey ECDSA --curve secp256r1 --label tls-ec \
	--outfile "$SCRATCH/ec.pub" "$TOKEN"
# shellcheck disable=SC2086
gstep "p11tool --generate-privkey RSA --bits 2048" $P11 --login \
	--generate-privkey RSA --bits 2048 --label tls-rsa \
	--outfile "$SCRATCH/rsa.pub" "$TOKEN"
# shellcheck disable=SC2086
gstep "p11tool --login --list-all" $P11 --login --list-all "$TOKEN"
listed "object=tls-ec;type=private" "--list-all shows the EC private key"
listed "object=tls-ec;type=public" "--list-all shows the EC public key"
listed "Private key \(RSA-2048\)" "--list-all shows the RSA-2048 private key"
listed "CKA_SENSITIVE" "--list-all says the private keys are sensitive"
# shellcheck disable=SC2086
gstep "p11tool --list-all without login" $P11 --list-all "$TOKEN"
not_listed "type=private" "--list-all without login hides the private keys"

cat >"$SCRATCH/template" <<TEMPLATE
cn = "127.0.0.1"
ip_address = "127.0.0.1"
expiration_days = 2
serial = 1
tls_www_server
signing_key
encryption_key
TEMPLATE
# A second, unrelated CA for the refusal.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$SCRATCH/other.key" -out "$SCRATCH/other.crt" \
	-subj "/CN=other" -days 1 >"$OUT" 2>&1 || not_ok "another CA"

# serve KIND: certtool certificate, gnutls-serv with the token key,
# gnutls-cli handshakes that verify it (and refuse another CA).
serve() {
	key="$TOKEN;object=tls-$1;type=private"
	gstep "$1: certtool --generate-self-signed with the token key" \
		certtool --provider "$MODULE" --generate-self-signed \
		--load-privkey "$key" --template "$SCRATCH/template" \
		--outfile "$SCRATCH/$1.crt"
	if openssl verify -CAfile "$SCRATCH/$1.crt" "$SCRATCH/$1.crt" \
		>"$OUT" 2>&1; then
		ok "$1: openssl verifies certtool's self-signed certificate"
	else
		not_ok "$1: openssl verifies certtool's self-signed certificate"
	fi
	# p11tool wrote the public key as PEM SubjectPublicKeyInfo, as
	# openssl does.
	openssl x509 -in "$SCRATCH/$1.crt" -noout -pubkey \
		>"$SCRATCH/$1.crt.pub" 2>"$OUT"
	same "$SCRATCH/$1.pub" "$SCRATCH/$1.crt.pub" \
		"$1: the certificate carries the token key's public key"

	: >"$SCRATCH/serv.log"
	# exec: $! is then timeout, which passes the signal on.
	(
		preload_asan
		exec timeout 120 gnutls-serv --provider "$MODULE" --echo \
			-p "$PORT" --x509certfile "$SCRATCH/$1.crt" \
			--x509keyfile "$key" >"$SCRATCH/serv.log" 2>&1
	) &
	SERV_PID=$!
	i=0
	while [ $i -lt 2000 ] && ! grep -q "listening" "$SCRATCH/serv.log"; do
		kill -0 "$SERV_PID" 2>/dev/null || break
		sleep 0.01
		i=$((i + 1))
	done
	cp "$SCRATCH/serv.log" "$OUT"
	listed "listening on IPv4" "$1: gnutls-serv serves the token key"

	echo "hello $1" | timeout 60 gnutls-cli --x509cafile "$SCRATCH/$1.crt" \
		-p "$PORT" 127.0.0.1 >"$OUT" 2>&1
	listed "Status: The certificate is trusted" \
		"$1: gnutls-cli verifies the server's certificate"
	listed "Handshake was completed" "$1: gnutls-cli completes the handshake"
	listed "^hello $1\$" "$1: gnutls-serv echoes over the session"
	if echo hi | timeout 60 gnutls-cli --x509cafile "$SCRATCH/other.crt" \
		-p "$PORT" 127.0.0.1 >"$OUT" 2>&1; then
		not_ok "$1: gnutls-cli refuses the server against another CA"
	else
		ok "$1: gnutls-cli refuses the server against another CA"
	fi
	stop_pid SERV_PID
}
serve ec
serve rsa

finish
