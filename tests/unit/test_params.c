/* test_params.c - the mechanism parameter table and the function table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkcs11/functions_table.h"
#include "pkcs11/params.h"

/* params.c's row accessor, for tests only. */
bool cf_p11_param_row(bool msg, size_t i, CK_MECHANISM_TYPE *mech,
		      const struct cf_param_type **type);

static void test_params__lookups_find_their_types(void **state)
{
	(void)state;
	assert_string_equal(cf_p11_mech_param(CKM_AES_GCM)->name,
			    "CK_GCM_PARAMS");
	assert_string_equal(cf_p11_mech_param(CKM_AES_CTR)->name,
			    "CK_AES_CTR_PARAMS");
	assert_string_equal(cf_p11_mech_param(CKM_SHA3_512_RSA_PKCS_PSS)->name,
			    "CK_RSA_PKCS_PSS_PARAMS");
	assert_string_equal(cf_p11_mech_param(CKM_HKDF_DATA)->name,
			    "CK_HKDF_PARAMS");
	assert_string_equal(cf_p11_mech_param(CKM_ECDH1_COFACTOR_DERIVE)->name,
			    "CK_ECDH1_DERIVE_PARAMS");
	assert_int_equal(cf_p11_mech_param(CKM_AES_CBC_PAD)->shape,
			 CF_PARAM_BYTES);
	assert_int_equal(cf_p11_mech_param(CKM_SHA256_HMAC_GENERAL)->shape,
			 CF_PARAM_ULONG);
	assert_string_equal(cf_p11_msg_param(CKM_AES_GCM)->name,
			    "CK_GCM_MESSAGE_PARAMS");
	assert_string_equal(cf_p11_msg_param(CKM_CHACHA20_POLY1305)->name,
			    "CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS");
}

static void test_params__unknown_mechanisms_have_no_type(void **state)
{
	(void)state;
	assert_null(cf_p11_mech_param(CKM_SHA256));
	assert_null(cf_p11_mech_param(CKM_ECDSA));
	assert_null(cf_p11_mech_param(CKM_VENDOR_DEFINED | 1));
	assert_null(cf_p11_msg_param(CKM_AES_CBC));
}

/* Every mechanism libcoffer.so takes a parameter for has a row. */
static void test_params__every_coffer_parameter_is_described(void **state)
{
	static const CK_MECHANISM_TYPE need[] = {
	    CKM_AES_CBC,
	    CKM_AES_CBC_PAD,
	    CKM_AES_CTR,
	    CKM_AES_GCM,
	    CKM_AES_KEY_WRAP,
	    CKM_AES_KEY_WRAP_PAD,
	    CKM_AES_KEY_WRAP_KWP,
	    CKM_AES_CMAC_GENERAL,
	    CKM_DES3_CBC,
	    CKM_DES3_CBC_PAD,
	    CKM_CHACHA20_POLY1305,
	    CKM_RSA_PKCS_OAEP,
	    CKM_RSA_PKCS_PSS,
	    CKM_SHA1_RSA_PKCS_PSS,
	    CKM_SHA224_RSA_PKCS_PSS,
	    CKM_SHA256_RSA_PKCS_PSS,
	    CKM_SHA384_RSA_PKCS_PSS,
	    CKM_SHA512_RSA_PKCS_PSS,
	    CKM_SHA3_224_RSA_PKCS_PSS,
	    CKM_SHA3_256_RSA_PKCS_PSS,
	    CKM_SHA3_384_RSA_PKCS_PSS,
	    CKM_SHA3_512_RSA_PKCS_PSS,
	    CKM_ECDH1_DERIVE,
	    CKM_ECDH1_COFACTOR_DERIVE,
	    CKM_EDDSA,
	    CKM_HKDF_DERIVE,
	    CKM_HKDF_DATA,
	    CKM_SHA_1_HMAC_GENERAL,
	    CKM_SHA224_HMAC_GENERAL,
	    CKM_SHA256_HMAC_GENERAL,
	    CKM_SHA384_HMAC_GENERAL,
	    CKM_SHA512_HMAC_GENERAL,
	    CKM_SHA512_224_HMAC_GENERAL,
	    CKM_SHA512_256_HMAC_GENERAL,
	    CKM_SHA3_224_HMAC_GENERAL,
	    CKM_SHA3_256_HMAC_GENERAL,
	    CKM_SHA3_384_HMAC_GENERAL,
	    CKM_SHA3_512_HMAC_GENERAL,
	};
	(void)state;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (cf_p11_mech_param(need[i]) == NULL)
			fail_msg("mechanism 0x%lx has no parameter row",
				 need[i]);
	}
	assert_non_null(cf_p11_msg_param(CKM_AES_GCM));
	assert_non_null(cf_p11_msg_param(CKM_CHACHA20_POLY1305));
	assert_non_null(cf_p11_msg_param(CKM_AES_CCM));
}

