/*
 * ec.c - ECDSA and ECDH on the NIST curves and secp256k1; key pair generation.
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_ec = {NULL, 0};

const struct cf_keytype cf_keytype_ec = {CK_UNAVAILABLE_INFORMATION, NULL, NULL, NULL};
