#!/bin/sh
# ssh_login.sh COFFER MODULE [COFFERD INNER] - OpenSSH with keys in the
# token: coffer makes an RSA-2048 and an ECDSA P-256 key pair; ssh-keygen -D
# prints their public keys; a throwaway sshd on 127.0.0.1 (own host key
# and config in the scratch dir) that authorizes them accepts a login with
# each key through ssh -I MODULE, the PIN given by an SSH_ASKPASS program;
# a wrong PIN gets no login. With COFFERD and INNER, MODULE is
# libcoffer-client.so and a cofferd started here on a Unix socket exports
# INNER (libcoffer.so). Prints TAP; exits non-zero when a step fails.
set -u

COFFER=${1:?usage: ssh_login.sh COFFER MODULE [COFFERD INNER]}
MODULE=${2:?usage: ssh_login.sh COFFER MODULE [COFFERD INNER]}
COFFERD=${3:-}
INNER=${4:-}
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=tests/interop/lib.sh
. "$HERE/../lib.sh"
COFFER=$(abs_path "$COFFER")

SSHD_PID=
stop_at_exit SSHD_PID
tap_header
[ -n "$COFFERD" ] && start_cofferd

# run DESCRIPTION CMD...: tool_step (OpenSSH's programs get the ASan
# runtime preloaded).
run() {
	tool_step "$@"
}

export COFFER_MODULE="$MODULE"
init_coffer_token ssh
run "coffer keygen rsa:2048" "$COFFER" keygen rsa:2048 --label ssh-rsa \
	--id 01 --pin-source "file:$SCRATCH/pin"
run "coffer keygen ec:P-256" "$COFFER" keygen ec:P-256 --label ssh-ec \
	--id 02 --pin-source "file:$SCRATCH/pin"

# OpenSSH reads the public key objects without a login and names each key
# by its label.
run "ssh-keygen -D prints the token's public keys" ssh-keygen -D "$MODULE"
listed "^ssh-rsa AAAA[^ ]+ ssh-rsa$" "ssh-keygen -D shows the RSA key"
listed "^ecdsa-sha2-nistp256 AAAA[^ ]+ ssh-ec$" "ssh-keygen -D shows the EC key"
cp "$OUT" "$SCRATCH/authorized_keys"
grep "^ssh-rsa " "$OUT" >"$SCRATCH/rsa.pub"
grep "^ecdsa-sha2-nistp256 " "$OUT" >"$SCRATCH/ec.pub"

# The throwaway sshd: its own host key and config, on a free port of
# 127.0.0.1, in the foreground, logging to a file. As root it needs the
# privilege separation directory, which Debian makes only at boot.
USER_NAME=$(id -un)
[ "$(id -u)" = 0 ] && mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -C sshd-host -f "$SCRATCH/host_key"
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
tries=0
while [ $tries -lt 5 ]; do
	PORT=$(free_port)
	cat >"$SCRATCH/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $SCRATCH/host_key
PidFile $SCRATCH/sshd.pid
AuthorizedKeysFile $SCRATCH/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers $USER_NAME
CONF
	/usr/sbin/sshd -D -e -f "$SCRATCH/sshd_config" 2>"$SCRATCH/sshd.log" &
	SSHD_PID=$!
	i=0
	while [ $i -lt 1000 ] && kill -0 "$SSHD_PID" 2>/dev/null &&
		! grep -q "^Server listening" "$SCRATCH/sshd.log"; do
		sleep 0.01
		i=$((i + 1))
	done
	grep -q "^Server listening" "$SCRATCH/sshd.log" && break
	# Another process took the port between the probe and the bind.
	stop_pid SSHD_PID
	tries=$((tries + 1))
done
cp "$SCRATCH/sshd.log" "$OUT"
if [ -n "$SSHD_PID" ]; then ok "sshd listens on 127.0.0.1:$PORT"; else
	not_ok "sshd listens on 127.0.0.1"
	echo "1..$n"
	exit 1
fi

# ssh asks for the token's PIN through SSH_ASKPASS (forced: there is no
# terminal). IdentitiesOnly with -i KEY.pub picks that one token key.
printf '#!/bin/sh\ncat %s\n' "$SCRATCH/pin" >"$SCRATCH/askpass"
printf '#!/bin/sh\necho 9999\n' >"$SCRATCH/askpass-wrong"
chmod +x "$SCRATCH/askpass" "$SCRATCH/askpass-wrong"
# ssh_to ASKPASS KEY.pub: ssh with that token key runs a command on the
# server; output in $OUT.
ssh_to() {
	askpass=$1
	# shellcheck disable=SC2016 # $(id -un) runs on the server
	set -- ssh -F /dev/null -I "$MODULE" -i "$2" \
		-o IdentitiesOnly=yes -o IdentityAgent=none -p "$PORT" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
		-o ConnectTimeout=20 -o LogLevel=ERROR \
		"$USER_NAME@127.0.0.1" 'echo logged in as $(id -un)'
	SSH_ASKPASS=$askpass SSH_ASKPASS_REQUIRE=force DISPLAY='' \
		timeout_asan 60 "$@" </dev/null >"$OUT" 2>&1
}
# ssh takes -i FILE for a private key file first: private modes keep it
# from warning about the public one.
chmod 600 "$SCRATCH/rsa.pub" "$SCRATCH/ec.pub"
for k in rsa ec; do
	if ssh_to "$SCRATCH/askpass" "$SCRATCH/$k.pub"; then
		ok "$k: ssh -I logs in with the token key"
	else
		not_ok "$k: ssh -I logs in with the token key (exit $?)"
	fi
	listed "^logged in as $USER_NAME$" "$k: the command ran on the server"
	cp "$SCRATCH/sshd.log" "$OUT"
	case $k in rsa) t=RSA ;; ec) t=ECDSA ;; esac
	listed "Accepted publickey for $USER_NAME .* $t SHA256:" \
		"$k: sshd accepted the $t key"
done
# Last: a wrong PIN counts towards the token's lockout.
if ssh_to "$SCRATCH/askpass-wrong" "$SCRATCH/ec.pub"; then
	not_ok "a wrong PIN gets no login (it logged in)"
else
	listed "PIN incorrect" "a wrong PIN gets no login"
fi

finish
