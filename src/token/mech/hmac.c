/*
 * hmac.c - HMAC and CMAC; generic secret and HMAC key generation.
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_hmac = {NULL, 0};
