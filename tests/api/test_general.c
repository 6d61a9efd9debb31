/*
 * test_general.c - general-purpose functions (PKCS#11 v3.0 base 5.4):
 * C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList,
 * C_GetInterfaceList, C_GetInterface, and fork handling.
 */
#include "harness.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int mutexes_created;

static CK_RV mutex_create(CK_VOID_PTR_PTR out)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (m == NULL)
		return CKR_HOST_MEMORY;
	pthread_mutex_init(m, NULL);
	mutexes_created++;
	*out = m;
	return CKR_OK;
}

static CK_RV mutex_destroy(CK_VOID_PTR m)
{
	pthread_mutex_destroy(m);
	free(m);
	return CKR_OK;
}

static CK_RV mutex_lock(CK_VOID_PTR m)
{
	return pthread_mutex_lock(m) == 0 ? CKR_OK : CKR_MUTEX_BAD;
}

static CK_RV mutex_unlock(CK_VOID_PTR m)
{
	return pthread_mutex_unlock(m) == 0 ? CKR_OK : CKR_MUTEX_NOT_LOCKED;
}

static CK_C_GetInterfaceList get_interface_list(void)
{
	CK_C_GetInterfaceList fn;

	*(void **)&fn = api_module_symbol("C_GetInterfaceList");
	if (fn == NULL)
		fail_msg("module does not export C_GetInterfaceList");
	return fn;
}

static CK_C_GetInterface get_interface(void)
{
	CK_C_GetInterface fn;

	*(void **)&fn = api_module_symbol("C_GetInterface");
	if (fn == NULL)
		fail_msg("module does not export C_GetInterface");
	return fn;
}

static CK_UTF8CHAR_PTR name_pkcs11(void)
{
	static char name[] = "PKCS 11";

	return (CK_UTF8CHAR_PTR)name;
}

/* ---- C_GetFunctionList ------------------------------------------------ */

static void test_general__get_function_list_null_fails(void **state)
{
	CK_C_GetFunctionList fn;

	(void)state;
	*(void **)&fn = api_module_symbol("C_GetFunctionList");
	assert_non_null(fn);
	assert_rv(CKR_ARGUMENTS_BAD, fn(NULL));
}

static void test_general__get_function_list_is_complete(void **state)
{
	CK_FUNCTION_LIST_PTR fl = NULL;
	CK_C_GetFunctionList fn;
	void (**f)(void);
	size_t n;

	(void)state;
	*(void **)&fn = api_module_symbol("C_GetFunctionList");
	assert_rv(CKR_OK, fn(&fl));
	assert_non_null(fl);
	assert_int_equal(fl->version.major, 2);
	assert_int_equal(fl->version.minor, 40);
	/* Every entry of the 2.40 list must be callable, even if only to say
	 * CKR_FUNCTION_NOT_SUPPORTED. */
	f = (void (**)(void)) & fl->C_Initialize;
	n = (size_t)((void (**)(void))(&fl->C_WaitForSlotEvent + 1) - f);
	for (size_t i = 0; i < n; i++)
		assert_non_null(f[i]);
}

/* ---- C_Initialize / C_Finalize ---------------------------------------- */

static void test_initialize__null_args_succeeds(void **state)
{
	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
}

static void test_initialize__os_locking_ok_succeeds(void **state)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};

	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(&args));
}

static void test_initialize__zeroed_args_succeeds(void **state)
{
	CK_C_INITIALIZE_ARGS args = {0};

	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(&args));
}

/* 5.4.1: given the mutex functions without CKF_OS_LOCKING_OK, a module
 * locks through them or answers CKR_CANT_LOCK. libcoffer.so uses them;
 * libcoffer-client.so cannot (its waits need condition variables) and
 * refuses, whatever module cofferd exports. */
static void test_initialize__app_mutex_callbacks_are_used_or_refused(
	void **state)
{
	CK_C_INITIALIZE_ARGS args = {
	    .CreateMutex = mutex_create,
	    .DestroyMutex = mutex_destroy,
	    .LockMutex = mutex_lock,
	    .UnlockMutex = mutex_unlock,
	};

	(void)state;
	mutexes_created = 0;
	if (api_is_remote()) {
		assert_rv(CKR_CANT_LOCK, p11->C_Initialize(&args));
		assert_int_equal(mutexes_created, 0);
		assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_Finalize(NULL));
		return;
	}
	assert_rv(CKR_OK, p11->C_Initialize(&args));
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, NULL, &(CK_ULONG){0}));
	assert_true(mutexes_created > 0);
}

