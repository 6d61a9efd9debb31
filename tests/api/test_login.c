/*
 * test_login.c - login, logout and PIN management (PKCS#11 v3.0 base 5.5
 * C_InitPIN/C_SetPIN, 5.6 C_Login/C_LoginUser/C_Logout), the truthful PIN
 * flags of CK_TOKEN_INFO and PIN lockout.
 */
#include "harness.h"

static const char wrong_pin[] = "0000";

static CK_SESSION_HANDLE rw(void)
{
	return api_open(api_slot, true);
}

static CK_RV login(CK_SESSION_HANDLE s, CK_USER_TYPE user, const char *pin)
{
	return p11->C_Login(s, user, API_PIN(pin));
}

static void fail_logins(CK_SESSION_HANDLE s, CK_USER_TYPE user, int n)
{
	for (int i = 0; i < n; i++)
		assert_rv(CKR_PIN_INCORRECT, login(s, user, wrong_pin));
}

/* The attempt that reaches the limit may already say CKR_PIN_LOCKED. */
static void lock_pin(CK_SESSION_HANDLE s, CK_USER_TYPE user)
{
	fail_logins(s, user, API_PIN_LOCKOUT - 1);
	assert_rv_either(CKR_PIN_INCORRECT, CKR_PIN_LOCKED,
			 login(s, user, wrong_pin));
}

static CK_FUNCTION_LIST_3_0 *list_3_0(void)
{
	CK_C_GetInterface get;
	CK_INTERFACE_PTR iface = NULL;
	CK_VERSION want = {3, 0};
	static char name[] = "PKCS 11";

	*(void **)&get = api_module_symbol("C_GetInterface");
	if (get == NULL)
		fail_msg("module does not export C_GetInterface");
	assert_rv(CKR_OK, get((CK_UTF8CHAR_PTR)name, &want, &iface, 0));
	return iface->pFunctionList;
}

/* ---- C_Login ---------------------------------------------------------- */

static void test_login__user_succeeds(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	assert_rv(CKR_OK, login(s, CKU_USER, API_USER_PIN));
	assert_int_equal(api_session_state(s), CKS_RW_USER_FUNCTIONS);
}

static void test_login__so_succeeds(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	assert_rv(CKR_OK, login(s, CKU_SO, API_SO_PIN));
	assert_int_equal(api_session_state(s), CKS_RW_SO_FUNCTIONS);
}

static void test_login__context_specific_without_operation_fails(void **s_)
{
	CK_SESSION_HANDLE s = rw();

	(void)s_;
	api_login(s, CKU_USER);
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  login(s, CKU_CONTEXT_SPECIFIC, API_USER_PIN));
}

static void test_login__wrong_user_pin_fails(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	assert_rv(CKR_PIN_INCORRECT, login(s, CKU_USER, wrong_pin));
	assert_int_equal(api_session_state(s), CKS_RW_PUBLIC_SESSION);
}

static void test_login__wrong_so_pin_fails(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	assert_rv(CKR_PIN_INCORRECT, login(s, CKU_SO, "87654321"));
	assert_int_equal(api_session_state(s), CKS_RW_PUBLIC_SESSION);
}

static void test_login__user_twice_fails(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_USER);
	assert_rv(CKR_USER_ALREADY_LOGGED_IN, login(s, CKU_USER, API_USER_PIN));
}

static void test_login__so_twice_fails(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(CKR_USER_ALREADY_LOGGED_IN, login(s, CKU_SO, API_SO_PIN));
}

static void test_login__user_while_so_fails(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
		  login(s, CKU_USER, API_USER_PIN));
}

static void test_login__so_while_user_fails(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_USER);
	assert_rv(CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
		  login(s, CKU_SO, API_SO_PIN));
}

static void test_login__bad_user_type_fails(void **state)
{
	(void)state;
	assert_rv(CKR_USER_TYPE_INVALID, login(rw(), 7, API_USER_PIN));
}

static void test_login__user_pin_not_initialized_fails(void **state)
{
	(void)state;
	assert_rv(CKR_USER_PIN_NOT_INITIALIZED,
		  login(rw(), CKU_USER, API_USER_PIN));
}

static void test_login__null_pin_fails(void **state)
{
	(void)state;
	/* No protected authentication path, so a PIN is required. */
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_Login(rw(), CKU_USER, NULL, 4));
}

static void test_login__shared_across_sessions(void **state)
{
	CK_SESSION_HANDLE a = rw(), b = api_open(api_slot, false);

	(void)state;
	api_login(a, CKU_USER);
	assert_int_equal(api_session_state(b), CKS_RO_USER_FUNCTIONS);
	assert_rv(CKR_OK, p11->C_Logout(b));
	assert_int_equal(api_session_state(a), CKS_RW_PUBLIC_SESSION);
}

