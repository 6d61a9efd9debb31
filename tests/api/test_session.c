/*
 * test_session.c - session management (PKCS#11 v3.0 base 5.6): opening,
 * closing, session states, and the session-handle check every function
 * that takes one must make.
 */
#include "harness.h"

static void assert_state(CK_SESSION_HANDLE s, CK_STATE want)
{
	assert_int_equal(api_session_state(s), want);
}

/* A handle that was valid once: the most likely misuse. */
static CK_SESSION_HANDLE stale_session(void)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	assert_rv(CKR_OK, p11->C_CloseSession(s));
	return s;
}

/* ---- C_OpenSession ---------------------------------------------------- */

static void test_session__open_without_serial_flag_fails(void **state)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	(void)state;
	assert_rv(CKR_SESSION_PARALLEL_NOT_SUPPORTED,
		  p11->C_OpenSession(api_slot, 0, NULL, NULL, &s));
}

static void test_session__open_ro_is_ro_public(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	CK_SESSION_INFO si;

	(void)state;
	assert_rv(CKR_OK, p11->C_GetSessionInfo(s, &si));
	assert_int_equal(si.slotID, api_slot);
	assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(si.flags, CKF_SERIAL_SESSION);
}

static void test_session__open_rw_is_rw_public(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_SESSION_INFO si;

	(void)state;
	assert_rv(CKR_OK, p11->C_GetSessionInfo(s, &si));
	assert_int_equal(si.slotID, api_slot);
	assert_int_equal(si.state, CKS_RW_PUBLIC_SESSION);
	assert_int_equal(si.flags, CKF_SERIAL_SESSION | CKF_RW_SESSION);
}

static void test_session__ro_user_state(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);

	(void)state;
	api_login(s, CKU_USER);
	assert_state(s, CKS_RO_USER_FUNCTIONS);
}

static void test_session__rw_user_state(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	(void)state;
	api_login(s, CKU_USER);
	assert_state(s, CKS_RW_USER_FUNCTIONS);
}

static void test_session__rw_so_state(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	(void)state;
	api_login(s, CKU_SO);
	assert_state(s, CKS_RW_SO_FUNCTIONS);
}

static void test_session__open_bad_slot_fails(void **state)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	(void)state;
	assert_rv(
	    CKR_SLOT_ID_INVALID,
	    p11->C_OpenSession(0x7ffffff0, CKF_SERIAL_SESSION, NULL, NULL, &s));
}

static void test_session__open_null_handle_fails(void **state)
{
	(void)state;
	assert_rv(
	    CKR_ARGUMENTS_BAD,
	    p11->C_OpenSession(api_slot, CKF_SERIAL_SESSION, NULL, NULL, NULL));
}

static void test_session__open_on_uninitialized_token_fails(void **state)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	(void)state;
	api_next_free_slot();
	assert_rv(CKR_TOKEN_NOT_RECOGNIZED,
		  p11->C_OpenSession(api_free_slot(), CKF_SERIAL_SESSION, NULL,
				     NULL, &s));
}

static void test_session__handles_are_distinct(void **state)
{
	CK_SESSION_HANDLE s[16];

	(void)state;
	for (size_t i = 0; i < 16; i++) {
		s[i] = api_open(api_slot, i % 2 == 0);
		assert_false(api_contains(s, (CK_ULONG)i, s[i]));
	}
}

static void test_session__new_session_shares_login(void **state)
{
	CK_SESSION_HANDLE a = api_open(api_slot, true), b;

	(void)state;
	api_login(a, CKU_USER);
	b = api_open(api_slot, false);
	assert_state(b, CKS_RO_USER_FUNCTIONS);
}

static void test_session__ro_open_while_so_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true), ro = 0;

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(
	    CKR_SESSION_READ_WRITE_SO_EXISTS,
	    p11->C_OpenSession(api_slot, CKF_SERIAL_SESSION, NULL, NULL, &ro));
}

static void test_session__rw_open_while_so_is_so(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	(void)state;
	api_login(s, CKU_SO);
	assert_state(api_open(api_slot, true), CKS_RW_SO_FUNCTIONS);
}

static void test_session__so_login_with_ro_open_fails(void **state)
{
	CK_SESSION_HANDLE rw = api_open(api_slot, true);

	(void)state;
	api_open(api_slot, false);
	assert_rv(CKR_SESSION_READ_ONLY_EXISTS,
		  p11->C_Login(rw, CKU_SO, API_PIN(API_SO_PIN)));
	assert_state(rw, CKS_RW_PUBLIC_SESSION);
}

/* ---- C_GetSessionInfo ------------------------------------------------- */

static void test_session__info_null_fails(void **state)
{
	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  p11->C_GetSessionInfo(api_open(api_slot, false), NULL));
}

