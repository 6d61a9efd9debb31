/*
 * test_slot.c - slot and token management (PKCS#11 v3.0 base 5.5):
 * C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, C_InitToken,
 * C_GetMechanismList, C_GetMechanismInfo, C_WaitForSlotEvent.
 */
#include "harness.h"

#include <stdint.h>

static CK_ULONG slot_count(void)
{
	CK_ULONG n = 0;

	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, NULL, &n));
	return n;
}

/* A slot id the module did not hand out. */
static CK_SLOT_ID unused_slot(void)
{
	CK_SLOT_ID slots[64], cand = 0x7ffffff0;
	CK_ULONG n = 64;

	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, slots, &n));
	while (api_contains(slots, n, cand))
		cand--;
	return cand;
}

static void token_info(CK_SLOT_ID slot, CK_TOKEN_INFO *ti)
{
	assert_rv(CKR_OK, p11->C_GetTokenInfo(slot, ti));
}

static void assert_label(const CK_TOKEN_INFO *ti, const char *label)
{
	CK_UTF8CHAR want[32];

	api_pad(want, sizeof(want), label);
	assert_memory_equal(ti->label, want, sizeof(want));
}

/* ---- C_GetSlotList ---------------------------------------------------- */

static void test_slot__list_length_query(void **state)
{
	(void)state;
	assert_int_equal(slot_count(), 1);
}

static void test_slot__fresh_store_has_one_free_slot(void **state)
{
	CK_SLOT_ID slot = 0;
	CK_ULONG n = 1;
	CK_TOKEN_INFO ti;

	(void)state;
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, &slot, &n));
	assert_int_equal(n, 1);
	token_info(slot, &ti);
	assert_false(ti.flags & CKF_TOKEN_INITIALIZED);
}

static void test_slot__list_too_small_fails(void **state)
{
	CK_SLOT_ID slots[1];
	CK_ULONG n = 1;

	(void)state;
	api_init_token(API_LABEL);
	api_next_free_slot();
	assert_rv(CKR_BUFFER_TOO_SMALL,
		  p11->C_GetSlotList(CK_FALSE, slots, &n));
	assert_int_equal(n, 2);
}

static void test_slot__list_exact_size_succeeds(void **state)
{
	CK_SLOT_ID slots[2];
	CK_ULONG n = 2;

	(void)state;
	api_init_token(API_LABEL);
	api_next_free_slot();
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, slots, &n));
	assert_int_equal(n, 2);
	assert_int_not_equal(slots[0], slots[1]);
}

static void test_slot__list_null_count_fails(void **state)
{
	CK_SLOT_ID slots[4];

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_GetSlotList(CK_FALSE, slots, NULL));
}

static void test_slot__list_token_present_lists_all(void **state)
{
	CK_SLOT_ID all[8], present[8];
	CK_ULONG n_all = 8, n_present = 8;

	(void)state;
	api_init_token(API_LABEL);
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, all, &n_all));
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_TRUE, present, &n_present));
	/* The free slot holds a present, uninitialized token. */
	assert_int_equal(n_present, n_all);
	for (CK_ULONG i = 0; i < n_all; i++)
		assert_true(api_contains(present, n_present, all[i]));
}

static void test_slot__init_token_adds_free_slot(void **state)
{
	CK_SLOT_ID slots[8], before;
	CK_ULONG n = 8;
	CK_TOKEN_INFO ti;
	bool new_free = false;

	(void)state;
	before = api_free_slot();
	api_init_token(API_LABEL);
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, slots, &n));
	assert_int_equal(n, 2);
	assert_true(api_contains(slots, n, before));
	token_info(before, &ti);
	assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
	assert_label(&ti, API_LABEL);
	for (CK_ULONG i = 0; i < n; i++) {
		if (slots[i] == before)
			continue;
		token_info(slots[i], &ti);
		new_free = !(ti.flags & CKF_TOKEN_INITIALIZED);
	}
	assert_true(new_free);
}

