/* test_object.c - the in-memory object, its API edge and its record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/secmem.h"
#include "token/object.h"

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static struct cf_object *new_obj(void)
{
	struct cf_object *o = cf_object_new();
	assert_non_null(o);
	return o;
}

static void set_api_ok(struct cf_object *o, CK_ATTRIBUTE_TYPE t, const void *v,
		       CK_ULONG len)
{
	CK_ATTRIBUTE a = {t, (void *)v, len};
	assert_int_equal(cf_object_set_api(o, &a), CKR_OK);
}

static CK_RV set_api(struct cf_object *o, CK_ATTRIBUTE_TYPE t, const void *v,
		     CK_ULONG len)
{
	CK_ATTRIBUTE a = {t, (void *)v, len};
	return cf_object_set_api(o, &a);
}

static void set_class(struct cf_object *o, CK_OBJECT_CLASS c)
{
	assert_int_equal(cf_object_set_ulong(o, CKA_CLASS, c), CKR_OK);
}

/* ---- set, get, remove --------------------------------------------------- */

static void test_object__new_object_is_empty(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	assert_int_equal(o->n, 0);
	assert_int_equal(o->refs, 1);
	assert_int_equal(o->cls, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(o->key_type, CK_UNAVAILABLE_INFORMATION);
	assert_null(cf_object_attr(o, CKA_LABEL));
	cf_object_unref(o);
}

static void test_object__set_then_get_returns_the_value(void **state)
{
	struct cf_object *o = new_obj();
	const struct cf_attr *a;

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_LABEL, "key", 3), CKR_OK);
	a = cf_object_attr(o, CKA_LABEL);
	assert_non_null(a);
	assert_int_equal(a->len, 3);
	assert_memory_equal(a->value, "key", 3);
	cf_object_unref(o);
}

static void test_object__set_replaces_an_existing_value(void **state)
{
	struct cf_object *o = new_obj();
	const struct cf_attr *a;

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_LABEL, "first", 5), CKR_OK);
	assert_int_equal(cf_object_set(o, CKA_LABEL, "2nd", 3), CKR_OK);
	assert_int_equal(o->n, 1);
	a = cf_object_attr(o, CKA_LABEL);
	assert_int_equal(a->len, 3);
	assert_memory_equal(a->value, "2nd", 3);
	cf_object_unref(o);
}

static void test_object__empty_value_has_null_pointer(void **state)
{
	struct cf_object *o = new_obj();
	const struct cf_attr *a;

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_ID, NULL, 0), CKR_OK);
	a = cf_object_attr(o, CKA_ID);
	assert_non_null(a);
	assert_int_equal(a->len, 0);
	assert_null(a->value);
	cf_object_unref(o);
}

static void test_object__attributes_are_kept_sorted(void **state)
{
	static const CK_ATTRIBUTE_TYPE types[] = {
	    CKA_WRAP_TEMPLATE, CKA_VALUE,   CKA_LABEL, CKA_ID,
	    CKA_CLASS,	       CKA_MODULUS, CKA_TOKEN,
	};
	struct cf_object *o = new_obj();

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_int_equal(cf_object_set(o, types[i], "x", 1), CKR_OK);
	assert_int_equal(o->n, 7);
	for (size_t i = 1; i < o->n; i++)
		assert_true(o->attrs[i - 1].type < o->attrs[i].type);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_non_null(cf_object_attr(o, types[i]));
	cf_object_unref(o);
}

static void test_object__remove_drops_the_attribute(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_LABEL, "a", 1), CKR_OK);
	assert_int_equal(cf_object_set(o, CKA_ID, "b", 1), CKR_OK);
	cf_object_remove(o, CKA_LABEL);
	assert_null(cf_object_attr(o, CKA_LABEL));
	assert_non_null(cf_object_attr(o, CKA_ID));
	assert_int_equal(o->n, 1);
	cf_object_remove(o, CKA_LABEL); /* absent: nothing happens */
	assert_int_equal(o->n, 1);
	cf_object_unref(o);
}

static void test_object__ulong_and_bool_read_back(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	assert_int_equal(cf_object_set_ulong(o, CKA_VALUE_LEN, 32), CKR_OK);
	assert_int_equal(cf_object_set_bool(o, CKA_SIGN, true), CKR_OK);
	assert_int_equal(cf_object_ulong(o, CKA_VALUE_LEN, 0), 32);
	assert_true(cf_object_bool(o, CKA_SIGN, false));
	assert_int_equal(cf_object_attr(o, CKA_VALUE_LEN)->len,
			 sizeof(CK_ULONG));
	assert_int_equal(cf_object_attr(o, CKA_SIGN)->len, 1);
	/* absent or wrongly sized: the default */
	assert_int_equal(cf_object_ulong(o, CKA_MODULUS_BITS, 7), 7);
	assert_true(cf_object_bool(o, CKA_VERIFY, true));
	assert_int_equal(cf_object_set(o, CKA_DERIVE, NULL, 0), CKR_OK);
	assert_false(cf_object_bool(o, CKA_DERIVE, false));
	cf_object_unref(o);
}

static void test_object__cached_fields_follow_attributes(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	set_class(o, CKO_SECRET_KEY);
	assert_int_equal(cf_object_set_ulong(o, CKA_KEY_TYPE, CKK_AES), CKR_OK);
	assert_int_equal(cf_object_set_bool(o, CKA_TOKEN, true), CKR_OK);
	assert_int_equal(cf_object_set_bool(o, CKA_PRIVATE, false), CKR_OK);
	assert_int_equal(o->cls, CKO_SECRET_KEY);
	assert_int_equal(o->key_type, CKK_AES);
	assert_true(o->token);
	assert_false(o->priv);
	cf_object_remove(o, CKA_TOKEN);
	assert_false(o->token);
	cf_object_remove(o, CKA_KEY_TYPE);
	assert_int_equal(o->key_type, CK_UNAVAILABLE_INFORMATION);
	cf_object_unref(o);
}

