/*
 * des3.c - DES3 (legacy): key generation, ECB, CBC, CBC_PAD.
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_des3 = {NULL, 0};