static void test_session__info_never_issued_handle_fails(void **state)
{
	CK_SESSION_INFO si;

	(void)state;
	api_open(api_slot, false);
	assert_rv(CKR_SESSION_HANDLE_INVALID,
		  p11->C_GetSessionInfo(CK_INVALID_HANDLE, &si));
	assert_rv(CKR_SESSION_HANDLE_INVALID,
		  p11->C_GetSessionInfo(0x7fff1234, &si));
}

/* ---- C_CloseSession / C_CloseAllSessions ------------------------------ */

static void test_session__close_then_use_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_SESSION_INFO si;

	(void)state;
	assert_rv(CKR_OK, p11->C_CloseSession(s));
	assert_rv(CKR_SESSION_HANDLE_INVALID, p11->C_GetSessionInfo(s, &si));
	assert_rv(CKR_SESSION_HANDLE_INVALID, p11->C_CloseSession(s));
}

static void test_session__close_leaves_others_open(void **state)
{
	CK_SESSION_HANDLE a = api_open(api_slot, true);
	CK_SESSION_HANDLE b = api_open(api_slot, false);

	(void)state;
	assert_rv(CKR_OK, p11->C_CloseSession(a));
	assert_state(b, CKS_RO_PUBLIC_SESSION);
}

static void test_session__close_all_invalidates_all(void **state)
{
	CK_SESSION_HANDLE a = api_open(api_slot, true);
	CK_SESSION_HANDLE b = api_open(api_slot, false);
	CK_SESSION_INFO si;

	(void)state;
	assert_rv(CKR_OK, p11->C_CloseAllSessions(api_slot));
	assert_rv(CKR_SESSION_HANDLE_INVALID, p11->C_GetSessionInfo(a, &si));
	assert_rv(CKR_SESSION_HANDLE_INVALID, p11->C_GetSessionInfo(b, &si));
}

static void test_session__close_all_without_sessions_succeeds(void **state)
{
	(void)state;
	assert_rv(CKR_OK, p11->C_CloseAllSessions(api_slot));
}

static void test_session__close_all_bad_slot_fails(void **state)
{
	(void)state;
	assert_rv(CKR_SLOT_ID_INVALID, p11->C_CloseAllSessions(0x7ffffff0));
}

static void test_session__close_all_spares_other_tokens(void **state)
{
	CK_SLOT_ID first, other;
	CK_SESSION_HANDLE a, b;

	(void)state;
	api_next_free_slot();
	other = api_init_token("other");
	first = api_slot_by_label(API_LABEL);
	a = api_open(first, false);
	b = api_open(other, false);
	assert_rv(CKR_OK, p11->C_CloseAllSessions(first));
	assert_state(b, CKS_RO_PUBLIC_SESSION);
	assert_rv(CKR_SESSION_HANDLE_INVALID, p11->C_CloseSession(a));
}

static void test_session__close_all_logs_out(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	(void)state;
	api_login(s, CKU_USER);
	assert_rv(CKR_OK, p11->C_CloseAllSessions(api_slot));
	s = api_open(api_slot, true);
	assert_state(s, CKS_RW_PUBLIC_SESSION);
}

static void test_session__closing_last_session_logs_out(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(CKR_OK, p11->C_CloseSession(s));
	/* An R/O session would be refused if the SO were still logged in. */
	s = api_open(api_slot, false);
	assert_state(s, CKS_RO_PUBLIC_SESSION);
}

static void test_session__login_kept_while_a_session_is_open(void **state)
{
	CK_SESSION_HANDLE a = api_open(api_slot, true);
	CK_SESSION_HANDLE b = api_open(api_slot, false);

	(void)state;
	api_login(a, CKU_USER);
	assert_rv(CKR_OK, p11->C_CloseSession(a));
	assert_state(b, CKS_RO_USER_FUNCTIONS);
}

/* ---- the session-handle check of every function ----------------------- */

#define BAD_HANDLE_TEST(fn, call)                                              \
	static void test_session__bad_handle_##fn(void **state)                \
	{                                                                      \
		CK_SESSION_HANDLE s = stale_session();                         \
		CK_OBJECT_HANDLE obj = 0;                                      \
		CK_ULONG n = 0;                                                \
		CK_BYTE buf[64] = {0};                                         \
		CK_OBJECT_CLASS cls = CKO_DATA;                                \
		CK_ATTRIBUTE tmpl[] = {ATTR(CKA_CLASS, &cls)};                 \
		CK_ATTRIBUTE label[] = {ATTR_STR(CKA_LABEL, "copy")};          \
		CK_MECHANISM mech = {CKM_SHA256, NULL, 0};                     \
		CK_SESSION_INFO si;                                            \
                                                                               \
		(void)state;                                                   \
		(void)obj;                                                     \
		(void)n;                                                       \
		(void)buf;                                                     \
		(void)tmpl;                                                    \
		(void)label;                                                   \
		(void)mech;                                                    \
		(void)si;                                                      \
		obj = public_object();                                         \
		assert_rv(CKR_SESSION_HANDLE_INVALID, call);                   \
	}

