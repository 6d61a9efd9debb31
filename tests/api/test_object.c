/*
 * test_object.c - object management (PKCS#11 v3.0 base 5.7, object rules of
 * 4.1 and 4.4-4.9): C_CreateObject, C_CopyObject, C_DestroyObject,
 * C_GetObjectSize, C_GetAttributeValue, C_SetAttributeValue, session and
 * token object lifetimes.
 */
#include "harness.h"

#include <openssl/rand.h>

static CK_OBJECT_CLASS cls_data = CKO_DATA, cls_secret = CKO_SECRET_KEY;
static CK_KEY_TYPE kt_generic = CKK_GENERIC_SECRET, kt_aes = CKK_AES;

static CK_SESSION_HANDLE user_rw(void)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	api_login(s, CKU_USER);
	return s;
}

static CK_OBJECT_HANDLE data_obj(CK_SESSION_HANDLE s, CK_BBOOL token,
				 CK_BBOOL priv, const char *label)
{
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;

	assert_rv(CKR_OK, api_create_data(s, token, priv, label, &o));
	return o;
}

static CK_OBJECT_HANDLE aes_key(CK_SESSION_HANDLE s, CK_BBOOL token,
				CK_BBOOL sensitive, CK_BBOOL extractable)
{
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;

	assert_rv(CKR_OK,
		  api_create_aes(s, token, sensitive, extractable, "aes", &o));
	return o;
}

static void assert_label(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			 const char *want)
{
	char buf[64];
	CK_ULONG len = sizeof(buf);

	assert_rv(CKR_OK, api_get_bytes(s, o, CKA_LABEL, buf, &len));
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);
}

static void assert_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			CK_ATTRIBUTE_TYPE t, CK_BBOOL want)
{
	CK_BBOOL v = !want;

	assert_rv(CKR_OK, api_get_bool(s, o, t, &v));
	assert_int_equal(v, want);
}

static void assert_gone(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	CK_BBOOL v;

	assert_rv(CKR_OBJECT_HANDLE_INVALID, api_get_bool(s, o, CKA_TOKEN, &v));
}

static CK_RV set_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
		      CK_ATTRIBUTE_TYPE t, CK_BBOOL v)
{
	CK_ATTRIBUTE a = {t, &v, sizeof(v)};

	return p11->C_SetAttributeValue(s, o, &a, 1);
}

/* ---- C_CreateObject: success ------------------------------------------ */

static void test_create__data_object(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_TRUE, CK_FALSE, "data");
	CK_ULONG cls = 0;

	(void)state;
	assert_rv(CKR_OK, api_get_ulong(s, o, CKA_CLASS, &cls));
	assert_int_equal(cls, CKO_DATA);
	assert_label(s, o, "data");
	assert_bool(s, o, CKA_TOKEN, CK_TRUE);
	assert_bool(s, o, CKA_PRIVATE, CK_FALSE);
}

static void test_create__certificate(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	struct api_cert c;
	CK_OBJECT_HANDLE o;
	unsigned char buf[2048];
	CK_ULONG len = sizeof(buf), ct = 0;

	(void)state;
	api_cert_make(&c, "api test", 42);
	assert_rv(CKR_OK, api_create_cert(s, CK_TRUE, &c, "cert", &o));
	assert_rv(CKR_OK, api_get_bytes(s, o, CKA_VALUE, buf, &len));
	assert_int_equal(len, c.der_len);
	assert_memory_equal(buf, c.der, len);
	assert_rv(CKR_OK, api_get_ulong(s, o, CKA_CERTIFICATE_TYPE, &ct));
	assert_int_equal(ct, CKC_X_509);
	api_cert_clear(&c);
}

static void test_create__aes_key(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = aes_key(s, CK_TRUE, CK_FALSE, CK_TRUE);
	CK_ULONG kt = 0, vlen = 0;

	(void)state;
	assert_rv(CKR_OK, api_get_ulong(s, o, CKA_KEY_TYPE, &kt));
	assert_int_equal(kt, CKK_AES);
	assert_rv(CKR_OK, api_get_ulong(s, o, CKA_VALUE_LEN, &vlen));
	assert_int_equal(vlen, 32);
}

