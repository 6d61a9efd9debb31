#!/bin/sh
# install.sh BUILDROOT SRCROOT PREFIX LIBDIR BINDIR SBINDIR SYSCONFDIR
# MANDIR DATADIR - `meson install --destdir` into a scratch directory, and
# every file lands where README.md ("make install") says: the three modules
# in <libdir>/pkcs11 with bare-name symlinks in <libdir>, the p11-kit
# .module file in p11-kit's own directory naming libcoffer.so by absolute
# path, coffer and cofferd, the man pages, the systemd unit, the example
# configs; nothing elsewhere. The staged coffer then runs against the
# staged libcoffer.so. Prints TAP; exits non-zero when a check fails.
set -u

usage='usage: install.sh BUILDROOT SRCROOT PREFIX LIBDIR BINDIR SBINDIR SYSCONFDIR MANDIR DATADIR'
[ $# -eq 9 ] || { echo "$usage" >&2; exit 2; }
BUILDROOT=$1
SRC=$2
PREFIX=$3
# Meson's directory options are relative to the prefix unless absolute
# (sysconfdir is /etc for prefix /usr).
under_prefix() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PREFIX/$1" ;;
	esac
}
LIBDIR=$(under_prefix "$4")
BINDIR=$(under_prefix "$5")
SBINDIR=$(under_prefix "$6")
SYSCONFDIR=$(under_prefix "$7")
MANDIR=$(under_prefix "$8")
DATADIR=$(under_prefix "$9")
MODDIR=$LIBDIR/pkcs11

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/coffer-install-XXXXXX") || exit 1
D=$SCRATCH/stage
OUT=$SCRATCH/out
: >"$OUT"
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/stage.sh"

echo "TAP version 13"
echo "# prefix $PREFIX, staged in $D"
stage_install

for m in libcoffer.so libcoffer-client.so libcoffer-spy.so; do
	check "$m in $MODDIR" test -f "$D$MODDIR/$m" -a ! -L "$D$MODDIR/$m"
	link=$(readlink "$D$LIBDIR/$m")
	echo "$D$LIBDIR/$m -> $link" >"$OUT"
	if [ "$link" = "pkcs11/$m" ]; then
		ok "$LIBDIR/$m is a symlink to pkcs11/$m (dlopen by bare name)"
	else
		not_ok "$LIBDIR/$m is a symlink to pkcs11/$m (dlopen by bare name)"
	fi
done

# p11-kit reads packaged module configs from the directory its pkg-config
# file names, whatever our prefix.
P11CONF=$(pkg-config --variable p11_module_configs p11-kit-1)
MODFILE=$D$P11CONF/coffer.module
check "coffer.module in $P11CONF" test -f "$MODFILE"
grep -v '^#' "$MODFILE" >"$OUT" 2>&1
if [ "$(grep -c . "$OUT")" -eq 1 ] &&
	grep -qx "module: $MODDIR/libcoffer.so" "$OUT"; then
	ok "coffer.module says only 'module: $MODDIR/libcoffer.so'"
else
	not_ok "coffer.module says only 'module: $MODDIR/libcoffer.so'"
fi

check "coffer in $BINDIR" test -x "$D$BINDIR/coffer" -a -f "$D$BINDIR/coffer"
check "cofferd in $SBINDIR" test -x "$D$SBINDIR/cofferd" -a -f "$D$SBINDIR/cofferd"
# coffer's default module (no --module, no COFFER_MODULE) is the installed
# libcoffer.so.
check "coffer's compiled-in default module is $MODDIR/libcoffer.so" \
	grep -qF "$MODDIR/libcoffer.so" "$D$BINDIR/coffer"

missing=
for page in "$SRC"/docs/man/*.1; do
	[ -f "$D$MANDIR/man1/$(basename "$page")" ] ||
		missing="$missing $(basename "$page")"
done
echo "missing:$missing" >"$OUT"
if [ -z "$missing" ]; then
	ok "every man page of docs/man in $MANDIR/man1"
else
	not_ok "every man page of docs/man in $MANDIR/man1"
fi

# The unit goes to systemd's unit directory moved under our prefix, or
# <prefix>/lib/systemd/system without systemd's pkg-config file.
UNITDIR=$(pkg-config --define-variable=root_prefix="$PREFIX" \
	--variable systemdsystemunitdir systemd 2>/dev/null)
[ -n "$UNITDIR" ] || UNITDIR=$PREFIX/lib/systemd/system
UNIT=$D$UNITDIR/cofferd.service
check "cofferd.service in $UNITDIR" test -f "$UNIT"
check "the unit starts $SBINDIR/cofferd with $SYSCONFDIR/coffer/cofferd.conf" \
	grep -qx "ExecStart=$SBINDIR/cofferd --config $SYSCONFDIR/coffer/cofferd.conf" "$UNIT"
DOCDIR=$DATADIR/doc/coffer
check "the unit's documentation link points at the installed cofferd.md" \
	grep -qx "Documentation=file://$DOCDIR/cofferd.md" "$UNIT"
check "cofferd.md in $DOCDIR" test -f "$D$DOCDIR/cofferd.md"

for f in cofferd.conf.example coffer.conf.example client.conf.example; do
	check "$f in $SYSCONFDIR/coffer" test -f "$D$SYSCONFDIR/coffer/$f"
done
check "cofferd.conf.example exports the installed libcoffer.so" \
	grep -qx "module = $MODDIR/libcoffer.so" \
	"$D$SYSCONFDIR/coffer/cofferd.conf.example"
if grep -q '@[A-Z]*@' "$D$SYSCONFDIR"/coffer/*.example >"$OUT" 2>&1; then
	not_ok "the example configs have no @PLACEHOLDER@ left"
else
	ok "the example configs have no @PLACEHOLDER@ left"
fi

# Nothing outside the documented places.
(cd "$D" && find . ! -type d | sed 's|^\.||') >"$SCRATCH/files"
stray=
while read -r f; do
	case $f in
	"$PREFIX"/* | "$P11CONF"/* | "$UNITDIR"/* | "$SYSCONFDIR"/*) ;;
	*) stray="$stray $f" ;;
	esac
done <"$SCRATCH/files"
echo "outside:$stray" >"$OUT"
if [ -z "$stray" ]; then
	ok "every file under the prefix, p11-kit's, systemd's or sysconfdir"
else
	not_ok "every file under the prefix, p11-kit's, systemd's or sysconfdir"
fi

# The staged tree works: coffer loads the staged module (a scratch token
# directory, nothing else configured).
mkdir "$SCRATCH/tokens"
printf 'token_dir = %s/tokens\n' "$SCRATCH" >"$SCRATCH/coffer.conf"
if COFFER_CONF=$SCRATCH/coffer.conf timeout 60 "$D$BINDIR/coffer" tokens \
	--module "$D$MODDIR/libcoffer.so" >"$OUT" 2>&1 &&
	grep -q "coffer software slot" "$OUT"; then
	ok "the staged coffer lists the staged libcoffer.so's slots"
else
	not_ok "the staged coffer lists the staged libcoffer.so's slots"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