/* A live public token object, so only the session is wrong. */
static CK_OBJECT_HANDLE public_object(void)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE o = 0;

	assert_rv(CKR_OK, api_create_data(s, CK_TRUE, CK_FALSE, "obj", &o));
	return o;
}

BAD_HANDLE_TEST(close_session, p11->C_CloseSession(s))
BAD_HANDLE_TEST(get_session_info, p11->C_GetSessionInfo(s, &si))
BAD_HANDLE_TEST(login, p11->C_Login(s, CKU_USER, API_PIN(API_USER_PIN)))
BAD_HANDLE_TEST(logout, p11->C_Logout(s))
BAD_HANDLE_TEST(init_pin, p11->C_InitPIN(s, API_PIN("5678")))
BAD_HANDLE_TEST(set_pin,
		p11->C_SetPIN(s, API_PIN(API_USER_PIN), API_PIN("5678")))
BAD_HANDLE_TEST(create_object, p11->C_CreateObject(s, tmpl, 1, &obj))
BAD_HANDLE_TEST(copy_object, p11->C_CopyObject(s, obj, label, 1, &obj))
BAD_HANDLE_TEST(destroy_object, p11->C_DestroyObject(s, obj))
BAD_HANDLE_TEST(get_object_size, p11->C_GetObjectSize(s, obj, &n))
BAD_HANDLE_TEST(get_attribute_value, p11->C_GetAttributeValue(s, obj, tmpl, 1))
BAD_HANDLE_TEST(set_attribute_value, p11->C_SetAttributeValue(s, obj, tmpl, 1))
BAD_HANDLE_TEST(find_objects_init, p11->C_FindObjectsInit(s, tmpl, 1))
BAD_HANDLE_TEST(find_objects, p11->C_FindObjects(s, &obj, 1, &n))
BAD_HANDLE_TEST(find_objects_final, p11->C_FindObjectsFinal(s))
BAD_HANDLE_TEST(generate_random, p11->C_GenerateRandom(s, buf, 16))
BAD_HANDLE_TEST(digest_init, p11->C_DigestInit(s, &mech))

#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_session__open_without_serial_flag_fails),
	    T(test_session__open_ro_is_ro_public),
	    T(test_session__open_rw_is_rw_public),
	    T(test_session__ro_user_state),
	    T(test_session__rw_user_state),
	    T(test_session__rw_so_state),
	    T(test_session__open_bad_slot_fails),
	    T(test_session__open_null_handle_fails),
	    T(test_session__open_on_uninitialized_token_fails),
	    T(test_session__handles_are_distinct),
	    T(test_session__new_session_shares_login),
	    T(test_session__ro_open_while_so_fails),
	    T(test_session__rw_open_while_so_is_so),
	    T(test_session__so_login_with_ro_open_fails),
	    T(test_session__info_null_fails),
	    T(test_session__info_never_issued_handle_fails),
	    T(test_session__close_then_use_fails),
	    T(test_session__close_leaves_others_open),
	    T(test_session__close_all_invalidates_all),
	    T(test_session__close_all_without_sessions_succeeds),
	    T(test_session__close_all_bad_slot_fails),
	    T(test_session__close_all_spares_other_tokens),
	    T(test_session__close_all_logs_out),
	    T(test_session__closing_last_session_logs_out),
	    T(test_session__login_kept_while_a_session_is_open),
	    T(test_session__bad_handle_close_session),
	    T(test_session__bad_handle_get_session_info),
	    T(test_session__bad_handle_login),
	    T(test_session__bad_handle_logout),
	    T(test_session__bad_handle_init_pin),
	    T(test_session__bad_handle_set_pin),
	    T(test_session__bad_handle_create_object),
	    T(test_session__bad_handle_copy_object),
	    T(test_session__bad_handle_destroy_object),
	    T(test_session__bad_handle_get_object_size),
	    T(test_session__bad_handle_get_attribute_value),
	    T(test_session__bad_handle_set_attribute_value),
	    T(test_session__bad_handle_find_objects_init),
	    T(test_session__bad_handle_find_objects),
	    T(test_session__bad_handle_find_objects_final),
	    T(test_session__bad_handle_generate_random),
	    T(test_session__bad_handle_digest_init),
	};

	return api_run(argc, argv, "api_session", tests, NELEM(tests));
}