static void test_slot__ids_stable_across_reinitialize(void **state)
{
	CK_SLOT_ID a, b, after[8];
	CK_ULONG n = 8;
	CK_TOKEN_INFO ti;

	(void)state;
	a = api_init_token("first");
	api_next_free_slot();
	b = api_init_token("second");
	api_reinitialize();
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, after, &n));
	assert_int_equal(n, 3);
	assert_true(api_contains(after, n, a));
	assert_true(api_contains(after, n, b));
	token_info(a, &ti);
	assert_label(&ti, "first");
	token_info(b, &ti);
	assert_label(&ti, "second");
}

static void test_slot__ids_fit_signed_32_bit(void **state)
{
	CK_SLOT_ID slots[8];
	CK_ULONG n = 8;

	(void)state;
	api_init_token("first");
	api_next_free_slot();
	api_init_token("second");
	api_next_free_slot();
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, slots, &n));
	assert_int_equal(n, 3);
	for (CK_ULONG i = 0; i < n; i++)
		assert_true(slots[i] <= (CK_SLOT_ID)INT32_MAX);
}

/* ---- C_GetSlotInfo ---------------------------------------------------- */

static void test_slot__info_bad_slot_fails(void **state)
{
	CK_SLOT_INFO si;

	(void)state;
	assert_rv(CKR_SLOT_ID_INVALID, p11->C_GetSlotInfo(unused_slot(), &si));
}

static void test_slot__info_null_fails(void **state)
{
	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_GetSlotInfo(api_free_slot(), NULL));
}

static void test_slot__info_token_present_and_padded(void **state)
{
	CK_SLOT_INFO si;

	(void)state;
	assert_rv(CKR_OK, p11->C_GetSlotInfo(api_free_slot(), &si));
	assert_true(si.flags & CKF_TOKEN_PRESENT);
	api_assert_padded(si.slotDescription, sizeof(si.slotDescription));
	api_assert_padded(si.manufacturerID, sizeof(si.manufacturerID));
}

/* ---- C_GetTokenInfo --------------------------------------------------- */

static void test_token__info_bad_slot_fails(void **state)
{
	CK_TOKEN_INFO ti;

	(void)state;
	assert_rv(CKR_SLOT_ID_INVALID, p11->C_GetTokenInfo(unused_slot(), &ti));
}

static void test_token__info_null_fails(void **state)
{
	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  p11->C_GetTokenInfo(api_free_slot(), NULL));
}

static void test_token__info_after_init_is_truthful(void **state)
{
	CK_TOKEN_INFO ti;

	(void)state;
	token_info(api_slot, &ti);
	assert_label(&ti, API_LABEL);
	assert_true(ti.flags & CKF_RNG);
	assert_true(ti.flags & CKF_LOGIN_REQUIRED);
	assert_true(ti.flags & CKF_USER_PIN_INITIALIZED);
	assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
	assert_false(ti.flags & CKF_WRITE_PROTECTED);
	assert_false(ti.flags &
		     (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY |
		      CKF_USER_PIN_LOCKED | CKF_SO_PIN_COUNT_LOW |
		      CKF_SO_PIN_FINAL_TRY | CKF_SO_PIN_LOCKED));
	api_assert_padded(ti.manufacturerID, sizeof(ti.manufacturerID));
	api_assert_padded(ti.model, sizeof(ti.model));
	api_assert_padded(ti.serialNumber, sizeof(ti.serialNumber));
	api_assert_padded(ti.utcTime, sizeof(ti.utcTime));
}

static void test_token__user_pin_flag_clear_before_init_pin(void **state)
{
	(void)state;
	assert_false(api_token_flags(api_slot) & CKF_USER_PIN_INITIALIZED);
	assert_true(api_token_flags(api_slot) & CKF_TOKEN_INITIALIZED);
}

static void test_token__pin_lengths_from_config(void **state)
{
	CK_TOKEN_INFO ti;

	(void)state;
	token_info(api_slot, &ti);
	assert_int_equal(ti.ulMinPinLen, api_min_pin_len());
	assert_int_equal(ti.ulMaxPinLen, api_max_pin_len());
}

static void test_token__serials_unique(void **state)
{
	CK_TOKEN_INFO a, b;

	(void)state;
	token_info(api_init_token("first"), &a);
	api_next_free_slot();
	token_info(api_init_token("second"), &b);
	assert_memory_not_equal(a.serialNumber, b.serialNumber,
				sizeof(a.serialNumber));
}

