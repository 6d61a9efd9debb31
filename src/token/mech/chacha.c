/*
 * chacha.c - ChaCha20-Poly1305: key generation, AEAD (and its message form).
 * The mechanism rows are filled in by the family's implementation.
 */
#include "token/mech/mech.h"

const struct cf_mech_family cf_mechs_chacha = {NULL, 0};
