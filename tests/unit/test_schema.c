/* test_schema.c - names and attribute kinds of the PKCS#11 schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkcs11/names_table.h"
#include "pkcs11/schema.h"

typedef const char *(*name_fn)(CK_ULONG);

/* Every value of one generated table resolves to a name that itself parses
 * back to the value; the tables being sorted is what makes this pass. */
static void check_table(const struct cf_p11_name *tab, size_t n, name_fn fn)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = fn(tab[i].value);
		assert_non_null(name);
		assert_string_equal(name, tab[i].name);
	}
}

static const char *rv_name(CK_ULONG v)
{
	return cf_p11_rv_name(v);
}
static const char *attr_name(CK_ULONG v)
{
	return cf_p11_attr_name(v);
}
static const char *mech_name(CK_ULONG v)
{
	return cf_p11_mech_name(v);
}
static const char *class_name(CK_ULONG v)
{
	return cf_p11_class_name(v);
}
static const char *key_type_name(CK_ULONG v)
{
	return cf_p11_key_type_name(v);
}
static const char *cert_type_name(CK_ULONG v)
{
	return cf_p11_cert_type_name(v);
}
static const char *user_type_name(CK_ULONG v)
{
	return cf_p11_user_type_name(v);
}

static void test_schema__every_rv_has_a_name(void **state)
{
	(void)state;
	assert_true(cf_p11_ckr_by_value_len > 80);
	check_table(cf_p11_ckr_by_value, cf_p11_ckr_by_value_len, rv_name);
}

static void test_schema__every_attr_has_a_name(void **state)
{
	(void)state;
	assert_true(cf_p11_cka_by_value_len > 100);
	check_table(cf_p11_cka_by_value, cf_p11_cka_by_value_len, attr_name);
}

static void test_schema__every_mech_has_a_name(void **state)
{
	(void)state;
	assert_true(cf_p11_ckm_by_value_len > 300);
	check_table(cf_p11_ckm_by_value, cf_p11_ckm_by_value_len, mech_name);
}

static void test_schema__every_class_key_cert_user_has_a_name(void **state)
{
	(void)state;
	check_table(cf_p11_cko_by_value, cf_p11_cko_by_value_len, class_name);
	check_table(cf_p11_ckk_by_value, cf_p11_ckk_by_value_len,
		    key_type_name);
	check_table(cf_p11_ckc_by_value, cf_p11_ckc_by_value_len,
		    cert_type_name);
	check_table(cf_p11_cku_by_value, cf_p11_cku_by_value_len,
		    user_type_name);
}

/* Values written here by hand, from both headers, independently of the
 * generated tables. */
static void test_schema__known_values_have_their_names(void **state)
{
	(void)state;
	assert_string_equal(cf_p11_rv_name(CKR_OK), "CKR_OK");
	assert_string_equal(cf_p11_rv_name(CKR_PIN_INCORRECT),
			    "CKR_PIN_INCORRECT");
	assert_string_equal(cf_p11_rv_name(CKR_TOKEN_RESOURCE_EXCEEDED),
			    "CKR_TOKEN_RESOURCE_EXCEEDED");
	assert_string_equal(cf_p11_attr_name(CKA_CLASS), "CKA_CLASS");
	assert_string_equal(cf_p11_attr_name(CKA_UNIQUE_ID), "CKA_UNIQUE_ID");
	assert_string_equal(cf_p11_attr_name(CKA_PROFILE_ID), "CKA_PROFILE_ID");
	assert_string_equal(cf_p11_attr_name(CKA_WRAP_TEMPLATE),
			    "CKA_WRAP_TEMPLATE");
	assert_string_equal(cf_p11_mech_name(CKM_RSA_PKCS), "CKM_RSA_PKCS");
	assert_string_equal(cf_p11_mech_name(CKM_CHACHA20_POLY1305),
			    "CKM_CHACHA20_POLY1305");
	assert_string_equal(cf_p11_mech_name(CKM_HKDF_DERIVE),
			    "CKM_HKDF_DERIVE");
	assert_string_equal(cf_p11_class_name(CKO_PROFILE), "CKO_PROFILE");
	assert_string_equal(cf_p11_class_name(CKO_SECRET_KEY),
			    "CKO_SECRET_KEY");
	assert_string_equal(cf_p11_key_type_name(CKK_EC_MONTGOMERY),
			    "CKK_EC_MONTGOMERY");
	assert_string_equal(cf_p11_key_type_name(CKK_SHA3_256_HMAC),
			    "CKK_SHA3_256_HMAC");
	assert_string_equal(cf_p11_cert_type_name(CKC_X_509), "CKC_X_509");
	assert_string_equal(cf_p11_user_type_name(CKU_CONTEXT_SPECIFIC),
			    "CKU_CONTEXT_SPECIFIC");
}

