#!/bin/sh
# demo.sh BUILDDIR - what `make demo` shows: the users' story (seeds 000,
# 001 and 004) from start to finish with this build. A token is made in a
# scratch directory with the coffer command, its EC key gets a self-signed
# certificate for localhost, cofferd shares the token over a Unix socket,
# openssl s_server serves HTTPS with the key through libcoffer-client.so
# (libp11's engine), curl fetches a page and verifies the certificate, and
# cofferd's audit log tells what happened. Every process it starts is
# stopped by its PID, also when a step fails; the scratch directory is
# removed at the end.
set -u

BUILD=${1:?usage: demo.sh BUILDDIR}
case $BUILD in
/*) ;;
*) BUILD=$(pwd)/$BUILD ;;
esac
COFFER=$BUILD/src/cli/coffer
COFFERD=$BUILD/src/server/cofferd
MODULE=$BUILD/src/token/libcoffer.so
CLIENT=$BUILD/src/client/libcoffer-client.so
SO_PIN=12345678
PIN=1234

if [ -t 1 ]; then
	BOLD=$(printf '\033[1m')
	PLAIN=$(printf '\033[0m')
else
	BOLD=
	PLAIN=
fi

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/coffer-demo-XXXXXX") || exit 1
COFFERD_PID=
SERVER_PID=
# stop PID: ends one process this script started and reaps it.
stop() {
	if [ -n "$1" ]; then
		kill "$1" 2>/dev/null
		wait "$1" 2>/dev/null
	fi
}
cleanup() {
	stop "$SERVER_PID"
	SERVER_PID=
	stop "$COFFERD_PID"
	COFFERD_PID=
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

step=0
heading() {
	step=$((step + 1))
	printf '\n%s== %d. %s ==%s\n' "$BOLD" "$step" "$1" "$PLAIN"
}

# Paths are shown relative to the scratch directory ($DEMO) and the build.
show() {
	sed -e "s|$SCRATCH|\$DEMO|g" -e "s|$BUILD/|\$BUILD/|g"
}

fail() {
	printf '\ndemo FAILED at step %d: %s\n' "$step" "$1" >&2
	exit 1
}

# quote ARG...: the command as one would type it (single quotes around
# arguments the shell would split or act on).
quote() {
	line=
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9_./:,=@%+-]*) a="'$a'" ;;
		esac
		line="$line${line:+ }$a"
	done
	printf '$ %s\n' "$line" | show
}

# run CMD...: shows the command, runs it, stops the demo if it fails.
run() {
	quote "$@"
	if ! "$@" >"$SCRATCH/out" 2>&1; then
		show <"$SCRATCH/out"
		fail "$*"
	fi
	show <"$SCRATCH/out"
}

for f in "$COFFER" "$COFFERD" "$MODULE" "$CLIENT"; do
	[ -f "$f" ] || { echo "demo: $f is missing; run 'make' first" >&2; exit 1; }
done
for t in openssl curl; do
	command -v "$t" >/dev/null ||
		{ echo "demo: $t is missing; run 'make deps'" >&2; exit 1; }
done
ENGINE=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')/pkcs11.so
[ -f "$ENGINE" ] || { echo "demo: $ENGINE is missing (Debian:" \
	"libengine-pkcs11-openssl); run 'make deps'" >&2; exit 1; }
echo "\$BUILD is $BUILD; \$DEMO is a scratch directory, removed at the end"

heading "A scratch token store, every other setting built in"
# COFFER_CONF names the one config file libcoffer.so reads; this one sets
# only where tokens live (docs/configuration.md lists the rest).
printf 'token_dir = %s/tokens\n' "$SCRATCH" >"$SCRATCH/coffer.conf"
export COFFER_CONF="$SCRATCH/coffer.conf"
export COFFER_MODULE="$MODULE"
echo "COFFER_CONF=\$DEMO/coffer.conf:"
sed 's/^/    /' "$SCRATCH/coffer.conf" | show
echo "COFFER_MODULE=\$BUILD/src/token/libcoffer.so (the coffer command's module)"

heading "Create a token and set its PINs"
run "$COFFER" init-token --label demo --so-pin "$SO_PIN"
run "$COFFER" init-pin --token demo --so-pin "$SO_PIN" --pin "$PIN"
run "$COFFER" tokens

heading "Make an EC P-256 key pair in the token"
run "$COFFER" keygen ec:P-256 --label web --id 01 --pin "$PIN"

heading "A self-signed certificate for localhost, signed in the token"
run "$COFFER" cert --key "pkcs11:token=demo;object=web" --self-signed \
	--subject /CN=localhost --san DNS:localhost,IP:127.0.0.1 \
	--ext-key-usage serverAuth --days 30 --write --pin "$PIN" \
	--out "$SCRATCH/cert.pem"
run openssl x509 -in "$SCRATCH/cert.pem" -noout -subject \
	-ext subjectAltName -fingerprint -sha256
run "$COFFER" objects --pin "$PIN"

heading "Share the token: cofferd on a Unix socket"
SOCK=$SCRATCH/cofferd.sock
printf '$ %s &\n' "$COFFERD --module $MODULE --listen unix:$SOCK --log-level info 2>cofferd.log" | show
"$COFFERD" --module "$MODULE" --listen "unix:$SOCK" --log-level info \
	2>"$SCRATCH/cofferd.log" &
COFFERD_PID=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 500 ]; do
	kill -0 "$COFFERD_PID" 2>/dev/null || break
	sleep 0.02
	i=$((i + 1))
done
if [ ! -S "$SOCK" ]; then
	show <"$SCRATCH/cofferd.log"
	fail "cofferd did not start"
fi
echo "cofferd runs as PID $COFFERD_PID"
# Applications load libcoffer-client.so; it finds cofferd here.
export COFFER_SERVER="unix:$SOCK"
echo "COFFER_SERVER=unix:\$DEMO/cofferd.sock (where libcoffer-client.so finds cofferd)"
echo "the same token, seen through cofferd:"
run "$COFFER" tokens --module "$CLIENT"

heading "Serve HTTPS from the token key: openssl s_server through libcoffer-client.so"
# OpenSSL loads libp11's engine, and the engine the module, as this
# config file says.
cat >"$SCRATCH/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $CLIENT
init = 0
EOF
echo "OPENSSL_CONF=\$DEMO/openssl.cnf:"
sed 's/^/    /' "$SCRATCH/openssl.cnf" | show
export OPENSSL_CONF="$SCRATCH/openssl.cnf"
KEY="pkcs11:token=demo;object=web;type=private;pin-value=$PIN"
# A free port on 127.0.0.1: the kernel picks one; s_server may still lose
# it to another program in between, so a few tries.
tries=0
PORT=
while [ $tries -lt 5 ] && [ -z "$PORT" ]; do
	tries=$((tries + 1))
	p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	[ $tries -eq 1 ] && printf '$ %s &\n' "openssl s_server -engine pkcs11 -keyform engine -key '$KEY' -cert cert.pem -accept 127.0.0.1:$p -www" | show
	openssl s_server -engine pkcs11 -keyform engine -key "$KEY" \
		-cert "$SCRATCH/cert.pem" -accept "127.0.0.1:$p" -www \
		</dev/null >"$SCRATCH/s_server.log" 2>&1 &
	SERVER_PID=$!
	i=0
	while [ $i -lt 500 ]; do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		if grep -q '^ACCEPT' "$SCRATCH/s_server.log"; then
			PORT=$p
			break
		fi
		sleep 0.02
		i=$((i + 1))
	done
	if [ -z "$PORT" ]; then
		stop "$SERVER_PID"
		SERVER_PID=
		# Only a lost port is worth another try.
		grep -qi 'in use' "$SCRATCH/s_server.log" || break
	fi
done
if [ -z "$PORT" ]; then
	show <"$SCRATCH/s_server.log"
	fail "openssl s_server did not start"
fi
echo "s_server runs as PID $SERVER_PID on 127.0.0.1:$PORT; its key never left the token"

heading "Fetch a page with curl, verifying the certificate"
run curl -sS --max-time 10 --cacert "$SCRATCH/cert.pem" \
	-o "$SCRATCH/page.html" \
	-w 'HTTP %{http_code}, certificate verify result %{ssl_verify_result} (0: verified)\n' \
	"https://localhost:$PORT/"
echo "the page s_server sent (first lines):"
grep -E '^New,|^ *(Protocol|Cipher) *:' "$SCRATCH/page.html" |
	head -n 3 | sed 's/^/    /'

heading "What cofferd saw: its audit log"
run grep audit "$SCRATCH/cofferd.log"
echo "(one line per connection: coffer tokens, then openssl s_server, PID $SERVER_PID:"
echo " its login and the key use of the TLS handshake, key id 01; never a PIN or a key)"

heading "Stop everything"
printf '$ kill %s   # openssl s_server\n' "$SERVER_PID"
stop "$SERVER_PID"
printf '$ kill %s   # cofferd\n' "$COFFERD_PID"
stop "$COFFERD_PID"
for p in $SERVER_PID $COFFERD_PID; do
	kill -0 "$p" 2>/dev/null && fail "process $p still runs"
done
SERVER_PID=
COFFERD_PID=
[ -e "$SOCK" ] && fail "cofferd left its socket behind"
echo "nothing left running; cofferd removed its socket"

printf '\n%s== What to try next ==%s\n' "$BOLD" "$PLAIN"
cat <<'EOF'
- README.md, "The coffer command": keys, CSRs and certificates in a token
  of your own (tokens live in ~/.local/share/coffer/tokens by default):
    export COFFER_MODULE=build/src/token/libcoffer.so
    build/src/cli/coffer init-token --label mine      # asks for an SO PIN
    build/src/cli/coffer init-pin --token mine        # and the user PIN
    build/src/cli/coffer keygen rsa:3072 --token mine --label mail
    man docs/man/coffer.1
- README.md, "Sharing the token": the same through cofferd, here with
  pkcs11-tool:
    build/src/server/cofferd --module build/src/token/libcoffer.so --listen unix:$PWD/coffer.sock &
    COFFER_SERVER=unix:$PWD/coffer.sock pkcs11-tool --module build/src/client/libcoffer-client.so -L
  over mutual TLS to other hosts: docs/cofferd.md, docs/client.md
- README.md, "Tracing calls": every PKCS#11 call an application makes,
  decoded, with libcoffer-spy.so (docs/spy.md)
- make install: the modules where p11-kit and pkcs11-tool find them
  (pkcs11-tool --module libcoffer.so -L), coffer, cofferd and its unit
- make check: every test (unit, PKCS#11 API, crash, interop)
EOF
echo
echo "demo finished; its scratch directory goes away now"