static void test_create__generic_secret(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	unsigned char value[20] = "0123456789abcdefghij", buf[20];
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt_generic),
	    ATTR(CKA_SENSITIVE, &api_false),
	    ATTR(CKA_EXTRACTABLE, &api_true),
	    ATTR_BUF(CKA_VALUE, value, sizeof(value)),
	};
	CK_OBJECT_HANDLE o;
	CK_ULONG len = sizeof(buf);

	(void)state;
	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &o));
	assert_rv(CKR_OK, api_get_bytes(s, o, CKA_VALUE, buf, &len));
	assert_int_equal(len, sizeof(value));
	assert_memory_equal(buf, value, len);
}

static void test_create__rsa_key_pair(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	const struct api_rsa *r = api_rsa_material();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char buf[512];
	CK_ULONG len = sizeof(buf);

	(void)state;
	assert_rv(CKR_OK, api_create_rsa_pair(s, CK_TRUE, "rsa", &pub, &priv));
	assert_rv(CKR_OK, api_get_bytes(s, pub, CKA_MODULUS, buf, &len));
	assert_int_equal(len, r->n_len);
	assert_memory_equal(buf, r->n, len);
	len = sizeof(buf);
	assert_rv(CKR_OK, api_get_bytes(s, priv, CKA_MODULUS, buf, &len));
	assert_int_equal(len, r->n_len);
	assert_bool(s, priv, CKA_SENSITIVE, CK_TRUE);
}

static void test_create__ec_key_pair(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char buf[128];
	CK_ULONG len = sizeof(buf), kt = 0;

	(void)state;
	assert_rv(CKR_OK, api_create_ec_pair(s, CK_TRUE, "ec", &pub, &priv));
	assert_rv(CKR_OK, api_get_bytes(s, pub, CKA_EC_POINT, buf, &len));
	assert_int_equal(len, 67);
	assert_int_equal(buf[0], 0x04);
	assert_rv(CKR_OK, api_get_ulong(s, priv, CKA_KEY_TYPE, &kt));
	assert_int_equal(kt, CKK_EC);
}

static void test_create__session_object_in_ro_session(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);

	(void)state;
	assert_bool(s, data_obj(s, CK_FALSE, CK_FALSE, "ro"), CKA_TOKEN,
		    CK_FALSE);
}

static void test_create__imported_key_is_not_local(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = aes_key(s, CK_TRUE, CK_TRUE, CK_FALSE);

	(void)state;
	assert_bool(s, o, CKA_LOCAL, CK_FALSE);
	assert_bool(s, o, CKA_ALWAYS_SENSITIVE, CK_FALSE);
	assert_bool(s, o, CKA_NEVER_EXTRACTABLE, CK_FALSE);
}

static void test_create__imported_private_key_is_not_local(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;

	(void)state;
	assert_rv(CKR_OK, api_create_ec_pair(s, CK_FALSE, "ec", &pub, &priv));
	assert_bool(s, priv, CKA_LOCAL, CK_FALSE);
	assert_bool(s, priv, CKA_ALWAYS_SENSITIVE, CK_FALSE);
	assert_bool(s, priv, CKA_NEVER_EXTRACTABLE, CK_FALSE);
	assert_bool(s, pub, CKA_LOCAL, CK_FALSE);
}

/* ---- C_CreateObject: errors ------------------------------------------- */

static void test_create__token_object_in_ro_session_fails(void **state)
{
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_SESSION_READ_ONLY,
		  api_create_data(api_open(api_slot, false), CK_TRUE, CK_FALSE,
				  "x", &o));
}

static void test_create__private_object_without_login_fails(void **state)
{
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_USER_NOT_LOGGED_IN,
		  api_create_data(api_open(api_slot, true), CK_FALSE, CK_TRUE,
				  "x", &o));
}

static void test_create__missing_class_fails(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR_STR(CKA_LABEL, "x"), ATTR_STR(CKA_VALUE, "v")};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_TEMPLATE_INCOMPLETE,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
}

