/*
 * test_find.c - object search (PKCS#11 v3.0 base 5.7: C_FindObjectsInit,
 * C_FindObjects, C_FindObjectsFinal).
 */
#include "harness.h"

/* A token with: two public certificates, two public data objects, one
 * private data object and one RSA pair (public key public, private key
 * private). Handles for the tests to check against. */
struct fixture {
	CK_SESSION_HANDLE s; /* R/W, user logged in */
	struct api_cert c1, c2;
	CK_OBJECT_HANDLE cert1, cert2, data1, data2, priv_data, rsa_pub,
	    rsa_priv;
};

static struct fixture f;

static int setup_objects(void **state)
{
	if (api_setup_token(state) != 0)
		return -1;
	f.s = api_open(api_slot, true);
	api_login(f.s, CKU_USER);
	api_cert_make(&f.c1, "first", 1);
	api_cert_make(&f.c2, "second", 2);
	assert_rv(CKR_OK, api_create_cert(f.s, CK_TRUE, &f.c1, "c1", &f.cert1));
	assert_rv(CKR_OK, api_create_cert(f.s, CK_TRUE, &f.c2, "c2", &f.cert2));
	assert_rv(CKR_OK,
		  api_create_data(f.s, CK_TRUE, CK_FALSE, "d1", &f.data1));
	assert_rv(CKR_OK,
		  api_create_data(f.s, CK_FALSE, CK_FALSE, "d2", &f.data2));
	assert_rv(CKR_OK,
		  api_create_data(f.s, CK_TRUE, CK_TRUE, "pd", &f.priv_data));
	assert_rv(CKR_OK, api_create_rsa_pair(f.s, CK_TRUE, "rsa", &f.rsa_pub,
					      &f.rsa_priv));
	return 0;
}

static int teardown_objects(void **state)
{
	api_cert_clear(&f.c1);
	api_cert_clear(&f.c2);
	return api_teardown(state);
}

/* Finds with tmpl and checks the result is exactly want[0..n). */
static void expect(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG nt,
		   const CK_OBJECT_HANDLE *want, CK_ULONG n)
{
	CK_OBJECT_HANDLE got[32];
	CK_ULONG count = api_find(s, tmpl, nt, got, 32);

	assert_int_equal(count, n);
	for (CK_ULONG i = 0; i < n; i++)
		assert_true(api_contains(got, count, want[i]));
}

static void test_find__by_class(void **state)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls)};
	CK_OBJECT_HANDLE want[] = {f.cert1, f.cert2};

	(void)state;
	expect(f.s, t, NELEM(t), want, NELEM(want));
}

static void test_find__by_id(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR_STR(CKA_ID, "rsa")};
	CK_OBJECT_HANDLE want[] = {f.rsa_pub, f.rsa_priv};

	(void)state;
	expect(f.s, t, NELEM(t), want, NELEM(want));
}

static void test_find__by_label(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR_STR(CKA_LABEL, "d1")};
	CK_OBJECT_HANDLE want[] = {f.data1};

	(void)state;
	expect(f.s, t, NELEM(t), want, NELEM(want));
}

/* Several indexed attributes together: every one must match (coffer
 * answers these from its index alone). */
static void test_find__class_and_id_select_one_half(void **state)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls), ATTR_STR(CKA_ID, "rsa")};
	CK_OBJECT_HANDLE want[] = {f.rsa_priv};

	(void)state;
	expect(f.s, t, NELEM(t), want, NELEM(want));
}

static void test_find__indexed_terms_that_disagree_match_nothing(void **s_)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls), ATTR_STR(CKA_LABEL, "d1")};

	(void)s_;
	expect(f.s, t, NELEM(t), NULL, 0);
}

static void test_find__private_object_by_class_and_label(void **state)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls), ATTR_STR(CKA_LABEL, "pd")};
	CK_OBJECT_HANDLE want[] = {f.priv_data};
	CK_SESSION_HANDLE ro = api_open(api_slot, false);

	(void)state;
	expect(f.s, t, NELEM(t), want, NELEM(want));
	assert_rv(CKR_OK, p11->C_Logout(f.s));
	expect(ro, t, NELEM(t), NULL, 0);
	p11->C_CloseSession(ro);
}

static void test_find__by_subject(void **state)
{
	CK_ATTRIBUTE t[] = {
	    ATTR_BUF(CKA_SUBJECT, f.c2.subject, f.c2.subject_len)};
	CK_OBJECT_HANDLE want[] = {f.cert2};

	(void)state;
	expect(f.s, t, NELEM(t), want, NELEM(want));
}

static void test_find__by_issuer_and_serial(void **state)
{
	CK_ATTRIBUTE t[] = {
	    ATTR_BUF(CKA_ISSUER, f.c1.issuer, f.c1.issuer_len),
	    ATTR_BUF(CKA_SERIAL_NUMBER, f.c1.serial, f.c1.serial_len),
	};
	CK_OBJECT_HANDLE want[] = {f.cert1};

	(void)state;
	expect(f.s, t, NELEM(t), want, NELEM(want));
}