static void
test_initialize__app_mutex_callbacks_with_os_locking_succeed(void **state)
{
	CK_C_INITIALIZE_ARGS args = {
	    .CreateMutex = mutex_create,
	    .DestroyMutex = mutex_destroy,
	    .LockMutex = mutex_lock,
	    .UnlockMutex = mutex_unlock,
	    .flags = CKF_OS_LOCKING_OK,
	};

	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(&args));
}

static void test_initialize__some_mutex_callbacks_fail(void **state)
{
	CK_C_INITIALIZE_ARGS args = {
	    .CreateMutex = mutex_create,
	    .DestroyMutex = mutex_destroy,
	    .flags = CKF_OS_LOCKING_OK,
	};

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_Initialize(&args));
	/* A failed C_Initialize leaves the library uninitialized. */
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_Finalize(NULL));
}

static void test_initialize__reserved_non_null_fails(void **state)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	int dummy = 0;

	(void)state;
	args.pReserved = &dummy;
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_Initialize(&args));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_Finalize(NULL));
}

static void test_initialize__twice_fails(void **state)
{
	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	assert_rv(CKR_CRYPTOKI_ALREADY_INITIALIZED, p11->C_Initialize(NULL));
}

static void test_initialize__after_finalize_succeeds(void **state)
{
	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	assert_rv(CKR_OK, p11->C_Finalize(NULL));
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, NULL, &(CK_ULONG){0}));
}

static void test_finalize__non_null_fails(void **state)
{
	int dummy = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_Finalize(&dummy));
	/* Still initialized. */
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, NULL, &(CK_ULONG){0}));
}

static void test_finalize__before_initialize_fails(void **state)
{
	(void)state;
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_Finalize(NULL));
}

static void test_finalize__twice_fails(void **state)
{
	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	assert_rv(CKR_OK, p11->C_Finalize(NULL));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_Finalize(NULL));
}

static void check_not_initialized(void)
{
	CK_INFO info;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO ssi;
	CK_SESSION_HANDLE s = 0;
	CK_ULONG n = 0;
	CK_MECHANISM_TYPE mech[4];
	CK_SLOT_ID slot = 0;

	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_GetInfo(&info));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED,
		  p11->C_GetSlotList(CK_FALSE, NULL, &n));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_GetSlotInfo(0, &si));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_GetTokenInfo(0, &ti));
	n = 4;
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED,
		  p11->C_GetMechanismList(0, mech, &n));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED,
		  p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_CloseAllSessions(0));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_CloseSession(1));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED, p11->C_GetSessionInfo(1, &ssi));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED,
		  p11->C_Login(1, CKU_USER, API_PIN(API_USER_PIN)));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED,
		  p11->C_FindObjectsInit(1, NULL, 0));
	assert_rv(CKR_CRYPTOKI_NOT_INITIALIZED,
		  p11->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL));
}

static void test_general__calls_before_initialize_fail(void **state)
{
	(void)state;
	check_not_initialized();
}

static void test_general__calls_after_finalize_fail(void **state)
{
	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	assert_rv(CKR_OK, p11->C_Finalize(NULL));
	check_not_initialized();
}

static void test_general__finalize_invalidates_sessions(void **state)
{
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO si;

	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	s = api_open(api_init_token(API_LABEL), false);
	api_reinitialize();
	assert_rv(CKR_SESSION_HANDLE_INVALID, p11->C_GetSessionInfo(s, &si));
}

/* ---- C_GetInfo -------------------------------------------------------- */

static void test_get_info__reports_cryptoki_version(void **state)
{
	CK_INFO info;

	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	assert_rv(CKR_OK, p11->C_GetInfo(&info));
	/* 2.40 or a 3.x library; nothing older is allowed here. */
	if (info.cryptokiVersion.major == 2)
		assert_int_equal(info.cryptokiVersion.minor, 40);
	else
		assert_int_equal(info.cryptokiVersion.major, 3);
}