static void test_create__missing_key_value_fails(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls_secret),
			    ATTR(CKA_KEY_TYPE, &kt_aes)};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_TEMPLATE_INCOMPLETE,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
}

/* A key that is no key (a P-256 point off the curve) is refused when it is
 * created, not when it is first used. */
static void test_create__invalid_key_material_fails(void **state)
{
	static const CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
				       0xce, 0x3d, 0x03, 0x01, 0x07};
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = CKK_EC;
	CK_BYTE point[67] = {0x04, 65, 0x04};
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls), ATTR(CKA_KEY_TYPE, &kt),
			    ATTR(CKA_TOKEN, &api_false),
			    ATTR_BUF(CKA_EC_PARAMS, p256, sizeof(p256)),
			    ATTR_BUF(CKA_EC_POINT, point, sizeof(point))};
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;

	(void)state;
	memset(point + 3, 0x01, sizeof(point) - 3);
	assert_rv(CKR_ATTRIBUTE_VALUE_INVALID,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
	assert_int_equal(o, CK_INVALID_HANDLE);
}

static void test_create__conflicting_values_fail(void **state)
{
	/* 4.1.1: the same attribute twice with different values. */
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_data),
	    ATTR(CKA_TOKEN, &api_false),
	    ATTR(CKA_TOKEN, &api_true),
	};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_TEMPLATE_INCONSISTENT,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
}

static void test_create__bad_bool_length_fails(void **state)
{
	CK_ULONG wide = 1;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls_data), ATTR(CKA_TOKEN, &wide)};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_ATTRIBUTE_VALUE_INVALID,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
}

static void test_create__unknown_class_fails(void **state)
{
	CK_OBJECT_CLASS bogus = 0x7654;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &bogus)};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_ATTRIBUTE_VALUE_INVALID,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
}

static void test_create__bad_aes_key_length_fails(void **state)
{
	unsigned char value[7] = {0};
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt_aes),
	    ATTR_BUF(CKA_VALUE, value, sizeof(value)),
	};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_ATTRIBUTE_VALUE_INVALID,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
}

static void test_create__unknown_attribute_fails(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls_data),
			    ATTR_STR(CKA_VENDOR_DEFINED + 0x777, "x")};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_ATTRIBUTE_TYPE_INVALID,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
}

static void test_create__local_in_template_fails(void **state)
{
	unsigned char value[32] = {0};
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt_aes),
	    ATTR(CKA_LOCAL, &api_true),
	    ATTR_BUF(CKA_VALUE, value, sizeof(value)),
	};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
}

static void test_create__always_sensitive_in_template_fails(void **state)
{
	unsigned char value[32] = {0};
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt_aes),
	    ATTR(CKA_ALWAYS_SENSITIVE, &api_true),
	    ATTR_BUF(CKA_VALUE, value, sizeof(value)),
	};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), &o));
}

static CK_RV create_trusted_cert(CK_SESSION_HANDLE s)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	struct api_cert c;
	CK_OBJECT_HANDLE o;
	CK_RV rv;

	api_cert_make(&c, "trusted", 7);
	{
		CK_ATTRIBUTE t[] = {
		    ATTR(CKA_CLASS, &cls),
		    ATTR(CKA_CERTIFICATE_TYPE, &ct),
		    ATTR(CKA_TOKEN, &api_true),
		    ATTR(CKA_PRIVATE, &api_false),
		    ATTR(CKA_TRUSTED, &api_true),
		    ATTR_BUF(CKA_SUBJECT, c.subject, c.subject_len),
		    ATTR_BUF(CKA_VALUE, c.der, c.der_len),
		};

		rv = p11->C_CreateObject(s, t, NELEM(t), &o);
	}
	api_cert_clear(&c);
	return rv;
}

static void test_create__trusted_cert_as_user_fails(void **state)
{
	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY, create_trusted_cert(user_rw()));
}

static void test_create__trusted_cert_as_so_succeeds(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(CKR_OK, create_trusted_cert(s));
}

