/*
 * ec_util.h - what the elliptic-curve families share (ec.c, eddsa.c,
 * montgomery.c): the curves coffer supports, CKA_EC_PARAMS and CKA_EC_POINT
 * in their PKCS#11 encodings, and building OpenSSL keys from them. All DER
 * goes through OpenSSL. Thread-safe; nothing here keeps state.
 */
#ifndef CF_EC_UTIL_H
#define CF_EC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "coffer/pkcs11.h"
#include "token/mech/mech.h"
#include "token/object.h"

struct cf_ec_curve {
	int nid;
	CK_KEY_TYPE kt;
	/* OpenSSL's group name (CKK_EC) or key type name (the others). */
	const char *name;
	/* v3.0 PrintableString names accepted in CKA_EC_PARAMS. */
	const char *alias[3];
	/* Bytes of a coordinate (CKK_EC) or of a raw key. */
	size_t len;
	/* The unit of CK_MECHANISM_INFO: the field size in bits. */
	CK_ULONG bits;
};

/*
 * Parses CKA_EC_PARAMS (a DER OBJECT IDENTIFIER or, v3.0, a DER
 * PrintableString curve name). kt: the key type it must be a curve of.
 * CKR_OK and *out set; CKR_CURVE_NOT_SUPPORTED for a well-formed choice
 * coffer does not support (another OID or name, explicit parameters,
 * implicitlyCA, a curve of another key type); CKR_ATTRIBUTE_VALUE_INVALID
 * when it is not DER at all.
 */
CK_RV cf_ec_curve_parse(CK_KEY_TYPE kt, const uint8_t *der, size_t len,
			const struct cf_ec_curve **out)
	__attribute__((warn_unused_result));
/* The curve of a key object (its CKA_EC_PARAMS), or NULL. */
const struct cf_ec_curve *cf_ec_curve_of(const struct cf_object *o);
/* The curve of an OpenSSL key of type kt, or NULL. */
const struct cf_ec_curve *cf_ec_curve_of_pkey(CK_KEY_TYPE kt,
					      const EVP_PKEY *pk);

/*
 * Finds the point in CKA_EC_POINT or in ECDH public data, which clients
 * send both DER-wrapped (an OCTET STRING, as v3.0 says) and raw: *pt points
 * into in. false when neither form has a length the curve allows.
 */
bool cf_ec_point_unwrap(const struct cf_ec_curve *c, const uint8_t *in,
			size_t inl, const uint8_t **pt, size_t *ptl);

/* A public key from a raw point (X9.62 octets for CKK_EC, the RFC 7748/8032
 * encoding otherwise). NULL when the point is not on the curve. */
EVP_PKEY *cf_ec_pkey_public(const struct cf_ec_curve *c, const uint8_t *pt,
			    size_t ptl);
/* A private key from CKA_VALUE (secret), with its public half derived.
 * NULL when the value is not a valid scalar / key. */
EVP_PKEY *cf_ec_pkey_private(const struct cf_ec_curve *c, const uint8_t *v,
			     size_t vl);

/* The cf_keytype.load of all three key types. */
CK_RV cf_ec_load(CK_KEY_TYPE kt, const struct cf_object *o, EVP_PKEY **out);
/* The cf_keytype.store of all three key types. */
CK_RV cf_ec_store(CK_KEY_TYPE kt, EVP_PKEY *pk, struct cf_object *pub,
		  struct cf_object *priv);
/* The cf_keytype.bits of all three key types. */
CK_ULONG cf_ec_bits(CK_KEY_TYPE kt, const EVP_PKEY *pk);

/* generate_pair of all three families: the curve from pub's
 * CKA_EC_PARAMS (required), which priv receives as given. */
CK_RV cf_ec_generate_pair(CK_KEY_TYPE kt, struct cf_object *pub,
			  struct cf_object *priv)
	__attribute__((warn_unused_result));

#endif
