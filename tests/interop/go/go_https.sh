#!/bin/sh
# go_https.sh COFFER MODULE [COFFERD INNER] - seed 000's story with Go's
# crypto11 (Debian golang-github-thalesignite-crypto11-dev, GOPATH mode,
# no network): coffer makes a P-256 and an RSA-2048 key pair and a
# self-signed certificate for each in the token; a Go HTTPS server on
# 127.0.0.1 finds key and certificate in the token by label (crypto11) and
# serves with them; a Go client that trusts only that certificate fetches
# a page and checks the certificate it was shown; so does curl. With COFFERD and INNER,
# MODULE is libcoffer-client.so and a cofferd started here on a Unix
# socket exports INNER (libcoffer.so). Prints TAP; exits non-zero when a
# step fails.
set -u

COFFER=${1:?usage: go_https.sh COFFER MODULE [COFFERD INNER]}
MODULE=${2:?usage: go_https.sh COFFER MODULE [COFFERD INNER]}
COFFERD=${3:-}
INNER=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/interop/lib.sh
. "$HERE/../lib.sh"
COFFER=$(abs_path "$COFFER")

SERVER_PID=
stop_at_exit SERVER_PID
tap_header
[ -n "$COFFERD" ] && start_cofferd

# run DESCRIPTION CMD...: one command, bounded in time (go build may take
# long on a loaded machine), that must succeed.
run() {
	desc=$1
	shift
	if timeout 150 "$@" >"$OUT" 2>&1; then ok "$desc"; else not_ok "$desc (exit $?)"; fi
}

# The coffer binary of a sanitized build carries its own ASan runtime.
export COFFER_MODULE="$MODULE"
init_coffer_token web
for k in ec rsa; do
	case $k in ec) type=ec:P-256 ;; rsa) type=rsa:2048 ;; esac
	run "$k: coffer keygen $type" "$COFFER" keygen "$type" \
		--label "tls-$k" --pin-source "file:$SCRATCH/pin"
	run "$k: coffer cert --self-signed --write" "$COFFER" cert \
		--key "pkcs11:object=tls-$k" --self-signed --subject /CN=localhost \
		--san DNS:localhost,IP:127.0.0.1 --ext-key-usage serverAuth \
		--days 2 --write --pin-source "file:$SCRATCH/pin" \
		--out "$SCRATCH/$k.pem"
done

# Go in GOPATH mode with Debian's packaged sources only: no module proxy,
# no network, the build cache in the scratch dir.
export GO111MODULE=off GOPROXY=off GOFLAGS='' GOENV=off CGO_ENABLED=1
export GOPATH="$HERE:/usr/share/gocode" GOCACHE="$SCRATCH/gocache"
t0=$(date +%s)
run "go build the crypto11 HTTPS server" go build -o "$SCRATCH/server" \
	cofferhttps/server
run "go build the HTTPS client" go build -o "$SCRATCH/client" \
	cofferhttps/client
echo "# go build took $(($(date +%s) - t0)) s"

for k in ec rsa; do
	rm -f "$SCRATCH/addr"
	# The server loads the module: the ASan runtime is preloaded for a
	# sanitized one. exec: $! is then the server itself.
	(
		preload_asan
		exec "$SCRATCH/server" -module "$MODULE" -token web \
			-pin-file "$SCRATCH/pin" -label "tls-$k" \
			-addr-file "$SCRATCH/addr" >"$SCRATCH/server.log" 2>&1
	) &
	SERVER_PID=$!
	i=0
	while [ ! -s "$SCRATCH/addr" ] && [ $i -lt 3000 ] &&
		kill -0 "$SERVER_PID" 2>/dev/null; do
		sleep 0.01
		i=$((i + 1))
	done
	cp "$SCRATCH/server.log" "$OUT"
	if [ -s "$SCRATCH/addr" ]; then
		addr=$(cat "$SCRATCH/addr")
		ok "$k: the Go server listens on $addr"
	else
		not_ok "$k: the Go server listens"
		continue
	fi
	run "$k: the Go client fetches the page and verifies the certificate" \
		"$SCRATCH/client" -ca "$SCRATCH/$k.pem" -name localhost \
		-addr "$addr"
	listed "^hello from a key in token web" "$k: the page came from the server"
	echo "# $(head -n 1 "$OUT")"
	port=${addr##*:}
	run "$k: curl fetches the page, verifying the certificate" curl -sS \
		--max-time 30 --cacert "$SCRATCH/$k.pem" \
		--resolve "localhost:$port:127.0.0.1" "https://localhost:$port/"
	listed "^hello from a key in token web" "$k: curl got the page"
	case $k in ec) other=rsa ;; rsa) other=ec ;; esac
	if timeout 60 "$SCRATCH/client" -ca "$SCRATCH/$other.pem" \
		-name localhost -addr "$addr" >"$OUT" 2>&1; then
		not_ok "$k: a client that trusts another certificate refuses (it did not)"
	else
		listed "certificate signed by unknown authority" \
			"$k: a client that trusts another certificate refuses"
	fi
	stop_pid SERVER_PID
done

finish
