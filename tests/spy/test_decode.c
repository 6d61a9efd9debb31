/*
 * test_decode.c - the spy's decoder (src/spy/decode.c): attribute values by
 * their schema kind, mechanism parameters field by field, flag words, and
 * the hiding of secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "spy/spy.h"

#define NELEM(a) ((CK_ULONG)(sizeof(a) / sizeof((a)[0])))

static struct cf_spy_out out;

static int setup(void **state)
{
	(void)state;
	cf_spy_out_init(&out, false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cf_spy_out_clear(&out);
	return 0;
}

static const char *text(void)
{
	return out.p != NULL ? out.p : "";
}

#define assert_logged(s)                                                       \
	do {                                                                   \
		if (strstr(text(), (s)) == NULL)                               \
			fail_msg("missing \"%s\" in:\n%s", (s), text());       \
	} while (0)
#define assert_not_logged(s)                                                   \
	do {                                                                   \
		if (strstr(text(), (s)) != NULL)                               \
			fail_msg("unexpected \"%s\" in:\n%s", (s), text());    \
	} while (0)

/* ---- templates --------------------------------------------------------------
 */

static void test_decode__template_shows_each_kind(void **state)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ULONG bits = 2048;
	CK_MECHANISM_TYPE gen = CKM_RSA_PKCS_KEY_PAIR_GEN;
	CK_BBOOL yes = CK_TRUE;
	CK_DATE date = {{'2', '0', '2', '6'}, {'1', '2'}, {'0', '6'}};
	unsigned char id[] = {0xde, 0xad, 0xbe, 0xef};
	unsigned char subject[100];
	CK_MECHANISM_TYPE allowed[] = {CKM_AES_GCM, CKM_SHA256_HMAC};
	CK_ATTRIBUTE inner[] = {{CKA_SENSITIVE, &yes, sizeof(yes)}};
	CK_ATTRIBUTE t[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_LABEL, "a \"q\"\n", 6},
	    {CKA_ID, id, sizeof(id)},
	    {CKA_SUBJECT, subject, sizeof(subject)},
	    {CKA_START_DATE, &date, sizeof(date)},
	    {CKA_MODULUS_BITS, &bits, sizeof(bits)},
	    {CKA_KEY_GEN_MECHANISM, &gen, sizeof(gen)},
	    {CKA_WRAP_TEMPLATE, inner, sizeof(inner)},
	    {CKA_ALLOWED_MECHANISMS, allowed, sizeof(allowed)},
	};

	(void)state;
	memset(subject, 0xab, sizeof(subject));
	cf_spy_template(&out, "pTemplate", t, NELEM(t));
	assert_logged("pTemplate = [11 attributes]");
	assert_logged("CKA_CLASS = CKO_CERTIFICATE");
	assert_logged("CKA_CERTIFICATE_TYPE = CKC_X_509");
	assert_logged("CKA_TOKEN = CK_TRUE");
	assert_logged("CKA_LABEL = \"a \\\"q\\\"\\x0a\"");
	assert_logged("CKA_ID = deadbeef (4 bytes)");
	/* cut after 64 bytes, with the total */
	assert_logged("CKA_SUBJECT = abababab");
	assert_logged("... (100 bytes)");
	assert_logged("CKA_START_DATE = 2026-12-06");
	assert_logged("CKA_MODULUS_BITS = 2048");
	assert_logged("CKA_KEY_GEN_MECHANISM = CKM_RSA_PKCS_KEY_PAIR_GEN");
	assert_logged("CKA_WRAP_TEMPLATE = [1 attributes]");
	assert_logged("\n      CKA_SENSITIVE = CK_TRUE");
	assert_logged(
	    "CKA_ALLOWED_MECHANISMS = [CKM_AES_GCM, CKM_SHA256_HMAC]");
	assert_not_logged("unknown");
}

/* The vendor attribute's name comes from the schema's table, with its
 * value as the CK_ULONG the schema says it is. */
static void test_decode__coffer_key_role_by_schema_name(void **state)
{
	CK_ULONG role = 2;
	CK_ATTRIBUTE t[] = {{CKA_COFFER_KEY_ROLE, &role, sizeof(role)}};

	(void)state;
	cf_spy_template(&out, "pTemplate", t, NELEM(t));
	assert_logged("CKA_COFFER_KEY_ROLE = 2");
	assert_not_logged("unknown");
}

static void test_decode__unknown_attribute_is_flagged(void **state)
{
	unsigned char v = 0x4e;
	CK_ATTRIBUTE t[] = {{CKA_VENDOR_DEFINED | 0x777, &v, 1}};

	(void)state;
	cf_spy_template(&out, "pTemplate", t, NELEM(t));
	assert_logged("0x80000777 (unknown) = 4e (1 bytes) (unknown)");
}

