#!/bin/sh
# spy_module.sh SPY REAL - libcoffer-spy.so as a module that
# pkcs11-tool loads: how it finds the real module (COFFER_SPY_MODULE, or
# "module =" in COFFER_SPY_CONF), where it logs (COFFER_SPY_LOG, else
# stderr), the reason it gives when there is no real module, and PINs
# hidden unless COFFER_SPY_SHOW_SECRETS=1. Prints TAP.
set -u

MODULE=${1:?usage: spy_module.sh SPY REAL}
REAL=${2:?usage: spy_module.sh SPY REAL}
TOOL=${PKCS11_TOOL:-pkcs11-tool}
SO_PIN=12345678
PIN=1234

. "$(dirname "$0")/../interop/lib.sh"

LOG=$SCRATCH/spy.log
unset COFFER_SPY_MODULE COFFER_SPY_CONF COFFER_SPY_LOG COFFER_SPY_SHOW_SECRETS

echo "TAP version 13"

# No real module: the module refuses C_Initialize and says why.
COFFER_SPY_LOG=$LOG
export COFFER_SPY_LOG
step_fails "no real module: C_Initialize fails" -I
if grep -q "no real module: set COFFER_SPY_MODULE" "$LOG" &&
	grep -q "CKR_GENERAL_ERROR" "$LOG"; then
	ok "no real module: the log says why"
else
	cp "$LOG" "$OUT"
	not_ok "no real module: the log says why"
fi

# A config file with an unknown key is refused, naming the line.
printf 'module = %s\nlogg = /tmp/x\n' "$REAL" >"$SCRATCH/typo.conf"
: >"$LOG"
COFFER_SPY_CONF=$SCRATCH/typo.conf step_fails "unknown key in COFFER_SPY_CONF" -I
if grep -q 'typo.conf:2: unknown key "logg"' "$LOG"; then
	ok "the log names the unknown key and its line"
else
	cp "$LOG" "$OUT"
	not_ok "the log names the unknown key and its line"
fi

# The real module from the config file.
printf '# the spy under test\nmodule = %s\n' "$REAL" >"$SCRATCH/spy.conf"
COFFER_SPY_CONF=$SCRATCH/spy.conf
export COFFER_SPY_CONF
: >"$LOG"
step "module = PATH in COFFER_SPY_CONF" -I
if grep -q "^C_GetInfo thread=" "$LOG" &&
	grep -q 'manufacturerID = "coffer' "$LOG"; then
	ok "C_GetInfo logged with the real module's answer"
else
	cp "$LOG" "$OUT"
	not_ok "C_GetInfo logged with the real module's answer"
fi
unset COFFER_SPY_CONF

# The environment, and PINs hidden.
COFFER_SPY_MODULE=$REAL
export COFFER_SPY_MODULE
: >"$LOG"
step "--init-token through the spy" --init-token --label spy --so-pin "$SO_PIN"
step "--init-pin through the spy" --token-label spy --login --login-type so \
	--so-pin "$SO_PIN" --init-pin --pin "$PIN"
if grep -q "pPin = <8 bytes hidden>" "$LOG" &&
	grep -q "pPin = <4 bytes hidden>" "$LOG" &&
	! grep -q "3132333435363738\|31323334" "$LOG"; then
	ok "PINs are hidden by default"
else
	cp "$LOG" "$OUT"
	not_ok "PINs are hidden by default"
fi

COFFER_SPY_SHOW_SECRETS=1
export COFFER_SPY_SHOW_SECRETS
: >"$LOG"
step "--login through the spy" --token-label spy --login --pin "$PIN" -O
if grep -q "pPin = 31323334 (4 bytes)" "$LOG"; then
	ok "COFFER_SPY_SHOW_SECRETS=1 shows the PIN"
else
	cp "$LOG" "$OUT"
	not_ok "COFFER_SPY_SHOW_SECRETS=1 shows the PIN"
fi
unset COFFER_SPY_SHOW_SECRETS

# Without COFFER_SPY_LOG the log is stderr.
unset COFFER_SPY_LOG
step "no COFFER_SPY_LOG" -L
listed "^C_GetSlotList thread=" "without COFFER_SPY_LOG the entries go to stderr"
listed "^summary thread=" "the summary goes to stderr too"

echo "1..$n"
[ "$failed" -eq 0 ]
