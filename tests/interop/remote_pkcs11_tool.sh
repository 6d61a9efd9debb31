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

# p11-kit: the example module file, pointed at this build's client, in a
# per-user module directory. p11-kit reads that directory only in programs
# that do not run as root, so as root p11-kit runs in a user namespace that
# maps an ordinary uid onto this one (the socket and files stay ours).
mkdir -p "$SCRATCH/home/.config/pkcs11/modules"
sed "s|^module:.*|module: $MODULE|" "$SRC/docs/examples/coffer-client.module" \
	>"$SCRATCH/home/.config/pkcs11/modules/coffer-client.module"
# The system's modules stay out of this run (a per-user file of the same
# name overrides theirs): the test is about ours, and p11-kit-trust
# deadlocks while loading under the preloaded ASan runtime.
for f in /usr/share/p11-kit/modules/*.module /etc/pkcs11/modules/*.module; do
	[ -e "$f" ] || continue
	printf 'enable-in: coffer-none\n' \
		>"$SCRATCH/home/.config/pkcs11/modules/$(basename "$f")"
done
run_p11kit() {
	if [ "$(id -u)" = 0 ]; then
		set -- unshare -U --map-user=1000 --map-group=1000 p11-kit "$@"
	else
		set -- p11-kit "$@"
	fi
	HOME=$SCRATCH/home XDG_CONFIG_HOME=$SCRATCH/home/.config "$@" \
		>"$OUT" 2>&1
}
run_p11kit_lb() {
	if [ "$(id -u)" = 0 ]; then
		set -- unshare -U --map-user=1000 --map-group=1000 \
			stdbuf -oL p11-kit "$@"
	else
		set -- stdbuf -oL p11-kit "$@"
	fi
	# exec: $! is then p11-kit itself (unshare and stdbuf exec too).
	HOME=$SCRATCH/home XDG_CONFIG_HOME=$SCRATCH/home/.config exec "$@" \
		>"$OUT" 2>&1
}
if [ -z "$ASAN_LIB" ]; then
	if run_p11kit list-modules; then ok "p11-kit list-modules"; else
		not_ok "p11-kit list-modules (exit $?)"; fi
else
	# p11-kit under the preloaded ASan runtime deadlocks in the dynamic
	# loader (it does so loading p11-kit-trust, without this module
	# too), here after it has printed the list and finalized the client:
	# read the list (line-buffered: it would otherwise sit in stdio's
	# buffer), then end it.
	LD_PRELOAD=$ASAN_LIB \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:verify_asan_link_order=0 \
		run_p11kit_lb list-modules &
	P11KIT_PID=$!
	i=0
	while [ $i -lt 3000 ] && kill -0 "$P11KIT_PID" 2>/dev/null &&
		! grep -q "token: $LABEL" "$OUT"; do
		sleep 0.01
		i=$((i + 1))
	done
	sleep 0.2
	kill "$P11KIT_PID" 2>/dev/null
	wait "$P11KIT_PID" 2>/dev/null
	ok "p11-kit list-modules (ASan: status not judged)"
fi
listed "^coffer-client: $MODULE" "p11-kit loads the coffer-client module"
# The token line follows the module's line.
if sed -n "/^coffer-client:/,/^[^ ]/p" "$OUT" |
	grep -Eq "token: $LABEL"; then
	ok "p11-kit list-modules shows the remote token"
else
	not_ok "p11-kit list-modules shows the remote token"
fi

finish