static void test_decode__unknown_class_is_flagged(void **state)
{
	CK_OBJECT_CLASS cls = 0x7654;
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}};

	(void)state;
	cf_spy_template(&out, "pTemplate", t, NELEM(t));
	assert_logged("CKA_CLASS = 0x7654 (unknown)");
}

static void test_decode__getattrs_show_sizes_then_values(void **state)
{
	CK_KEY_TYPE kt = CKK_EC;
	CK_ATTRIBUTE in[] = {{CKA_KEY_TYPE, NULL, 0}, {CKA_LABEL, NULL, 0}};
	CK_ATTRIBUTE res[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)},
			      {CKA_LABEL, NULL, CK_UNAVAILABLE_INFORMATION}};

	(void)state;
	cf_spy_getattrs_in(&out, "pTemplate", in, NELEM(in));
	assert_logged("CKA_KEY_TYPE = NULL (size query)");
	cf_spy_getattrs_out(&out, "*pTemplate", res, NELEM(res));
	assert_logged("CKA_KEY_TYPE = CKK_EC");
	assert_logged("CKA_LABEL = CK_UNAVAILABLE_INFORMATION");
}

/* ---- secrets
 * ------------------------------------------------------------------ */

static void test_decode__pin_hidden_by_default(void **state)
{
	(void)state;
	cf_spy_bytes(&out, "pPin", "1234", 4, true);
	assert_logged("pPin = <4 bytes hidden>");
	assert_not_logged("31323334");
}

static void test_decode__pin_shown_when_asked(void **state)
{
	(void)state;
	out.show_secrets = true;
	cf_spy_bytes(&out, "pPin", "1234", 4, true);
	assert_logged("pPin = 31323334 (4 bytes)");
}

static void test_decode__secret_key_value_hidden(void **state)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	unsigned char key[32] = {0x11};
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
			    {CKA_VALUE, key, sizeof(key)}};

	(void)state;
	cf_spy_template(&out, "pTemplate", t, NELEM(t));
	assert_logged("CKA_VALUE = <32 bytes hidden>");
	assert_not_logged("1100");
}

static void test_decode__secret_key_value_shown_when_asked(void **state)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	unsigned char key[2] = {0x11, 0x22};
	CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
			    {CKA_VALUE, key, sizeof(key)}};

	(void)state;
	out.show_secrets = true;
	cf_spy_template(&out, "pTemplate", t, NELEM(t));
	assert_logged("CKA_VALUE = 1122 (2 bytes)");
}

static void test_decode__private_key_hides_private_parts_only(void **state)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	unsigned char n[] = {0xc1, 0xc2}, d[] = {0xd1, 0xd2}, p[] = {0xe1};
	unsigned char other[] = {0xf1};
	CK_ATTRIBUTE t[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},	  {CKA_MODULUS, n, sizeof(n)},
	    {CKA_PRIVATE_EXPONENT, d, sizeof(d)}, {CKA_PRIME_1, p, sizeof(p)},
	    {CKA_OWNER, other, sizeof(other)},
	};

	(void)state;
	cf_spy_template(&out, "pTemplate", t, NELEM(t));
	assert_logged("CKA_MODULUS = c1c2 (2 bytes)");
	assert_logged("CKA_PRIVATE_EXPONENT = <2 bytes hidden>");
	assert_logged("CKA_PRIME_1 = <1 bytes hidden>");
	/* any other byte value of a private key */
	assert_logged("CKA_OWNER = <1 bytes hidden>");
}

static void test_decode__decrypt_output_hidden(void **state)
{
	CK_ULONG len = 5;

	(void)state;
	cf_spy_outbuf(&out, "pData", "plain", &len, CKR_OK, true);
	assert_logged("pData = <5 bytes hidden>");
	assert_not_logged("706c61");
}

/* ---- mechanisms
 * -------------------------------------------------------------- */

static void test_decode__gcm_parameter_by_field(void **state)
{
	unsigned char iv[12] = {0x01}, aad[3] = {0xaa, 0xbb, 0xcc};
	CK_GCM_PARAMS gcm = {.pIv = iv,
			     .ulIvLen = sizeof(iv),
			     .ulIvBits = 96,
			     .pAAD = aad,
			     .ulAADLen = sizeof(aad),
			     .ulTagBits = 128};
	CK_MECHANISM m = {CKM_AES_GCM, &gcm, sizeof(gcm)};

	(void)state;
	cf_spy_mechanism(&out, "pMechanism", &m);
	assert_logged("pMechanism = CKM_AES_GCM");
	assert_logged("pParameter = CK_GCM_PARAMS {");
	assert_logged("pIv = 010000000000000000000000 (12 bytes)");
	assert_logged("ulIvBits = 96");
	assert_logged("pAAD = aabbcc (3 bytes)");
	assert_logged("ulTagBits = 128");
}