static void test_get_info__strings_are_blank_padded(void **state)
{
	CK_INFO info;

	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	memset(&info, 0, sizeof(info));
	assert_rv(CKR_OK, p11->C_GetInfo(&info));
	api_assert_padded(info.manufacturerID, sizeof(info.manufacturerID));
	api_assert_padded(info.libraryDescription,
			  sizeof(info.libraryDescription));
	assert_int_not_equal(info.manufacturerID[0], ' ');
}

static void test_get_info__flags_are_zero(void **state)
{
	CK_INFO info;

	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	info.flags = ~(CK_FLAGS)0;
	assert_rv(CKR_OK, p11->C_GetInfo(&info));
	assert_int_equal(info.flags, 0);
}

static void test_get_info__null_fails(void **state)
{
	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_GetInfo(NULL));
}

/* ---- C_GetInterfaceList / C_GetInterface (3.0) ------------------------ */

static void test_interface_list__length_query(void **state)
{
	CK_ULONG n = 0;

	(void)state;
	assert_rv(CKR_OK, get_interface_list()(NULL, &n));
	assert_true(n >= 2);
}

static void test_interface_list__too_small_fails(void **state)
{
	CK_C_GetInterfaceList fn = get_interface_list();
	CK_INTERFACE list[1];
	CK_ULONG n = 0, need = 0;

	(void)state;
	assert_rv(CKR_OK, fn(NULL, &need));
	assert_true(need >= 2);
	n = 1;
	assert_rv(CKR_BUFFER_TOO_SMALL, fn(list, &n));
	assert_int_equal(n, need);
}

static void test_interface_list__null_count_fails(void **state)
{
	CK_INTERFACE list[8];

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD, get_interface_list()(list, NULL));
}

static void test_interface_list__lists_3_0_and_2_40(void **state)
{
	CK_C_GetInterfaceList fn = get_interface_list();
	CK_INTERFACE list[16];
	CK_ULONG n = 16;
	bool v30 = false, v240 = false;

	(void)state;
	assert_rv(CKR_OK, fn(list, &n));
	assert_true(n >= 2 && n <= 16);
	for (CK_ULONG i = 0; i < n; i++) {
		const CK_VERSION *v = list[i].pFunctionList;

		assert_non_null(list[i].pInterfaceName);
		assert_non_null(v);
		if (strcmp((const char *)list[i].pInterfaceName, "PKCS 11"))
			continue;
		if (v->major == 3 && v->minor == 0)
			v30 = true;
		if (v->major == 2 && v->minor == 40)
			v240 = true;
	}
	assert_true(v30);
	assert_true(v240);
}

static void test_get_interface__by_name_succeeds(void **state)
{
	CK_INTERFACE_PTR iface = NULL;
	const CK_VERSION *v;

	(void)state;
	assert_rv(CKR_OK, get_interface()(name_pkcs11(), NULL, &iface, 0));
	assert_non_null(iface);
	assert_string_equal((const char *)iface->pInterfaceName, "PKCS 11");
	v = iface->pFunctionList;
	assert_non_null(v);
	assert_true(v->major == 3 || (v->major == 2 && v->minor == 40));
}

static void test_get_interface__by_version_3_0_succeeds(void **state)
{
	CK_INTERFACE_PTR iface = NULL;
	CK_VERSION want = {3, 0};
	const CK_FUNCTION_LIST_3_0 *fl;

	(void)state;
	assert_rv(CKR_OK, get_interface()(name_pkcs11(), &want, &iface, 0));
	assert_non_null(iface);
	fl = iface->pFunctionList;
	assert_int_equal(fl->version.major, 3);
	assert_int_equal(fl->version.minor, 0);
	assert_non_null(fl->C_LoginUser);
	assert_non_null(fl->C_SessionCancel);
	/* The 3.0 list starts with the 2.40 functions. */
	assert_rv(CKR_OK, fl->C_Initialize(NULL));
	assert_rv(CKR_OK, fl->C_GetSlotList(CK_FALSE, NULL, &(CK_ULONG){0}));
}

static void test_get_interface__by_version_2_40_succeeds(void **state)
{
	CK_INTERFACE_PTR iface = NULL;
	CK_VERSION want = {2, 40};
	const CK_FUNCTION_LIST *fl;

	(void)state;
	assert_rv(CKR_OK, get_interface()(name_pkcs11(), &want, &iface, 0));
	assert_non_null(iface);
	fl = iface->pFunctionList;
	assert_int_equal(fl->version.major, 2);
	assert_int_equal(fl->version.minor, 40);
}

