#!/bin/sh
# openssl_engine.sh COFFER MODULE [COFFERD INNER] - OpenSSL 3 through
# libp11's pkcs11 engine (Debian libengine-pkcs11-openssl) on a coffer
# token: keys (EC P-256, RSA-2048) made with the coffer command, `openssl
# req -engine pkcs11` signs a CSR with each that `openssl req -verify`
# accepts, and `openssl s_server -engine pkcs11` serves TLS on 127.0.0.1
# with the token key while `openssl s_client -verify_return_error` verifies
# the certificate made by `coffer cert` (and refuses another CA). MODULE is
# libcoffer.so, or libcoffer-client.so with COFFERD and INNER: then a
# cofferd started here on a Unix socket exports INNER. Prints TAP.
#
# The script runs in a private network namespace with only the loopback:
# s_server's fixed port is free there and no other host can reach it.
set -u

COFFER=${1:?usage: openssl_engine.sh COFFER MODULE [COFFERD INNER]}
MODULE=${2:?usage: openssl_engine.sh COFFER MODULE [COFFERD INNER]}
COFFERD=${3:-}
INNER=${4:-}
if [ -z "${COFFER_NETNS:-}" ]; then
	COFFER_NETNS=1
	export COFFER_NETNS
	if [ "$(id -u)" = 0 ]; then exec unshare -n "$0" "$@"; fi
	exec unshare -rn "$0" "$@"
fi
ip link set lo up || exit 1

SO_PIN=12345678
PIN=1234
LABEL=openssl
PORT=4433
ENGINE=${PKCS11_ENGINE:-/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so}

# lib.sh: scratch dir, coffer.conf (cofferd inherits COFFER_CONF), the
# ASan runtime a sanitized module needs preloaded, TAP helpers.
. "$(dirname "$0")/../lib.sh"
COFFER=$(abs_path "$COFFER")

SERV_PID=
stop_at_exit SERV_PID

# The engine finds the module through this file alone.
cat >"$SCRATCH/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $MODULE
init = 0
[req]
distinguished_name = req_dn
[req_dn]
CNF

# run PROGRAM ARGS...: bounded in time, output in $OUT; with the ASan
# runtime preloaded when the module needs it.
run() {
	timeout_asan 60 "$@" >"$OUT" 2>&1
}
# ostep DESCRIPTION PROGRAM ARGS...: a call that must succeed.
ostep() {
	desc=$1
	shift
	if run "$@"; then ok "$desc"; else not_ok "$desc (exit $?)"; fi
}
# The engine's OpenSSL: OPENSSL_CONF only here, so the plain openssl calls
# below (verification, the other CA) use no engine.
eng() {
	OPENSSL_CONF=$SCRATCH/openssl.cnf run openssl "$@"
}

tap_header
[ -n "$COFFERD" ] && start_cofferd

export COFFER_MODULE=$MODULE
ostep "coffer init-token" "$COFFER" init-token --label "$LABEL" \
	--so-pin "$SO_PIN"
ostep "coffer init-pin" "$COFFER" init-pin --so-pin "$SO_PIN" --pin "$PIN"
ostep "coffer keygen ec:P-256" "$COFFER" keygen ec:P-256 --label tls-ec \
	--id 01 --pin "$PIN"
ostep "coffer keygen rsa:2048" "$COFFER" keygen rsa:2048 --label tls-rsa \
	--id 02 --pin "$PIN"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$SCRATCH/other.key" -out "$SCRATCH/other.crt" \
	-subj "/CN=other" -days 1 >"$OUT" 2>&1 || not_ok "another CA"

# story KIND: a CSR and a TLS server with the token key tls-KIND.
story() {
	uri="pkcs11:token=$LABEL;object=tls-$1;type=private"
	eng req -engine pkcs11 -keyform engine -key "$uri;pin-value=$PIN" \
		-new -subj "/CN=$1.example" -out "$SCRATCH/$1.csr"
	if [ -s "$SCRATCH/$1.csr" ]; then
		ok "$1: openssl req -engine pkcs11 signs a CSR"
	else
		not_ok "$1: openssl req -engine pkcs11 signs a CSR"
	fi
	if openssl req -verify -noout -in "$SCRATCH/$1.csr" >"$OUT" 2>&1; then
		ok "$1: openssl req -verify accepts the CSR"
	else
		not_ok "$1: openssl req -verify accepts the CSR"
	fi
	ostep "$1: coffer cert --self-signed" "$COFFER" cert --key "$uri" \
		--self-signed --subject /CN=127.0.0.1 --san IP:127.0.0.1 \
		--days 2 --pin "$PIN"
	cp "$OUT" "$SCRATCH/$1.crt"

	: >"$SCRATCH/serv.log"
	# -www: it answers requests and never reads its stdin.
	# exec: $! is then timeout, which passes the signal on.
	(
		preload_asan
		export OPENSSL_CONF="$SCRATCH/openssl.cnf"
		exec timeout 120 openssl s_server -engine pkcs11 \
			-keyform engine -key "$uri;pin-value=$PIN" \
			-cert "$SCRATCH/$1.crt" -accept "127.0.0.1:$PORT" \
			-www </dev/null >"$SCRATCH/serv.log" 2>&1
	) &
	SERV_PID=$!
	i=0
	while [ $i -lt 2000 ] && ! grep -q "^ACCEPT" "$SCRATCH/serv.log"; do
		kill -0 "$SERV_PID" 2>/dev/null || break
		sleep 0.01
		i=$((i + 1))
	done
	cp "$SCRATCH/serv.log" "$OUT"
	listed "^ACCEPT" "$1: openssl s_server -engine pkcs11 serves the token key"

	if timeout 60 openssl s_client -connect "127.0.0.1:$PORT" \
		-verify_return_error -CAfile "$SCRATCH/$1.crt" \
		-verify_ip 127.0.0.1 </dev/null >"$OUT" 2>&1; then
		ok "$1: openssl s_client -verify_return_error connects"
	else
		not_ok "$1: openssl s_client -verify_return_error connects"
	fi
	listed "Verify return code: 0 \(ok\)" \
		"$1: s_client verifies the server's certificate"
	if timeout 60 openssl s_client -connect "127.0.0.1:$PORT" \
		-verify_return_error -CAfile "$SCRATCH/other.crt" \
		</dev/null >"$OUT" 2>&1; then
		not_ok "$1: s_client refuses the server against another CA"
	else
		ok "$1: s_client refuses the server against another CA"
	fi
	stop_pid SERV_PID
}
story ec
story rsa

finish