static void test_decode__oaep_parameter_by_field(void **state)
{
	CK_RSA_PKCS_OAEP_PARAMS oaep = {.hashAlg = CKM_SHA256,
					.mgf = CKG_MGF1_SHA256,
					.source = CKZ_DATA_SPECIFIED,
					.pSourceData = (void *)"L",
					.ulSourceDataLen = 1};
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};

	(void)state;
	cf_spy_mechanism(&out, "pMechanism", &m);
	assert_logged("CK_RSA_PKCS_OAEP_PARAMS {");
	assert_logged("hashAlg = CKM_SHA256");
	assert_logged("mgf = CKG_MGF1_SHA256");
	assert_logged("source = CKZ_DATA_SPECIFIED");
	assert_logged("pSourceData = 4c (1 bytes)");
}

static void test_decode__pss_parameter_by_field(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA384, CKG_MGF1_SHA384, 48};
	CK_MECHANISM m = {CKM_SHA384_RSA_PKCS_PSS, &pss, sizeof(pss)};

	(void)state;
	cf_spy_mechanism(&out, "pMechanism", &m);
	assert_logged("pMechanism = CKM_SHA384_RSA_PKCS_PSS");
	assert_logged("hashAlg = CKM_SHA384");
	assert_logged("mgf = CKG_MGF1_SHA384");
	assert_logged("sLen = 48");
}

static void test_decode__hkdf_parameter_by_field(void **state)
{
	unsigned char salt[] = {0x5a}, info[] = {0x1f, 0x2f};
	CK_HKDF_PARAMS h = {.bExtract = CK_TRUE,
			    .bExpand = CK_FALSE,
			    .prfHashMechanism = CKM_SHA512,
			    .ulSaltType = CKF_HKDF_SALT_DATA,
			    .pSalt = salt,
			    .ulSaltLen = sizeof(salt),
			    .hSaltKey = 7,
			    .pInfo = info,
			    .ulInfoLen = sizeof(info)};
	CK_MECHANISM m = {CKM_HKDF_DERIVE, &h, sizeof(h)};

	(void)state;
	cf_spy_mechanism(&out, "pMechanism", &m);
	assert_logged("CK_HKDF_PARAMS {");
	assert_logged("bExtract = CK_TRUE");
	assert_logged("bExpand = CK_FALSE");
	assert_logged("prfHashMechanism = CKM_SHA512");
	assert_logged("ulSaltType = CKF_HKDF_SALT_DATA");
	assert_logged("pSalt = 5a (1 bytes)");
	assert_logged("hSaltKey = 7");
	assert_logged("pInfo = 1f2f (2 bytes)");
}

static void test_decode__parameter_of_wrong_size_is_shown_as_bytes(void **state)
{
	unsigned char junk[3] = {1, 2, 3};
	CK_MECHANISM m = {CKM_AES_GCM, junk, sizeof(junk)};

	(void)state;
	cf_spy_mechanism(&out, "pMechanism", &m);
	assert_logged("CK_GCM_PARAMS with a bad length: 010203 (3 bytes)");
}

static void test_decode__unknown_mechanism_is_flagged(void **state)
{
	CK_MECHANISM m = {CKM_VENDOR_DEFINED | 0x5eed, NULL, 0};

	(void)state;
	cf_spy_mechanism(&out, "pMechanism", &m);
	assert_logged("pMechanism = 0x80005eed (unknown)");
}

static void test_decode__gcm_message_parameter_by_field(void **state)
{
	unsigned char iv[12] = {0}, tag[16] = {0x77};
	CK_GCM_MESSAGE_PARAMS p = {.pIv = iv,
				   .ulIvLen = sizeof(iv),
				   .ulIvFixedBits = 32,
				   .ivGenerator = CKG_GENERATE_COUNTER,
				   .pTag = tag,
				   .ulTagBits = 128};

	(void)state;
	cf_spy_msgparam(&out, "pParameter", true, CKM_AES_GCM, &p, sizeof(p),
			false);
	assert_logged("CK_GCM_MESSAGE_PARAMS {");
	assert_logged("ivGenerator = CKG_GENERATE_COUNTER");
	assert_logged("pTag = 77000000000000000000000000000000 (16 bytes)");
}

/* ---- flags and names --------------------------------------------------------
 */

static void test_decode__session_flags_by_name(void **state)
{
	(void)state;
	cf_spy_flags(&out, "flags", CKF_RW_SESSION | CKF_SERIAL_SESSION,
		     CF_SPY_F_SESSION);
	assert_logged("flags = 0x6 (CKF_RW_SESSION|CKF_SERIAL_SESSION)");
}