static void test_get_interface__null_name_returns_default(void **state)
{
	CK_C_GetInterface fn = get_interface();
	CK_INTERFACE_PTR def = NULL, named = NULL;

	(void)state;
	assert_rv(CKR_OK, fn(NULL, NULL, &def, 0));
	assert_non_null(def);
	assert_non_null(def->pFunctionList);
	assert_string_equal((const char *)def->pInterfaceName, "PKCS 11");
	assert_rv(CKR_OK, fn(name_pkcs11(), NULL, &named, 0));
	assert_ptr_equal(def->pFunctionList, named->pFunctionList);
}

static void test_get_interface__unknown_name_fails(void **state)
{
	static char name[] = "No Such Interface";
	CK_INTERFACE_PTR iface = NULL;

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  get_interface()((CK_UTF8CHAR_PTR)name, NULL, &iface, 0));
}

static void test_get_interface__unknown_version_fails(void **state)
{
	CK_INTERFACE_PTR iface = NULL;
	CK_VERSION want = {9, 9};

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  get_interface()(name_pkcs11(), &want, &iface, 0));
}

static void test_get_interface__null_out_fails(void **state)
{
	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD,
		  get_interface()(name_pkcs11(), NULL, NULL, 0));
}

/* ---- fork ------------------------------------------------------------- */

/* Exit codes of the child: 0 all as expected, 1..3 the failed step. */
static int fork_child(void)
{
	CK_ULONG n = 0;

	if (p11->C_GetSlotList(CK_FALSE, NULL, &n) !=
	    CKR_CRYPTOKI_NOT_INITIALIZED)
		return 1;
	if (p11->C_Initialize(NULL) != CKR_OK)
		return 2;
	if (p11->C_GetSlotList(CK_FALSE, NULL, &n) != CKR_OK || n < 1)
		return 3;
	p11->C_Finalize(NULL);
	return 0;
}

static void test_fork__child_must_initialize_again(void **state)
{
	CK_ULONG n = 0;
	int status = 0;
	pid_t pid;

	(void)state;
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	api_init_token(API_LABEL);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fork_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The parent is unaffected. */
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, NULL, &n));
	assert_int_equal(n, 2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_loaded, api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_general__get_function_list_null_fails),
	    T(test_general__get_function_list_is_complete),
	    T(test_initialize__null_args_succeeds),
	    T(test_initialize__os_locking_ok_succeeds),
	    T(test_initialize__zeroed_args_succeeds),
	    T(test_initialize__app_mutex_callbacks_are_used_or_refused),
	    T(test_initialize__app_mutex_callbacks_with_os_locking_succeed),
	    T(test_initialize__some_mutex_callbacks_fail),
	    T(test_initialize__reserved_non_null_fails),
	    T(test_initialize__twice_fails),
	    T(test_initialize__after_finalize_succeeds),
	    T(test_finalize__non_null_fails),
	    T(test_finalize__before_initialize_fails),
	    T(test_finalize__twice_fails),
	    T(test_general__calls_before_initialize_fail),
	    T(test_general__calls_after_finalize_fail),
	    T(test_general__finalize_invalidates_sessions),
	    T(test_get_info__reports_cryptoki_version),
	    T(test_get_info__strings_are_blank_padded),
	    T(test_get_info__flags_are_zero),
	    T(test_get_info__null_fails),
	    T(test_interface_list__length_query),
	    T(test_interface_list__too_small_fails),
	    T(test_interface_list__null_count_fails),
	    T(test_interface_list__lists_3_0_and_2_40),
	    T(test_get_interface__by_name_succeeds),
	    T(test_get_interface__by_version_3_0_succeeds),
	    T(test_get_interface__by_version_2_40_succeeds),
	    T(test_get_interface__null_name_returns_default),
	    T(test_get_interface__unknown_name_fails),
	    T(test_get_interface__unknown_version_fails),
	    T(test_get_interface__null_out_fails),
	    T(test_fork__child_must_initialize_again),
	};

	return api_run(argc, argv, "api_general", tests, NELEM(tests));
}
