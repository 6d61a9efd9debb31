/*
 * eddsa.c - EdDSA (Ed25519, Ed448); key pair generation.
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_eddsa = {NULL, 0};

const struct cf_keytype cf_keytype_edwards = {CK_UNAVAILABLE_INFORMATION, NULL, NULL, NULL};
