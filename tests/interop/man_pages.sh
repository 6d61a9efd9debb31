#!/bin/sh
# man_pages.sh COFFERD SRCROOT BUILDROOT - the hand-written man pages say
# what the code accepts, and every page renders and is installed:
#
# - cofferd.8: every long option `cofferd --help` shows and every one of
#   the option table in src/server/config.c (lines `{"NAME",
#   ..._argument, ...}`), and every config key the parser accepts (each
#   `strcmp(key, "NAME")` in src/server/config.c), is an item of the page;
#   and the page has no option or key item the code does not accept.
# - libcoffer-client.7: every environment variable src/client/*.c reads
#   (each `getenv("NAME")` and each string literal "COFFER_..." of the
#   variable table) and every client.conf key (`strcmp(key, "NAME")` in
#   src/client/config.c); libcoffer-spy.7 the same for src/spy/*.c (its
#   keys are `strcmp(k, "NAME")` in src/spy/module.c). No key item the
#   code does not accept.
# - groff -man -ww renders each page of docs/man without a warning.
# - `meson introspect --installed` installs each page of docs/man.
#
# An item is the tag of a .TP or .TQ paragraph (the line after it): its
# first word, with the macro and roff escapes removed, is the name it
# documents. Key items read `.BI NAME " = VALUE"`. So a new option, key or
# variable without its item fails here. Prints TAP.
set -u