/* ---- C_Logout --------------------------------------------------------- */

static void test_logout__not_logged_in_fails(void **state)
{
	(void)state;
	assert_rv(CKR_USER_NOT_LOGGED_IN, p11->C_Logout(rw()));
}

static void test_logout__returns_to_public(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_int_equal(api_session_state(s), CKS_RW_PUBLIC_SESSION);
	/* The SO is gone, so R/O sessions are allowed again. */
	api_open(api_slot, false);
}

/* ---- C_InitPIN -------------------------------------------------------- */

static void test_init_pin__sets_user_pin(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(CKR_OK, p11->C_InitPIN(s, API_PIN("5678")));
	assert_true(api_token_flags(api_slot) & CKF_USER_PIN_INITIALIZED);
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_rv(CKR_OK, login(s, CKU_USER, "5678"));
}

static void test_init_pin__replaces_user_pin(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(CKR_OK, p11->C_InitPIN(s, API_PIN("5678")));
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_rv(CKR_PIN_INCORRECT, login(s, CKU_USER, API_USER_PIN));
	assert_rv(CKR_OK, login(s, CKU_USER, "5678"));
}

static void test_init_pin__public_session_fails(void **state)
{
	(void)state;
	assert_rv(CKR_USER_NOT_LOGGED_IN,
		  p11->C_InitPIN(rw(), API_PIN("5678")));
}

static void test_init_pin__as_user_fails(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_USER);
	assert_rv(CKR_USER_NOT_LOGGED_IN, p11->C_InitPIN(s, API_PIN("5678")));
}

static void test_init_pin__ro_session_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);

	(void)state;
	api_login(s, CKU_USER);
	/* 5.6: C_InitPIN works only in the R/W SO Functions state; "an
	 * attempt to call it from a session in any other state fails with
	 * CKR_USER_NOT_LOGGED_IN". An R/O session can never be in it. */
	assert_rv(CKR_USER_NOT_LOGGED_IN, p11->C_InitPIN(s, API_PIN("5678")));
}

static void test_init_pin__short_pin_fails(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(CKR_PIN_LEN_RANGE, p11->C_InitPIN(s, (CK_UTF8CHAR_PTR) "123",
						    api_min_pin_len() - 1));
}

static void test_init_pin__long_pin_fails(void **state)
{
	CK_SESSION_HANDLE s = rw();
	char pin[300];

	(void)state;
	memset(pin, '5', sizeof(pin));
	api_login(s, CKU_SO);
	assert_rv(CKR_PIN_LEN_RANGE, p11->C_InitPIN(s, (CK_UTF8CHAR_PTR)pin,
						    api_max_pin_len() + 1));
}

/* ---- C_SetPIN --------------------------------------------------------- */

static void assert_user_pin_is(const char *pin)
{
	CK_SESSION_HANDLE s = rw();

	assert_rv(CKR_PIN_INCORRECT, login(s, CKU_USER, API_USER_PIN));
	assert_rv(CKR_OK, login(s, CKU_USER, pin));
	assert_rv(CKR_OK, p11->C_Logout(s));
}

static void test_set_pin__user_logged_in_succeeds(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_USER);
	assert_rv(CKR_OK,
		  p11->C_SetPIN(s, API_PIN(API_USER_PIN), API_PIN("5678")));
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_user_pin_is("5678");
}

static void test_set_pin__public_session_changes_user_pin(void **state)
{
	(void)state;
	assert_rv(CKR_OK,
		  p11->C_SetPIN(rw(), API_PIN(API_USER_PIN), API_PIN("5678")));
	assert_user_pin_is("5678");
}

static void test_set_pin__so_changes_so_pin(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	api_login(s, CKU_SO);
	assert_rv(CKR_OK,
		  p11->C_SetPIN(s, API_PIN(API_SO_PIN), API_PIN("abcdefgh")));
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_rv(CKR_PIN_INCORRECT, login(s, CKU_SO, API_SO_PIN));
	assert_rv(CKR_OK, login(s, CKU_SO, "abcdefgh"));
	/* The user PIN is untouched. */
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_rv(CKR_OK, login(s, CKU_USER, API_USER_PIN));
}

static void test_set_pin__wrong_old_pin_fails(void **state)
{
	(void)state;
	assert_rv(CKR_PIN_INCORRECT,
		  p11->C_SetPIN(rw(), API_PIN(wrong_pin), API_PIN("5678")));
	assert_rv(CKR_OK, login(rw(), CKU_USER, API_USER_PIN));
}