static void test_token__session_counts(void **state)
{
	CK_TOKEN_INFO ti;

	(void)state;
	api_open(api_slot, false);
	api_open(api_slot, true);
	token_info(api_slot, &ti);
	/* Either the counts or "not available"; never anything else. */
	if (ti.ulSessionCount != CK_UNAVAILABLE_INFORMATION)
		assert_int_equal(ti.ulSessionCount, 2);
	if (ti.ulRwSessionCount != CK_UNAVAILABLE_INFORMATION)
		assert_int_equal(ti.ulRwSessionCount, 1);
}

/* ---- C_InitToken ------------------------------------------------------ */

static void test_init_token__reinit_wipes_token(void **state)
{
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	CK_TOKEN_INFO ti;

	(void)state;
	s = api_open(api_slot, true);
	api_login(s, CKU_USER);
	assert_rv(CKR_OK, api_create_data(s, CK_TRUE, CK_FALSE, "pub", &o));
	assert_rv(CKR_OK, api_create_data(s, CK_TRUE, CK_TRUE, "priv", &o));
	assert_rv(CKR_OK, p11->C_CloseAllSessions(api_slot));

	api_pad(label, sizeof(label), "renamed");
	assert_rv(CKR_OK,
		  p11->C_InitToken(api_slot, API_PIN(API_SO_PIN), label));
	token_info(api_slot, &ti);
	assert_label(&ti, "renamed");
	assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
	assert_false(ti.flags & CKF_USER_PIN_INITIALIZED);
	s = api_open(api_slot, true);
	assert_int_equal(api_find(s, NULL, 0, NULL, 0), 0);
	/* The SO PIN still works; the old user PIN is gone. */
	assert_rv(CKR_USER_PIN_NOT_INITIALIZED,
		  p11->C_Login(s, CKU_USER, API_PIN(API_USER_PIN)));
	api_login(s, CKU_SO);
	assert_int_equal(api_find(s, NULL, 0, NULL, 0), 0);
}

static void test_init_token__reinit_keeps_slot_count(void **state)
{
	CK_UTF8CHAR label[32];

	(void)state;
	api_pad(label, sizeof(label), "renamed");
	assert_rv(CKR_OK,
		  p11->C_InitToken(api_slot, API_PIN(API_SO_PIN), label));
	assert_int_equal(slot_count(), 2);
}

static void test_init_token__wrong_so_pin_fails(void **state)
{
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	CK_TOKEN_INFO ti;

	(void)state;
	s = api_open(api_slot, true);
	assert_rv(CKR_OK, api_create_data(s, CK_TRUE, CK_FALSE, "pub", &o));
	assert_rv(CKR_OK, p11->C_CloseSession(s));

	api_pad(label, sizeof(label), "renamed");
	assert_rv(CKR_PIN_INCORRECT,
		  p11->C_InitToken(api_slot, API_PIN("87654321"), label));
	token_info(api_slot, &ti);
	assert_label(&ti, API_LABEL);
	assert_true(ti.flags & CKF_USER_PIN_INITIALIZED);
	s = api_open(api_slot, false);
	assert_int_equal(api_find(s, NULL, 0, NULL, 0), 1);
	api_login(s, CKU_USER);
}

static void test_init_token__session_open_fails(void **state)
{
	CK_UTF8CHAR label[32];

	(void)state;
	api_open(api_slot, false);
	api_pad(label, sizeof(label), "renamed");
	assert_rv(CKR_SESSION_EXISTS,
		  p11->C_InitToken(api_slot, API_PIN(API_SO_PIN), label));
}

static void test_init_token__short_pin_fails(void **state)
{
	CK_UTF8CHAR label[32];
	char pin[256];

	(void)state;
	memset(pin, '7', sizeof(pin));
	api_pad(label, sizeof(label), API_LABEL);
	assert_rv(CKR_PIN_LEN_RANGE,
		  p11->C_InitToken(api_free_slot(), (CK_UTF8CHAR_PTR)pin,
				   api_min_pin_len() - 1, label));
	assert_false(api_token_flags(api_free_slot()) & CKF_TOKEN_INITIALIZED);
}

