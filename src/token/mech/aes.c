/*
 * aes.c - AES: key generation, ECB, CBC, CBC_PAD, CTR, GCM (and its message form).
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_aes = {NULL, 0};