static void test_object__key_material_is_secret(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	set_class(o, CKO_SECRET_KEY);
	assert_int_equal(cf_object_set(o, CKA_VALUE, "0123456789abcdef", 16),
			 CKR_OK);
	assert_int_equal(cf_object_set(o, CKA_LABEL, "l", 1), CKR_OK);
	assert_true(cf_object_attr(o, CKA_VALUE)->secret);
	assert_false(cf_object_attr(o, CKA_LABEL)->secret);
	cf_object_unref(o);
}

static void test_object__rsa_private_components_are_secret(void **state)
{
	static const CK_ATTRIBUTE_TYPE priv[] = {
	    CKA_PRIVATE_EXPONENT, CKA_PRIME_1,	  CKA_PRIME_2,
	    CKA_EXPONENT_1,	  CKA_EXPONENT_2, CKA_COEFFICIENT,
	};
	struct cf_object *o = new_obj();

	(void)state;
	set_class(o, CKO_PRIVATE_KEY);
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		assert_int_equal(cf_object_set(o, priv[i], "\x01", 1), CKR_OK);
		assert_true(cf_object_attr(o, priv[i])->secret);
	}
	assert_int_equal(cf_object_set(o, CKA_MODULUS, "\x01", 1), CKR_OK);
	assert_false(cf_object_attr(o, CKA_MODULUS)->secret);
	cf_object_unref(o);
}

static void test_object__data_value_is_not_secret(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	set_class(o, CKO_DATA);
	assert_int_equal(cf_object_set(o, CKA_VALUE, "data", 4), CKR_OK);
	assert_false(cf_object_attr(o, CKA_VALUE)->secret);
	cf_object_unref(o);
}

/* Before the class is known a value that may be key material is kept
 * secret; learning the class moves it where it belongs. */
static void test_object__setting_the_class_moves_values(void **state)
{
	struct cf_object *o = new_obj();
	const struct cf_attr *a;

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_VALUE, "data", 4), CKR_OK);
	assert_true(cf_object_attr(o, CKA_VALUE)->secret);
	set_class(o, CKO_DATA);
	a = cf_object_attr(o, CKA_VALUE);
	assert_false(a->secret);
	assert_memory_equal(a->value, "data", 4);
	set_class(o, CKO_SECRET_KEY);
	a = cf_object_attr(o, CKA_VALUE);
	assert_true(a->secret);
	assert_memory_equal(a->value, "data", 4);
	cf_object_unref(o);
}

static void test_object__ref_keeps_object_alive(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	assert_ptr_equal(cf_object_ref(o), o);
	assert_int_equal(o->refs, 2);
	cf_object_unref(o);
	assert_int_equal(o->refs, 1);
	cf_object_unref(o);
	cf_object_unref(NULL);
}

static void test_object__dup_is_deep(void **state)
{
	struct cf_object *o = new_obj(), *c = NULL;
	const struct cf_attr *a;

	(void)state;
	set_class(o, CKO_SECRET_KEY);
	o->handle = 5;
	o->id = 9;
	assert_int_equal(cf_object_set(o, CKA_VALUE, "0123456789abcdef", 16),
			 CKR_OK);
	assert_int_equal(cf_object_set(o, CKA_LABEL, "orig", 4), CKR_OK);
	assert_int_equal(cf_object_dup(o, &c), CKR_OK);
	assert_non_null(c);
	assert_int_equal(c->refs, 1);
	assert_int_equal(c->handle, 0);
	assert_int_equal(c->id, 0);
	assert_int_equal(c->cls, CKO_SECRET_KEY);
	assert_ptr_not_equal(cf_object_attr(c, CKA_VALUE)->value,
			     cf_object_attr(o, CKA_VALUE)->value);
	assert_true(cf_object_attr(c, CKA_VALUE)->secret);
	assert_int_equal(cf_object_set(o, CKA_LABEL, "changed", 7), CKR_OK);
	cf_object_unref(o);
	a = cf_object_attr(c, CKA_LABEL);
	assert_int_equal(a->len, 4);
	assert_memory_equal(a->value, "orig", 4);
	assert_memory_equal(cf_object_attr(c, CKA_VALUE)->value,
			    "0123456789abcdef", 16);
	cf_object_unref(c);
}

static void test_object__size_grows_with_values(void **state)
{
	struct cf_object *o = new_obj();
	CK_ULONG before;

	(void)state;
	before = cf_object_size(o);
	assert_int_equal(cf_object_set(o, CKA_VALUE, "0123456789", 10), CKR_OK);
	assert_true(cf_object_size(o) >= before + 10);
	cf_object_unref(o);
}

/* ---- set_api shapes ------------------------------------------------------ */

