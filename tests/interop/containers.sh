#!/bin/sh
# containers.sh CLIENT COFFERD INNER - the users' container layout
# (docs/containers.md) without a container runtime: cofferd owns the token
# directory; each client runs as its own unprivileged uid in a mount
# namespace of its own where the token directory is an empty tmpfs (the
# token's volume is not mounted there) and the socket's directory is a
# read-only bind mount (the shared volume). The allowed uid lists the
# token, signs with a key it cannot read, and the signature verifies with
# the public key exported on the token's side; another uid reaching the
# same socket is refused with a clear message and an audit line. Needs
# root (unshare, mount, setpriv). Prints TAP; exits non-zero when a check
# fails.
set -u

usage='usage: containers.sh CLIENT COFFERD INNER'
MODULE=${1:?$usage}
COFFERD=${2:?$usage}
INNER=${3:?$usage}
TOOL=${PKCS11_TOOL:-pkcs11-tool}
LABEL=shared
SO_PIN=12345678
PIN=1234
APP_UID=4001 # allowed
OTHER_UID=4002 # reaches the socket, not on the allow-list
GID=4000

. "$(dirname "$0")/lib.sh"

echo "TAP version 13"
echo "# client module $MODULE, cofferd exporting $INNER"
if [ "$(id -u)" != 0 ]; then
	echo "containers.sh runs as root (unshare, mount, setpriv)" >"$OUT"
	not_ok "running as root"
	echo "1..$n"
	exit 1
fi

TOKENS=$SCRATCH/tokens
RUN=$SCRATCH/run
SOCK=$RUN/cofferd.sock
# The clients' uids must reach the socket's directory and their module,
# wherever the build tree is.
chmod 711 "$SCRATCH"
mkdir -m 755 "$RUN" "$SCRATCH/lib" "$SCRATCH/app"
cp "$MODULE" "$SCRATCH/lib/libcoffer-client.so"
chmod 755 "$SCRATCH/lib/libcoffer-client.so"
CLIENT=$SCRATCH/lib/libcoffer-client.so

# The token side: a token and a key pair made with the token's own module.
INNER=$(abs_path "$INNER")
MODULE_SAVED=$MODULE
MODULE=$INNER
step "token side: --init-token" --init-token --label "$LABEL" \
	--so-pin "$SO_PIN"
step "token side: --init-pin" --token-label "$LABEL" --login \
	--login-type so --so-pin "$SO_PIN" --init-pin --pin "$PIN"
step "token side: EC key pair" --token-label "$LABEL" --login --pin "$PIN" \
	--keypairgen --key-type EC:prime256v1 --id 42 --label app-key
step "token side: public key out" --token-label "$LABEL" --read-object \
	--type pubkey --id 42 -o "$SCRATCH/app-key.der"
MODULE=$MODULE_SAVED

cat >"$SCRATCH/cofferd.conf" <<EOF
socket_group = $GID
socket_mode = 0660
allow_uid = $APP_UID
EOF
start_cofferd --config "$SCRATCH/cofferd.conf" --log-level info

# in_client UID CMD...: CMD as UID (group GID, no other groups) in a
# mount namespace where the token directory is an empty tmpfs and the
# socket's directory is read-only; output in $OUT.
in_client() {
	uid=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout_asan 60 unshare --mount --propagation private sh -c '
		tokens=$1 run=$2 uid=$3 gid=$4
		shift 4
		mount -t tmpfs -o mode=0755 tmpfs "$tokens" &&
			mount --bind "$run" "$run" &&
			mount -o remount,bind,ro "$run" || exit 99
		cd / && exec setpriv --reuid "$uid" --regid "$gid" \
			--clear-groups "$@"' \
		sh "$TOKENS" "$RUN" "$uid" "$GID" \
		env HOME=/nonexistent COFFER_SERVER="unix:$SOCK" \
		"$@" >"$OUT" 2>&1
}

# shellcheck disable=SC2016 # expanded by the client's shell
in_client "$APP_UID" sh -c 'echo "files: $(ls -A "$1")"; touch "$2/x"' \
	sh "$TOKENS" "$RUN"
if grep -qx "files: " "$OUT" && grep -q "Read-only file system" "$OUT"; then
	ok "a client sees no token files and cannot write the socket's volume"
else
	not_ok "a client sees no token files and cannot write the socket's volume"
fi

if in_client "$APP_UID" "$TOOL" --module "$CLIENT" --list-token-slots &&
	grep -q "token label *: *$LABEL" "$OUT"; then
	ok "the allowed uid lists the token through the read-only socket"
else
	not_ok "the allowed uid lists the token through the read-only socket"
fi

printf 'signed in another container\n' >"$SCRATCH/app/data"
chmod 644 "$SCRATCH/app/data"
chmod 777 "$SCRATCH/app"
if in_client "$APP_UID" "$TOOL" --module "$CLIENT" --token-label "$LABEL" \
	--login --pin "$PIN" --sign --mechanism ECDSA-SHA256 --id 42 \
	--signature-format openssl -i "$SCRATCH/app/data" \
	-o "$SCRATCH/app/sig"; then
	ok "the allowed uid signs with the token's key"
else
	not_ok "the allowed uid signs with the token's key"
fi
if openssl dgst -sha256 -verify "$SCRATCH/app-key.der" -keyform DER \
	-signature "$SCRATCH/app/sig" "$SCRATCH/app/data" >"$OUT" 2>&1; then
	ok "the signature verifies with the public key from the token's side"
else
	not_ok "the signature verifies with the public key from the token's side"
fi

if in_client "$OTHER_UID" "$TOOL" --module "$CLIENT" --list-token-slots &&
	grep -q "token label *: *$LABEL" "$OUT"; then
	not_ok "a uid not on the allow-list is refused"
else
	ok "a uid not on the allow-list is refused"
fi
if grep -q "the server refused the connection: access denied" "$OUT"; then
	ok "the refused client says why"
else
	not_ok "the refused client says why"
fi

# Audit lines come after the replies: give the last ones a moment.
i=0
while [ $i -lt 300 ] && ! grep -q "uid=$OTHER_UID.*refused" \
	"$SCRATCH/cofferd.log"; do
	sleep 0.01
	i=$((i + 1))
done
cp "$SCRATCH/cofferd.log" "$OUT"
if grep -q "audit conn=[0-9]* uid=$APP_UID .*C_SignInit .*id=42" \
	"$OUT" && grep -q "audit conn=[0-9]* uid=$OTHER_UID .*refused" "$OUT"; then
	ok "cofferd's audit log names both uids: the signature and the refusal"
else
	not_ok "cofferd's audit log names both uids: the signature and the refusal"
fi

finish
