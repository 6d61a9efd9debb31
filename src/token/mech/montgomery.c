/*
 * montgomery.c - X25519 and X448 key pairs and key agreement.
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_montgomery = {NULL, 0};

const struct cf_keytype cf_keytype_montgomery = {CK_UNAVAILABLE_INFORMATION, NULL, NULL, NULL};
