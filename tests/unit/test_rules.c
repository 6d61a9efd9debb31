/* test_rules.c - the PKCS#11 attribute rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "token/object.h"
#include "token/rules.h"

/* A template under construction; values live in the builder. */
struct tb {
	CK_ATTRIBUTE a[40];
	CK_ULONG n;
	CK_ULONG ul[40];
	CK_BBOOL b[40];
};

static void add_ul(struct tb *t, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	assert_true(t->n < 40);
	t->ul[t->n] = v;
	t->a[t->n] = (CK_ATTRIBUTE){type, &t->ul[t->n], sizeof(CK_ULONG)};
	t->n++;
}

static void add_bool(struct tb *t, CK_ATTRIBUTE_TYPE type, bool v)
{
	assert_true(t->n < 40);
	t->b[t->n] = v ? CK_TRUE : CK_FALSE;
	t->a[t->n] = (CK_ATTRIBUTE){type, &t->b[t->n], 1};
	t->n++;
}

static void add_bytes(struct tb *t, CK_ATTRIBUTE_TYPE type, const void *v,
		      CK_ULONG len)
{
	assert_true(t->n < 40);
	t->a[t->n] = (CK_ATTRIBUTE){type, (void *)v, len};
	t->n++;
}

/* Drops every entry of the given type. */
static void drop(struct tb *t, CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG j = 0;

	for (CK_ULONG i = 0; i < t->n; i++)
		if (t->a[i].type != type)
			t->a[j++] = t->a[i];
	t->n = j;
}

static const uint8_t zero16[32] = {0};
static const uint8_t key32[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
				  12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
				  23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
/* P-256 OID and a placeholder point: the rules do not parse them. */
static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
			       0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t point[] = {0x04, 0x03, 0x04, 0x01, 0x02};

static void data_tmpl(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	add_ul(t, CKA_CLASS, CKO_DATA);
	add_bytes(t, CKA_VALUE, "payload", 7);
}

static void aes_tmpl(struct tb *t, CK_ULONG len)
{
	memset(t, 0, sizeof(*t));
	add_ul(t, CKA_CLASS, CKO_SECRET_KEY);
	add_ul(t, CKA_KEY_TYPE, CKK_AES);
	add_bytes(t, CKA_VALUE, key32, len);
}

static void secret_tmpl(struct tb *t, CK_KEY_TYPE kt, const void *v,
			CK_ULONG len)
{
	memset(t, 0, sizeof(*t));
	add_ul(t, CKA_CLASS, CKO_SECRET_KEY);
	add_ul(t, CKA_KEY_TYPE, kt);
	add_bytes(t, CKA_VALUE, v, len);
}

static void rsa_priv_tmpl(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	add_ul(t, CKA_CLASS, CKO_PRIVATE_KEY);
	add_ul(t, CKA_KEY_TYPE, CKK_RSA);
	add_bytes(t, CKA_MODULUS, "\xc5\x01\x02\x03", 4);
	add_bytes(t, CKA_PUBLIC_EXPONENT, "\x01\x00\x01", 3);
	add_bytes(t, CKA_PRIVATE_EXPONENT, "\x11\x22\x33", 3);
}

static void rsa_pub_tmpl(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	add_ul(t, CKA_CLASS, CKO_PUBLIC_KEY);
	add_ul(t, CKA_KEY_TYPE, CKK_RSA);
	add_bytes(t, CKA_MODULUS, "\x00\x45\x01\x02", 4);
	add_bytes(t, CKA_PUBLIC_EXPONENT, "\x01\x00\x01", 3);
}

static void ec_tmpl(struct tb *t, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt)
{
	memset(t, 0, sizeof(*t));
	add_ul(t, CKA_CLASS, cls);
	add_ul(t, CKA_KEY_TYPE, kt);
	add_bytes(t, CKA_EC_PARAMS, p256, sizeof(p256));
	if (cls == CKO_PUBLIC_KEY)
		add_bytes(t, CKA_EC_POINT, point, sizeof(point));
	else
		add_bytes(t, CKA_VALUE, key32, 32);
}

static void cert_tmpl(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	add_ul(t, CKA_CLASS, CKO_CERTIFICATE);
	add_ul(t, CKA_CERTIFICATE_TYPE, CKC_X_509);
	add_bytes(t, CKA_SUBJECT, "\x30\x00", 2);
	add_bytes(t, CKA_VALUE, "abc", 3);
}

static CK_RV create(const struct tb *t, bool so, struct cf_object **o)
{
	return cf_rules_new_object(CF_ORIGIN_CREATE, CK_UNAVAILABLE_INFORMATION,
				   CK_UNAVAILABLE_INFORMATION, t->a, t->n, so,
				   o);
}

static CK_RV create_rv(const struct tb *t)
{
	struct cf_object *o = NULL;
	CK_RV rv = create(t, false, &o);

	if (rv != CKR_OK)
		assert_null(o);
	cf_object_unref(o);
	return rv;
}

static struct cf_object *create_ok(const struct tb *t)
{
	struct cf_object *o = NULL;

	assert_int_equal(create(t, false, &o), CKR_OK);
	assert_non_null(o);
	return o;
}

/* ---- CREATE: what a template must and must not hold --------------------- */

static void test_rules__create_without_class_is_incomplete(void **state)
{
	struct tb t;

	(void)state;
	data_tmpl(&t);
	drop(&t, CKA_CLASS);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void test_rules__create_of_unstored_class_is_invalid(void **state)
{
	static const CK_OBJECT_CLASS classes[] = {
	    CKO_HW_FEATURE, CKO_MECHANISM, CKO_DOMAIN_PARAMETERS,
	    CKO_OTP_KEY,    CKO_PROFILE,   CKO_VENDOR_DEFINED | 1,
	};
	struct tb t;

	(void)state;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		memset(&t, 0, sizeof(t));
		add_ul(&t, CKA_CLASS, classes[i]);
		assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

static void test_rules__create_key_without_key_type_is_incomplete(void **s)
{
	struct tb t;

	(void)s;
	aes_tmpl(&t, 16);
	drop(&t, CKA_KEY_TYPE);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void test_rules__create_unsupported_key_type_is_invalid(void **state)
{
	struct tb t;

	(void)state;
	secret_tmpl(&t, CKK_RC4, key32, 16);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	memset(&t, 0, sizeof(t));
	add_ul(&t, CKA_CLASS, CKO_PRIVATE_KEY);
	add_ul(&t, CKA_KEY_TYPE, CKK_DSA);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	/* a secret key type is not a private key type */
	memset(&t, 0, sizeof(t));
	add_ul(&t, CKA_CLASS, CKO_PRIVATE_KEY);
	add_ul(&t, CKA_KEY_TYPE, CKK_AES);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void test_rules__create_cert_without_type_is_incomplete(void **state)
{
	struct tb t;

	(void)state;
	cert_tmpl(&t);
	drop(&t, CKA_CERTIFICATE_TYPE);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void test_rules__create_non_x509_cert_is_invalid(void **state)
{
	struct tb t;

	(void)state;
	cert_tmpl(&t);
	drop(&t, CKA_CERTIFICATE_TYPE);
	add_ul(&t, CKA_CERTIFICATE_TYPE, CKC_X_509_ATTR_CERT);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void test_rules__create_x509_without_subject_is_incomplete(void **s)
{
	struct tb t;

	(void)s;
	cert_tmpl(&t);
	drop(&t, CKA_SUBJECT);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void test_rules__create_x509_without_value_is_incomplete(void **s)
{
	struct tb t;

	(void)s;
	cert_tmpl(&t);
	drop(&t, CKA_VALUE);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void test_rules__create_x509_complete_succeeds(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	cert_tmpl(&t);
	o = create_ok(&t);
	assert_int_equal(o->cls, CKO_CERTIFICATE);
	assert_int_equal(cf_object_ulong(o, CKA_CERTIFICATE_TYPE, 99),
			 CKC_X_509);
	cf_object_unref(o);
}

static void test_rules__create_rsa_private_requires_components(void **state)
{
	static const CK_ATTRIBUTE_TYPE required[] = {
	    CKA_MODULUS, CKA_PRIVATE_EXPONENT, CKA_PUBLIC_EXPONENT};
	struct tb t;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		rsa_priv_tmpl(&t);
		drop(&t, required[i]);
		assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
	}
	rsa_priv_tmpl(&t);
	assert_int_equal(create_rv(&t), CKR_OK);
}

static void test_rules__create_rsa_public_requires_components(void **state)
{
	struct tb t;

	(void)state;
	rsa_pub_tmpl(&t);
	drop(&t, CKA_MODULUS);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
	rsa_pub_tmpl(&t);
	drop(&t, CKA_PUBLIC_EXPONENT);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
	rsa_pub_tmpl(&t);
	assert_int_equal(create_rv(&t), CKR_OK);
}

static void test_rules__create_required_value_may_not_be_empty(void **state)
{
	struct tb t;

	(void)state;
	rsa_pub_tmpl(&t);
	drop(&t, CKA_MODULUS);
	add_bytes(&t, CKA_MODULUS, NULL, 0);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void test_rules__create_ec_keys_require_params_and_point(void **s)
{
	static const CK_KEY_TYPE kts[] = {CKK_EC, CKK_EC_EDWARDS,
					  CKK_EC_MONTGOMERY};
	struct tb t;

	(void)s;
	for (size_t i = 0; i < 3; i++) {
		ec_tmpl(&t, CKO_PUBLIC_KEY, kts[i]);
		assert_int_equal(create_rv(&t), CKR_OK);
		drop(&t, CKA_EC_POINT);
		assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
		ec_tmpl(&t, CKO_PUBLIC_KEY, kts[i]);
		drop(&t, CKA_EC_PARAMS);
		assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
	}
}

static void test_rules__create_ec_private_requires_params_and_value(void **s)
{
	static const CK_KEY_TYPE kts[] = {CKK_EC, CKK_EC_EDWARDS,
					  CKK_EC_MONTGOMERY};
	struct tb t;

	(void)s;
	for (size_t i = 0; i < 3; i++) {
		ec_tmpl(&t, CKO_PRIVATE_KEY, kts[i]);
		assert_int_equal(create_rv(&t), CKR_OK);
		drop(&t, CKA_VALUE);
		assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
		ec_tmpl(&t, CKO_PRIVATE_KEY, kts[i]);
		drop(&t, CKA_EC_PARAMS);
		assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
	}
}

static void test_rules__create_secret_key_requires_value(void **state)
{
	struct tb t;

	(void)state;
	aes_tmpl(&t, 16);
	drop(&t, CKA_VALUE);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCOMPLETE);
}

static void test_rules__create_secret_key_forbids_value_len(void **state)
{
	struct tb t;

	(void)state;
	aes_tmpl(&t, 16);
	add_ul(&t, CKA_VALUE_LEN, 16);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCONSISTENT);
}

static void test_rules__create_rejects_token_kept_attributes(void **state)
{
	struct tb t;

	(void)state;
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_LOCAL, true);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_READ_ONLY);
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_ALWAYS_SENSITIVE, true);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_READ_ONLY);
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_NEVER_EXTRACTABLE, true);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_READ_ONLY);
	aes_tmpl(&t, 16);
	add_ul(&t, CKA_KEY_GEN_MECHANISM, CKM_AES_KEY_GEN);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_READ_ONLY);
	data_tmpl(&t);
	add_bytes(&t, CKA_UNIQUE_ID, "0123456789abcdef", 16);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_READ_ONLY);
}

