/*
 * test_forward.c SPY - how libcoffer-spy.so forwards: its own 3.0 and 2.40
 * interfaces whatever the real module offers, a 3.0 function forwarded to
 * a real 3.0 module and answered CKR_FUNCTION_NOT_SUPPORTED for a 2.40
 * one (SoftHSMv2), and every call logged with its result.
 *
 * The environment names the real module (COFFER_SPY_MODULE) and the log
 * (COFFER_SPY_LOG); SPY_TEST_REAL_V3=1 says the real module offers 3.0.
 * Only functions that need no C_Initialize are called, so neither module
 * needs a token directory.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coffer/pkcs11.h"

static void *dl;
static const char *log_path;

static void *sym(const char *name)
{
	void *p = dlsym(dl, name);

	if (p == NULL)
		fail_msg("spy lacks %s", name);
	return p;
}

static CK_FUNCTION_LIST_3_0 *interface_3_0(void)
{
	CK_C_GetInterface get;
	CK_INTERFACE_PTR iface = NULL;
	CK_VERSION v = {3, 0};

	*(void **)&get = sym("C_GetInterface");
	assert_int_equal(get((CK_UTF8CHAR_PTR) "PKCS 11", &v, &iface, 0),
			 CKR_OK);
	assert_non_null(iface);
	return iface->pFunctionList;
}

/* The log's text; the caller frees it. */
static char *read_log(void)
{
	FILE *f = fopen(log_path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_forward__offers_both_interfaces(void **state)
{
	CK_C_GetInterfaceList list_fn;
	CK_INTERFACE list[4];
	CK_ULONG n = 4;

	(void)state;
	*(void **)&list_fn = sym("C_GetInterfaceList");
	assert_int_equal(list_fn(list, &n), CKR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(((CK_VERSION *)list[0].pFunctionList)->major, 3);
	assert_int_equal(((CK_VERSION *)list[1].pFunctionList)->major, 2);
}

static void test_forward__v3_function_follows_real_module(void **state)
{
	CK_FUNCTION_LIST_3_0 *f = interface_3_0();
	const char *v3 = getenv("SPY_TEST_REAL_V3");
	CK_RV want = v3 != NULL && strcmp(v3, "1") == 0
			 ? CKR_CRYPTOKI_NOT_INITIALIZED
			 : CKR_FUNCTION_NOT_SUPPORTED;
	char *log;

	(void)state;
	/* Before C_Initialize: a real 3.0 module says so itself. */
	assert_int_equal(f->C_SessionCancel(1, CKF_SIGN), want);
	log = read_log();
	assert_non_null(strstr(log, "C_SessionCancel thread="));
	assert_non_null(strstr(log, "  flags = 0x800 (CKF_SIGN)"));
	assert_non_null(strstr(log, want == CKR_FUNCTION_NOT_SUPPORTED
					? "-> CKR_FUNCTION_NOT_SUPPORTED"
					: "-> CKR_CRYPTOKI_NOT_INITIALIZED"));
	free(log);
}

static void test_forward__v2_function_is_forwarded(void **state)
{
	CK_FUNCTION_LIST_3_0 *f = interface_3_0();
	CK_SLOT_ID slots[4];
	CK_ULONG n = 4;
	char *log;

	(void)state;
	assert_int_equal(f->C_GetSlotList(CK_FALSE, slots, &n),
			 CKR_CRYPTOKI_NOT_INITIALIZED);
	log = read_log();
	assert_non_null(strstr(log, "C_GetSlotList thread="));
	assert_non_null(strstr(log, "  tokenPresent = CK_FALSE\n"));
	free(log);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forward__offers_both_interfaces),
	    cmocka_unit_test(test_forward__v3_function_follows_real_module),
	    cmocka_unit_test(test_forward__v2_function_is_forwarded),
	};
	FILE *f;

	log_path = getenv("COFFER_SPY_LOG");
	if (argc < 2 || log_path == NULL) {
		fprintf(stderr, "usage: COFFER_SPY_LOG=PATH %s SPY\n", argv[0]);
		return 2;
	}
	f = fopen(log_path, "w"); /* this run only */
	if (f == NULL) {
		perror(log_path);
		return 2;
	}
	fclose(f);
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
		return 2;
	}
	return cmocka_run_group_tests_name("spy_forward", tests, NULL, NULL);
}
