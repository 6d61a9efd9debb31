/*
 * rsa.c - RSA: PKCS #1 v1.5, PSS, OAEP, X.509 raw; key pair generation.
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_rsa = {NULL, 0};

const struct cf_keytype cf_keytype_rsa = {CK_UNAVAILABLE_INFORMATION, NULL, NULL, NULL};