usage='usage: man_pages.sh COFFERD SRCROOT BUILDROOT'
[ $# -eq 3 ] || { echo "$usage" >&2; exit 2; }
COFFERD=$1
SRC=$2
BUILD=$3
MAN=$SRC/docs/man

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/coffer-man-XXXXXX") || exit 1
trap 'rm -rf "$SCRATCH"' EXIT
trap 'exit 1' HUP INT PIPE TERM
OUT=$SCRATCH/out

. "$(dirname "$0")/tap.sh"
# result DESC: ok when $OUT is empty, else not ok with $OUT as diagnostics.
result() {
	if [ -s "$OUT" ]; then not_ok "$1"; else ok "$1"; fi
}

# items PAGE: the names the page's .TP/.TQ items document, one a line.
items() {
	awk '/^\.T[PQ]$/ { tag = 1; next }
	     tag { tag = 0; print }' "$1" |
		sed -e 's/^\.[A-Z]* *//' -e 's/\\-/-/g' -e 's/\\f[A-Z]//g' \
			-e 's/\\[&c]//g' -e 's/^"//' -e 's/[ "].*//'
}
# key_items PAGE: the names of the page's `.BI NAME " = ..."` items.
key_items() {
	awk '/^\.T[PQ]$/ { tag = 1; next }
	     tag { tag = 0; if ($0 ~ /^\.BI [a-z_]+ " = /) print $2 }' "$1"
}
# not_in NAMES: the lines of stdin that are not lines of the file NAMES.
not_in() {
	sort -u "$1" >"$1.sorted"
	sort -u | comm -23 - "$1.sorted"
}
# missing NAMES PAGE: the names (a file, one a line) that are not items of
# PAGE.
missing() {
	items "$2" >"$SCRATCH/items"
	not_in "$SCRATCH/items" <"$1"
}
# extra_keys NAMES PAGE: the key items of PAGE that are not among NAMES.
extra_keys() {
	key_items "$2" | not_in "$1"
}
# strcmp_names VAR FILE...: NAME of each strcmp(VAR, "NAME").
strcmp_names() {
	v=$1
	shift
	cat "$@" | grep -o "strcmp($v, \"[a-z_]*\")" | sed 's/.*"\(.*\)")/\1/'
}
# env_names FILE...: NAME of each getenv("NAME") and each "COFFER_..."
# string literal.
env_names() {
	cat "$@" | grep -o 'getenv("[A-Za-z_0-9]*")\|"COFFER_[A-Z_0-9]*"' |
		sed -e 's/^getenv(//' -e 's/)$//' -e 's/"//g'
}
# require_some FILE WHAT: a list the source greps must have found.
require_some() {
	if [ ! -s "$1" ]; then
		echo "no $2 found in the source: the grep above is stale" >"$OUT"
		return 1
	fi
}

echo "TAP version 13"

# ---- cofferd.8 ------------------------------------------------------------
"$COFFERD" --help >"$SCRATCH/help" 2>&1
rc=$?
grep -o -- '--[a-z][a-z-]*' "$SCRATCH/help" | sort -u >"$SCRATCH/help-opts"
if [ $rc -eq 0 ] && [ -s "$SCRATCH/help-opts" ]; then
	: >"$OUT"
else
	{ echo "exit $rc"; cat "$SCRATCH/help"; } >"$OUT"
fi
result "cofferd --help exits 0 and names its options"

missing "$SCRATCH/help-opts" "$MAN/cofferd.8" >"$OUT"
result "cofferd.8 documents every option of cofferd --help"

sed -n 's/^[[:space:]]*{"\([a-z-]*\)", *[a-z]*_argument.*/--\1/p' \
	"$SRC/src/server/config.c" >"$SCRATCH/srv-opts"
if require_some "$SCRATCH/srv-opts" "option table"; then
	missing "$SCRATCH/srv-opts" "$MAN/cofferd.8" >"$OUT"
	result "cofferd.8 documents every option of the option table"
	items "$MAN/cofferd.8" | grep -- '^--' | not_in "$SCRATCH/srv-opts" >"$OUT"
	result "cofferd.8 documents no option cofferd does not accept"
else
	not_ok "cofferd.8 documents every option of the option table"
fi

strcmp_names key "$SRC/src/server/config.c" >"$SCRATCH/srv-keys"
if require_some "$SCRATCH/srv-keys" "cofferd config keys"; then
	missing "$SCRATCH/srv-keys" "$MAN/cofferd.8" >"$OUT"
	result "cofferd.8 documents every config key the parser accepts"
	extra_keys "$SCRATCH/srv-keys" "$MAN/cofferd.8" >"$OUT"
	result "cofferd.8 documents no config key the parser refuses"
else
	not_ok "cofferd.8 documents every config key the parser accepts"
fi

# ---- libcoffer-client.7 ---------------------------------------------------
env_names "$SRC"/src/client/*.c | sort -u >"$SCRATCH/cli-env"
if require_some "$SCRATCH/cli-env" "client environment variables"; then
	missing "$SCRATCH/cli-env" "$MAN/libcoffer-client.7" >"$OUT"
	result "libcoffer-client.7 documents every variable the client reads"
else
	not_ok "libcoffer-client.7 documents every variable the client reads"
fi
strcmp_names key "$SRC/src/client/config.c" >"$SCRATCH/cli-keys"
if require_some "$SCRATCH/cli-keys" "client.conf keys"; then
	missing "$SCRATCH/cli-keys" "$MAN/libcoffer-client.7" >"$OUT"
	result "libcoffer-client.7 documents every client.conf key"
	extra_keys "$SCRATCH/cli-keys" "$MAN/libcoffer-client.7" >"$OUT"
	result "libcoffer-client.7 documents no key the client refuses"
else
	not_ok "libcoffer-client.7 documents every client.conf key"
fi

# ---- libcoffer-spy.7 ------------------------------------------------------
env_names "$SRC"/src/spy/*.c | sort -u >"$SCRATCH/spy-env"
if require_some "$SCRATCH/spy-env" "spy environment variables"; then
	missing "$SCRATCH/spy-env" "$MAN/libcoffer-spy.7" >"$OUT"
	result "libcoffer-spy.7 documents every variable the spy reads"
else
	not_ok "libcoffer-spy.7 documents every variable the spy reads"
fi
strcmp_names k "$SRC/src/spy/module.c" >"$SCRATCH/spy-keys"
if require_some "$SCRATCH/spy-keys" "spy config keys"; then
	missing "$SCRATCH/spy-keys" "$MAN/libcoffer-spy.7" >"$OUT"
	result "libcoffer-spy.7 documents every config key of the spy"
	extra_keys "$SCRATCH/spy-keys" "$MAN/libcoffer-spy.7" >"$OUT"
	result "libcoffer-spy.7 documents no key the spy refuses"
else
	not_ok "libcoffer-spy.7 documents every config key of the spy"
fi

# ---- every page -----------------------------------------------------------
meson introspect --installed "$BUILD" >"$SCRATCH/installed.json" 2>"$OUT"
for page in "$MAN"/*.[1-9]; do
	name=$(basename "$page")
	groff -man -Tutf8 -ww -z "$page" >"$OUT" 2>&1 ||
		echo "groff exit $?" >>"$OUT"
	result "$name renders without a warning"
	python3 - "$SCRATCH/installed.json" "$page" >"$OUT" 2>&1 <<'PY'
import json, os, sys
installed = json.load(open(sys.argv[1]))
page = os.path.realpath(sys.argv[2])
section = page.rsplit('.', 1)[1]
dests = [d for s, d in installed.items() if os.path.realpath(s) == page]
if not any(d.endswith('/man%s/%s' % (section, os.path.basename(page)))
           for d in dests):
    print('not installed to a man%s directory: %s' % (section, dests))
PY
	result "$name is installed"
done

echo "1..$n"
[ "$failed" -eq 0 ]