static void check_sorted(bool msg)
{
	CK_MECHANISM_TYPE prev = 0, mech;
	const struct cf_param_type *type;
	size_t i;

	for (i = 0; cf_p11_param_row(msg, i, &mech, &type); i++) {
		if (i > 0 && mech <= prev)
			fail_msg("row %zu (0x%lx) after 0x%lx: unsorted or "
				 "duplicate",
				 i, mech, prev);
		assert_ptr_equal(msg ? cf_p11_msg_param(mech)
				     : cf_p11_mech_param(mech),
				 type);
		prev = mech;
	}
	assert_true(i > 0);
}

static void test_params__tables_are_sorted_without_duplicates(void **state)
{
	(void)state;
	check_sorted(false);
	check_sorted(true);
}

/* The layout of one structure type: fields inside it, not overlapping
 * their own length members, lengths on CK_ULONG-sized slots. */
static void check_layout(const struct cf_param_type *t)
{
	switch (t->shape) {
	case CF_PARAM_BYTES:
		assert_int_equal(t->nfields, 0);
		return;
	case CF_PARAM_ULONG:
		assert_int_equal(t->size, sizeof(CK_ULONG));
		return;
	case CF_PARAM_STRUCT:
		break;
	default:
		fail_msg("%s: bad shape", t->name);
	}
	assert_true(t->nfields > 0);
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cf_pfield *f = &t->fields[i];
		size_t width = 0;

		switch (f->kind) {
		case CF_PF_ULONG:
		case CF_PF_HANDLE:
			width = sizeof(CK_ULONG);
			break;
		case CF_PF_BOOL:
			width = sizeof(CK_BBOOL);
			break;
		case CF_PF_ARRAY:
			width = f->fixed_len;
			assert_true(f->fixed_len > 0);
			break;
		case CF_PF_BYTES:
			width = sizeof(void *);
			if (f->len_off == CF_PF_NO_LEN) {
				assert_true(f->fixed_len > 0);
				break;
			}
			if (f->len_off > t->size - sizeof(CK_ULONG) ||
			    f->len_off % _Alignof(CK_ULONG) != 0)
				fail_msg("%s.%s: length outside or unaligned",
					 t->name, f->name);
			/* the length is no other field's storage */
			for (size_t k = 0; k < t->nfields; k++)
				assert_true(t->fields[k].off != f->len_off);
			break;
		}
		if (f->off > t->size || width > t->size - f->off)
			fail_msg("%s.%s lies outside the structure", t->name,
				 f->name);
		if (f->len_in_bits || f->inout)
			assert_int_equal(f->kind, CF_PF_BYTES);
		for (size_t k = 0; k < i; k++)
			if (t->fields[k].off == f->off)
				fail_msg("%s.%s listed twice", t->name,
					 f->name);
	}
}

static void test_params__every_row_lies_within_its_structure(void **state)
{
	CK_MECHANISM_TYPE mech;
	const struct cf_param_type *type;

	(void)state;
	for (size_t i = 0; cf_p11_param_row(false, i, &mech, &type); i++)
		check_layout(type);
	for (size_t i = 0; cf_p11_param_row(true, i, &mech, &type); i++) {
		check_layout(type);
		assert_int_equal(type->shape, CF_PARAM_STRUCT);
	}
}

static void test_params__gcm_layout_matches_the_header(void **state)
{
	const struct cf_param_type *t = cf_p11_mech_param(CKM_AES_GCM);

	(void)state;
	assert_int_equal(t->size, sizeof(CK_GCM_PARAMS));
	assert_int_equal(t->nfields, 4);
	assert_int_equal(t->fields[0].off, offsetof(CK_GCM_PARAMS, pIv));
	assert_int_equal(t->fields[0].len_off,
			 offsetof(CK_GCM_PARAMS, ulIvLen));
	assert_int_equal(t->fields[3].off, offsetof(CK_GCM_PARAMS, ulTagBits));
}