static void test_set_pin__ro_session_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);

	(void)state;
	api_login(s, CKU_USER);
	assert_rv(CKR_SESSION_READ_ONLY,
		  p11->C_SetPIN(s, API_PIN(API_USER_PIN), API_PIN("5678")));
}

static void test_set_pin__short_new_pin_fails(void **state)
{
	(void)state;
	assert_rv(CKR_PIN_LEN_RANGE, p11->C_SetPIN(rw(), API_PIN(API_USER_PIN),
						   (CK_UTF8CHAR_PTR) "567",
						   api_min_pin_len() - 1));
}

static void test_set_pin__long_new_pin_fails(void **state)
{
	char pin[300];

	(void)state;
	memset(pin, '5', sizeof(pin));
	assert_rv(CKR_PIN_LEN_RANGE,
		  p11->C_SetPIN(rw(), API_PIN(API_USER_PIN),
				(CK_UTF8CHAR_PTR)pin, api_max_pin_len() + 1));
}

static void test_set_pin__null_old_pin_fails(void **state)
{
	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  p11->C_SetPIN(rw(), NULL, 4, API_PIN("5678")));
}

static void test_set_pin__new_pin_survives_reinitialize(void **state)
{
	(void)state;
	assert_rv(CKR_OK,
		  p11->C_SetPIN(rw(), API_PIN(API_USER_PIN), API_PIN("5678")));
	api_reinitialize();
	assert_user_pin_is("5678");
}

/* ---- lockout and PIN flags -------------------------------------------- */

static void test_lockout__wrong_user_pin_sets_count_low(void **state)
{
	(void)state;
	fail_logins(rw(), CKU_USER, 1);
	assert_true(api_token_flags(api_slot) & CKF_USER_PIN_COUNT_LOW);
	assert_false(api_token_flags(api_slot) & CKF_USER_PIN_LOCKED);
}

static void test_lockout__user_final_try_flag(void **state)
{
	CK_FLAGS f;

	(void)state;
	fail_logins(rw(), CKU_USER, API_PIN_LOCKOUT - 1);
	f = api_token_flags(api_slot);
	assert_true(f & CKF_USER_PIN_FINAL_TRY);
	assert_false(f & CKF_USER_PIN_LOCKED);
}

static void test_lockout__user_pin_locks_at_limit(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	lock_pin(s, CKU_USER);
	assert_true(api_token_flags(api_slot) & CKF_USER_PIN_LOCKED);
	assert_rv(CKR_PIN_LOCKED, login(s, CKU_USER, API_USER_PIN));
	assert_int_equal(api_session_state(s), CKS_RW_PUBLIC_SESSION);
}

static void test_lockout__good_login_resets_count(void **state)
{
	CK_SESSION_HANDLE s = rw();
	CK_FLAGS f;

	(void)state;
	fail_logins(s, CKU_USER, 2);
	api_login(s, CKU_USER);
	f = api_token_flags(api_slot);
	assert_false(f & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY));
	/* A full set of tries is available again. */
	assert_rv(CKR_OK, p11->C_Logout(s));
	fail_logins(s, CKU_USER, API_PIN_LOCKOUT - 1);
	assert_rv(CKR_OK, login(s, CKU_USER, API_USER_PIN));
}

static void test_lockout__count_survives_reinitialize(void **state)
{
	(void)state;
	fail_logins(rw(), CKU_USER, API_PIN_LOCKOUT - 1);
	api_reinitialize();
	assert_true(api_token_flags(api_slot) & CKF_USER_PIN_FINAL_TRY);
	assert_rv_either(CKR_PIN_INCORRECT, CKR_PIN_LOCKED,
			 login(rw(), CKU_USER, wrong_pin));
	assert_rv(CKR_PIN_LOCKED, login(rw(), CKU_USER, API_USER_PIN));
}

static void test_lockout__lock_survives_reinitialize(void **state)
{
	(void)state;
	lock_pin(rw(), CKU_USER);
	api_reinitialize();
	assert_true(api_token_flags(api_slot) & CKF_USER_PIN_LOCKED);
	assert_rv(CKR_PIN_LOCKED, login(rw(), CKU_USER, API_USER_PIN));
}

static void test_lockout__so_init_pin_unlocks_user(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	lock_pin(s, CKU_USER);
	api_login(s, CKU_SO);
	assert_rv(CKR_OK, p11->C_InitPIN(s, API_PIN("5678")));
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_false(api_token_flags(api_slot) &
		     (CKF_USER_PIN_LOCKED | CKF_USER_PIN_COUNT_LOW |
		      CKF_USER_PIN_FINAL_TRY));
	assert_rv(CKR_OK, login(s, CKU_USER, "5678"));
}