static void test_object__set_api_rejects_unknown_type(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	assert_int_equal(set_api(o, 0x7777UL, "x", 1),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(o->n, 0);
	cf_object_unref(o);
}

static void test_object__set_api_rejects_vendor_type(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	assert_int_equal(set_api(o, CKA_VENDOR_DEFINED | 1, "x", 1),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	cf_object_unref(o);
}

static void test_object__set_api_rejects_bool_of_wrong_length(void **state)
{
	struct cf_object *o = new_obj();
	CK_ULONG big = 1;

	(void)state;
	assert_int_equal(set_api(o, CKA_TOKEN, &big, sizeof(big)),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(set_api(o, CKA_TOKEN, &yes, 0),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_null(cf_object_attr(o, CKA_TOKEN));
	cf_object_unref(o);
}

static void test_object__set_api_rejects_bool_other_than_0_or_1(void **state)
{
	struct cf_object *o = new_obj();
	CK_BBOOL two = 2;

	(void)state;
	assert_int_equal(set_api(o, CKA_SIGN, &two, 1),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	cf_object_unref(o);
}

static void test_object__set_api_rejects_ulong_of_wrong_length(void **state)
{
	struct cf_object *o = new_obj();
	uint32_t small = CKO_DATA;

	(void)state;
	assert_int_equal(set_api(o, CKA_CLASS, &small, sizeof(small)),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	cf_object_unref(o);
}

static void test_object__set_api_rejects_bad_dates(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	assert_int_equal(set_api(o, CKA_START_DATE, "2024010", 7),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(set_api(o, CKA_START_DATE, "2024-1-1", 8),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_null(cf_object_attr(o, CKA_START_DATE));
	cf_object_unref(o);
}

static void test_object__set_api_accepts_date_or_empty(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	set_api_ok(o, CKA_START_DATE, "20240131", 8);
	set_api_ok(o, CKA_END_DATE, NULL, 0);
	assert_int_equal(cf_object_attr(o, CKA_START_DATE)->len, 8);
	assert_int_equal(cf_object_attr(o, CKA_END_DATE)->len, 0);
	cf_object_unref(o);
}

static void test_object__set_api_rejects_null_value_with_length(void **state)
{
	struct cf_object *o = new_obj();

	(void)state;
	assert_int_equal(set_api(o, CKA_LABEL, NULL, 4),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(
	    set_api(o, CKA_WRAP_TEMPLATE, NULL, sizeof(CK_ATTRIBUTE)),
	    CKR_ATTRIBUTE_VALUE_INVALID);
	cf_object_unref(o);
}

static void test_object__set_api_rejects_oversized_value(void **state)
{
	struct cf_object *o = new_obj();
	uint8_t b[4] = {0};

	(void)state;
	/* the length is refused before the value is read */
	assert_int_equal(set_api(o, CKA_VALUE, b, (CK_ULONG)1 << 21),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	cf_object_unref(o);
}

static void test_object__set_api_rejects_partial_mechanism_array(void **state)
{
	struct cf_object *o = new_obj();
	CK_MECHANISM_TYPE m[2] = {CKM_AES_GCM, CKM_AES_CBC};

	(void)state;
	assert_int_equal(set_api(o, CKA_ALLOWED_MECHANISMS, m, sizeof(m) - 1),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	set_api_ok(o, CKA_ALLOWED_MECHANISMS, m, sizeof(m));
	cf_object_unref(o);
}

static void test_object__set_api_rejects_partial_attribute_array(void **state)
{
	struct cf_object *o = new_obj();
	CK_ATTRIBUTE t[1] = {{CKA_TOKEN, (void *)&yes, 1}};

	(void)state;
	assert_int_equal(set_api(o, CKA_WRAP_TEMPLATE, t, sizeof(t) - 1),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	cf_object_unref(o);
}

static void test_object__set_api_rejects_nested_attribute_array(void **state)
{
	struct cf_object *o = new_obj();
	CK_ATTRIBUTE inner[1] = {{CKA_TOKEN, (void *)&yes, 1}};
	CK_ATTRIBUTE outer[1] = {{CKA_UNWRAP_TEMPLATE, inner, sizeof(inner)}};

	(void)state;
	assert_int_equal(set_api(o, CKA_WRAP_TEMPLATE, outer, sizeof(outer)),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	cf_object_unref(o);
}

static void test_object__set_api_rejects_bad_entry_in_array(void **state)
{
	struct cf_object *o = new_obj();
	CK_ULONG cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE bad_bool[2] = {{CKA_CLASS, &cls, sizeof(cls)},
				    {CKA_SIGN, &cls, sizeof(cls)}};
	CK_ATTRIBUTE unknown[1] = {{0x7777UL, &cls, sizeof(cls)}};
	CK_ATTRIBUTE dup[2] = {{CKA_SIGN, (void *)&yes, 1},
			       {CKA_SIGN, (void *)&no, 1}};

	(void)state;
	assert_int_equal(
	    set_api(o, CKA_WRAP_TEMPLATE, bad_bool, sizeof(bad_bool)),
	    CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(
	    set_api(o, CKA_WRAP_TEMPLATE, unknown, sizeof(unknown)),
	    CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(set_api(o, CKA_WRAP_TEMPLATE, dup, sizeof(dup)),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_null(cf_object_attr(o, CKA_WRAP_TEMPLATE));
	cf_object_unref(o);
}

static void test_object__set_api_keeps_bool_and_ulong_native(void **state)
{
	struct cf_object *o = new_obj();
	CK_ULONG kt = CKK_AES;

	(void)state;
	set_api_ok(o, CKA_KEY_TYPE, &kt, sizeof(kt));
	set_api_ok(o, CKA_ENCRYPT, &yes, 1);
	assert_memory_equal(cf_object_attr(o, CKA_KEY_TYPE)->value, &kt,
			    sizeof(kt));
	assert_int_equal(cf_object_attr(o, CKA_ENCRYPT)->value[0], CK_TRUE);
	cf_object_unref(o);
}

/* ---- export ---------------------------------------------------------------
 */

static void test_object__export_without_buffer_gives_length(void **state)
{
	struct cf_object *o = new_obj();
	CK_ATTRIBUTE out = {CKA_LABEL, NULL, 0};

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_LABEL, "label", 5), CKR_OK);
	assert_int_equal(cf_attr_export(cf_object_attr(o, CKA_LABEL), &out),
			 CKR_OK);
	assert_int_equal(out.ulValueLen, 5);
	cf_object_unref(o);
}

static void test_object__export_into_exact_buffer_copies(void **state)
{
	struct cf_object *o = new_obj();
	char buf[5];
	CK_ATTRIBUTE out = {CKA_LABEL, buf, sizeof(buf)};

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_LABEL, "label", 5), CKR_OK);
	assert_int_equal(cf_attr_export(cf_object_attr(o, CKA_LABEL), &out),
			 CKR_OK);
	assert_int_equal(out.ulValueLen, 5);
	assert_memory_equal(buf, "label", 5);
	cf_object_unref(o);
}

static void test_object__export_into_larger_buffer_sets_length(void **state)
{
	struct cf_object *o = new_obj();
	char buf[64];
	CK_ATTRIBUTE out = {CKA_LABEL, buf, sizeof(buf)};

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_LABEL, "label", 5), CKR_OK);
	assert_int_equal(cf_attr_export(cf_object_attr(o, CKA_LABEL), &out),
			 CKR_OK);
	assert_int_equal(out.ulValueLen, 5);
	cf_object_unref(o);
}

static void test_object__export_into_small_buffer_fails(void **state)
{
	struct cf_object *o = new_obj();
	char buf[4];
	CK_ATTRIBUTE out = {CKA_LABEL, buf, sizeof(buf)};

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_LABEL, "label", 5), CKR_OK);
	assert_int_equal(cf_attr_export(cf_object_attr(o, CKA_LABEL), &out),
			 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(out.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	cf_object_unref(o);
}

static void test_object__export_empty_value_gives_zero(void **state)
{
	struct cf_object *o = new_obj();
	char buf[4];
	CK_ATTRIBUTE out = {CKA_ID, buf, sizeof(buf)};

	(void)state;
	assert_int_equal(cf_object_set(o, CKA_ID, NULL, 0), CKR_OK);
	assert_int_equal(cf_attr_export(cf_object_attr(o, CKA_ID), &out),
			 CKR_OK);
	assert_int_equal(out.ulValueLen, 0);
	cf_object_unref(o);
}

static struct cf_object *obj_with_wrap_template(void)
{
	struct cf_object *o = new_obj();
	CK_ULONG kt = CKK_AES;
	CK_ATTRIBUTE t[3] = {{CKA_SIGN, (void *)&yes, 1},
			     {CKA_KEY_TYPE, &kt, sizeof(kt)},
			     {CKA_LABEL, "wrapped", 7}};

	set_api_ok(o, CKA_WRAP_TEMPLATE, t, sizeof(t));
	return o;
}

static void test_object__export_array_without_buffer_gives_length(void **s)
{
	struct cf_object *o = obj_with_wrap_template();
	CK_ATTRIBUTE out = {CKA_WRAP_TEMPLATE, NULL, 0};

	(void)s;
	assert_int_equal(
	    cf_attr_export(cf_object_attr(o, CKA_WRAP_TEMPLATE), &out), CKR_OK);
	assert_int_equal(out.ulValueLen, 3 * sizeof(CK_ATTRIBUTE));
	cf_object_unref(o);
}

static void test_object__export_array_into_small_array_fails(void **state)
{
	struct cf_object *o = obj_with_wrap_template();
	CK_ATTRIBUTE arr[2];
	CK_ATTRIBUTE out = {CKA_WRAP_TEMPLATE, arr, sizeof(arr)};

	(void)state;
	memset(arr, 0, sizeof(arr));
	assert_int_equal(
	    cf_attr_export(cf_object_attr(o, CKA_WRAP_TEMPLATE), &out),
	    CKR_BUFFER_TOO_SMALL);
	assert_int_equal(out.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	cf_object_unref(o);
}

static void test_object__export_array_gives_entry_lengths(void **state)
{
	struct cf_object *o = obj_with_wrap_template();
	CK_ATTRIBUTE arr[3];
	CK_ATTRIBUTE out = {CKA_WRAP_TEMPLATE, arr, sizeof(arr)};

	(void)state;
	memset(arr, 0, sizeof(arr));
	assert_int_equal(
	    cf_attr_export(cf_object_attr(o, CKA_WRAP_TEMPLATE), &out), CKR_OK);
	assert_int_equal(out.ulValueLen, sizeof(arr));
	/* entries come back sorted by type */
	assert_int_equal(arr[0].type, CKA_LABEL);
	assert_int_equal(arr[0].ulValueLen, 7);
	assert_int_equal(arr[1].type, CKA_KEY_TYPE);
	assert_int_equal(arr[1].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(arr[2].type, CKA_SIGN);
	assert_int_equal(arr[2].ulValueLen, 1);
	cf_object_unref(o);
}

static void test_object__export_array_fills_entries(void **state)
{
	struct cf_object *o = obj_with_wrap_template();
	char label[16];
	CK_ULONG kt = 0;
	CK_BBOOL sign = CK_FALSE;
	CK_ATTRIBUTE arr[3] = {{0, label, sizeof(label)},
			       {0, &kt, sizeof(kt)},
			       {0, &sign, sizeof(sign)}};
	CK_ATTRIBUTE out = {CKA_WRAP_TEMPLATE, arr, sizeof(arr)};

	(void)state;
	assert_int_equal(
	    cf_attr_export(cf_object_attr(o, CKA_WRAP_TEMPLATE), &out), CKR_OK);
	assert_int_equal(arr[0].ulValueLen, 7);
	assert_memory_equal(label, "wrapped", 7);
	assert_int_equal(kt, CKK_AES);
	assert_int_equal(sign, CK_TRUE);
	cf_object_unref(o);
}

static void test_object__export_array_entry_too_small_fails(void **state)
{
	struct cf_object *o = obj_with_wrap_template();
	char label[3];
	CK_ULONG kt = 0;
	CK_BBOOL sign = CK_FALSE;
	CK_ATTRIBUTE arr[3] = {{0, label, sizeof(label)},
			       {0, &kt, sizeof(kt)},
			       {0, &sign, sizeof(sign)}};
	CK_ATTRIBUTE out = {CKA_WRAP_TEMPLATE, arr, sizeof(arr)};

	(void)state;
	assert_int_equal(
	    cf_attr_export(cf_object_attr(o, CKA_WRAP_TEMPLATE), &out),
	    CKR_BUFFER_TOO_SMALL);
	assert_int_equal(arr[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	/* the others are still filled */
	assert_int_equal(kt, CKK_AES);
	assert_int_equal(sign, CK_TRUE);
	cf_object_unref(o);
}

static void test_object__export_empty_array_gives_zero(void **state)
{
	struct cf_object *o = new_obj();
	CK_ATTRIBUTE out = {CKA_WRAP_TEMPLATE, NULL, 0};

	(void)state;
	set_api_ok(o, CKA_WRAP_TEMPLATE, NULL, 0);
	assert_int_equal(
	    cf_attr_export(cf_object_attr(o, CKA_WRAP_TEMPLATE), &out), CKR_OK);
	assert_int_equal(out.ulValueLen, 0);
	cf_object_unref(o);
}

static void test_object__export_mechanisms_native(void **state)
{
	struct cf_object *o = new_obj();
	CK_MECHANISM_TYPE m[2] = {CKM_AES_GCM, CKM_SHA256_HMAC}, got[2];
	CK_ATTRIBUTE out = {CKA_ALLOWED_MECHANISMS, got, sizeof(got)};

	(void)state;
	set_api_ok(o, CKA_ALLOWED_MECHANISMS, m, sizeof(m));
	assert_int_equal(
	    cf_attr_export(cf_object_attr(o, CKA_ALLOWED_MECHANISMS), &out),
	    CKR_OK);
	assert_int_equal(out.ulValueLen, sizeof(m));
	assert_memory_equal(got, m, sizeof(m));
	cf_object_unref(o);
}

/* ---- match ----------------------------------------------------------------
 */

static struct cf_object *match_obj(void)
{
	struct cf_object *o = new_obj();
	CK_ULONG cls = CKO_SECRET_KEY;

	set_api_ok(o, CKA_CLASS, &cls, sizeof(cls));
	set_api_ok(o, CKA_SIGN, &yes, 1);
	set_api_ok(o, CKA_LABEL, "label", 5);
	set_api_ok(o, CKA_VALUE, "0123456789abcdef", 16);
	return o;
}

static void test_object__empty_template_matches_all(void **state)
{
	struct cf_object *o = match_obj();

	(void)state;
	assert_true(cf_object_match(o, NULL, 0));
	cf_object_unref(o);
}

static void test_object__match_compares_ulongs(void **state)
{
	struct cf_object *o = match_obj();
	CK_ULONG sec = CKO_SECRET_KEY, pub = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE good = {CKA_CLASS, &sec, sizeof(sec)};
	CK_ATTRIBUTE bad = {CKA_CLASS, &pub, sizeof(pub)};
	CK_ATTRIBUTE short_len = {CKA_CLASS, &sec, 4};

	(void)state;
	assert_true(cf_object_match(o, &good, 1));
	assert_false(cf_object_match(o, &bad, 1));
	assert_false(cf_object_match(o, &short_len, 1));
	cf_object_unref(o);
}

static void test_object__match_compares_bools_as_values(void **state)
{
	struct cf_object *o = match_obj();
	CK_BBOOL other_true = 0x7f;
	CK_ULONG wide = CK_TRUE;
	CK_ATTRIBUTE t1 = {CKA_SIGN, (void *)&yes, 1};
	CK_ATTRIBUTE t2 = {CKA_SIGN, &other_true, 1};
	CK_ATTRIBUTE f = {CKA_SIGN, (void *)&no, 1};
	CK_ATTRIBUTE bad_len = {CKA_SIGN, &wide, sizeof(wide)};

	(void)state;
	assert_true(cf_object_match(o, &t1, 1));
	assert_true(cf_object_match(o, &t2, 1));
	assert_false(cf_object_match(o, &f, 1));
	assert_false(cf_object_match(o, &bad_len, 1));
	cf_object_unref(o);
}

static void test_object__match_compares_bytes(void **state)
{
	struct cf_object *o = match_obj();
	CK_ATTRIBUTE good = {CKA_LABEL, "label", 5};
	CK_ATTRIBUTE prefix = {CKA_LABEL, "lab", 3};
	CK_ATTRIBUTE other = {CKA_LABEL, "lbbel", 5};

	(void)state;
	assert_true(cf_object_match(o, &good, 1));
	assert_false(cf_object_match(o, &prefix, 1));
	assert_false(cf_object_match(o, &other, 1));
	cf_object_unref(o);
}

static void test_object__match_requires_every_entry(void **state)
{
	struct cf_object *o = match_obj();
	CK_ATTRIBUTE t[2] = {{CKA_LABEL, "label", 5}, {CKA_ID, "id", 2}};

	(void)state;
	assert_true(cf_object_match(o, t, 1));
	assert_false(cf_object_match(o, t, 2));
	cf_object_unref(o);
}

static void test_object__match_unknown_type_never_matches(void **state)
{
	struct cf_object *o = match_obj();
	CK_ATTRIBUTE t = {0x7777UL, NULL, 0};

	(void)state;
	assert_false(cf_object_match(o, &t, 1));
	cf_object_unref(o);
}

static void test_object__match_arrays_by_value(void **state)
{
	struct cf_object *o = obj_with_wrap_template();
	CK_ULONG kt = CKK_AES, other = CKK_DES3;
	/* same entries, another order */
	CK_ATTRIBUTE same[3] = {{CKA_LABEL, "wrapped", 7},
				{CKA_SIGN, (void *)&yes, 1},
				{CKA_KEY_TYPE, &kt, sizeof(kt)}};
	CK_ATTRIBUTE diff[3] = {{CKA_LABEL, "wrapped", 7},
				{CKA_SIGN, (void *)&yes, 1},
				{CKA_KEY_TYPE, &other, sizeof(other)}};
	CK_ATTRIBUTE t_same = {CKA_WRAP_TEMPLATE, same, sizeof(same)};
	CK_ATTRIBUTE t_diff = {CKA_WRAP_TEMPLATE, diff, sizeof(diff)};
	CK_ATTRIBUTE t_part = {CKA_WRAP_TEMPLATE, same, sizeof(same[0])};

	(void)state;
	assert_true(cf_object_match(o, &t_same, 1));
	assert_false(cf_object_match(o, &t_diff, 1));
	assert_false(cf_object_match(o, &t_part, 1));
	cf_object_unref(o);
}

/* ---- encode / decode ------------------------------------------------------
 */

/* An object with a value of every kind, key material included. */
static struct cf_object *full_obj(void)
{
	struct cf_object *o = new_obj();
	CK_ULONG cls = CKO_SECRET_KEY, kt = CKK_AES;
	CK_MECHANISM_TYPE m[2] = {CKM_AES_GCM, CKM_AES_KEY_WRAP};
	CK_ATTRIBUTE t[2] = {{CKA_KEY_TYPE, &kt, sizeof(kt)},
			     {CKA_EXTRACTABLE, (void *)&no, 1}};

	set_api_ok(o, CKA_CLASS, &cls, sizeof(cls));
	set_api_ok(o, CKA_KEY_TYPE, &kt, sizeof(kt));
	set_api_ok(o, CKA_TOKEN, &yes, 1);
	set_api_ok(o, CKA_DERIVE, &no, 1);
	set_api_ok(o, CKA_LABEL, "label", 5);
	set_api_ok(o, CKA_ID, "\x00\x01\x02", 3);
	set_api_ok(o, CKA_START_DATE, "20240131", 8);
	set_api_ok(o, CKA_END_DATE, NULL, 0);
	set_api_ok(o, CKA_MODULUS, "\x00\xc1\x02", 3);
	set_api_ok(o, CKA_ALLOWED_MECHANISMS, m, sizeof(m));
	set_api_ok(o, CKA_WRAP_TEMPLATE, t, sizeof(t));
	set_api_ok(o, CKA_UNWRAP_TEMPLATE, NULL, 0);
	set_api_ok(o, CKA_VALUE, "0123456789abcdef", 16);
	assert_int_equal(cf_object_set(o, CKA_VALUE_LEN, NULL, 0), CKR_OK);
	assert_int_equal(cf_object_set(o, CKA_SIGN, NULL, 0), CKR_OK);
	return o;
}

static uint8_t *encode(const struct cf_object *o, bool secret, size_t *len)
{
	struct cf_wbuf b;
	uint8_t *p;

	cf_wbuf_init(&b, 1 << 20, secret);
	assert_int_equal(cf_object_encode(o, secret, &b), CKR_OK);
	p = cf_wbuf_steal(&b, len);
	assert_non_null(p);
	return p;
}

static void assert_same_attrs(const struct cf_object *a,
			      const struct cf_object *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->attrs[i].type, b->attrs[i].type);
		assert_int_equal(a->attrs[i].len, b->attrs[i].len);
		assert_int_equal(a->attrs[i].secret, b->attrs[i].secret);
		if (a->attrs[i].len > 0)
			assert_memory_equal(a->attrs[i].value,
					    b->attrs[i].value, a->attrs[i].len);
	}
}

static void test_object__encode_decode_round_trip(void **state)
{
	struct cf_object *o = full_obj(), *d = new_obj();
	size_t plen, slen;
	uint8_t *pub = encode(o, false, &plen);
	uint8_t *sec = encode(o, true, &slen);

	(void)state;
	/* the secret record first: the class is not known yet */
	assert_int_equal(cf_object_decode(d, sec, slen), CKR_OK);
	assert_int_equal(cf_object_decode(d, pub, plen), CKR_OK);
	assert_same_attrs(o, d);
	assert_int_equal(d->cls, CKO_SECRET_KEY);
	assert_int_equal(d->key_type, CKK_AES);
	assert_true(d->token);
	free(pub);
	cf_free_wiped(sec, slen);
	cf_object_unref(o);
	cf_object_unref(d);
}

static void test_object__encode_splits_secret_attributes(void **state)
{
	struct cf_object *o = full_obj(), *d = new_obj();
	size_t slen;
	uint8_t *sec = encode(o, true, &slen);

	(void)state;
	assert_int_equal(cf_object_decode(d, sec, slen), CKR_OK);
	assert_int_equal(d->n, 1);
	assert_non_null(cf_object_attr(d, CKA_VALUE));
	assert_true(cf_object_attr(d, CKA_VALUE)->secret);
	cf_free_wiped(sec, slen);
	cf_object_unref(o);
	cf_object_unref(d);
}

static void test_object__encoding_is_big_endian(void **state)
{
	struct cf_object *o = new_obj();
	size_t len;
	uint8_t *p;
	static const uint8_t want[] = {
	    0, 0, 0, 1,		    /* count */
	    0, 0, 0, 0, 0, 0, 0, 0, /* CKA_CLASS */
	    0, 0, 0, 8,		    /* len */
	    0, 0, 0, 0, 0, 0, 0, 4, /* CKO_SECRET_KEY */
	};

	(void)state;
	set_class(o, CKO_SECRET_KEY);
	p = encode(o, false, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(p, want, sizeof(want));
	free(p);
	cf_object_unref(o);
}

static void test_object__decode_truncated_fails(void **state)
{
	struct cf_object *o = full_obj();
	size_t len;
	uint8_t *p = encode(o, false, &len);

	(void)state;
	for (size_t cut = 0; cut < len; cut++) {
		struct cf_object *d = new_obj();
		assert_int_equal(cf_object_decode(d, p, cut), CKR_DEVICE_ERROR);
		cf_object_unref(d);
	}
	free(p);
	cf_object_unref(o);
}

static void test_object__decode_trailing_bytes_fails(void **state)
{
	struct cf_object *o = full_obj(), *d = new_obj();
	size_t len;
	uint8_t *p = encode(o, false, &len);
	uint8_t *q = malloc(len + 1);

	(void)state;
	assert_non_null(q);
	memcpy(q, p, len);
	q[len] = 0;
	assert_int_equal(cf_object_decode(d, q, len + 1), CKR_DEVICE_ERROR);
	free(q);
	free(p);
	cf_object_unref(o);
	cf_object_unref(d);
}

/* Builds a record of one entry. */
static uint8_t *one_entry(uint64_t type, const void *v, uint32_t vlen,
			  size_t *len)
{
	struct cf_wbuf b;
	uint8_t *p;

	cf_wbuf_init(&b, 1 << 20, false);
	cf_wbuf_put_u32(&b, 1);
	cf_wbuf_put_u64(&b, type);
	cf_wbuf_put_lv(&b, v, vlen);
	p = cf_wbuf_steal(&b, len);
	assert_non_null(p);
	return p;
}

static void expect_decode_error(const uint8_t *p, size_t len)
{
	struct cf_object *d = new_obj();

	assert_int_equal(cf_object_decode(d, p, len), CKR_DEVICE_ERROR);
	cf_object_unref(d);
}

static void test_object__decode_garbage_fails(void **state)
{
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xde, 0xad,
					  0xbe, 0xef, 0x00, 0x01, 0x02, 0x03,
					  0x04, 0x05, 0x06, 0x07};

	(void)state;
	expect_decode_error(garbage, sizeof(garbage));
	expect_decode_error(garbage, 0);
}

static void test_object__decode_oversized_length_fails(void **state)
{
	struct cf_wbuf b;
	size_t len;
	uint8_t *p;

	(void)state;
	cf_wbuf_init(&b, 1 << 20, false);
	cf_wbuf_put_u32(&b, 1);
	cf_wbuf_put_u64(&b, CKA_LABEL);
	cf_wbuf_put_u32(&b, 0xfffffff0u); /* far past the end */
	cf_wbuf_put(&b, "abc", 3);
	p = cf_wbuf_steal(&b, &len);
	assert_non_null(p);
	expect_decode_error(p, len);
	free(p);
}

static void test_object__decode_oversized_count_fails(void **state)
{
	struct cf_wbuf b;
	size_t len;
	uint8_t *p;

	(void)state;
	cf_wbuf_init(&b, 1 << 20, false);
	cf_wbuf_put_u32(&b, 0x10000000u);
	cf_wbuf_put_u64(&b, CKA_LABEL);
	cf_wbuf_put_lv(&b, "abc", 3);
	p = cf_wbuf_steal(&b, &len);
	assert_non_null(p);
	expect_decode_error(p, len);
	free(p);
}

static void test_object__decode_duplicate_fails(void **state)
{
	struct cf_wbuf b;
	size_t len;
	uint8_t *p;

	(void)state;
	cf_wbuf_init(&b, 1 << 20, false);
	cf_wbuf_put_u32(&b, 2);
	cf_wbuf_put_u64(&b, CKA_LABEL);
	cf_wbuf_put_lv(&b, "abc", 3);
	cf_wbuf_put_u64(&b, CKA_LABEL);
	cf_wbuf_put_lv(&b, "def", 3);
	p = cf_wbuf_steal(&b, &len);
	assert_non_null(p);
	expect_decode_error(p, len);
	free(p);
}

static void test_object__decode_type_already_present_fails(void **state)
{
	struct cf_object *d = new_obj();
	size_t len;
	uint8_t *p = one_entry(CKA_LABEL, "abc", 3, &len);

	(void)state;
	assert_int_equal(cf_object_set(d, CKA_LABEL, "x", 1), CKR_OK);
	assert_int_equal(cf_object_decode(d, p, len), CKR_DEVICE_ERROR);
	free(p);
	cf_object_unref(d);
}

static void test_object__decode_unknown_type_fails(void **state)
{
	size_t len;
	uint8_t *p = one_entry(0x7777, "abc", 3, &len);

	(void)state;
	expect_decode_error(p, len);
	free(p);
	p = one_entry(CKA_VENDOR_DEFINED, "abc", 3, &len);
	expect_decode_error(p, len);
	free(p);
}

static void test_object__decode_bad_bool_fails(void **state)
{
	size_t len;
	uint8_t *p = one_entry(CKA_TOKEN, "\x02", 1, &len);

	(void)state;
	expect_decode_error(p, len);
	free(p);
	p = one_entry(CKA_TOKEN, "\x01\x00", 2, &len);
	expect_decode_error(p, len);
	free(p);
}

static void test_object__decode_bad_ulong_length_fails(void **state)
{
	size_t len;
	uint8_t *p = one_entry(CKA_CLASS, "\x00\x00\x00\x04", 4, &len);

	(void)state;
	expect_decode_error(p, len);
	free(p);
}

static void test_object__decode_bad_mechanism_array_fails(void **state)
{
	size_t len;
	uint8_t *p =
	    one_entry(CKA_ALLOWED_MECHANISMS, "\x00\x00\x00\x00\x00", 5, &len);

	(void)state;
	expect_decode_error(p, len);
	free(p);
}

static void test_object__decode_bad_nested_record_fails(void **state)
{
	struct cf_wbuf b;
	size_t len, nlen;
	uint8_t *nested, *p;

	(void)state;
	/* nested record with an attribute array inside */
	cf_wbuf_init(&b, 1 << 20, false);
	cf_wbuf_put_u32(&b, 1);
	cf_wbuf_put_u64(&b, CKA_UNWRAP_TEMPLATE);
	cf_wbuf_put_u32(&b, 0);
	nested = cf_wbuf_steal(&b, &nlen);
	assert_non_null(nested);
	p = one_entry(CKA_WRAP_TEMPLATE, nested, (uint32_t)nlen, &len);
	expect_decode_error(p, len);
	free(p);
	free(nested);

	/* nested entries out of order */
	cf_wbuf_init(&b, 1 << 20, false);
	cf_wbuf_put_u32(&b, 2);
	cf_wbuf_put_u64(&b, CKA_LABEL);
	cf_wbuf_put_lv(&b, "a", 1);
	cf_wbuf_put_u64(&b, CKA_CLASS);
	cf_wbuf_put_lv(&b, "\0\0\0\0\0\0\0\4", 8);
	nested = cf_wbuf_steal(&b, &nlen);
	assert_non_null(nested);
	p = one_entry(CKA_WRAP_TEMPLATE, nested, (uint32_t)nlen, &len);
	expect_decode_error(p, len);
	free(p);
	free(nested);

	/* nested record cut short */
	p = one_entry(CKA_WRAP_TEMPLATE, "\0\0\0\1\0\0", 6, &len);
	expect_decode_error(p, len);
	free(p);
}

/* What was read before the error stays, for the caller to free: no leak
 * (checked under ASan). */
static void test_object__decode_failure_leaves_object_to_caller(void **state)
{
	struct cf_wbuf b;
	struct cf_object *d = new_obj();
	size_t len;
	uint8_t *p;

	(void)state;
	cf_wbuf_init(&b, 1 << 20, false);
	cf_wbuf_put_u32(&b, 3);
	cf_wbuf_put_u64(&b, CKA_LABEL);
	cf_wbuf_put_lv(&b, "abc", 3);
	cf_wbuf_put_u64(&b, CKA_VALUE);
	cf_wbuf_put_lv(&b, "0123456789abcdef", 16);
	cf_wbuf_put_u64(&b, 0x7777);
	cf_wbuf_put_lv(&b, "x", 1);
	p = cf_wbuf_steal(&b, &len);
	assert_non_null(p);
	assert_int_equal(cf_object_decode(d, p, len), CKR_DEVICE_ERROR);
	assert_int_equal(d->n, 2);
	free(p);
	cf_object_unref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_object__new_object_is_empty),
	    cmocka_unit_test(test_object__set_then_get_returns_the_value),
	    cmocka_unit_test(test_object__set_replaces_an_existing_value),
	    cmocka_unit_test(test_object__empty_value_has_null_pointer),
	    cmocka_unit_test(test_object__attributes_are_kept_sorted),
	    cmocka_unit_test(test_object__remove_drops_the_attribute),
	    cmocka_unit_test(test_object__ulong_and_bool_read_back),
	    cmocka_unit_test(test_object__cached_fields_follow_attributes),
	    cmocka_unit_test(test_object__key_material_is_secret),
	    cmocka_unit_test(test_object__rsa_private_components_are_secret),
	    cmocka_unit_test(test_object__data_value_is_not_secret),
	    cmocka_unit_test(test_object__setting_the_class_moves_values),
	    cmocka_unit_test(test_object__ref_keeps_object_alive),
	    cmocka_unit_test(test_object__dup_is_deep),
	    cmocka_unit_test(test_object__size_grows_with_values),
	    cmocka_unit_test(test_object__set_api_rejects_unknown_type),
	    cmocka_unit_test(test_object__set_api_rejects_vendor_type),
	    cmocka_unit_test(test_object__set_api_rejects_bool_of_wrong_length),
	    cmocka_unit_test(
		test_object__set_api_rejects_bool_other_than_0_or_1),
	    cmocka_unit_test(
		test_object__set_api_rejects_ulong_of_wrong_length),
	    cmocka_unit_test(test_object__set_api_rejects_bad_dates),
	    cmocka_unit_test(test_object__set_api_accepts_date_or_empty),
	    cmocka_unit_test(
		test_object__set_api_rejects_null_value_with_length),
	    cmocka_unit_test(test_object__set_api_rejects_oversized_value),
	    cmocka_unit_test(
		test_object__set_api_rejects_partial_mechanism_array),
	    cmocka_unit_test(
		test_object__set_api_rejects_partial_attribute_array),
	    cmocka_unit_test(
		test_object__set_api_rejects_nested_attribute_array),
	    cmocka_unit_test(test_object__set_api_rejects_bad_entry_in_array),
	    cmocka_unit_test(test_object__set_api_keeps_bool_and_ulong_native),
	    cmocka_unit_test(test_object__export_without_buffer_gives_length),
	    cmocka_unit_test(test_object__export_into_exact_buffer_copies),
	    cmocka_unit_test(
		test_object__export_into_larger_buffer_sets_length),
	    cmocka_unit_test(test_object__export_into_small_buffer_fails),
	    cmocka_unit_test(test_object__export_empty_value_gives_zero),
	    cmocka_unit_test(
		test_object__export_array_without_buffer_gives_length),
	    cmocka_unit_test(test_object__export_array_into_small_array_fails),
	    cmocka_unit_test(test_object__export_array_gives_entry_lengths),
	    cmocka_unit_test(test_object__export_array_fills_entries),
	    cmocka_unit_test(test_object__export_array_entry_too_small_fails),
	    cmocka_unit_test(test_object__export_empty_array_gives_zero),
	    cmocka_unit_test(test_object__export_mechanisms_native),
	    cmocka_unit_test(test_object__empty_template_matches_all),
	    cmocka_unit_test(test_object__match_compares_ulongs),
	    cmocka_unit_test(test_object__match_compares_bools_as_values),
	    cmocka_unit_test(test_object__match_compares_bytes),
	    cmocka_unit_test(test_object__match_requires_every_entry),
	    cmocka_unit_test(test_object__match_unknown_type_never_matches),
	    cmocka_unit_test(test_object__match_arrays_by_value),
	    cmocka_unit_test(test_object__encode_decode_round_trip),
	    cmocka_unit_test(test_object__encode_splits_secret_attributes),
	    cmocka_unit_test(test_object__encoding_is_big_endian),
	    cmocka_unit_test(test_object__decode_truncated_fails),
	    cmocka_unit_test(test_object__decode_trailing_bytes_fails),
	    cmocka_unit_test(test_object__decode_garbage_fails),
	    cmocka_unit_test(test_object__decode_oversized_length_fails),
	    cmocka_unit_test(test_object__decode_oversized_count_fails),
	    cmocka_unit_test(test_object__decode_duplicate_fails),
	    cmocka_unit_test(test_object__decode_type_already_present_fails),
	    cmocka_unit_test(test_object__decode_unknown_type_fails),
	    cmocka_unit_test(test_object__decode_bad_bool_fails),
	    cmocka_unit_test(test_object__decode_bad_ulong_length_fails),
	    cmocka_unit_test(test_object__decode_bad_mechanism_array_fails),
	    cmocka_unit_test(test_object__decode_bad_nested_record_fails),
	    cmocka_unit_test(
		test_object__decode_failure_leaves_object_to_caller),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
