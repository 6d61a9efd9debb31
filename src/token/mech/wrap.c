/*
 * wrap.c - AES key wrap (RFC 3394) and with padding (RFC 5649).
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_wrap = {NULL, 0};