static void test_rules__create_aes_key_length_is_checked(void **state)
{
	struct tb t;

	(void)state;
	aes_tmpl(&t, 17);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	aes_tmpl(&t, 8);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	for (CK_ULONG len = 16; len <= 32; len += 8) {
		aes_tmpl(&t, len);
		assert_int_equal(create_rv(&t), CKR_OK);
	}
}

static void test_rules__create_fixed_length_keys_are_checked(void **state)
{
	struct tb t;

	(void)state;
	secret_tmpl(&t, CKK_DES3, key32, 16);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	secret_tmpl(&t, CKK_DES3, key32, 24);
	assert_int_equal(create_rv(&t), CKR_OK);
	secret_tmpl(&t, CKK_CHACHA20, key32, 16);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	secret_tmpl(&t, CKK_CHACHA20, key32, 32);
	assert_int_equal(create_rv(&t), CKR_OK);
}

static void test_rules__create_hmac_keys_take_any_length(void **state)
{
	static const CK_KEY_TYPE kts[] = {
	    CKK_GENERIC_SECRET, CKK_SHA_1_HMAC,	   CKK_SHA224_HMAC,
	    CKK_SHA256_HMAC,	CKK_SHA384_HMAC,   CKK_SHA512_HMAC,
	    CKK_SHA3_224_HMAC,	CKK_SHA3_256_HMAC, CKK_SHA3_384_HMAC,
	    CKK_SHA3_512_HMAC,
	};
	struct tb t;

	(void)state;
	for (size_t i = 0; i < sizeof(kts) / sizeof(kts[0]); i++) {
		secret_tmpl(&t, kts[i], key32, 1);
		assert_int_equal(create_rv(&t), CKR_OK);
		secret_tmpl(&t, kts[i], key32, 31);
		assert_int_equal(create_rv(&t), CKR_OK);
		secret_tmpl(&t, kts[i], key32, 0);
		assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	}
}

static void test_rules__create_foreign_attribute_is_inconsistent(void **s)
{
	struct tb t;

	(void)s;
	data_tmpl(&t);
	add_bytes(&t, CKA_MODULUS, "\x01", 1);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCONSISTENT);
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_SIGN_RECOVER, true); /* private keys only */
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCONSISTENT);
}

static void test_rules__create_repeated_type_must_agree(void **state)
{
	struct tb t;

	(void)state;
	data_tmpl(&t);
	add_bytes(&t, CKA_LABEL, "one", 3);
	add_bytes(&t, CKA_LABEL, "two", 3);
	assert_int_equal(create_rv(&t), CKR_TEMPLATE_INCONSISTENT);
	data_tmpl(&t);
	add_bytes(&t, CKA_LABEL, "one", 3);
	add_bytes(&t, CKA_LABEL, "one", 3);
	assert_int_equal(create_rv(&t), CKR_OK);
}

static void test_rules__create_trusted_needs_so(void **state)
{
	struct tb t;
	struct cf_object *o = NULL;

	(void)state;
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_TRUSTED, true);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(create(&t, true, &o), CKR_OK);
	assert_true(cf_object_bool(o, CKA_TRUSTED, false));
	cf_object_unref(o);
}