static void test_decode__token_flags_by_name(void **state)
{
	(void)state;
	cf_spy_flags(&out, "flags",
		     CKF_RNG | CKF_LOGIN_REQUIRED | CKF_TOKEN_INITIALIZED,
		     CF_SPY_F_TOKEN);
	assert_logged("(CKF_RNG|CKF_LOGIN_REQUIRED|CKF_TOKEN_INITIALIZED)");
}

static void test_decode__mechanism_info_flags_by_name(void **state)
{
	(void)state;
	cf_spy_flags(&out, "flags", CKF_SIGN | CKF_VERIFY | CKF_EC_UNCOMPRESS,
		     CF_SPY_F_MECH);
	assert_logged("(CKF_SIGN|CKF_VERIFY|CKF_EC_UNCOMPRESS)");
}

/* The v3.0 EC flags, CKF_EC_OID under its v3.0 name (2.40's
 * CKF_EC_NAMEDCURVE), as libcoffer.so reports them for CKM_EC_KEY_PAIR_GEN. */
static void test_decode__ec_mechanism_flags_by_v3_name(void **state)
{
	(void)state;
	cf_spy_flags(&out, "flags",
		     CKF_EC_F_P | CKF_EC_F_2M | CKF_EC_ECPARAMETERS |
			 CKF_EC_OID | CKF_EC_UNCOMPRESS | CKF_EC_CURVENAME,
		     CF_SPY_F_MECH);
	assert_logged("flags = 0x5f00000 (CKF_EC_F_P|CKF_EC_F_2M|"
		      "CKF_EC_ECPARAMETERS|CKF_EC_OID|CKF_EC_UNCOMPRESS|"
		      "CKF_EC_CURVENAME)");
}

static void test_decode__token_error_state_flag_by_name(void **state)
{
	(void)state;
	cf_spy_flags(&out, "flags", CKF_RNG | CKF_ERROR_STATE, CF_SPY_F_TOKEN);
	assert_logged("flags = 0x1000001 (CKF_RNG|CKF_ERROR_STATE)");
}

static void test_decode__unknown_flag_bits_are_flagged(void **state)
{
	(void)state;
	cf_spy_flags(&out, "flags", CKF_OS_LOCKING_OK | 0x100, CF_SPY_F_INIT);
	assert_logged("flags = 0x102 (CKF_OS_LOCKING_OK|0x100 unknown)");
}

static void test_decode__user_type_by_name(void **state)
{
	(void)state;
	cf_spy_ulong(&out, "userType", CKU_SO, CF_SPY_USER);
	cf_spy_ulong(&out, "type", CKM_EC_KEY_PAIR_GEN, CF_SPY_MECH_TYPE);
	assert_logged("userType = CKU_SO");
	assert_logged("type = CKM_EC_KEY_PAIR_GEN");
}

static void test_decode__session_info_fields(void **state)
{
	CK_SESSION_INFO si = {.slotID = 3,
			      .state = CKS_RW_USER_FUNCTIONS,
			      .flags = CKF_RW_SESSION | CKF_SERIAL_SESSION};

	(void)state;
	cf_spy_session_info(&out, "*pInfo", &si);
	assert_logged("slotID = 3");
	assert_logged("state = CKS_RW_USER_FUNCTIONS");
	assert_logged("flags = 0x6 (CKF_RW_SESSION|CKF_SERIAL_SESSION)");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_decode__template_shows_each_kind),
	    T(test_decode__coffer_key_role_by_schema_name),
	    T(test_decode__unknown_attribute_is_flagged),
	    T(test_decode__unknown_class_is_flagged),
	    T(test_decode__getattrs_show_sizes_then_values),
	    T(test_decode__pin_hidden_by_default),
	    T(test_decode__pin_shown_when_asked),
	    T(test_decode__secret_key_value_hidden),
	    T(test_decode__secret_key_value_shown_when_asked),
	    T(test_decode__private_key_hides_private_parts_only),
	    T(test_decode__decrypt_output_hidden),
	    T(test_decode__gcm_parameter_by_field),
	    T(test_decode__oaep_parameter_by_field),
	    T(test_decode__pss_parameter_by_field),
	    T(test_decode__hkdf_parameter_by_field),
	    T(test_decode__parameter_of_wrong_size_is_shown_as_bytes),
	    T(test_decode__unknown_mechanism_is_flagged),
	    T(test_decode__gcm_message_parameter_by_field),
	    T(test_decode__session_flags_by_name),
	    T(test_decode__token_flags_by_name),
	    T(test_decode__mechanism_info_flags_by_name),
	    T(test_decode__ec_mechanism_flags_by_v3_name),
	    T(test_decode__token_error_state_flag_by_name),
	    T(test_decode__unknown_flag_bits_are_flagged),
	    T(test_decode__user_type_by_name),
	    T(test_decode__session_info_fields),
	};

	return cmocka_run_group_tests_name("spy_decode", tests, NULL, NULL);
}
