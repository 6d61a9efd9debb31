# lib.sh - shared by the interop scripts: absolute module path, a scratch
# token directory with the module's config (softhsm2.conf for a path
# containing "softhsm", coffer.conf otherwise), the ASan preload for a
# sanitized module, TAP helpers, and cofferd started on a Unix socket and
# every process stopped by its PID. Source it after setting MODULE (and
# COFFERD and INNER for start_cofferd).
case $MODULE in
/*) ;;
*) MODULE=$(pwd)/$MODULE ;;
esac

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/coffer-interop-XXXXXX") || exit 1
# Processes started here: their PIDs are in COFFERD_PID and in the
# variables named by stop_at_exit, and they are stopped at exit whatever
# the way out.
COFFERD_PID=
STOP_VARS=
trap 'stop_all; rm -rf "$SCRATCH"' EXIT
trap 'exit 1' HUP INT PIPE TERM
mkdir "$SCRATCH/tokens"
case $MODULE in
*softhsm*)
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$SCRATCH/tokens" >"$SCRATCH/softhsm2.conf"
	export SOFTHSM2_CONF="$SCRATCH/softhsm2.conf"
	;;
*)
	printf 'token_dir = %s\nkdf_cost = 10\npin_lockout = 5\n' \
		"$SCRATCH/tokens" >"$SCRATCH/coffer.conf"
	export COFFER_CONF="$SCRATCH/coffer.conf"
	;;
esac

# A module built with -Db_sanitize=address needs the ASan runtime loaded
# first into the (uninstrumented) pkcs11-tool. Leak checking stays off
# there: the tool does not free its own OpenSSL state, and the module keeps
# its private library context for the life of the process by design; the
# unit and API suites check the module's leaks.
ASAN_LIB=$(ldd "$MODULE" 2>/dev/null | awk '/libasan/ { print $3 }')
# pkcs11-tool 0.23 frees the OSSL_PARAM array it then hands to
# EVP_PKEY_fromdata when it exports an EC public key (--read-object --type
# pubkey); the preloaded runtime reports that from inside OpenSSL. Reports
# from inside EVP_PKEY_fromdata are suppressed here only: the module's own
# calls of it are checked by the API suite under ASan, with no
# suppressions.
printf 'interceptor_via_fun:EVP_PKEY_fromdata\n' >"$SCRATCH/asan.supp"

OUT=$SCRATCH/out
# lib.sh's users sit in tests/interop, one directory below it, or in
# tests/cli; tap.sh is beside lib.sh.
for tap_dir in "$(dirname "$0")" "$(dirname "$0")/.." \
	"$(dirname "$0")/../interop"; do
	if [ -f "$tap_dir/tap.sh" ]; then
		. "$tap_dir/tap.sh"
		break
	fi
done
command -v not_ok >/dev/null || { echo "lib.sh: tap.sh not found" >&2; exit 2; }

# p11 ARGS...: runs pkcs11-tool on the module, output in $OUT.
p11() {
	if [ -n "$ASAN_LIB" ]; then
		LD_PRELOAD=$ASAN_LIB \
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:suppressions=$SCRATCH/asan.supp \
			"$TOOL" --module "$MODULE" "$@" >"$OUT" 2>&1
	else
		"$TOOL" --module "$MODULE" "$@" >"$OUT" 2>&1
	fi
}

# step DESCRIPTION ARGS...: one pkcs11-tool call that must succeed.
step() {
	desc=$1
	shift
	if p11 "$@"; then ok "$desc"; else not_ok "$desc (exit $?)"; fi
}

# step_fails DESCRIPTION ARGS...: one pkcs11-tool call that must fail.
step_fails() {
	desc=$1
	shift
	if p11 "$@"; then not_ok "$desc (succeeded)"; else ok "$desc"; fi
}

# listed PATTERN DESCRIPTION: the last output matches PATTERN.
listed() {
	if grep -Eq "$1" "$OUT"; then ok "$2"; else not_ok "$2"; fi
}

# not_listed PATTERN DESCRIPTION: the last output does not match PATTERN.
not_listed() {
	if grep -Eq "$1" "$OUT"; then not_ok "$2"; else ok "$2"; fi
}

same() {
	if cmp -s "$1" "$2"; then
		ok "$3"
	else
		echo "$1 and $2 differ" >"$OUT"
		not_ok "$3"
	fi
}


# abs_path PATH: PATH made absolute (empty stays empty).
abs_path() {
	case $1 in
	/* | '') printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}

# timeout_asan SECONDS CMD...: CMD bounded in time, with the ASan runtime
# preloaded when the module is sanitized (leak checks off, as for p11).
timeout_asan() {
	secs=$1
	shift
	if [ -n "$ASAN_LIB" ]; then
		timeout "$secs" env LD_PRELOAD="$ASAN_LIB" \
			ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			"$@"
	else
		timeout "$secs" "$@"
	fi
}

# preload_asan [OPTIONS]: exports the ASan preload (with OPTIONS added to
# ASAN_OPTIONS) into this shell, for a subshell that then execs a
# long-running program, so that $! is that program.
preload_asan() {
	[ -n "$ASAN_LIB" ] || return 0
	export LD_PRELOAD="$ASAN_LIB"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0${1:+:$1}"
}

# stop_pid VAR: ends the process whose PID is in VAR, reaps it, empties VAR.
stop_pid() {
	eval "pid=\${$1:-}"
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		eval "$1="
	fi
}

# stop_at_exit VAR...: the processes whose PIDs are in VARs are stopped at
# exit too (before cofferd, which they may use).
stop_at_exit() {
	STOP_VARS="$STOP_VARS $*"
}

stop_cofferd() {
	stop_pid COFFERD_PID
}

# stop_all: every process started here, cofferd last.
stop_all() {
	for v in $STOP_VARS; do
		stop_pid "$v"
	done
	stop_cofferd
}

# tap_header: the TAP version line and what the script runs against.
tap_header() {
	echo "TAP version 13"
	echo "# module $MODULE${COFFERD:+, cofferd exporting $INNER}"
}

# start_cofferd [ARGS...]: cofferd on a Unix socket ($SOCK if set, else
# in the scratch dir), exporting INNER with the COFFER_CONF above (cofferd
# inherits it), with ARGS added (a later --log-level wins), its log in
# $SCRATCH/cofferd.log; the client module finds it by COFFER_SERVER. The
# script ends here when cofferd does not listen: nothing else can pass.
start_cofferd() {
	COFFERD=$(abs_path "$COFFERD")
	INNER=$(abs_path "$INNER")
	SOCK=${SOCK:-$SCRATCH/cofferd.sock}
	"$COFFERD" --module "$INNER" --listen "unix:$SOCK" --log-level warn \
		"$@" 2>"$SCRATCH/cofferd.log" &
	COFFERD_PID=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 1000 ] &&
		kill -0 "$COFFERD_PID" 2>/dev/null; do
		sleep 0.01
		i=$((i + 1))
	done
	export COFFER_SERVER="unix:$SOCK"
	cp "$SCRATCH/cofferd.log" "$OUT"
	if [ -S "$SOCK" ]; then ok "cofferd listens on $SOCK"; else
		not_ok "cofferd listens on $SOCK"
		echo "1..$n"
		exit 1
	fi
}

# show_log NAME FILE: FILE as TAP comments.
show_log() {
	echo "# $1:"
	sed 's/^/#   /' "$2"
}

# finish: stops every process, shows cofferd's log when a step failed,
# prints the plan; its status is the script's.
finish() {
	stop_all
	if [ "$failed" -ne 0 ] && [ -e "$SCRATCH/cofferd.log" ]; then
		show_log "cofferd's log" "$SCRATCH/cofferd.log"
	fi
	echo "1..$n"
	[ "$failed" -eq 0 ]
}

# init_coffer_token LABEL: the PIN files $SCRATCH/pin (1234) and
# $SCRATCH/sopin (12345678), and a token LABEL set up with them by the
# coffer command ($COFFER, with the script's run DESCRIPTION CMD...).
init_coffer_token() {
	printf '1234\n' >"$SCRATCH/pin"
	printf '12345678\n' >"$SCRATCH/sopin"
	run "coffer init-token" "$COFFER" init-token --label "$1" \
		--so-pin-source "file:$SCRATCH/sopin"
	run "coffer init-pin" "$COFFER" init-pin --token "$1" \
		--so-pin-source "file:$SCRATCH/sopin" \
		--pin-source "file:$SCRATCH/pin"
}

# p11kit_modules NAME [TEMPLATE]: a per-user p11-kit config in
# $SCRATCH/home with MODULE as module NAME: the .module file TEMPLATE with
# its module: line pointed at MODULE, or only that line. The system's
# module files are overridden by disabled ones of the same name: the test
# is about ours (an installed coffer.module must not stand in for it, and
# p11-kit-trust deadlocks while loading under the preloaded ASan runtime).
p11kit_modules() {
	P11KIT_NAME=$1
	moddir=$SCRATCH/home/.config/pkcs11/modules
	mkdir -p "$moddir"
	for f in /usr/share/p11-kit/modules/*.module \
		/etc/pkcs11/modules/*.module; do
		[ -e "$f" ] || continue
		printf 'enable-in: coffer-none\n' >"$moddir/$(basename "$f")"
	done
	if [ -n "${2:-}" ]; then
		sed "s|^module:.*|module: $MODULE|" "$2" >"$moddir/$1.module"
	else
		printf 'module: %s\n' "$MODULE" >"$moddir/$1.module"
	fi
}

# p11kit_list TOKEN: p11-kit list-modules with that config, output in
# $OUT. p11-kit reads a per-user config only in programs that do not run
# as root, so as root it runs in a user namespace that maps an ordinary
# uid onto this one (the files stay ours).
p11kit_list() {
	list_token=$1
	if [ "$(id -u)" = 0 ]; then
		set -- unshare -U --map-user=1000 --map-group=1000
	else
		set --
	fi
	if [ -z "$ASAN_LIB" ]; then
		HOME=$SCRATCH/home XDG_CONFIG_HOME=$SCRATCH/home/.config \
			timeout 60 "$@" p11-kit list-modules </dev/null >"$OUT" 2>&1
		return
	fi
	# Under the preloaded ASan runtime p11-kit deadlocks at exit, in
	# its own library destructor (freelocale), with no module
	# registered at all: read the list as it is printed (line-buffered),
	# then stop it (timeout passes the signal on). Its status is not
	# judged; its output is.
	(
		export HOME="$SCRATCH/home" XDG_CONFIG_HOME="$SCRATCH/home/.config"
		preload_asan verify_asan_link_order=0
		exec timeout 60 "$@" stdbuf -oL p11-kit list-modules \
			</dev/null >"$OUT" 2>&1
	) &
	LIST_PID=$!
	i=0
	while [ $i -lt 3000 ] && kill -0 "$LIST_PID" 2>/dev/null &&
		! grep -q "token: $list_token" "$OUT"; do
		sleep 0.01
		i=$((i + 1))
	done
	# The rest of the token's lines.
	sleep 0.2
	stop_pid LIST_PID
	return 0
}

# p11kit_lists TOKEN: p11-kit list-modules with the config p11kit_modules
# wrote loads the module and shows its token TOKEN (three TAP results).
p11kit_lists() {
	if p11kit_list "$1"; then
		ok "p11-kit list-modules${ASAN_LIB:+ (ASan: status not judged)}"
	else
		not_ok "p11-kit list-modules (exit $?)"
	fi
	listed "^$P11KIT_NAME: $MODULE" \
		"p11-kit loads the $P11KIT_NAME module from its .module file"
	# The token line follows the module's line.
	if sed -n "/^$P11KIT_NAME:/,/^[^ ]/p" "$OUT" | grep -q "token: $1"; then
		ok "p11-kit list-modules shows the token"
	else
		not_ok "p11-kit list-modules shows the token"
	fi
}

# coffer_fails FILE DESCRIPTION PATTERN ARGS...: the script's cof ARGS...
# (coffer, its status in rc, its output in $OUT) must exit non-zero and
# write a message matching PATTERN to FILE.
coffer_fails() {
	file=$1 desc=$2 pat=$3
	shift 3
	cof "$@"
	if [ "$rc" -eq 0 ]; then
		not_ok "$desc (exit 0)"
	elif ! grep -Eq -- "$pat" "$file"; then
		echo "expected: $pat" >>"$OUT"
		not_ok "$desc (message)"
	else
		ok "$desc"
	fi
}

# tool_step DESCRIPTION CMD...: one command, bounded in time, its standard
# input /dev/null, output in $OUT, that must succeed. Programs other than
# the coffer binary ($COFFER: a sanitized build's carries its own) get the
# ASan runtime preloaded for a sanitized module.
tool_step() {
	desc=$1
	shift
	limit=timeout_asan
	[ "$1" = "${COFFER:-}" ] && limit=timeout
	if $limit 60 "$@" </dev/null >"$OUT" 2>&1; then ok "$desc"; else
		not_ok "$desc (exit $?)"; fi
}
