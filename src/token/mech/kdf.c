/*
 * kdf.c - HKDF (CKM_HKDF_DERIVE, CKM_HKDF_DATA).
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_kdf = {NULL, 0};