static void test_find__issuer_with_other_serial_matches_nothing(void **s_)
{
	CK_ATTRIBUTE t[] = {
	    ATTR_BUF(CKA_ISSUER, f.c1.issuer, f.c1.issuer_len),
	    ATTR_BUF(CKA_SERIAL_NUMBER, f.c2.serial, f.c2.serial_len),
	};

	(void)s_;
	expect(f.s, t, NELEM(t), NULL, 0);
}

static void test_find__by_certificate_value(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR_BUF(CKA_VALUE, f.c2.der, f.c2.der_len)};
	CK_OBJECT_HANDLE want[] = {f.cert2};

	(void)state;
	expect(f.s, t, NELEM(t), want, NELEM(want));
}

static void test_find__empty_template_finds_all(void **state)
{
	CK_OBJECT_HANDLE want[] = {f.cert1,	f.cert2,   f.data1,   f.data2,
				   f.priv_data, f.rsa_pub, f.rsa_priv};

	(void)state;
	expect(f.s, NULL, 0, want, NELEM(want));
}

static void test_find__token_flag_selects_token_objects(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR(CKA_TOKEN, &api_false)};
	CK_OBJECT_HANDLE want[] = {f.data2};

	(void)state;
	expect(f.s, t, NELEM(t), want, NELEM(want));
}

static void test_find__private_objects_hidden_without_login(void **state)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE want[] = {f.cert1, f.cert2, f.data1, f.data2,
				   f.rsa_pub};

	(void)state;
	assert_rv(CKR_OK, p11->C_Logout(f.s));
	s = api_open(api_slot, false);
	expect(s, NULL, 0, want, NELEM(want));
}

static void test_find__private_label_hidden_without_login(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR_STR(CKA_LABEL, "pd")};

	(void)state;
	assert_rv(CKR_OK, p11->C_Logout(f.s));
	expect(f.s, t, NELEM(t), NULL, 0);
}

static void test_find__in_chunks_of_one(void **state)
{
	CK_OBJECT_HANDLE got[16], h;
	CK_ULONG n, total = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_FindObjectsInit(f.s, NULL, 0));
	for (;;) {
		n = 99;
		assert_rv(CKR_OK, p11->C_FindObjects(f.s, &h, 1, &n));
		if (n == 0)
			break;
		assert_int_equal(n, 1);
		assert_false(api_contains(got, total, h));
		assert_true(total < 16);
		got[total++] = h;
	}
	assert_rv(CKR_OK, p11->C_FindObjectsFinal(f.s));
	assert_int_equal(total, 7);
}

static void test_find__without_init_fails(void **state)
{
	CK_OBJECT_HANDLE h;
	CK_ULONG n = 0;

	(void)state;
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_FindObjects(f.s, &h, 1, &n));
}

static void test_find__final_without_init_fails(void **state)
{
	(void)state;
	assert_rv(CKR_OPERATION_NOT_INITIALIZED, p11->C_FindObjectsFinal(f.s));
}

static void test_find__init_twice_fails(void **state)
{
	(void)state;
	assert_rv(CKR_OK, p11->C_FindObjectsInit(f.s, NULL, 0));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_FindObjectsInit(f.s, NULL, 0));
}

static void test_find__after_final_fails(void **state)
{
	CK_OBJECT_HANDLE h;
	CK_ULONG n = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_FindObjectsInit(f.s, NULL, 0));
	assert_rv(CKR_OK, p11->C_FindObjectsFinal(f.s));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_FindObjects(f.s, &h, 1, &n));
}

static void test_find__null_out_fails(void **state)
{
	CK_ULONG n = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_FindObjectsInit(f.s, NULL, 0));
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_FindObjects(f.s, NULL, 1, &n));
}

static void test_find__null_template_with_count_fails(void **state)
{
	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_FindObjectsInit(f.s, NULL, 2));
}

static void test_find__sessions_search_independently(void **state)
{
	CK_SESSION_HANDLE other = api_open(api_slot, false);
	CK_OBJECT_HANDLE h;
	CK_ULONG n = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_FindObjectsInit(f.s, NULL, 0));
	assert_int_equal(api_find(other, NULL, 0, NULL, 0), 7);
	assert_rv(CKR_OK, p11->C_FindObjects(f.s, &h, 1, &n));
	assert_int_equal(n, 1);
}

static void test_find__object_created_during_find_is_optional(void **s_)
{
	CK_OBJECT_HANDLE got[16], h, fresh;
	CK_ULONG n, total = 0;

	(void)s_;
	assert_rv(CKR_OK, p11->C_FindObjectsInit(f.s, NULL, 0));
	assert_rv(CKR_OK, p11->C_FindObjects(f.s, got, 1, &n));
	assert_int_equal(n, 1);
	total = 1;
	assert_rv(CKR_OK,
		  api_create_data(f.s, CK_TRUE, CK_FALSE, "fresh", &fresh));
	do {
		assert_rv(CKR_OK, p11->C_FindObjects(f.s, &h, 1, &n));
		if (n == 1) {
			assert_true(total < 16);
			got[total++] = h;
		}
	} while (n == 1);
	assert_rv(CKR_OK, p11->C_FindObjectsFinal(f.s));
	/* All seven earlier objects, and the new one at most once. */
	assert_true(total == 7 || total == 8);
	assert_true(api_contains(got, total, f.rsa_priv));
	assert_true(api_contains(got, total, f.cert1));
	assert_true(api_contains(got, total, f.data2));
	if (total == 8)
		assert_true(api_contains(got, total, fresh));
}

