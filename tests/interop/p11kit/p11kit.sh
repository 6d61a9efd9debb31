#!/bin/sh
# p11kit.sh COFFER MODULE [COFFERD INNER] - p11-kit with the module: a
# .module file in a per-user p11-kit config (docs/examples/coffer-client.
# module for the client, a coffer.module for libcoffer.so) and
# `p11-kit list-modules` showing the module and its token; then
# `p11-kit server` exporting MODULE, used through p11-kit-client.so by
# pkcs11-tool: the token listed, a signature made with a token key that
# openssl verifies. With COFFERD and INNER, MODULE is libcoffer-client.so
# and a cofferd started here on a Unix socket exports INNER (libcoffer.so).
# Prints TAP; exits non-zero when a step fails.
set -u

COFFER=${1:?usage: p11kit.sh COFFER MODULE [COFFERD INNER]}
MODULE=${2:?usage: p11kit.sh COFFER MODULE [COFFERD INNER]}
COFFERD=${3:-}
INNER=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
P11KIT_CLIENT=${P11KIT_CLIENT:-$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/pkcs11)/p11-kit-client.so}

# shellcheck source=tests/interop/lib.sh
. "$HERE/../lib.sh"
COFFER=$(abs_path "$COFFER")

SERVER_PID=
stop_at_exit SERVER_PID
tap_header
[ -n "$COFFERD" ] && start_cofferd

# run DESCRIPTION CMD...: one command, bounded in time, that must succeed.
run() {
	desc=$1
	shift
	if timeout 60 "$@" </dev/null >"$OUT" 2>&1; then ok "$desc"; else
		not_ok "$desc (exit $?)"; fi
}

export COFFER_MODULE="$MODULE"
init_coffer_token kit
run "coffer keygen ec:P-256" "$COFFER" keygen ec:P-256 --label kit-ec \
	--id 01 --pin-source "file:$SCRATCH/pin"
run "coffer keygen rsa:2048" "$COFFER" keygen rsa:2048 --label kit-rsa \
	--id 02 --pin-source "file:$SCRATCH/pin"
for k in ec rsa; do
	run "coffer export the $k public key" "$COFFER" export \
		"pkcs11:object=kit-$k;type=public" --out "$SCRATCH/$k.pub.pem"
done

if [ -n "$COFFERD" ]; then
	p11kit_modules coffer-client "$SRC/docs/examples/coffer-client.module"
else
	p11kit_modules coffer
fi
p11kit_lists kit

# p11-kit server exporting MODULE's token on a Unix socket, in the
# foreground (its PID is ours to stop); -s prints the address to use.
SOCK=$SCRATCH/p11-kit.sock
# exec: $! is then the server itself (p11-kit execs p11-kit-server).
(
	preload_asan verify_asan_link_order=0
	exec p11-kit server -f -s -n "$SOCK" --provider "$MODULE" \
		"pkcs11:token=kit" >"$SCRATCH/server.out" 2>"$SCRATCH/server.log"
) &
SERVER_PID=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 1000 ] && kill -0 "$SERVER_PID" 2>/dev/null; do
	sleep 0.01
	i=$((i + 1))
done
cat "$SCRATCH/server.out" "$SCRATCH/server.log" >"$OUT"
if [ -S "$SOCK" ]; then ok "p11-kit server listens on $SOCK"; else
	not_ok "p11-kit server listens"
fi
listed "^P11_KIT_SERVER_ADDRESS=unix:path=$SOCK;" "p11-kit server prints its address"

# pkcs11-tool through p11-kit-client.so: the client module is p11-kit's,
# not ours, so nothing is preloaded.
export P11_KIT_SERVER_ADDRESS="unix:path=$SOCK"
kit_tool() {
	timeout 60 pkcs11-tool --module "$P11KIT_CLIENT" "$@" </dev/null \
		>"$OUT" 2>&1
}
if kit_tool -L; then ok "pkcs11-tool -L through p11-kit-client.so"; else
	not_ok "pkcs11-tool -L through p11-kit-client.so (exit $?)"; fi
listed "token label +: kit" "the exported token is listed"
# p11-kit 0.24's RPC passes only the mechanisms it knows how to encode
# (CKM_ECDSA but not CKM_ECDSA_SHA256, no PSS): CKM_ECDSA signs the
# SHA-256 digest, which openssl dgst verifies against the data.
head -c 1000 /dev/urandom >"$SCRATCH/data"
openssl dgst -sha256 -binary "$SCRATCH/data" >"$SCRATCH/data.sha256"
for k in ec rsa; do
	case $k in
	ec) set -- --id 01 -m ECDSA --signature-format openssl \
		-i "$SCRATCH/data.sha256" ;;
	rsa) set -- --id 02 -m SHA256-RSA-PKCS -i "$SCRATCH/data" ;;
	esac
	if kit_tool --token-label kit --login --pin 1234 --sign "$@" \
		-o "$SCRATCH/$k.sig"; then
		ok "$k: pkcs11-tool --sign $4 through p11-kit-client.so"
	else
		not_ok "$k: pkcs11-tool --sign $4 through p11-kit-client.so (exit $?)"
	fi
	run "$k: openssl verifies the signature" openssl dgst -sha256 \
		-verify "$SCRATCH/$k.pub.pem" -signature "$SCRATCH/$k.sig" \
		"$SCRATCH/data"
done
if kit_tool --token-label kit --login --pin 9999 --sign --id 01 \
	-m ECDSA -i "$SCRATCH/data.sha256" -o "$SCRATCH/sig2"; then
	not_ok "a wrong PIN is refused through p11-kit-client.so (it signed)"
else
	listed "CKR_PIN_INCORRECT" "a wrong PIN is refused through p11-kit-client.so"
fi

stop_pid SERVER_PID
[ "$failed" -eq 0 ] || show_log "p11-kit server's log" "$SCRATCH/server.log"
finish