static void test_lockout__wrong_so_pin_sets_count_low(void **state)
{
	(void)state;
	fail_logins(rw(), CKU_SO, 1);
	assert_true(api_token_flags(api_slot) & CKF_SO_PIN_COUNT_LOW);
}

static void test_lockout__so_final_try_flag(void **state)
{
	(void)state;
	fail_logins(rw(), CKU_SO, API_PIN_LOCKOUT - 1);
	assert_true(api_token_flags(api_slot) & CKF_SO_PIN_FINAL_TRY);
}

static void test_lockout__so_pin_locks_at_limit(void **state)
{
	CK_SESSION_HANDLE s = rw();

	(void)state;
	lock_pin(s, CKU_SO);
	assert_true(api_token_flags(api_slot) & CKF_SO_PIN_LOCKED);
	assert_rv(CKR_PIN_LOCKED, login(s, CKU_SO, API_SO_PIN));
	/* The user is not affected. */
	assert_rv(CKR_OK, login(s, CKU_USER, API_USER_PIN));
}

/* ---- C_LoginUser (3.0) ------------------------------------------------ */

static void test_login_user__null_username_logs_in(void **state)
{
	CK_FUNCTION_LIST_3_0 *fl = list_3_0();
	CK_SESSION_HANDLE s = rw();

	(void)state;
	assert_rv(CKR_OK,
		  fl->C_LoginUser(s, CKU_USER, API_PIN(API_USER_PIN), NULL, 0));
	assert_int_equal(api_session_state(s), CKS_RW_USER_FUNCTIONS);
}

static void test_login_user__null_username_wrong_pin_fails(void **state)
{
	CK_FUNCTION_LIST_3_0 *fl = list_3_0();

	(void)state;
	assert_rv(CKR_PIN_INCORRECT,
		  fl->C_LoginUser(rw(), CKU_USER, API_PIN(wrong_pin), NULL, 0));
}

#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)
#define T_NOUSER(f)                                                            \
	cmocka_unit_test_setup_teardown(f, api_setup_token_no_user,            \
					api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_login__user_succeeds),
	    T(test_login__so_succeeds),
	    T(test_login__context_specific_without_operation_fails),
	    T(test_login__wrong_user_pin_fails),
	    T(test_login__wrong_so_pin_fails),
	    T(test_login__user_twice_fails),
	    T(test_login__so_twice_fails),
	    T(test_login__user_while_so_fails),
	    T(test_login__so_while_user_fails),
	    T(test_login__bad_user_type_fails),
	    T_NOUSER(test_login__user_pin_not_initialized_fails),
	    T(test_login__null_pin_fails),
	    T(test_login__shared_across_sessions),
	    T(test_logout__not_logged_in_fails),
	    T(test_logout__returns_to_public),
	    T_NOUSER(test_init_pin__sets_user_pin),
	    T(test_init_pin__replaces_user_pin),
	    T(test_init_pin__public_session_fails),
	    T(test_init_pin__as_user_fails),
	    T(test_init_pin__ro_session_fails),
	    T(test_init_pin__short_pin_fails),
	    T(test_init_pin__long_pin_fails),
	    T(test_set_pin__user_logged_in_succeeds),
	    T(test_set_pin__public_session_changes_user_pin),
	    T(test_set_pin__so_changes_so_pin),
	    T(test_set_pin__wrong_old_pin_fails),
	    T(test_set_pin__ro_session_fails),
	    T(test_set_pin__short_new_pin_fails),
	    T(test_set_pin__long_new_pin_fails),
	    T(test_set_pin__null_old_pin_fails),
	    T(test_set_pin__new_pin_survives_reinitialize),
	    T(test_lockout__wrong_user_pin_sets_count_low),
	    T(test_lockout__user_final_try_flag),
	    T(test_lockout__user_pin_locks_at_limit),
	    T(test_lockout__good_login_resets_count),
	    T(test_lockout__count_survives_reinitialize),
	    T(test_lockout__lock_survives_reinitialize),
	    T(test_lockout__so_init_pin_unlocks_user),
	    T(test_lockout__wrong_so_pin_sets_count_low),
	    T(test_lockout__so_final_try_flag),
	    T(test_lockout__so_pin_locks_at_limit),
	    T(test_login_user__null_username_logs_in),
	    T(test_login_user__null_username_wrong_pin_fails),
	};

	return api_run(argc, argv, "api_login", tests, NELEM(tests));
}