/* coffer's vendor attribute is named, parsed and typed by the schema like
 * any other: the spy, the CLI and the codec need no list of their own. */
static void test_schema__coffer_key_role_is_a_named_ulong(void **state)
{
	CK_ATTRIBUTE_TYPE t;

	(void)state;
	assert_string_equal(cf_p11_attr_name(CKA_COFFER_KEY_ROLE),
			    "CKA_COFFER_KEY_ROLE");
	assert_true(cf_p11_attr_by_name("CKA_COFFER_KEY_ROLE", &t));
	assert_int_equal(t, CKA_VENDOR_DEFINED | 0x434f0001UL);
	assert_int_equal(cf_p11_attr_kind(t), CF_ATTR_ULONG);
}

static void test_schema__aliases_give_the_v3_name(void **state)
{
	(void)state;
	assert_string_equal(cf_p11_attr_name(CKA_ECDSA_PARAMS),
			    "CKA_EC_PARAMS");
	assert_string_equal(cf_p11_key_type_name(CKK_ECDSA), "CKK_EC");
	assert_string_equal(cf_p11_mech_name(CKM_ECDSA_KEY_PAIR_GEN),
			    "CKM_EC_KEY_PAIR_GEN");
}

static void test_schema__alias_names_parse(void **state)
{
	CK_ATTRIBUTE_TYPE t;
	CK_MECHANISM_TYPE m;

	(void)state;
	assert_true(cf_p11_attr_by_name("CKA_ECDSA_PARAMS", &t));
	assert_int_equal(t, CKA_EC_PARAMS);
	assert_true(cf_p11_mech_by_name("CKM_ECDSA_KEY_PAIR_GEN", &m));
	assert_int_equal(m, CKM_EC_KEY_PAIR_GEN);
}

static void test_schema__every_attr_and_mech_name_parses(void **state)
{
	(void)state;
	for (size_t i = 0; i < cf_p11_cka_by_name_len; i++) {
		CK_ATTRIBUTE_TYPE t;
		assert_true(
		    cf_p11_attr_by_name(cf_p11_cka_by_name[i].name, &t));
		assert_int_equal(t, cf_p11_cka_by_name[i].value);
	}
	for (size_t i = 0; i < cf_p11_ckm_by_name_len; i++) {
		CK_MECHANISM_TYPE m;
		assert_true(
		    cf_p11_mech_by_name(cf_p11_ckm_by_name[i].name, &m));
		assert_int_equal(m, cf_p11_ckm_by_name[i].value);
	}
}

static void test_schema__name_lookup_by_name_is_exact(void **state)
{
	CK_ATTRIBUTE_TYPE t;
	CK_MECHANISM_TYPE m;

	(void)state;
	assert_true(cf_p11_attr_by_name("CKA_LABEL", &t));
	assert_int_equal(t, CKA_LABEL);
	assert_true(cf_p11_mech_by_name("CKM_AES_GCM", &m));
	assert_int_equal(m, CKM_AES_GCM);
	assert_false(cf_p11_attr_by_name("cka_label", &t));
	assert_false(cf_p11_attr_by_name("CKA_LABE", &t));
	assert_false(cf_p11_attr_by_name("", &t));
	assert_false(cf_p11_attr_by_name(NULL, &t));
	assert_false(cf_p11_mech_by_name("CKM_NOT_A_MECHANISM", &m));
	/* a name of another family is not an attribute */
	assert_false(cf_p11_attr_by_name("CKM_AES_GCM", &t));
}

static void test_schema__unknown_values_have_no_name(void **state)
{
	(void)state;
	assert_null(cf_p11_rv_name(0x7777UL));
	assert_null(cf_p11_attr_name(0x7777UL));
	assert_null(cf_p11_attr_name(CKA_VENDOR_DEFINED + 1));
	assert_null(cf_p11_mech_name(0x7777UL));
	assert_null(cf_p11_class_name(0x7777UL));
	assert_null(cf_p11_key_type_name(0x7777UL));
	assert_null(cf_p11_cert_type_name(0x7777UL));
	assert_null(cf_p11_user_type_name(7));
}

static void test_schema__rv_str_gives_name(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(cf_p11_rv_str(CKR_DEVICE_ERROR, buf, sizeof(buf)),
			    "CKR_DEVICE_ERROR");
}

static void test_schema__rv_str_formats_unknown_as_hex(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(cf_p11_rv_str(0x7777UL, buf, sizeof(buf)),
			    "0x7777");
	assert_string_equal(
	    cf_p11_rv_str(CKR_VENDOR_DEFINED + 5, buf, sizeof(buf)),
	    "0x80000005");
}