static void test_create__so_creates_public_object(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	(void)state;
	api_login(s, CKU_SO);
	data_obj(s, CK_TRUE, CK_FALSE, "by so");
}

static void test_create__null_template_fails(void **state)
{
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  p11->C_CreateObject(user_rw(), NULL, 3, &o));
}

static void test_create__null_handle_fails(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls_data)};

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  p11->C_CreateObject(user_rw(), t, NELEM(t), NULL));
}

/* ---- C_GetAttributeValue ---------------------------------------------- */

static void test_get_attr__length_query(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "length");
	CK_ATTRIBUTE a = {CKA_LABEL, NULL, 0};

	(void)state;
	assert_rv(CKR_OK, p11->C_GetAttributeValue(s, o, &a, 1));
	assert_int_equal(a.ulValueLen, strlen("length"));
}

static void test_get_attr__exact_buffer_succeeds(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "exact");
	char buf[5];
	CK_ATTRIBUTE a = {CKA_LABEL, buf, sizeof(buf)};

	(void)state;
	assert_rv(CKR_OK, p11->C_GetAttributeValue(s, o, &a, 1));
	assert_int_equal(a.ulValueLen, 5);
	assert_memory_equal(buf, "exact", 5);
}

static void test_get_attr__too_small_fills_the_rest(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "too small");
	CK_OBJECT_CLASS cls = 0;
	CK_BBOOL tok = CK_TRUE;
	char buf[4];
	CK_ATTRIBUTE a[] = {
	    ATTR(CKA_CLASS, &cls),
	    {CKA_LABEL, buf, sizeof(buf)},
	    ATTR(CKA_TOKEN, &tok),
	};

	(void)state;
	assert_rv(CKR_BUFFER_TOO_SMALL,
		  p11->C_GetAttributeValue(s, o, a, NELEM(a)));
	assert_int_equal(a[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(a[0].ulValueLen, sizeof(cls));
	assert_int_equal(cls, CKO_DATA);
	assert_int_equal(a[2].ulValueLen, sizeof(tok));
	assert_int_equal(tok, CK_FALSE);
}

static void test_get_attr__sensitive_value_fills_the_rest(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = aes_key(s, CK_FALSE, CK_TRUE, CK_TRUE);
	unsigned char value[32];
	CK_ULONG vlen = 0;
	CK_ATTRIBUTE a[] = {
	    {CKA_VALUE, value, sizeof(value)},
	    ATTR(CKA_VALUE_LEN, &vlen),
	};

	(void)state;
	assert_rv(CKR_ATTRIBUTE_SENSITIVE,
		  p11->C_GetAttributeValue(s, o, a, NELEM(a)));
	assert_int_equal(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(a[1].ulValueLen, sizeof(vlen));
	assert_int_equal(vlen, 32);
}

static void test_get_attr__unextractable_value_is_sensitive(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = aes_key(s, CK_FALSE, CK_FALSE, CK_FALSE);
	CK_ATTRIBUTE a = {CKA_VALUE, NULL, 0};

	(void)state;
	assert_rv(CKR_ATTRIBUTE_SENSITIVE,
		  p11->C_GetAttributeValue(s, o, &a, 1));
	assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

static void test_get_attr__private_exponent_is_sensitive(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char d[512], n[512];
	CK_ATTRIBUTE a[] = {
	    {CKA_MODULUS, n, sizeof(n)},
	    {CKA_PRIVATE_EXPONENT, d, sizeof(d)},
	};

	(void)state;
	assert_rv(CKR_OK, api_create_rsa_pair(s, CK_FALSE, "rsa", &pub, &priv));
	assert_rv(CKR_ATTRIBUTE_SENSITIVE,
		  p11->C_GetAttributeValue(s, priv, a, NELEM(a)));
	assert_int_equal(a[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(a[0].ulValueLen, api_rsa_material()->n_len);
	assert_memory_equal(n, api_rsa_material()->n, a[0].ulValueLen);
}

static void test_get_attr__unknown_type_fills_the_rest(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "unknown");
	CK_OBJECT_CLASS cls = 0;
	char buf[16];
	CK_ATTRIBUTE a[] = {
	    {CKA_VENDOR_DEFINED + 0x777, buf, sizeof(buf)},
	    ATTR(CKA_CLASS, &cls),
	};

	(void)state;
	assert_rv(CKR_ATTRIBUTE_TYPE_INVALID,
		  p11->C_GetAttributeValue(s, o, a, NELEM(a)));
	assert_int_equal(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(a[1].ulValueLen, sizeof(cls));
	assert_int_equal(cls, CKO_DATA);
}

static void test_get_attr__type_of_other_class_is_invalid(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "data");
	CK_ATTRIBUTE a = {CKA_MODULUS, NULL, 0};

	(void)state;
	assert_rv(CKR_ATTRIBUTE_TYPE_INVALID,
		  p11->C_GetAttributeValue(s, o, &a, 1));
	assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

static void test_get_attr__bad_object_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_BBOOL v;

	(void)state;
	data_obj(s, CK_FALSE, CK_FALSE, "one");
	assert_rv(CKR_OBJECT_HANDLE_INVALID,
		  api_get_bool(s, 0x7fff4321, CKA_TOKEN, &v));
	assert_rv(CKR_OBJECT_HANDLE_INVALID,
		  api_get_bool(s, CK_INVALID_HANDLE, CKA_TOKEN, &v));
}

static void test_get_attr__private_object_after_logout_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = data_obj(s, CK_TRUE, CK_TRUE, "private");

	(void)state;
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_gone(s, o);
}

static void test_get_attr__null_template_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "x");

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_GetAttributeValue(s, o, NULL, 1));
}