static void test_rules__create_bad_bool_length_is_invalid(void **state)
{
	struct tb t;
	CK_ULONG wide = CK_TRUE;

	(void)state;
	data_tmpl(&t);
	add_bytes(&t, CKA_TOKEN, &wide, sizeof(wide));
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	data_tmpl(&t);
	add_bytes(&t, CKA_PRIVATE, &wide, sizeof(wide));
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void test_rules__create_unknown_type_is_type_invalid(void **state)
{
	struct tb t;

	(void)state;
	data_tmpl(&t);
	add_bytes(&t, CKA_VENDOR_DEFINED | 5, "x", 1);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_TYPE_INVALID);
}

static void test_rules__create_null_template_is_bad_arguments(void **state)
{
	struct cf_object *o = NULL;

	(void)state;
	assert_int_equal(
	    cf_rules_new_object(CF_ORIGIN_CREATE, CK_UNAVAILABLE_INFORMATION,
				CK_UNAVAILABLE_INFORMATION, NULL, 2, false, &o),
	    CKR_ARGUMENTS_BAD);
	assert_null(o);
}

static void test_rules__mechanism_class_must_match_template(void **state)
{
	struct tb t;
	struct cf_object *o = NULL;

	(void)state;
	memset(&t, 0, sizeof(t));
	add_ul(&t, CKA_CLASS, CKO_PUBLIC_KEY);
	add_ul(&t, CKA_VALUE_LEN, 16);
	assert_int_equal(cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_SECRET_KEY,
					     CKK_AES, t.a, t.n, false, &o),
			 CKR_TEMPLATE_INCONSISTENT);
	memset(&t, 0, sizeof(t));
	add_ul(&t, CKA_KEY_TYPE, CKK_DES3);
	add_ul(&t, CKA_VALUE_LEN, 16);
	assert_int_equal(cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_SECRET_KEY,
					     CKK_AES, t.a, t.n, false, &o),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_null(o);
}

/* ---- defaults --------------------------------------------------------------
 */

static void test_rules__data_object_defaults(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	data_tmpl(&t);
	o = create_ok(&t);
	assert_false(cf_object_bool(o, CKA_TOKEN, true));
	assert_true(cf_object_bool(o, CKA_PRIVATE, false));
	assert_true(cf_object_bool(o, CKA_MODIFIABLE, false));
	assert_true(cf_object_bool(o, CKA_COPYABLE, false));
	assert_true(cf_object_bool(o, CKA_DESTROYABLE, false));
	assert_int_equal(cf_object_attr(o, CKA_LABEL)->len, 0);
	assert_int_equal(cf_object_attr(o, CKA_APPLICATION)->len, 0);
	assert_int_equal(cf_object_attr(o, CKA_OBJECT_ID)->len, 0);
	assert_false(o->token);
	assert_true(o->priv);
	cf_object_unref(o);
}

static void test_rules__private_default_depends_on_class(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	cert_tmpl(&t);
	o = create_ok(&t);
	assert_false(cf_object_bool(o, CKA_PRIVATE, true));
	cf_object_unref(o);
	rsa_pub_tmpl(&t);
	o = create_ok(&t);
	assert_false(cf_object_bool(o, CKA_PRIVATE, true));
	cf_object_unref(o);
	rsa_priv_tmpl(&t);
	o = create_ok(&t);
	assert_true(cf_object_bool(o, CKA_PRIVATE, false));
	cf_object_unref(o);
	aes_tmpl(&t, 16);
	o = create_ok(&t);
	assert_true(cf_object_bool(o, CKA_PRIVATE, false));
	cf_object_unref(o);
}

static void test_rules__template_values_override_defaults(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_TOKEN, true);
	add_bool(&t, CKA_PRIVATE, false);
	add_bool(&t, CKA_SENSITIVE, false);
	add_bytes(&t, CKA_LABEL, "mine", 4);
	o = create_ok(&t);
	assert_true(o->token);
	assert_false(o->priv);
	assert_false(cf_object_bool(o, CKA_SENSITIVE, true));
	assert_memory_equal(cf_object_attr(o, CKA_LABEL)->value, "mine", 4);
	cf_object_unref(o);
}

static void test_rules__keys_default_sensitive_and_unextractable(void **s)
{
	struct tb t;
	struct cf_object *o;

	(void)s;
	rsa_priv_tmpl(&t);
	o = create_ok(&t);
	assert_true(cf_object_bool(o, CKA_SENSITIVE, false));
	assert_false(cf_object_bool(o, CKA_EXTRACTABLE, true));
	assert_int_equal(cf_object_attr(o, CKA_ID)->len, 0);
	cf_object_unref(o);
	aes_tmpl(&t, 16);
	o = create_ok(&t);
	assert_true(cf_object_bool(o, CKA_SENSITIVE, false));
	assert_false(cf_object_bool(o, CKA_EXTRACTABLE, true));
	cf_object_unref(o);
}

static void test_rules__usage_flags_default_as_softhsm(void **state)
{
	static const CK_ATTRIBUTE_TYPE on[] = {CKA_ENCRYPT, CKA_DECRYPT,
					       CKA_SIGN,    CKA_VERIFY,
					       CKA_WRAP,    CKA_UNWRAP};
	struct tb t;
	struct cf_object *o;

	(void)state;
	aes_tmpl(&t, 16);
	o = create_ok(&t);
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		assert_true(cf_object_bool(o, on[i], false));
	assert_false(cf_object_bool(o, CKA_DERIVE, true));
	assert_false(cf_object_bool(o, CKA_TRUSTED, true));
	assert_false(cf_object_bool(o, CKA_WRAP_WITH_TRUSTED, true));
	cf_object_unref(o);
	rsa_priv_tmpl(&t);
	o = create_ok(&t);
	assert_true(cf_object_bool(o, CKA_SIGN_RECOVER, false));
	assert_false(cf_object_bool(o, CKA_ALWAYS_AUTHENTICATE, true));
	cf_object_unref(o);
	rsa_pub_tmpl(&t);
	o = create_ok(&t);
	assert_true(cf_object_bool(o, CKA_VERIFY_RECOVER, false));
	cf_object_unref(o);
}

static void test_rules__every_attribute_of_the_class_is_present(void **s)
{
	static const CK_ATTRIBUTE_TYPE priv[] = {
	    CKA_CLASS,
	    CKA_TOKEN,
	    CKA_PRIVATE,
	    CKA_MODIFIABLE,
	    CKA_LABEL,
	    CKA_COPYABLE,
	    CKA_DESTROYABLE,
	    CKA_UNIQUE_ID,
	    CKA_KEY_TYPE,
	    CKA_ID,
	    CKA_START_DATE,
	    CKA_END_DATE,
	    CKA_DERIVE,
	    CKA_LOCAL,
	    CKA_KEY_GEN_MECHANISM,
	    CKA_ALLOWED_MECHANISMS,
	    CKA_SUBJECT,
	    CKA_SENSITIVE,
	    CKA_DECRYPT,
	    CKA_SIGN,
	    CKA_SIGN_RECOVER,
	    CKA_UNWRAP,
	    CKA_EXTRACTABLE,
	    CKA_ALWAYS_SENSITIVE,
	    CKA_NEVER_EXTRACTABLE,
	    CKA_WRAP_WITH_TRUSTED,
	    CKA_UNWRAP_TEMPLATE,
	    CKA_ALWAYS_AUTHENTICATE,
	    CKA_PUBLIC_KEY_INFO,
	    CKA_MODULUS,
	    CKA_PUBLIC_EXPONENT,
	    CKA_PRIVATE_EXPONENT,
	    CKA_PRIME_1,
	    CKA_PRIME_2,
	    CKA_EXPONENT_1,
	    CKA_EXPONENT_2,
	    CKA_COEFFICIENT,
	};
	struct tb t;
	struct cf_object *o;

	(void)s;
	rsa_priv_tmpl(&t);
	o = create_ok(&t);
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		if (cf_object_attr(o, priv[i]) == NULL)
			fail_msg("attribute 0x%lx missing", priv[i]);
	assert_int_equal(cf_object_attr(o, CKA_PRIME_1)->len, 0);
	assert_null(cf_object_attr(o, CKA_VALUE_LEN));
	cf_object_unref(o);
}