static void test_schema__rv_str_truncates_to_the_buffer(void **state)
{
	char buf[4];

	(void)state;
	assert_string_equal(cf_p11_rv_str(0x7777UL, buf, sizeof(buf)), "0x7");
	assert_non_null(cf_p11_rv_str(0x7777UL, NULL, 0));
}

static void test_schema__kinds_of_sample_attributes(void **state)
{
	(void)state;
	assert_int_equal(cf_p11_attr_kind(CKA_CLASS), CF_ATTR_ULONG);
	assert_int_equal(cf_p11_attr_kind(CKA_KEY_TYPE), CF_ATTR_ULONG);
	assert_int_equal(cf_p11_attr_kind(CKA_VALUE_LEN), CF_ATTR_ULONG);
	assert_int_equal(cf_p11_attr_kind(CKA_TOKEN), CF_ATTR_BOOL);
	assert_int_equal(cf_p11_attr_kind(CKA_SENSITIVE), CF_ATTR_BOOL);
	assert_int_equal(cf_p11_attr_kind(CKA_LABEL), CF_ATTR_STRING);
	assert_int_equal(cf_p11_attr_kind(CKA_MODULUS), CF_ATTR_BIGINT);
	assert_int_equal(cf_p11_attr_kind(CKA_PUBLIC_EXPONENT), CF_ATTR_BIGINT);
	assert_int_equal(cf_p11_attr_kind(CKA_START_DATE), CF_ATTR_DATE);
	assert_int_equal(cf_p11_attr_kind(CKA_END_DATE), CF_ATTR_DATE);
	assert_int_equal(cf_p11_attr_kind(CKA_WRAP_TEMPLATE), CF_ATTR_ATTRS);
	assert_int_equal(cf_p11_attr_kind(CKA_DERIVE_TEMPLATE), CF_ATTR_ATTRS);
	assert_int_equal(cf_p11_attr_kind(CKA_ALLOWED_MECHANISMS),
			 CF_ATTR_MECHS);
	assert_int_equal(cf_p11_attr_kind(CKA_ID), CF_ATTR_BYTES);
	assert_int_equal(cf_p11_attr_kind(CKA_EC_PARAMS), CF_ATTR_BYTES);
}

static void test_schema__every_named_attr_has_a_kind(void **state)
{
	(void)state;
	for (size_t i = 0; i < cf_p11_cka_by_value_len; i++) {
		CK_ATTRIBUTE_TYPE t = cf_p11_cka_by_value[i].value;
		if (t == CKA_VENDOR_DEFINED)
			continue;
		if (cf_p11_attr_kind(t) == CF_ATTR_UNKNOWN)
			fail_msg("%s has no kind", cf_p11_cka_by_value[i].name);
	}
}

static void test_schema__unknown_and_vendor_attrs_have_no_kind(void **state)
{
	(void)state;
	assert_int_equal(cf_p11_attr_kind(0x7777UL), CF_ATTR_UNKNOWN);
	assert_int_equal(cf_p11_attr_kind(CKA_VENDOR_DEFINED), CF_ATTR_UNKNOWN);
	assert_int_equal(cf_p11_attr_kind(CKA_VENDOR_DEFINED | 0x11),
			 CF_ATTR_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_schema__every_rv_has_a_name),
	    cmocka_unit_test(test_schema__every_attr_has_a_name),
	    cmocka_unit_test(test_schema__every_mech_has_a_name),
	    cmocka_unit_test(test_schema__every_class_key_cert_user_has_a_name),
	    cmocka_unit_test(test_schema__known_values_have_their_names),
	    cmocka_unit_test(test_schema__coffer_key_role_is_a_named_ulong),
	    cmocka_unit_test(test_schema__aliases_give_the_v3_name),
	    cmocka_unit_test(test_schema__alias_names_parse),
	    cmocka_unit_test(test_schema__every_attr_and_mech_name_parses),
	    cmocka_unit_test(test_schema__name_lookup_by_name_is_exact),
	    cmocka_unit_test(test_schema__unknown_values_have_no_name),
	    cmocka_unit_test(test_schema__rv_str_gives_name),
	    cmocka_unit_test(test_schema__rv_str_formats_unknown_as_hex),
	    cmocka_unit_test(test_schema__rv_str_truncates_to_the_buffer),
	    cmocka_unit_test(test_schema__kinds_of_sample_attributes),
	    cmocka_unit_test(test_schema__every_named_attr_has_a_kind),
	    cmocka_unit_test(
		test_schema__unknown_and_vendor_attrs_have_no_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