/* ---- C_SetAttributeValue ---------------------------------------------- */

static void test_set_attr__label_change_persists(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_TRUE, CK_FALSE, "before");
	CK_ATTRIBUTE a = ATTR_STR(CKA_LABEL, "after");
	CK_ATTRIBUTE find = ATTR_STR(CKA_LABEL, "after");

	(void)state;
	assert_rv(CKR_OK, p11->C_SetAttributeValue(s, o, &a, 1));
	assert_label(s, o, "after");
	api_reinitialize();
	s = api_open(api_slot, false);
	assert_int_equal(api_find(s, &find, 1, &o, 1), 1);
	assert_label(s, o, "after");
}

static void test_set_attr__sensitive_false_to_true_succeeds(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = aes_key(s, CK_FALSE, CK_FALSE, CK_TRUE);

	(void)state;
	assert_rv(CKR_OK, set_bool(s, o, CKA_SENSITIVE, CK_TRUE));
	assert_bool(s, o, CKA_SENSITIVE, CK_TRUE);
}

static void test_set_attr__sensitive_true_to_false_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = aes_key(s, CK_FALSE, CK_TRUE, CK_TRUE);

	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY,
		  set_bool(s, o, CKA_SENSITIVE, CK_FALSE));
	assert_bool(s, o, CKA_SENSITIVE, CK_TRUE);
}

static void test_set_attr__extractable_true_to_false_succeeds(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = aes_key(s, CK_FALSE, CK_TRUE, CK_TRUE);

	(void)state;
	assert_rv(CKR_OK, set_bool(s, o, CKA_EXTRACTABLE, CK_FALSE));
	assert_bool(s, o, CKA_EXTRACTABLE, CK_FALSE);
}

static void test_set_attr__extractable_false_to_true_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = aes_key(s, CK_FALSE, CK_TRUE, CK_FALSE);

	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY,
		  set_bool(s, o, CKA_EXTRACTABLE, CK_TRUE));
	assert_bool(s, o, CKA_EXTRACTABLE, CK_FALSE);
}

static void test_set_attr__class_is_read_only(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "x");
	CK_OBJECT_CLASS cert = CKO_CERTIFICATE;
	CK_ATTRIBUTE a = ATTR(CKA_CLASS, &cert);

	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY,
		  p11->C_SetAttributeValue(s, o, &a, 1));
}