static void test_find__destroyed_object_never_returned(void **state)
{
	CK_OBJECT_HANDLE got[16], h, first;
	CK_ULONG n, total = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_FindObjectsInit(f.s, NULL, 0));
	assert_rv(CKR_OK, p11->C_FindObjects(f.s, &first, 1, &n));
	assert_int_equal(n, 1);
	/* Destroy one object the search has not returned yet. */
	h = first == f.data1 ? f.data2 : f.data1;
	assert_rv(CKR_OK, p11->C_DestroyObject(f.s, h));
	do {
		assert_rv(CKR_OK, p11->C_FindObjects(f.s, &got[total], 1, &n));
		total += n;
	} while (n == 1 && total < 16);
	assert_rv(CKR_OK, p11->C_FindObjectsFinal(f.s));
	assert_false(api_contains(got, total, h));
	assert_int_equal(total, 5);
}

static void test_find__unknown_attribute_matches_nothing(void **state)
{
	CK_ATTRIBUTE t[] = {ATTR_STR(CKA_VENDOR_DEFINED + 0x777, "x")};

	(void)state;
	expect(f.s, t, NELEM(t), NULL, 0);
}

static void test_find__attribute_of_other_class_matches_nothing(void **s_)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls),
			    ATTR_BUF(CKA_MODULUS, "\x01", 1)};

	(void)s_;
	expect(f.s, t, NELEM(t), NULL, 0);
}

/* Creates a token AES key with a known value. */
static CK_OBJECT_HANDLE aes_with_value(CK_BBOOL sensitive,
				       const unsigned char value[32])
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, extractable = !sensitive;
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls),	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &yes),	    ATTR(CKA_SENSITIVE, &sensitive),
	    ATTR(CKA_EXTRACTABLE, &extractable),
	    ATTR_BUF(CKA_VALUE, value, 32),
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv(CKR_OK, p11->C_CreateObject(f.s, t, NELEM(t), &h));
	return h;
}

/* A search must not be an oracle for a value C_GetAttributeValue refuses:
 * guessing a sensitive key's CKA_VALUE finds nothing. */
static void test_find__sensitive_value_never_matches(void **state)
{
	unsigned char value[32];
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls),
			    ATTR_BUF(CKA_VALUE, value, sizeof(value))};

	(void)state;
	memset(value, 0x5a, sizeof(value));
	aes_with_value(CK_TRUE, value);
	expect(f.s, t, NELEM(t), NULL, 0);
}

/* The same search for a key whose value may be read does find it. */
static void test_find__readable_value_matches(void **state)
{
	unsigned char value[32];
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls),
			    ATTR_BUF(CKA_VALUE, value, sizeof(value))};
	CK_OBJECT_HANDLE want[1];

	(void)state;
	memset(value, 0xa5, sizeof(value));
	want[0] = aes_with_value(CK_FALSE, value);
	expect(f.s, t, NELEM(t), want, 1);
}

#define T(fn)                                                                  \
	cmocka_unit_test_setup_teardown(fn, setup_objects, teardown_objects)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_find__by_class),
	    T(test_find__by_id),
	    T(test_find__by_label),
	    T(test_find__class_and_id_select_one_half),
	    T(test_find__indexed_terms_that_disagree_match_nothing),
	    T(test_find__private_object_by_class_and_label),
	    T(test_find__by_subject),
	    T(test_find__by_issuer_and_serial),
	    T(test_find__issuer_with_other_serial_matches_nothing),
	    T(test_find__by_certificate_value),
	    T(test_find__empty_template_finds_all),
	    T(test_find__token_flag_selects_token_objects),
	    T(test_find__private_objects_hidden_without_login),
	    T(test_find__private_label_hidden_without_login),
	    T(test_find__in_chunks_of_one),
	    T(test_find__without_init_fails),
	    T(test_find__final_without_init_fails),
	    T(test_find__init_twice_fails),
	    T(test_find__after_final_fails),
	    T(test_find__null_out_fails),
	    T(test_find__null_template_with_count_fails),
	    T(test_find__sessions_search_independently),
	    T(test_find__object_created_during_find_is_optional),
	    T(test_find__destroyed_object_never_returned),
	    T(test_find__sensitive_value_never_matches),
	    T(test_find__readable_value_matches),
	    T(test_find__unknown_attribute_matches_nothing),
	    T(test_find__attribute_of_other_class_matches_nothing),
	};

	return api_run(argc, argv, "api_find", tests, NELEM(tests));
}
