/*
 * schema.c - the value kind of every attribute type (see schema.h).
 *
 * One row per CKA_ value defined by p11-kit's pkcs11.h or
 * include/coffer/pkcs11.h, sorted by value so that lookup is a bsearch.
 * test_schema checks that every attribute the generated name table knows
 * (vendor-defined aside) has a row here, so a header update that adds an
 * attribute fails the tests until its kind is written down.
 */
#include "pkcs11/schema.h"

#include <stdlib.h>

struct attr_kind {
	CK_ATTRIBUTE_TYPE type;
	enum cf_attr_kind kind;
};

#define B CF_ATTR_BOOL
#define U CF_ATTR_ULONG
#define Y CF_ATTR_BYTES
#define S CF_ATTR_STRING
#define N CF_ATTR_BIGINT
#define D CF_ATTR_DATE

static const struct attr_kind kinds[] = {
    {CKA_CLASS, U},
    {CKA_TOKEN, B},
    {CKA_PRIVATE, B},
    {CKA_LABEL, S},
    {CKA_UNIQUE_ID, S},
    {CKA_APPLICATION, S},
    {CKA_VALUE, Y},
    {CKA_OBJECT_ID, Y}, /* DER OBJECT IDENTIFIER */
    {CKA_CERTIFICATE_TYPE, U},
    {CKA_ISSUER, Y},
    {CKA_SERIAL_NUMBER, Y},
    {CKA_AC_ISSUER, Y},
    {CKA_OWNER, Y},
    {CKA_ATTR_TYPES, Y},
    {CKA_TRUSTED, B},
    {CKA_CERTIFICATE_CATEGORY, U},
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, U},
    {CKA_URL, S},
    {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, Y},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, Y},
    {CKA_NAME_HASH_ALGORITHM, U}, /* a CK_MECHANISM_TYPE */
    {CKA_CHECK_VALUE, Y},
    {CKA_KEY_TYPE, U},
    {CKA_SUBJECT, Y},
    {CKA_ID, Y},
    {CKA_SENSITIVE, B},
    {CKA_ENCRYPT, B},
    {CKA_DECRYPT, B},
    {CKA_WRAP, B},
    {CKA_UNWRAP, B},
    {CKA_SIGN, B},
    {CKA_SIGN_RECOVER, B},
    {CKA_VERIFY, B},
    {CKA_VERIFY_RECOVER, B},
    {CKA_DERIVE, B},
    {CKA_START_DATE, D},
    {CKA_END_DATE, D},
    {CKA_MODULUS, N},
    {CKA_MODULUS_BITS, U},
    {CKA_PUBLIC_EXPONENT, N},
    {CKA_PRIVATE_EXPONENT, N},
    {CKA_PRIME_1, N},
    {CKA_PRIME_2, N},
    {CKA_EXPONENT_1, N},
    {CKA_EXPONENT_2, N},
    {CKA_COEFFICIENT, N},
    {CKA_PUBLIC_KEY_INFO, Y}, /* DER SubjectPublicKeyInfo */
    {CKA_PRIME, N},
    {CKA_SUBPRIME, N},
    {CKA_BASE, N},
    {CKA_PRIME_BITS, U},
    {CKA_SUB_PRIME_BITS, U},
    {CKA_VALUE_BITS, U},
    {CKA_VALUE_LEN, U},
    {CKA_EXTRACTABLE, B},
    {CKA_LOCAL, B},
    {CKA_NEVER_EXTRACTABLE, B},
    {CKA_ALWAYS_SENSITIVE, B},
    {CKA_KEY_GEN_MECHANISM, U},
    {CKA_MODIFIABLE, B},
    {CKA_COPYABLE, B},
    {CKA_DESTROYABLE, B},
    {CKA_EC_PARAMS, Y}, /* DER parameters, not an integer */
    {CKA_EC_POINT, Y},	/* DER OCTET STRING */
    {CKA_SECONDARY_AUTH, B},
    {CKA_AUTH_PIN_FLAGS, U},
    {CKA_ALWAYS_AUTHENTICATE, B},
    {CKA_WRAP_WITH_TRUSTED, B},
    {CKA_OTP_FORMAT, U},
    {CKA_OTP_LENGTH, U},
    {CKA_OTP_TIME_INTERVAL, U},
    {CKA_OTP_USER_FRIENDLY_MODE, B},
    {CKA_OTP_CHALLENGE_REQUIREMENT, U},
    {CKA_OTP_TIME_REQUIREMENT, U},
    {CKA_OTP_COUNTER_REQUIREMENT, U},
    {CKA_OTP_PIN_REQUIREMENT, U},
    {CKA_OTP_USER_IDENTIFIER, S},
    {CKA_OTP_SERVICE_IDENTIFIER, S},
    {CKA_OTP_SERVICE_LOGO, Y},
    {CKA_OTP_SERVICE_LOGO_TYPE, S},
    {CKA_OTP_COUNTER, Y},
    {CKA_OTP_TIME, S},
    {CKA_GOSTR3410_PARAMS, Y},
    {CKA_GOSTR3411_PARAMS, Y},
    {CKA_GOST28147_PARAMS, Y},
    {CKA_HW_FEATURE_TYPE, U},
    {CKA_RESET_ON_INIT, B},
    {CKA_HAS_RESET, B},
    {CKA_PIXEL_X, U},
    {CKA_PIXEL_Y, U},
    {CKA_RESOLUTION, U},
    {CKA_CHAR_ROWS, U},
    {CKA_CHAR_COLUMNS, U},
    {CKA_COLOR, B},
    {CKA_BITS_PER_PIXEL, U},
    {CKA_CHAR_SETS, S},
    {CKA_ENCODING_METHODS, S},
    {CKA_MIME_TYPES, S},
    {CKA_MECHANISM_TYPE, U},
    {CKA_REQUIRED_CMS_ATTRIBUTES, Y},
    {CKA_DEFAULT_CMS_ATTRIBUTES, Y},
    {CKA_SUPPORTED_CMS_ATTRIBUTES, Y},
    {CKA_PROFILE_ID, U},
    {CKA_WRAP_TEMPLATE, CF_ATTR_ATTRS},
    {CKA_UNWRAP_TEMPLATE, CF_ATTR_ATTRS},
    {CKA_DERIVE_TEMPLATE, CF_ATTR_ATTRS},
    {CKA_ALLOWED_MECHANISMS, CF_ATTR_MECHS},
    /* coffer's own (include/coffer/pkcs11.h) */
    {CKA_COFFER_KEY_ROLE, U},
};

#undef B
#undef U
#undef Y
#undef S
#undef N
#undef D

static int cmp_kind(const void *key, const void *elem)
{
	CK_ATTRIBUTE_TYPE t = *(const CK_ATTRIBUTE_TYPE *)key;
	const struct attr_kind *e = elem;

	if (t < e->type)
		return -1;
	return t > e->type ? 1 : 0;
}

enum cf_attr_kind cf_p11_attr_kind(CK_ATTRIBUTE_TYPE type)
{
	const struct attr_kind *e;

	e = bsearch(&type, kinds, sizeof(kinds) / sizeof(kinds[0]),
		    sizeof(kinds[0]), cmp_kind);
	return e != NULL ? e->kind : CF_ATTR_UNKNOWN;
}
