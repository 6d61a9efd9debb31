#!/bin/sh
# remote_pkcs11_tool.sh CLIENT COFFERD INNER - OpenSC's pkcs11-tool and
# p11-kit through libcoffer-client.so, against a cofferd (started here)
# exporting INNER (libcoffer.so): token set-up, a key pair made and used,
# pkcs11-tool's own --test --login, and p11-kit list-modules showing the
# remote token through docs/examples/coffer-client.module. Prints TAP;
# exits non-zero when a step fails.
set -u

MODULE=${1:?usage: remote_pkcs11_tool.sh CLIENT COFFERD INNER}
COFFERD=${2:?usage: remote_pkcs11_tool.sh CLIENT COFFERD INNER}
INNER=${3:?usage: remote_pkcs11_tool.sh CLIENT COFFERD INNER}
TOOL=${PKCS11_TOOL:-pkcs11-tool}
LABEL=remote-interop
SO_PIN=12345678
PIN=1234
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# lib.sh writes coffer.conf for INNER (cofferd inherits COFFER_CONF) and
# finds the ASan runtime the client module needs preloaded.
. "$(dirname "$0")/lib.sh"

tap_header
start_cofferd

USER="--token-label $LABEL --login --pin $PIN"

step "--init-token" --init-token --label "$LABEL" --so-pin "$SO_PIN"
step "--init-pin" --token-label "$LABEL" --login --login-type so \
	--so-pin "$SO_PIN" --init-pin --pin "$PIN"
step "--list-slots" --list-slots
listed "token label +: $LABEL" "--list-slots shows the remote token"
# shellcheck disable=SC2086
step "--keypairgen EC:prime256v1" $USER --keypairgen \
	--key-type EC:prime256v1 --id 21 --label remote-ec
head -c 1000 /dev/urandom >"$SCRATCH/data"
# shellcheck disable=SC2086
step "--sign -m ECDSA-SHA256" $USER --sign --id 21 -m ECDSA-SHA256 \
	-i "$SCRATCH/data" -o "$SCRATCH/sig"
# shellcheck disable=SC2086
p11 $USER --verify --id 21 -m ECDSA-SHA256 -i "$SCRATCH/data" \
	--signature-file "$SCRATCH/sig"
listed "^Signature is valid" "--verify says valid"
# shellcheck disable=SC2086
step "--test --login (pkcs11-tool's self-test)" $USER --test

# p11-kit: the example module file, pointed at this build's client.
p11kit_modules coffer-client "$SRC/docs/examples/coffer-client.module"
p11kit_lists "$LABEL"

finish
