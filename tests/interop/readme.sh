#!/bin/bash
# Runs the plain ``` command blocks of README.md after the first (`make
# demo` / `make check`), in order, in a scratch directory where `build`
# points at the build tree, so README's commands stay true. TAP output.
# Usage: readme.sh BUILD_DIR README.md
set -u
build=$(cd "$1" && pwd)
readme=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
scratch=$(mktemp -d "${TMPDIR:-/tmp}/coffer-readme.XXXXXX")
# A command that failed may leave README's cofferd running: stop it by
# its socket path, which only this run uses.
trap 'pkill -f "$scratch/" 2>/dev/null; rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1
ln -s "$build" build
echo "1..1"
python3 - "$readme" >cmds.sh <<'PY' || { echo "not ok 1 - README blocks"; exit 1; }
import sys
# Fenced blocks: a bare ``` fence is run; a fence with a word (```console)
# is shown only.
blocks, cur, run = [], None, False
for line in open(sys.argv[1]):
    if line.startswith("```"):
        if cur is None:
            cur, run = [], line.strip() == "```"
        else:
            if run:
                blocks.append("".join(cur))
            cur = None
    elif cur is not None:
        cur.append(line)
# The first block is make demo / make check; `make` itself is this build.
body = [b[len("make\n"):] if b.startswith("make\n") else b for b in blocks[1:]]
print("set -ex\n" + "\n".join(body))
PY
if timeout 240 bash cmds.sh >log 2>&1; then
	echo "ok 1 - every README command runs"
else
	sed 's/^/# /' log | tail -40
	echo "not ok 1 - a README command failed"
	exit 1
fi