/* CCM's structures come from include/coffer/pkcs11.h with the OASIS
 * layout: six and seven CK_ULONG-sized members, pointers included. */
static void test_params__ccm_layout_matches_the_header(void **state)
{
	const struct cf_param_type *t = cf_p11_mech_param(CKM_AES_CCM);
	const struct cf_param_type *m = cf_p11_msg_param(CKM_AES_CCM);

	(void)state;
	assert_string_equal(t->name, "CK_CCM_PARAMS");
	assert_int_equal(t->size, sizeof(CK_CCM_PARAMS));
	assert_int_equal(sizeof(CK_CCM_PARAMS), 6 * sizeof(CK_ULONG));
	assert_int_equal(t->nfields, 4);
	assert_int_equal(t->fields[1].off, offsetof(CK_CCM_PARAMS, pNonce));
	assert_int_equal(t->fields[1].len_off,
			 offsetof(CK_CCM_PARAMS, ulNonceLen));
	assert_int_equal(t->fields[3].off, offsetof(CK_CCM_PARAMS, ulMACLen));

	assert_string_equal(m->name, "CK_CCM_MESSAGE_PARAMS");
	assert_int_equal(m->size, sizeof(CK_CCM_MESSAGE_PARAMS));
	assert_int_equal(sizeof(CK_CCM_MESSAGE_PARAMS), 7 * sizeof(CK_ULONG));
	assert_int_equal(m->fields[m->nfields - 1].off,
			 offsetof(CK_CCM_MESSAGE_PARAMS, pMAC));
	assert_int_equal(m->fields[m->nfields - 1].len_off,
			 offsetof(CK_CCM_MESSAGE_PARAMS, ulMACLen));
	assert_true(m->fields[m->nfields - 1].inout);
}

static void test_params__message_tag_counts_bits(void **state)
{
	const struct cf_param_type *t = cf_p11_msg_param(CKM_AES_GCM);
	const struct cf_pfield *tag = &t->fields[t->nfields - 1];

	(void)state;
	assert_string_equal(tag->name, "pTag");
	assert_true(tag->len_in_bits);
	assert_true(tag->inout);
	assert_int_equal(tag->len_off,
			 offsetof(CK_GCM_MESSAGE_PARAMS, ulTagBits));
}

static void test_params__function_names_and_ids(void **state)
{
	(void)state;
	assert_int_equal(CF_FN_C_Initialize, 1);
	assert_int_equal(CF_FN_C_GenerateRandom, 90);
	assert_int_equal(CF_FN_MAX, 92);
	assert_string_equal(cf_fn_name(CF_FN_C_Sign), "C_Sign");
	assert_null(cf_fn_name(0));
	assert_null(cf_fn_name(CF_FN_MAX + 1));
	assert_true(cf_fn_is_wire(CF_FN_C_Sign));
	assert_false(cf_fn_is_wire(CF_FN_C_Initialize));
	assert_false(cf_fn_is_wire(0));
}

static void test_params__function_args_are_listed(void **state)
{
	const struct cf_fn_desc *d = cf_fn_desc(CF_FN_C_GetAttributeValue);

	(void)state;
	assert_non_null(d);
	assert_int_equal(d->nargs, 3);
	assert_string_equal(d->args[0], "ulong:session");
	assert_string_equal(d->args[2], "getattrs");
	d = cf_fn_desc(CF_FN_C_Finalize);
	assert_int_equal(d->nargs, 0);
	assert_null(d->args);
	for (size_t i = 0; i < cf_fn_table_len; i++)
		assert_int_equal(cf_fn_table[i].id, i + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_params__lookups_find_their_types),
	    cmocka_unit_test(test_params__unknown_mechanisms_have_no_type),
	    cmocka_unit_test(test_params__every_coffer_parameter_is_described),
	    cmocka_unit_test(test_params__tables_are_sorted_without_duplicates),
	    cmocka_unit_test(test_params__every_row_lies_within_its_structure),
	    cmocka_unit_test(test_params__gcm_layout_matches_the_header),
	    cmocka_unit_test(test_params__ccm_layout_matches_the_header),
	    cmocka_unit_test(test_params__message_tag_counts_bits),
	    cmocka_unit_test(test_params__function_names_and_ids),
	    cmocka_unit_test(test_params__function_args_are_listed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