static void test_set_attr__token_object_in_ro_session_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_TRUE, CK_FALSE, "before");
	CK_ATTRIBUTE a = ATTR_STR(CKA_LABEL, "after");

	(void)state;
	assert_rv(
	    CKR_SESSION_READ_ONLY,
	    p11->C_SetAttributeValue(api_open(api_slot, false), o, &a, 1));
	assert_label(s, o, "before");
}

static void test_set_attr__unmodifiable_object_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_data),
	    ATTR(CKA_MODIFIABLE, &api_false),
	    ATTR(CKA_PRIVATE, &api_false),
	    ATTR_STR(CKA_LABEL, "fixed"),
	};
	CK_ATTRIBUTE a = ATTR_STR(CKA_LABEL, "changed");
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &o));
	assert_rv(CKR_ACTION_PROHIBITED, p11->C_SetAttributeValue(s, o, &a, 1));
	assert_label(s, o, "fixed");
}

static void test_set_attr__bad_object_fails(void **state)
{
	CK_ATTRIBUTE a = ATTR_STR(CKA_LABEL, "changed");

	(void)state;
	assert_rv(CKR_OBJECT_HANDLE_INVALID,
		  p11->C_SetAttributeValue(api_open(api_slot, true), 0x7fff4321,
					   &a, 1));
}

/* ---- C_CopyObject ----------------------------------------------------- */

static void test_copy__with_new_label(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "orig"), c;
	CK_ATTRIBUTE a = ATTR_STR(CKA_LABEL, "copy");
	char buf[32];
	CK_ULONG len = sizeof(buf);

	(void)state;
	assert_rv(CKR_OK, p11->C_CopyObject(s, o, &a, 1, &c));
	assert_int_not_equal(c, o);
	assert_label(s, c, "copy");
	assert_label(s, o, "orig");
	assert_rv(CKR_OK, api_get_bytes(s, c, CKA_VALUE, buf, &len));
	assert_int_equal(len, strlen("some data"));
}

static void test_copy__session_to_token(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "orig"), c;
	CK_ATTRIBUTE a[] = {ATTR(CKA_TOKEN, &api_true),
			    ATTR_STR(CKA_LABEL, "on token")};

	(void)state;
	assert_rv(CKR_OK, p11->C_CopyObject(s, o, a, NELEM(a), &c));
	assert_bool(s, c, CKA_TOKEN, CK_TRUE);
	api_reinitialize();
	s = api_open(api_slot, false);
	assert_int_equal(api_find(s, &a[1], 1, NULL, 0), 1);
}

static void test_copy__to_token_in_ro_session_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	CK_OBJECT_HANDLE o = data_obj(s, CK_FALSE, CK_FALSE, "orig"), c;
	CK_ATTRIBUTE a = ATTR(CKA_TOKEN, &api_true);

	(void)state;
	assert_rv(CKR_SESSION_READ_ONLY, p11->C_CopyObject(s, o, &a, 1, &c));
}

static void test_copy__uncopyable_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls_data),
			    ATTR(CKA_PRIVATE, &api_false),
			    ATTR(CKA_COPYABLE, &api_false)};
	CK_ATTRIBUTE a = ATTR_STR(CKA_LABEL, "copy");
	CK_OBJECT_HANDLE o, c;

	(void)state;
	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &o));
	assert_rv(CKR_ACTION_PROHIBITED, p11->C_CopyObject(s, o, &a, 1, &c));
}

static void test_copy__cannot_relax_sensitive(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE o = aes_key(s, CK_FALSE, CK_TRUE, CK_TRUE), c;
	CK_ATTRIBUTE a = ATTR(CKA_SENSITIVE, &api_false);

	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY, p11->C_CopyObject(s, o, &a, 1, &c));
}

static void test_copy__bad_object_fails(void **state)
{
	CK_ATTRIBUTE a = ATTR_STR(CKA_LABEL, "copy");
	CK_OBJECT_HANDLE c;

	(void)state;
	assert_rv(
	    CKR_OBJECT_HANDLE_INVALID,
	    p11->C_CopyObject(api_open(api_slot, true), 0x7fff4321, &a, 1, &c));
}

/* ---- C_DestroyObject -------------------------------------------------- */

