#!/bin/sh
# remote_tls.sh CLIENT COFFERD INNER - libcoffer-client.so over mutual TLS
# 1.3 to a cofferd (started here) listening on 127.0.0.1 and exporting
# INNER: a throwaway PKI made with openssl, pkcs11-tool through the client
# (token set-up, key pair, sign and verify, --test --login), and the
# refusals: a client certificate from another CA, and a server whose
# certificate the client's CA did not sign. Prints TAP.
set -u

MODULE=${1:?usage: remote_tls.sh CLIENT COFFERD INNER}
COFFERD=${2:?usage: remote_tls.sh CLIENT COFFERD INNER}
INNER=${3:?usage: remote_tls.sh CLIENT COFFERD INNER}
TOOL=${PKCS11_TOOL:-pkcs11-tool}
LABEL=remote-tls
SO_PIN=12345678
PIN=1234

. "$(dirname "$0")/lib.sh"
COFFERD=$(abs_path "$COFFERD")
INNER=$(abs_path "$INNER")

tap_header
P=$SCRATCH/pki
mkdir "$P"

# cert NAME CA: an EC P-256 key and a certificate for 127.0.0.1 signed by
# CA (made self-signed first when NAME is CA).
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$P/$1.key" -out "$P/$1.crt" -subj "/CN=$1" -days 1 \
		>"$OUT" 2>&1
}
cert() {
	printf 'subjectAltName=IP:127.0.0.1\n' >"$P/ext" &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$1" \
			>"$OUT" 2>&1 &&
		openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" \
			-CAkey "$P/$2.key" -CAcreateserial -out "$P/$1.crt" \
			-days 1 -extfile "$P/ext" >"$OUT" 2>&1
}
if ca ca && ca other-ca && cert server ca && cert client ca &&
	cert stranger other-ca && cert impostor other-ca; then
	ok "throwaway PKI"
else
	not_ok "throwaway PKI"
fi

# cofferd on a port of 127.0.0.1 that is free: it exits when bind fails.
start() { # start SERVER-NAME
	port=$((20000 + ($$ + $2) % 20000))
	: >"$SCRATCH/cofferd.log"
	"$COFFERD" --module "$INNER" --listen "tls://127.0.0.1:$port" \
		--tls-cert "$P/$1.crt" --tls-key "$P/$1.key" \
		--tls-ca "$P/ca.crt" --log-level info 2>"$SCRATCH/cofferd.log" &
	COFFERD_PID=$!
	i=0
	while [ $i -lt 1000 ]; do
		grep -q "ready" "$SCRATCH/cofferd.log" && return 0
		kill -0 "$COFFERD_PID" 2>/dev/null || break
		sleep 0.01
		i=$((i + 1))
	done
	wait "$COFFERD_PID" 2>/dev/null
	COFFERD_PID=
	return 1
}
started=false
for try in 1 2 3 4 5; do
	if start server "$try"; then
		started=true
		break
	fi
done
if $started; then ok "cofferd listens on tls://127.0.0.1:$port"; else
	cp "$SCRATCH/cofferd.log" "$OUT"
	not_ok "cofferd listens on tls://127.0.0.1:$port"
fi

export COFFER_SERVER="tls://127.0.0.1:$port"
export COFFER_CLIENT_CA="$P/ca.crt"
export COFFER_CONNECT_TIMEOUT_MS=5000
as() { # as NAME: the client presents NAME's certificate
	export COFFER_CLIENT_CERT="$P/$1.crt" COFFER_CLIENT_KEY="$P/$1.key"
}

as client
USER="--token-label $LABEL --login --pin $PIN"
step "--init-token over TLS" --init-token --label "$LABEL" --so-pin "$SO_PIN"
step "--init-pin over TLS" --token-label "$LABEL" --login --login-type so \
	--so-pin "$SO_PIN" --init-pin --pin "$PIN"
# shellcheck disable=SC2086
step "--keypairgen EC:prime256v1 over TLS" $USER --keypairgen \
	--key-type EC:prime256v1 --id 31 --label tls-ec
head -c 1000 /dev/urandom >"$SCRATCH/data"
# shellcheck disable=SC2086
step "--sign over TLS" $USER --sign --id 31 -m ECDSA-SHA256 \
	-i "$SCRATCH/data" -o "$SCRATCH/sig"
# shellcheck disable=SC2086
p11 $USER --verify --id 31 -m ECDSA-SHA256 -i "$SCRATCH/data" \
	--signature-file "$SCRATCH/sig"
listed "^Signature is valid" "--verify over TLS says valid"
# shellcheck disable=SC2086
step "--test --login over TLS" $USER --test
cp "$SCRATCH/cofferd.log" "$OUT"
listed "subject=\"CN=client\"" "cofferd's audit names the client certificate"

# A certificate from another CA: the handshake fails, so does the call.
as stranger
step_fails "a client certificate from an untrusted CA is refused" \
	--list-token-slots
stop_cofferd

# The server presents a certificate the client's CA did not sign.
as client
started=false
for try in 6 7 8 9 10; do
	if start impostor "$try"; then
		started=true
		break
	fi
done
if $started; then ok "impostor cofferd listens"; else not_ok "impostor cofferd listens"; fi
export COFFER_SERVER="tls://127.0.0.1:$port"
step_fails "a server certificate from an untrusted CA is refused" \
	--list-token-slots
stop_cofferd

finish
