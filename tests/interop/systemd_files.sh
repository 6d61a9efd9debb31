#!/bin/sh
# systemd_files.sh BUILDROOT PREFIX - cofferd.service and its sysusers.d
# and tmpfiles.d files, staged with `meson install --destdir`, work
# together where systemd looks for them: systemd-sysusers --root finds
# cofferd.conf and makes the unit's user and group, systemd-tmpfiles
# --root finds its cofferd.conf, which makes the unit's state directory
# with the unit's mode, user and group, and systemd-analyze verify accepts the
# unit (in a copy of the stage holding the system's units, which it
# needs for the targets the unit is ordered against, and /bin/kill, its
# ExecReload). Prints TAP; exits non-zero when a check fails.
set -u

usage='usage: systemd_files.sh BUILDROOT PREFIX'
[ $# -eq 2 ] || { echo "$usage" >&2; exit 2; }
BUILDROOT=$1
PREFIX=$2

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/coffer-systemd-XXXXXX") || exit 1
D=$SCRATCH/stage
OUT=$SCRATCH/out
: >"$OUT"
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/stage.sh"

echo "TAP version 13"
stage_install

UNITDIR=$(pkg-config --define-variable=root_prefix="$PREFIX" \
	--variable systemdsystemunitdir systemd 2>/dev/null)
[ -n "$UNITDIR" ] || UNITDIR=$PREFIX/lib/systemd/system
UNIT=$D$UNITDIR/cofferd.service
# unit_value KEY: the value of KEY= in the staged unit.
unit_value() {
	sed -n "s/^$1=//p" "$UNIT"
}
UNIT_USER=$(unit_value User)
GROUP=$(unit_value Group)
STATE=/var/lib/$(unit_value StateDirectory)
STATE_MODE=$(unit_value StateDirectoryMode)
echo "# unit $UNITDIR/cofferd.service: User=$UNIT_USER Group=$GROUP state $STATE ($STATE_MODE)"

# Both tools look in /etc, /run, /usr/local/lib and /usr/lib under --root,
# and take a bare file name to mean that name in those directories.
mkdir -p "$D/etc"
check "systemd-sysusers finds the staged cofferd.conf" \
	systemd-sysusers --root="$D" cofferd.conf
check "it makes the unit's user ($UNIT_USER) with home $STATE" \
	grep -q "^$UNIT_USER:x:[0-9]*:[0-9]*:[^:]*:$STATE:" "$D/etc/passwd"
check "and the unit's group ($GROUP)" \
	grep -q "^$GROUP:x:" "$D/etc/group"

# Read, not run: creating the directory would chown it, which needs root.
systemd-tmpfiles --root="$D" --cat-config >"$SCRATCH/tmpfiles" 2>&1
check "systemd-tmpfiles finds the staged cofferd.conf" \
	grep -qx "# $D$PREFIX/lib/tmpfiles.d/cofferd.conf" "$SCRATCH/tmpfiles"
want="d $STATE $STATE_MODE $UNIT_USER $GROUP"
got=$(sed -n "\|^# $D$PREFIX/lib/tmpfiles.d/cofferd.conf\$|,/^# \//p" \
	"$SCRATCH/tmpfiles" | awk '$1 == "d" { print $1, $2, $3, $4, $5 }')
echo "want '$want', got '$got'" >"$OUT"
if [ "$got" = "$want" ]; then
	ok "it makes $STATE with the unit's owner, group and mode"
else
	not_ok "it makes $STATE with the unit's owner, group and mode"
fi

# systemd-analyze verify --root checks ExecStart and ExecReload exist in
# the root and loads the targets the unit names from it.
R=$SCRATCH/root
cp -a "$D" "$R"
mkdir -p "$R/usr/lib/systemd" "$R/bin"
cp -a /usr/lib/systemd/system "$R/usr/lib/systemd/"
cp /bin/kill "$R/bin/kill"
check "systemd-analyze verify accepts the staged unit" \
	systemd-analyze verify --root="$R" "$UNITDIR/cofferd.service"

echo "1..$n"
[ "$failed" -eq 0 ]