static void test_destroy__then_handle_invalid(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_TRUE, CK_FALSE, "gone");

	(void)state;
	assert_rv(CKR_OK, p11->C_DestroyObject(s, o));
	assert_gone(s, o);
	assert_rv(CKR_OBJECT_HANDLE_INVALID, p11->C_DestroyObject(s, o));
}

static void test_destroy__token_object_stays_gone(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_TRUE, CK_FALSE, "gone");

	(void)state;
	assert_rv(CKR_OK, p11->C_DestroyObject(s, o));
	api_reinitialize();
	assert_int_equal(api_find(api_open(api_slot, false), NULL, 0, NULL, 0),
			 0);
}

static void test_destroy__undestroyable_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls_data),
			    ATTR(CKA_PRIVATE, &api_false),
			    ATTR(CKA_DESTROYABLE, &api_false)};
	CK_OBJECT_HANDLE o;

	(void)state;
	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &o));
	assert_rv(CKR_ACTION_PROHIBITED, p11->C_DestroyObject(s, o));
	assert_bool(s, o, CKA_DESTROYABLE, CK_FALSE);
}

static void test_destroy__token_object_in_ro_session_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = data_obj(s, CK_TRUE, CK_FALSE, "kept");

	(void)state;
	assert_rv(CKR_SESSION_READ_ONLY,
		  p11->C_DestroyObject(api_open(api_slot, false), o));
	assert_label(s, o, "kept");
}

static void test_destroy__bad_object_fails(void **state)
{
	(void)state;
	assert_rv(CKR_OBJECT_HANDLE_INVALID,
		  p11->C_DestroyObject(api_open(api_slot, true), 0x7fff4321));
}

/* ---- C_GetObjectSize -------------------------------------------------- */

static void test_object_size__succeeds(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_ULONG size = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_GetObjectSize(
			      s, data_obj(s, CK_FALSE, CK_FALSE, "x"), &size));
	assert_true(size > 0);
}

static void test_object_size__bad_object_fails(void **state)
{
	CK_ULONG size = 0;

	(void)state;
	assert_rv(
	    CKR_OBJECT_HANDLE_INVALID,
	    p11->C_GetObjectSize(api_open(api_slot, true), 0x7fff4321, &size));
}

static void test_object_size__null_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  p11->C_GetObjectSize(s, data_obj(s, CK_FALSE, CK_FALSE, "x"),
				       NULL));
}

/* ---- lifetimes -------------------------------------------------------- */

static void test_lifetime__session_object_shared_by_sessions(void **state)
{
	CK_SESSION_HANDLE a = api_open(api_slot, true);
	CK_SESSION_HANDLE b = api_open(api_slot, false);
	CK_OBJECT_HANDLE o = data_obj(a, CK_FALSE, CK_FALSE, "shared");

	(void)state;
	assert_label(b, o, "shared");
}

static void test_lifetime__session_object_dies_with_session(void **state)
{
	CK_SESSION_HANDLE a = api_open(api_slot, true);
	CK_SESSION_HANDLE b = api_open(api_slot, false);
	CK_OBJECT_HANDLE o = data_obj(a, CK_FALSE, CK_FALSE, "dies");

	(void)state;
	assert_rv(CKR_OK, p11->C_CloseSession(a));
	assert_gone(b, o);
	assert_int_equal(api_find(b, NULL, 0, NULL, 0), 0);
}