static void test_rules__certificate_defaults(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	cert_tmpl(&t);
	o = create_ok(&t);
	assert_false(cf_object_bool(o, CKA_TRUSTED, true));
	assert_int_equal(cf_object_ulong(o, CKA_CERTIFICATE_CATEGORY, 9), 0);
	assert_int_equal(cf_object_ulong(o, CKA_NAME_HASH_ALGORITHM, 0),
			 CKM_SHA_1);
	assert_int_equal(cf_object_attr(o, CKA_ISSUER)->len, 0);
	cf_object_unref(o);
}

/* ---- token-kept attributes ------------------------------------------------
 */

static void test_rules__create_sets_token_kept_attributes(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	aes_tmpl(&t, 16);
	o = create_ok(&t);
	assert_false(cf_object_bool(o, CKA_LOCAL, true));
	assert_false(cf_object_bool(o, CKA_ALWAYS_SENSITIVE, true));
	assert_false(cf_object_bool(o, CKA_NEVER_EXTRACTABLE, true));
	assert_int_equal(cf_object_ulong(o, CKA_KEY_GEN_MECHANISM, 0),
			 CK_UNAVAILABLE_INFORMATION);
	cf_object_unref(o);
}

static struct cf_object *generate_aes(bool sensitive, bool extractable)
{
	struct tb t;
	struct cf_object *o = NULL;

	memset(&t, 0, sizeof(t));
	add_ul(&t, CKA_VALUE_LEN, 16);
	add_bool(&t, CKA_SENSITIVE, sensitive);
	add_bool(&t, CKA_EXTRACTABLE, extractable);
	assert_int_equal(cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_SECRET_KEY,
					     CKK_AES, t.a, t.n, false, &o),
			 CKR_OK);
	return o;
}

static void test_rules__generate_sets_local_and_history(void **state)
{
	struct cf_object *o;

	(void)state;
	o = generate_aes(true, false);
	assert_true(cf_object_bool(o, CKA_LOCAL, false));
	assert_true(cf_object_bool(o, CKA_ALWAYS_SENSITIVE, false));
	assert_true(cf_object_bool(o, CKA_NEVER_EXTRACTABLE, false));
	assert_int_equal(o->cls, CKO_SECRET_KEY);
	assert_int_equal(o->key_type, CKK_AES);
	cf_object_unref(o);
	o = generate_aes(false, true);
	assert_true(cf_object_bool(o, CKA_LOCAL, false));
	assert_false(cf_object_bool(o, CKA_ALWAYS_SENSITIVE, true));
	assert_false(cf_object_bool(o, CKA_NEVER_EXTRACTABLE, true));
	cf_object_unref(o);
}

static void test_rules__generate_requires_value_len(void **state)
{
	struct tb t;
	struct cf_object *o = NULL;

	(void)state;
	memset(&t, 0, sizeof(t));
	add_bytes(&t, CKA_LABEL, "k", 1);
	assert_int_equal(cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_SECRET_KEY,
					     CKK_AES, t.a, t.n, false, &o),
			 CKR_TEMPLATE_INCOMPLETE);
	assert_null(o);
}

static void test_rules__generate_forbids_value(void **state)
{
	struct tb t;
	struct cf_object *o = NULL;

	(void)state;
	memset(&t, 0, sizeof(t));
	add_ul(&t, CKA_VALUE_LEN, 16);
	add_bytes(&t, CKA_VALUE, key32, 16);
	assert_int_equal(cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_SECRET_KEY,
					     CKK_AES, t.a, t.n, false, &o),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_null(o);
}

static void test_rules__generate_rsa_public_requires_modulus_bits(void **s)
{
	struct tb t;
	struct cf_object *o = NULL;

	(void)s;
	memset(&t, 0, sizeof(t));
	add_bytes(&t, CKA_PUBLIC_EXPONENT, "\x01\x00\x01", 3);
	assert_int_equal(cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_PUBLIC_KEY,
					     CKK_RSA, t.a, t.n, false, &o),
			 CKR_TEMPLATE_INCOMPLETE);
	add_ul(&t, CKA_MODULUS_BITS, 2048);
	assert_int_equal(cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_PUBLIC_KEY,
					     CKK_RSA, t.a, t.n, false, &o),
			 CKR_OK);
	assert_true(cf_object_bool(o, CKA_LOCAL, false));
	cf_object_unref(o);
}

static void test_rules__unwrap_and_derive_are_not_local(void **state)
{
	static const enum cf_origin origins[] = {CF_ORIGIN_UNWRAP,
						 CF_ORIGIN_DERIVE};
	struct tb t;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct cf_object *o = NULL;
		memset(&t, 0, sizeof(t));
		add_ul(&t, CKA_CLASS, CKO_SECRET_KEY);
		add_ul(&t, CKA_KEY_TYPE, CKK_AES);
		assert_int_equal(cf_rules_new_object(origins[i],
						     CK_UNAVAILABLE_INFORMATION,
						     CK_UNAVAILABLE_INFORMATION,
						     t.a, t.n, false, &o),
				 CKR_OK);
		assert_false(cf_object_bool(o, CKA_LOCAL, true));
		assert_false(cf_object_bool(o, CKA_ALWAYS_SENSITIVE, true));
		assert_false(cf_object_bool(o, CKA_NEVER_EXTRACTABLE, true));
		cf_object_unref(o);
	}
}

