# stage.sh - `meson install --destdir` into a scratch stage for the
# install checks. Sourced after tap.sh, with BUILDROOT, SCRATCH and D (the
# stage) set. meson install rewrites the build directory's install log,
# which `ninja uninstall` reads: the log of a real install is kept aside
# and put back when the script exits.
INSTALL_LOG=$BUILDROOT/meson-logs/install-log.txt
if [ -f "$INSTALL_LOG" ]; then
	cp -p "$INSTALL_LOG" "$SCRATCH/install-log.txt"
fi

restore_install_log() {
	if [ -f "$SCRATCH/install-log.txt" ]; then
		cp -p "$SCRATCH/install-log.txt" "$INSTALL_LOG"
	else
		rm -f "$INSTALL_LOG"
	fi
}
trap 'restore_install_log; rm -rf "$SCRATCH"' EXIT
trap 'exit 1' HUP INT PIPE TERM

# Stages the install, or ends the script: nothing else can be checked.
stage_install() {
	if timeout 120 meson install -C "$BUILDROOT" --no-rebuild --quiet \
		--destdir "$D" >"$OUT" 2>&1; then
		ok "meson install --destdir"
	else
		not_ok "meson install --destdir"
		echo "1..$n"
		exit 1
	fi
}