static void test_lifetime__token_objects_persist(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv, found[4];
	CK_OBJECT_CLASS priv_cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE by_class = ATTR(CKA_CLASS, &priv_cls);
	unsigned char buf[512];
	CK_ULONG len = sizeof(buf);

	(void)state;
	assert_rv(CKR_OK, api_create_rsa_pair(s, CK_TRUE, "kept", &pub, &priv));
	data_obj(s, CK_FALSE, CK_FALSE, "session only");
	api_reinitialize();

	s = api_open(api_slot, true);
	/* Public key only: the private key needs a login. */
	assert_int_equal(api_find(s, NULL, 0, found, 4), 1);
	assert_label(s, found[0], "kept");
	len = sizeof(buf);
	assert_rv(CKR_OK, api_get_bytes(s, found[0], CKA_MODULUS, buf, &len));
	assert_int_equal(len, api_rsa_material()->n_len);
	assert_memory_equal(buf, api_rsa_material()->n, len);

	api_login(s, CKU_USER);
	assert_int_equal(api_find(s, &by_class, 1, found, 4), 1);
	assert_label(s, found[0], "kept");
	assert_bool(s, found[0], CKA_SENSITIVE, CK_TRUE);
	assert_bool(s, found[0], CKA_PRIVATE, CK_TRUE);
	assert_bool(s, found[0], CKA_SIGN, CK_TRUE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_create__data_object),
	    T(test_create__certificate),
	    T(test_create__aes_key),
	    T(test_create__generic_secret),
	    T(test_create__rsa_key_pair),
	    T(test_create__ec_key_pair),
	    T(test_create__session_object_in_ro_session),
	    T(test_create__imported_key_is_not_local),
	    T(test_create__imported_private_key_is_not_local),
	    T(test_create__token_object_in_ro_session_fails),
	    T(test_create__private_object_without_login_fails),
	    T(test_create__missing_class_fails),
	    T(test_create__missing_key_value_fails),
	    T(test_create__conflicting_values_fail),
	    T(test_create__invalid_key_material_fails),
	    T(test_create__bad_bool_length_fails),
	    T(test_create__unknown_class_fails),
	    T(test_create__bad_aes_key_length_fails),
	    T(test_create__unknown_attribute_fails),
	    T(test_create__local_in_template_fails),
	    T(test_create__always_sensitive_in_template_fails),
	    T(test_create__trusted_cert_as_user_fails),
	    T(test_create__trusted_cert_as_so_succeeds),
	    T(test_create__so_creates_public_object),
	    T(test_create__null_template_fails),
	    T(test_create__null_handle_fails),
	    T(test_get_attr__length_query),
	    T(test_get_attr__exact_buffer_succeeds),
	    T(test_get_attr__too_small_fills_the_rest),
	    T(test_get_attr__sensitive_value_fills_the_rest),
	    T(test_get_attr__unextractable_value_is_sensitive),
	    T(test_get_attr__private_exponent_is_sensitive),
	    T(test_get_attr__unknown_type_fills_the_rest),
	    T(test_get_attr__type_of_other_class_is_invalid),
	    T(test_get_attr__bad_object_fails),
	    T(test_get_attr__private_object_after_logout_fails),
	    T(test_get_attr__null_template_fails),
	    T(test_set_attr__label_change_persists),
	    T(test_set_attr__sensitive_false_to_true_succeeds),
	    T(test_set_attr__sensitive_true_to_false_fails),
	    T(test_set_attr__extractable_true_to_false_succeeds),
	    T(test_set_attr__extractable_false_to_true_fails),
	    T(test_set_attr__class_is_read_only),
	    T(test_set_attr__token_object_in_ro_session_fails),
	    T(test_set_attr__unmodifiable_object_fails),
	    T(test_set_attr__bad_object_fails),
	    T(test_copy__with_new_label),
	    T(test_copy__session_to_token),
	    T(test_copy__to_token_in_ro_session_fails),
	    T(test_copy__uncopyable_fails),
	    T(test_copy__cannot_relax_sensitive),
	    T(test_copy__bad_object_fails),
	    T(test_destroy__then_handle_invalid),
	    T(test_destroy__token_object_stays_gone),
	    T(test_destroy__undestroyable_fails),
	    T(test_destroy__token_object_in_ro_session_fails),
	    T(test_destroy__bad_object_fails),
	    T(test_object_size__succeeds),
	    T(test_object_size__bad_object_fails),
	    T(test_object_size__null_fails),
	    T(test_lifetime__session_object_shared_by_sessions),
	    T(test_lifetime__session_object_dies_with_session),
	    T(test_lifetime__token_objects_persist),
	};

	return api_run(argc, argv, "api_object", tests, NELEM(tests));
}