static void test_rules__unwrap_forbids_value(void **state)
{
	struct tb t;
	struct cf_object *o = NULL;

	(void)state;
	aes_tmpl(&t, 16);
	assert_int_equal(cf_rules_new_object(
			     CF_ORIGIN_UNWRAP, CK_UNAVAILABLE_INFORMATION,
			     CK_UNAVAILABLE_INFORMATION, t.a, t.n, false, &o),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_null(o);
}

static void test_rules__unwrap_requires_key_type(void **state)
{
	struct tb t;
	struct cf_object *o = NULL;

	(void)state;
	memset(&t, 0, sizeof(t));
	add_ul(&t, CKA_CLASS, CKO_SECRET_KEY);
	assert_int_equal(cf_rules_new_object(
			     CF_ORIGIN_UNWRAP, CK_UNAVAILABLE_INFORMATION,
			     CK_UNAVAILABLE_INFORMATION, t.a, t.n, false, &o),
			 CKR_TEMPLATE_INCOMPLETE);
}

static void test_rules__derive_takes_value_len_not_value(void **state)
{
	struct tb t;
	struct cf_object *o = NULL;

	(void)state;
	memset(&t, 0, sizeof(t));
	add_ul(&t, CKA_VALUE_LEN, 32);
	assert_int_equal(cf_rules_new_object(CF_ORIGIN_DERIVE, CKO_SECRET_KEY,
					     CKK_AES, t.a, t.n, false, &o),
			 CKR_OK);
	assert_int_equal(cf_object_ulong(o, CKA_VALUE_LEN, 0), 32);
	cf_object_unref(o);
	o = NULL;
	add_bytes(&t, CKA_VALUE, key32, 32);
	assert_int_equal(cf_rules_new_object(CF_ORIGIN_DERIVE, CKO_SECRET_KEY,
					     CKK_AES, t.a, t.n, false, &o),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_null(o);
}

static void test_rules__unique_id_is_fresh_hex(void **state)
{
	struct tb t;
	struct cf_object *a, *b;
	const struct cf_attr *ua, *ub;

	(void)state;
	data_tmpl(&t);
	a = create_ok(&t);
	b = create_ok(&t);
	ua = cf_object_attr(a, CKA_UNIQUE_ID);
	ub = cf_object_attr(b, CKA_UNIQUE_ID);
	assert_int_equal(ua->len, 16);
	for (size_t i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdef", ua->value[i]));
	assert_int_equal(ub->len, 16);
	assert_memory_not_equal(ua->value, ub->value, 16);
	cf_object_unref(a);
	cf_object_unref(b);
}

/* ---- derived attributes ----------------------------------------------------
 */

static void assert_check_value(const struct cf_object *o, const char *want)
{
	const struct cf_attr *cv = cf_object_attr(o, CKA_CHECK_VALUE);

	assert_non_null(cv);
	assert_int_equal(cv->len, 3);
	assert_memory_equal(cv->value, want, 3);
}

/* AES-128 of a zero block under a zero key is 66e94bd4... (FIPS-197
 * appendix test vectors, widely published). */
static void test_rules__aes_check_value_is_ecb_of_zero_block(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	secret_tmpl(&t, CKK_AES, zero16, 16);
	o = create_ok(&t);
	assert_check_value(o, "\x66\xe9\x4b");
	cf_object_unref(o);
}

/* SHA-1("abc") is a9993e36... (FIPS 180 example). */
static void test_rules__generic_check_value_is_sha1(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	secret_tmpl(&t, CKK_GENERIC_SECRET, "abc", 3);
	o = create_ok(&t);
	assert_check_value(o, "\xa9\x99\x3e");
	cf_object_unref(o);
	secret_tmpl(&t, CKK_SHA256_HMAC, "abc", 3);
	o = create_ok(&t);
	assert_check_value(o, "\xa9\x99\x3e");
	cf_object_unref(o);
}

static void test_rules__certificate_check_value_is_sha1(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	cert_tmpl(&t); /* CKA_VALUE "abc" */
	o = create_ok(&t);
	assert_check_value(o, "\xa9\x99\x3e");
	cf_object_unref(o);
}

static void test_rules__matching_check_value_is_accepted(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	secret_tmpl(&t, CKK_AES, zero16, 16);
	add_bytes(&t, CKA_CHECK_VALUE, "\x66\xe9\x4b", 3);
	o = create_ok(&t);
	assert_check_value(o, "\x66\xe9\x4b");
	cf_object_unref(o);
}

static void test_rules__wrong_check_value_is_invalid(void **state)
{
	struct tb t;

	(void)state;
	secret_tmpl(&t, CKK_AES, zero16, 16);
	add_bytes(&t, CKA_CHECK_VALUE, "\x66\xe9\x4c", 3);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
	cert_tmpl(&t);
	add_bytes(&t, CKA_CHECK_VALUE, "\xa9\x99", 2);
	assert_int_equal(create_rv(&t), CKR_ATTRIBUTE_VALUE_INVALID);
}

static void test_rules__empty_check_value_is_kept(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	secret_tmpl(&t, CKK_AES, zero16, 16);
	add_bytes(&t, CKA_CHECK_VALUE, NULL, 0);
	o = create_ok(&t);
	assert_int_equal(cf_object_attr(o, CKA_CHECK_VALUE)->len, 0);
	cf_object_unref(o);
}

static void test_rules__value_len_and_modulus_bits_are_computed(void **s)
{
	struct tb t;
	struct cf_object *o;

	(void)s;
	aes_tmpl(&t, 24);
	o = create_ok(&t);
	assert_int_equal(cf_object_ulong(o, CKA_VALUE_LEN, 0), 24);
	cf_object_unref(o);
	rsa_pub_tmpl(&t); /* modulus 00 45 01 02: 23 bits */
	o = create_ok(&t);
	assert_int_equal(cf_object_ulong(o, CKA_MODULUS_BITS, 0), 23);
	cf_object_unref(o);
}

static void test_rules__update_derived_after_generate(void **state)
{
	struct cf_object *o = generate_aes(true, false);

	(void)state;
	assert_int_equal(cf_object_attr(o, CKA_CHECK_VALUE)->len, 0);
	assert_int_equal(cf_object_set(o, CKA_VALUE, zero16, 16), CKR_OK);
	assert_int_equal(cf_rules_update_derived(o), CKR_OK);
	assert_check_value(o, "\x66\xe9\x4b");
	assert_int_equal(cf_object_ulong(o, CKA_VALUE_LEN, 0), 16);
	cf_object_unref(o);
}

/* ---- check_change ----------------------------------------------------------
 */

static struct cf_object *aes_obj(bool sensitive, bool extractable)
{
	struct tb t;

	aes_tmpl(&t, 16);
	add_bool(&t, CKA_SENSITIVE, sensitive);
	add_bool(&t, CKA_EXTRACTABLE, extractable);
	return create_ok(&t);
}

static CK_RV change_bool(const struct cf_object *o, CK_ATTRIBUTE_TYPE type,
			 bool v, bool copy, bool so)
{
	CK_BBOOL b = v ? CK_TRUE : CK_FALSE;
	CK_ATTRIBUTE a = {type, &b, 1};

	return cf_rules_check_change(o, &a, 1, copy, so);
}

static CK_RV change_ulong(const struct cf_object *o, CK_ATTRIBUTE_TYPE type,
			  CK_ULONG v)
{
	CK_ATTRIBUTE a = {type, &v, sizeof(v)};

	return cf_rules_check_change(o, &a, 1, false, false);
}

static CK_RV change_bytes(const struct cf_object *o, CK_ATTRIBUTE_TYPE type,
			  const void *v, CK_ULONG len)
{
	CK_ATTRIBUTE a = {type, (void *)v, len};

	return cf_rules_check_change(o, &a, 1, false, false);
}

static void test_rules__change_of_unmodifiable_object_is_prohibited(void **s)
{
	struct tb t;
	struct cf_object *o;

	(void)s;
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_MODIFIABLE, false);
	o = create_ok(&t);
	assert_int_equal(change_bytes(o, CKA_LABEL, "new", 3),
			 CKR_ACTION_PROHIBITED);
	cf_object_unref(o);
}

static void test_rules__change_of_fixed_attributes_is_read_only(void **s)
{
	struct tb t;
	struct cf_object *o;

	(void)s;
	o = aes_obj(true, false);
	assert_int_equal(change_ulong(o, CKA_CLASS, CKO_DATA),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(change_ulong(o, CKA_KEY_TYPE, CKK_DES3),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(change_bytes(o, CKA_VALUE, zero16, 16),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(change_bool(o, CKA_LOCAL, true, false, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	cf_object_unref(o);
	cert_tmpl(&t);
	o = create_ok(&t);
	assert_int_equal(change_bytes(o, CKA_VALUE, "abd", 3),
			 CKR_ATTRIBUTE_READ_ONLY);
	cf_object_unref(o);
	rsa_pub_tmpl(&t);
	o = create_ok(&t);
	assert_int_equal(change_bytes(o, CKA_MODULUS, "\x01", 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	cf_object_unref(o);
}

static void test_rules__modifiable_attributes_may_change(void **state)
{
	struct cf_object *o = aes_obj(true, false);

	(void)state;
	assert_int_equal(change_bytes(o, CKA_LABEL, "new", 3), CKR_OK);
	assert_int_equal(change_bytes(o, CKA_ID, "\x01", 1), CKR_OK);
	assert_int_equal(change_bool(o, CKA_ENCRYPT, false, false, false),
			 CKR_OK);
	cf_object_unref(o);
}

static void test_rules__sensitive_cannot_be_cleared(void **state)
{
	struct cf_object *o = aes_obj(true, false);

	(void)state;
	assert_int_equal(change_bool(o, CKA_SENSITIVE, false, false, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(change_bool(o, CKA_SENSITIVE, false, true, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	cf_object_unref(o);
	o = aes_obj(false, true);
	assert_int_equal(change_bool(o, CKA_SENSITIVE, true, false, false),
			 CKR_OK);
	cf_object_unref(o);
}

static void test_rules__extractable_cannot_be_set(void **state)
{
	struct cf_object *o = aes_obj(true, false);

	(void)state;
	assert_int_equal(change_bool(o, CKA_EXTRACTABLE, true, false, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	cf_object_unref(o);
	o = aes_obj(true, true);
	assert_int_equal(change_bool(o, CKA_EXTRACTABLE, false, false, false),
			 CKR_OK);
	cf_object_unref(o);
}

static void test_rules__wrap_with_trusted_cannot_be_cleared(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_WRAP_WITH_TRUSTED, true);
	o = create_ok(&t);
	assert_int_equal(
	    change_bool(o, CKA_WRAP_WITH_TRUSTED, false, false, false),
	    CKR_ATTRIBUTE_READ_ONLY);
	cf_object_unref(o);
	o = aes_obj(true, false);
	assert_int_equal(
	    change_bool(o, CKA_WRAP_WITH_TRUSTED, true, false, false), CKR_OK);
	cf_object_unref(o);
}

static void test_rules__trusted_set_only_by_so(void **state)
{
	struct cf_object *o = aes_obj(true, false);

	(void)state;
	assert_int_equal(change_bool(o, CKA_TRUSTED, true, false, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(change_bool(o, CKA_TRUSTED, true, false, true),
			 CKR_OK);
	cf_object_unref(o);
}

static void test_rules__token_and_private_change_only_on_copy(void **state)
{
	struct cf_object *o = aes_obj(true, false);

	(void)state;
	assert_int_equal(change_bool(o, CKA_TOKEN, true, false, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(change_bool(o, CKA_PRIVATE, false, false, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(change_bool(o, CKA_TOKEN, true, true, false), CKR_OK);
	assert_int_equal(change_bool(o, CKA_PRIVATE, false, true, false),
			 CKR_OK);
	cf_object_unref(o);
}

static void test_rules__copy_of_uncopyable_is_prohibited(void **state)
{
	struct tb t;
	struct cf_object *o, *c = NULL;

	(void)state;
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_COPYABLE, false);
	o = create_ok(&t);
	assert_int_equal(cf_rules_check_change(o, NULL, 0, true, false),
			 CKR_ACTION_PROHIBITED);
	assert_int_equal(cf_rules_copy_object(o, NULL, 0, false, &c),
			 CKR_ACTION_PROHIBITED);
	assert_null(c);
	cf_object_unref(o);
}

static void test_rules__copyable_only_goes_to_false(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	o = aes_obj(true, false);
	assert_int_equal(change_bool(o, CKA_COPYABLE, false, false, false),
			 CKR_OK);
	cf_object_unref(o);
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_COPYABLE, false);
	o = create_ok(&t);
	assert_int_equal(change_bool(o, CKA_COPYABLE, true, false, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	cf_object_unref(o);
}

static void test_rules__setting_the_current_value_is_fine(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_MODIFIABLE, false);
	o = create_ok(&t);
	assert_int_equal(change_ulong(o, CKA_CLASS, CKO_SECRET_KEY), CKR_OK);
	assert_int_equal(change_bool(o, CKA_SENSITIVE, true, false, false),
			 CKR_OK);
	assert_int_equal(change_bool(o, CKA_TOKEN, false, false, false),
			 CKR_OK);
	cf_object_unref(o);
}

static void test_rules__change_of_unknown_type_is_type_invalid(void **s)
{
	struct cf_object *o = aes_obj(true, false);

	(void)s;
	assert_int_equal(change_bytes(o, 0x7777UL, "x", 1),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	/* known, but not an attribute of a secret key */
	assert_int_equal(change_bytes(o, CKA_MODULUS, "x", 1),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	cf_object_unref(o);
}

static void test_rules__change_of_bad_shape_is_value_invalid(void **state)
{
	struct cf_object *o = aes_obj(true, false);
	CK_ULONG wide = 1;

	(void)state;
	assert_int_equal(change_bytes(o, CKA_ENCRYPT, &wide, sizeof(wide)),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(change_bytes(o, CKA_START_DATE, "2024", 4),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	cf_object_unref(o);
}

static void test_rules__change_with_conflicting_repeats_fails(void **state)
{
	struct cf_object *o = aes_obj(true, false);
	CK_ATTRIBUTE t[2] = {{CKA_LABEL, "a", 1}, {CKA_LABEL, "b", 1}};

	(void)state;
	assert_int_equal(cf_rules_check_change(o, t, 2, false, false),
			 CKR_TEMPLATE_INCONSISTENT);
	cf_object_unref(o);
}

static void test_rules__copy_may_not_make_modifiable(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	aes_tmpl(&t, 16);
	add_bool(&t, CKA_MODIFIABLE, false);
	o = create_ok(&t);
	assert_int_equal(change_bool(o, CKA_MODIFIABLE, true, true, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	cf_object_unref(o);
	o = aes_obj(true, false);
	assert_int_equal(change_bool(o, CKA_MODIFIABLE, false, true, false),
			 CKR_OK);
	assert_int_equal(change_bool(o, CKA_MODIFIABLE, false, false, false),
			 CKR_ATTRIBUTE_READ_ONLY);
	cf_object_unref(o);
}

static void test_rules__check_change_changes_nothing(void **state)
{
	struct cf_object *o = aes_obj(true, false);
	const struct cf_attr *l;

	(void)state;
	assert_int_equal(change_bytes(o, CKA_LABEL, "new", 3), CKR_OK);
	l = cf_object_attr(o, CKA_LABEL);
	assert_int_equal(l->len, 0);
	cf_object_unref(o);
}

/* ---- apply_change and copy -------------------------------------------------
 */

static void test_rules__apply_change_sets_values(void **state)
{
	struct cf_object *o = aes_obj(true, false);
	CK_BBOOL f = CK_FALSE;
	CK_ATTRIBUTE t[2] = {{CKA_LABEL, "new", 3}, {CKA_ENCRYPT, &f, 1}};

	(void)state;
	assert_int_equal(cf_rules_apply_change(o, t, 2), CKR_OK);
	assert_memory_equal(cf_object_attr(o, CKA_LABEL)->value, "new", 3);
	assert_false(cf_object_bool(o, CKA_ENCRYPT, true));
	assert_int_equal(o->cls, CKO_SECRET_KEY);
	cf_object_unref(o);
}

static void test_rules__apply_change_keeps_check_value_true(void **state)
{
	struct tb t;
	struct cf_object *o;
	CK_ATTRIBUTE v = {CKA_VALUE, (void *)zero16, 16};

	(void)state;
	aes_tmpl(&t, 32);
	o = create_ok(&t);
	/* material never changes through C_SetAttributeValue, but a caller
	 * inside the token may apply it (unwrap, tests): derived values
	 * follow */
	assert_int_equal(cf_rules_apply_change(o, &v, 1), CKR_OK);
	assert_check_value(o, "\x66\xe9\x4b");
	assert_int_equal(cf_object_ulong(o, CKA_VALUE_LEN, 0), 16);
	cf_object_unref(o);
}

static void test_rules__apply_change_with_bad_value_changes_nothing(void **s)
{
	struct cf_object *o = aes_obj(true, false);
	CK_ULONG wide = 1;
	CK_ATTRIBUTE t[2] = {{CKA_LABEL, "new", 3},
			     {CKA_ENCRYPT, &wide, sizeof(wide)}};

	(void)s;
	assert_int_equal(cf_rules_apply_change(o, t, 2),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(cf_object_attr(o, CKA_LABEL)->len, 0);
	cf_object_unref(o);
}

static void test_rules__copy_object_applies_template(void **state)
{
	struct cf_object *o = aes_obj(true, false), *c = NULL;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[2] = {{CKA_TOKEN, &yes, 1}, {CKA_LABEL, "copy", 4}};
	const struct cf_attr *uo, *uc;

	(void)state;
	o->handle = 7;
	assert_int_equal(cf_rules_copy_object(o, t, 2, false, &c), CKR_OK);
	assert_non_null(c);
	assert_true(c->token);
	assert_false(o->token);
	assert_int_equal(c->handle, 0);
	assert_memory_equal(cf_object_attr(c, CKA_LABEL)->value, "copy", 4);
	assert_int_equal(cf_object_attr(o, CKA_LABEL)->len, 0);
	uo = cf_object_attr(o, CKA_UNIQUE_ID);
	uc = cf_object_attr(c, CKA_UNIQUE_ID);
	assert_int_equal(uc->len, 16);
	assert_memory_not_equal(uo->value, uc->value, 16);
	assert_memory_equal(cf_object_attr(c, CKA_VALUE)->value, key32, 16);
	assert_true(cf_object_attr(c, CKA_VALUE)->secret);
	cf_object_unref(o);
	cf_object_unref(c);
}

static void test_rules__copy_object_refuses_forbidden_change(void **state)
{
	struct cf_object *o = aes_obj(true, false), *c = NULL;
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE t = {CKA_SENSITIVE, &no, 1};

	(void)state;
	assert_int_equal(cf_rules_copy_object(o, &t, 1, false, &c),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_null(c);
	cf_object_unref(o);
}

/* ---- sensitivity ------------------------------------------------------------
 */

static void test_rules__private_components_hidden_when_sensitive(void **s)
{
	static const CK_ATTRIBUTE_TYPE hidden[] = {
	    CKA_PRIVATE_EXPONENT, CKA_PRIME_1,	  CKA_PRIME_2,
	    CKA_EXPONENT_1,	  CKA_EXPONENT_2, CKA_COEFFICIENT,
	};
	struct tb t;
	struct cf_object *o;

	(void)s;
	rsa_priv_tmpl(&t);
	add_bool(&t, CKA_SENSITIVE, true);
	add_bool(&t, CKA_EXTRACTABLE, true);
	o = create_ok(&t);
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		assert_true(cf_rules_attr_hidden(o, hidden[i]));
	assert_false(cf_rules_attr_hidden(o, CKA_MODULUS));
	assert_false(cf_rules_attr_hidden(o, CKA_PUBLIC_EXPONENT));
	assert_false(cf_rules_attr_hidden(o, CKA_LABEL));
	cf_object_unref(o);
}

static void test_rules__private_components_hidden_when_unextractable(void **s)
{
	struct tb t;
	struct cf_object *o;

	(void)s;
	rsa_priv_tmpl(&t);
	add_bool(&t, CKA_SENSITIVE, false);
	add_bool(&t, CKA_EXTRACTABLE, false);
	o = create_ok(&t);
	assert_true(cf_rules_attr_hidden(o, CKA_PRIVATE_EXPONENT));
	cf_object_unref(o);
}

static void test_rules__components_shown_when_not_sensitive(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	rsa_priv_tmpl(&t);
	add_bool(&t, CKA_SENSITIVE, false);
	add_bool(&t, CKA_EXTRACTABLE, true);
	o = create_ok(&t);
	assert_false(cf_rules_attr_hidden(o, CKA_PRIVATE_EXPONENT));
	cf_object_unref(o);
}

static void test_rules__key_values_hidden_when_sensitive(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	o = aes_obj(true, true);
	assert_true(cf_rules_attr_hidden(o, CKA_VALUE));
	assert_false(cf_rules_attr_hidden(o, CKA_CHECK_VALUE));
	cf_object_unref(o);
	o = aes_obj(false, true);
	assert_false(cf_rules_attr_hidden(o, CKA_VALUE));
	cf_object_unref(o);
	ec_tmpl(&t, CKO_PRIVATE_KEY, CKK_EC_EDWARDS);
	o = create_ok(&t);
	assert_true(cf_rules_attr_hidden(o, CKA_VALUE));
	cf_object_unref(o);
}

static void test_rules__public_values_never_hidden(void **state)
{
	struct tb t;
	struct cf_object *o;

	(void)state;
	data_tmpl(&t);
	o = create_ok(&t);
	assert_false(cf_rules_attr_hidden(o, CKA_VALUE));
	cf_object_unref(o);
	cert_tmpl(&t);
	o = create_ok(&t);
	assert_false(cf_rules_attr_hidden(o, CKA_VALUE));
	cf_object_unref(o);
	ec_tmpl(&t, CKO_PUBLIC_KEY, CKK_EC);
	o = create_ok(&t);
	assert_false(cf_rules_attr_hidden(o, CKA_EC_POINT));
	cf_object_unref(o);
}

static void test_rules__key_material_is_secret_regardless_of_flags(void **s)
{
	(void)s;
	assert_true(
	    cf_rules_attr_is_secret(CKO_PRIVATE_KEY, CKA_PRIVATE_EXPONENT));
	assert_true(cf_rules_attr_is_secret(CKO_PRIVATE_KEY, CKA_COEFFICIENT));
	assert_true(cf_rules_attr_is_secret(CKO_PRIVATE_KEY, CKA_VALUE));
	assert_true(cf_rules_attr_is_secret(CKO_SECRET_KEY, CKA_VALUE));
	assert_false(cf_rules_attr_is_secret(CKO_PRIVATE_KEY, CKA_MODULUS));
	assert_false(cf_rules_attr_is_secret(CKO_PUBLIC_KEY, CKA_MODULUS));
	assert_false(cf_rules_attr_is_secret(CKO_DATA, CKA_VALUE));
	assert_false(cf_rules_attr_is_secret(CKO_CERTIFICATE, CKA_VALUE));
	assert_false(cf_rules_attr_is_secret(CKO_SECRET_KEY, CKA_LABEL));
}

static void test_rules__created_key_material_lives_in_secret_memory(void **s)
{
	struct tb t;
	struct cf_object *o;

	(void)s;
	rsa_priv_tmpl(&t);
	add_bool(&t, CKA_SENSITIVE, false);
	add_bool(&t, CKA_EXTRACTABLE, true);
	o = create_ok(&t);
	assert_true(cf_object_attr(o, CKA_PRIVATE_EXPONENT)->secret);
	assert_false(cf_object_attr(o, CKA_MODULUS)->secret);
	cf_object_unref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules__create_without_class_is_incomplete),
	    cmocka_unit_test(test_rules__create_of_unstored_class_is_invalid),
	    cmocka_unit_test(
		test_rules__create_key_without_key_type_is_incomplete),
	    cmocka_unit_test(
		test_rules__create_unsupported_key_type_is_invalid),
	    cmocka_unit_test(
		test_rules__create_cert_without_type_is_incomplete),
	    cmocka_unit_test(test_rules__create_non_x509_cert_is_invalid),
	    cmocka_unit_test(
		test_rules__create_x509_without_subject_is_incomplete),
	    cmocka_unit_test(
		test_rules__create_x509_without_value_is_incomplete),
	    cmocka_unit_test(test_rules__create_x509_complete_succeeds),
	    cmocka_unit_test(
		test_rules__create_rsa_private_requires_components),
	    cmocka_unit_test(test_rules__create_rsa_public_requires_components),
	    cmocka_unit_test(
		test_rules__create_required_value_may_not_be_empty),
	    cmocka_unit_test(
		test_rules__create_ec_keys_require_params_and_point),
	    cmocka_unit_test(
		test_rules__create_ec_private_requires_params_and_value),
	    cmocka_unit_test(test_rules__create_secret_key_requires_value),
	    cmocka_unit_test(test_rules__create_secret_key_forbids_value_len),
	    cmocka_unit_test(test_rules__create_rejects_token_kept_attributes),
	    cmocka_unit_test(test_rules__create_aes_key_length_is_checked),
	    cmocka_unit_test(test_rules__create_fixed_length_keys_are_checked),
	    cmocka_unit_test(test_rules__create_hmac_keys_take_any_length),
	    cmocka_unit_test(
		test_rules__create_foreign_attribute_is_inconsistent),
	    cmocka_unit_test(test_rules__create_repeated_type_must_agree),
	    cmocka_unit_test(test_rules__create_trusted_needs_so),
	    cmocka_unit_test(test_rules__create_bad_bool_length_is_invalid),
	    cmocka_unit_test(test_rules__create_unknown_type_is_type_invalid),
	    cmocka_unit_test(test_rules__create_null_template_is_bad_arguments),
	    cmocka_unit_test(test_rules__mechanism_class_must_match_template),
	    cmocka_unit_test(test_rules__data_object_defaults),
	    cmocka_unit_test(test_rules__private_default_depends_on_class),
	    cmocka_unit_test(test_rules__template_values_override_defaults),
	    cmocka_unit_test(
		test_rules__keys_default_sensitive_and_unextractable),
	    cmocka_unit_test(test_rules__usage_flags_default_as_softhsm),
	    cmocka_unit_test(
		test_rules__every_attribute_of_the_class_is_present),
	    cmocka_unit_test(test_rules__certificate_defaults),
	    cmocka_unit_test(test_rules__create_sets_token_kept_attributes),
	    cmocka_unit_test(test_rules__generate_sets_local_and_history),
	    cmocka_unit_test(test_rules__generate_requires_value_len),
	    cmocka_unit_test(test_rules__generate_forbids_value),
	    cmocka_unit_test(
		test_rules__generate_rsa_public_requires_modulus_bits),
	    cmocka_unit_test(test_rules__unwrap_and_derive_are_not_local),
	    cmocka_unit_test(test_rules__unwrap_forbids_value),
	    cmocka_unit_test(test_rules__unwrap_requires_key_type),
	    cmocka_unit_test(test_rules__derive_takes_value_len_not_value),
	    cmocka_unit_test(test_rules__unique_id_is_fresh_hex),
	    cmocka_unit_test(test_rules__aes_check_value_is_ecb_of_zero_block),
	    cmocka_unit_test(test_rules__generic_check_value_is_sha1),
	    cmocka_unit_test(test_rules__certificate_check_value_is_sha1),
	    cmocka_unit_test(test_rules__matching_check_value_is_accepted),
	    cmocka_unit_test(test_rules__wrong_check_value_is_invalid),
	    cmocka_unit_test(test_rules__empty_check_value_is_kept),
	    cmocka_unit_test(
		test_rules__value_len_and_modulus_bits_are_computed),
	    cmocka_unit_test(test_rules__update_derived_after_generate),
	    cmocka_unit_test(
		test_rules__change_of_unmodifiable_object_is_prohibited),
	    cmocka_unit_test(
		test_rules__change_of_fixed_attributes_is_read_only),
	    cmocka_unit_test(test_rules__modifiable_attributes_may_change),
	    cmocka_unit_test(test_rules__sensitive_cannot_be_cleared),
	    cmocka_unit_test(test_rules__extractable_cannot_be_set),
	    cmocka_unit_test(test_rules__wrap_with_trusted_cannot_be_cleared),
	    cmocka_unit_test(test_rules__trusted_set_only_by_so),
	    cmocka_unit_test(test_rules__token_and_private_change_only_on_copy),
	    cmocka_unit_test(test_rules__copy_of_uncopyable_is_prohibited),
	    cmocka_unit_test(test_rules__copyable_only_goes_to_false),
	    cmocka_unit_test(test_rules__setting_the_current_value_is_fine),
	    cmocka_unit_test(
		test_rules__change_of_unknown_type_is_type_invalid),
	    cmocka_unit_test(test_rules__change_of_bad_shape_is_value_invalid),
	    cmocka_unit_test(test_rules__change_with_conflicting_repeats_fails),
	    cmocka_unit_test(test_rules__copy_may_not_make_modifiable),
	    cmocka_unit_test(test_rules__check_change_changes_nothing),
	    cmocka_unit_test(test_rules__apply_change_sets_values),
	    cmocka_unit_test(test_rules__apply_change_keeps_check_value_true),
	    cmocka_unit_test(
		test_rules__apply_change_with_bad_value_changes_nothing),
	    cmocka_unit_test(test_rules__copy_object_applies_template),
	    cmocka_unit_test(test_rules__copy_object_refuses_forbidden_change),
	    cmocka_unit_test(
		test_rules__private_components_hidden_when_sensitive),
	    cmocka_unit_test(
		test_rules__private_components_hidden_when_unextractable),
	    cmocka_unit_test(test_rules__components_shown_when_not_sensitive),
	    cmocka_unit_test(test_rules__key_values_hidden_when_sensitive),
	    cmocka_unit_test(test_rules__public_values_never_hidden),
	    cmocka_unit_test(
		test_rules__key_material_is_secret_regardless_of_flags),
	    cmocka_unit_test(
		test_rules__created_key_material_lives_in_secret_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