static void test_init_token__long_pin_fails(void **state)
{
	CK_UTF8CHAR label[32];
	char pin[300];

	(void)state;
	memset(pin, '7', sizeof(pin));
	api_pad(label, sizeof(label), API_LABEL);
	assert_rv(CKR_PIN_LEN_RANGE,
		  p11->C_InitToken(api_free_slot(), (CK_UTF8CHAR_PTR)pin,
				   api_max_pin_len() + 1, label));
}

static void test_init_token__null_label_fails(void **state)
{
	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  p11->C_InitToken(api_free_slot(), API_PIN(API_SO_PIN), NULL));
}

static void test_init_token__null_pin_fails(void **state)
{
	CK_UTF8CHAR label[32];

	(void)state;
	api_pad(label, sizeof(label), API_LABEL);
	/* No protected authentication path, so a PIN is required. */
	assert_rv(CKR_ARGUMENTS_BAD,
		  p11->C_InitToken(api_free_slot(), NULL, 8, label));
}

static void test_init_token__bad_slot_fails(void **state)
{
	CK_UTF8CHAR label[32];

	(void)state;
	api_pad(label, sizeof(label), API_LABEL);
	assert_rv(CKR_SLOT_ID_INVALID,
		  p11->C_InitToken(unused_slot(), API_PIN(API_SO_PIN), label));
}

static void test_init_token__tokens_are_independent(void **state)
{
	CK_SLOT_ID other;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;

	(void)state;
	api_next_free_slot();
	other = api_init_token("other");
	s = api_open(api_slot_by_label(API_LABEL), true);
	assert_rv(CKR_OK, api_create_data(s, CK_TRUE, CK_FALSE, "pub", &o));
	s = api_open(other, false);
	assert_int_equal(api_find(s, NULL, 0, NULL, 0), 0);
	assert_false(api_token_flags(other) & CKF_USER_PIN_INITIALIZED);
}

/* ---- mechanisms ------------------------------------------------------- */

static void test_mechanism__list_length_query(void **state)
{
	CK_MECHANISM_TYPE *mechs;
	CK_ULONG n = 0, again;

	(void)state;
	assert_rv(CKR_OK, p11->C_GetMechanismList(api_slot, NULL, &n));
	again = n;
	mechs = calloc(n + 1, sizeof(*mechs));
	assert_non_null(mechs);
	assert_rv(CKR_OK, p11->C_GetMechanismList(api_slot, mechs, &again));
	assert_int_equal(again, n);
	free(mechs);
}

static void test_mechanism__list_too_small_fails(void **state)
{
	CK_MECHANISM_TYPE mechs[1];
	CK_ULONG n = 0, small = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_GetMechanismList(api_slot, NULL, &n));
	if (n == 0) {
		/* An empty list fits any buffer. */
		assert_rv(CKR_OK,
			  p11->C_GetMechanismList(api_slot, mechs, &small));
		assert_int_equal(small, 0);
		return;
	}
	assert_rv(CKR_BUFFER_TOO_SMALL,
		  p11->C_GetMechanismList(api_slot, mechs, &small));
	assert_int_equal(small, n);
}

static void test_mechanism__list_bad_slot_fails(void **state)
{
	CK_ULONG n = 0;

	(void)state;
	assert_rv(CKR_SLOT_ID_INVALID,
		  p11->C_GetMechanismList(unused_slot(), NULL, &n));
}

static void test_mechanism__list_null_count_fails(void **state)
{
	CK_MECHANISM_TYPE mechs[4];

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  p11->C_GetMechanismList(api_slot, mechs, NULL));
}

static void test_mechanism__info_for_each_listed(void **state)
{
	CK_MECHANISM_TYPE *mechs;
	CK_ULONG n = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_GetMechanismList(api_slot, NULL, &n));
	mechs = calloc(n + 1, sizeof(*mechs));
	assert_non_null(mechs);
	assert_rv(CKR_OK, p11->C_GetMechanismList(api_slot, mechs, &n));
	for (CK_ULONG i = 0; i < n; i++) {
		CK_MECHANISM_INFO mi;

		assert_rv(CKR_OK,
			  p11->C_GetMechanismInfo(api_slot, mechs[i], &mi));
		assert_true(mi.ulMinKeySize <= mi.ulMaxKeySize);
	}
	free(mechs);
}

static void test_mechanism__info_unknown_fails(void **state)
{
	CK_MECHANISM_INFO mi;

	(void)state;
	assert_rv(CKR_MECHANISM_INVALID,
		  p11->C_GetMechanismInfo(api_slot, CKM_VENDOR_DEFINED + 0x4242,
					  &mi));
}

static void test_mechanism__info_bad_slot_fails(void **state)
{
	CK_MECHANISM_INFO mi;

	(void)state;
	assert_rv(CKR_SLOT_ID_INVALID,
		  p11->C_GetMechanismInfo(unused_slot(), CKM_SHA256, &mi));
}

/* ---- C_WaitForSlotEvent ----------------------------------------------- */

static void test_wait_for_slot_event__dont_block_returns(void **state)
{
	CK_SLOT_ID slot = 0;

	(void)state;
	/* Tokens here are never inserted or removed: with CKF_DONT_BLOCK
	 * the answer is CKR_NO_EVENT (SoftHSMv2 says
	 * CKR_FUNCTION_NOT_SUPPORTED, which 5.5 also allows). */
	assert_rv_either(CKR_NO_EVENT, CKR_FUNCTION_NOT_SUPPORTED,
			 p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL));
}

#define T_INIT(f)                                                              \
	cmocka_unit_test_setup_teardown(f, api_setup_initialized, api_teardown)
#define T_TOKEN(f)                                                             \
	cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)
#define T_NOUSER(f)                                                            \
	cmocka_unit_test_setup_teardown(f, api_setup_token_no_user,            \
					api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T_INIT(test_slot__list_length_query),
	    T_INIT(test_slot__fresh_store_has_one_free_slot),
	    T_INIT(test_slot__list_too_small_fails),
	    T_INIT(test_slot__list_exact_size_succeeds),
	    T_INIT(test_slot__list_null_count_fails),
	    T_INIT(test_slot__list_token_present_lists_all),
	    T_INIT(test_slot__init_token_adds_free_slot),
	    T_INIT(test_slot__ids_stable_across_reinitialize),
	    T_INIT(test_slot__ids_fit_signed_32_bit),
	    T_INIT(test_slot__info_bad_slot_fails),
	    T_INIT(test_slot__info_null_fails),
	    T_INIT(test_slot__info_token_present_and_padded),
	    T_INIT(test_token__info_bad_slot_fails),
	    T_INIT(test_token__info_null_fails),
	    T_TOKEN(test_token__info_after_init_is_truthful),
	    T_NOUSER(test_token__user_pin_flag_clear_before_init_pin),
	    T_TOKEN(test_token__pin_lengths_from_config),
	    T_INIT(test_token__serials_unique),
	    T_TOKEN(test_token__session_counts),
	    T_TOKEN(test_init_token__reinit_wipes_token),
	    T_TOKEN(test_init_token__reinit_keeps_slot_count),
	    T_TOKEN(test_init_token__wrong_so_pin_fails),
	    T_TOKEN(test_init_token__session_open_fails),
	    T_INIT(test_init_token__short_pin_fails),
	    T_INIT(test_init_token__long_pin_fails),
	    T_INIT(test_init_token__null_label_fails),
	    T_INIT(test_init_token__null_pin_fails),
	    T_INIT(test_init_token__bad_slot_fails),
	    T_TOKEN(test_init_token__tokens_are_independent),
	    T_TOKEN(test_mechanism__list_length_query),
	    T_TOKEN(test_mechanism__list_too_small_fails),
	    T_INIT(test_mechanism__list_bad_slot_fails),
	    T_TOKEN(test_mechanism__list_null_count_fails),
	    T_TOKEN(test_mechanism__info_for_each_listed),
	    T_TOKEN(test_mechanism__info_unknown_fails),
	    T_INIT(test_mechanism__info_bad_slot_fails),
	    T_INIT(test_wait_for_slot_event__dont_block_returns),
	};

	return api_run(argc, argv, "api_slot", tests, NELEM(tests));
}
