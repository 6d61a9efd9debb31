/*
 * test_threads.c - concurrent use of one module (PKCS#11 v3.0 base 5.1.5
 * CKF_OS_LOCKING_OK): sessions per thread doing object work at the same
 * time, and login state changing under readers. cmocka's assertions are
 * not thread-safe, so workers record their first failure and the main
 * thread asserts.
 */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

#define NTHREADS 8
#define ITERATIONS 200

static struct {
	pthread_mutex_t lock;
	atomic_int failures;
	char first[256];
	atomic_bool stop;
} run = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void record(const char *what, CK_RV rv, int worker)
{
	if (atomic_fetch_add(&run.failures, 1) != 0)
		return;
	pthread_mutex_lock(&run.lock);
	snprintf(run.first, sizeof(run.first), "worker %d: %s: %s", worker,
		 what, api_rv_name(rv));
	pthread_mutex_unlock(&run.lock);
}

static void record_count(const char *what, CK_ULONG n, int worker)
{
	if (atomic_fetch_add(&run.failures, 1) != 0)
		return;
	pthread_mutex_lock(&run.lock);
	snprintf(run.first, sizeof(run.first), "worker %d: %s %lu", worker,
		 what, (unsigned long)n);
	pthread_mutex_unlock(&run.lock);
}

static void reset_run(void)
{
	atomic_store(&run.failures, 0);
	atomic_store(&run.stop, false);
	run.first[0] = '\0';
}

static void assert_no_failures(void)
{
	if (atomic_load(&run.failures) != 0)
		fail_msg("%d failures; first: %s", atomic_load(&run.failures),
			 run.first);
}

#define CHECK(what, call)                                                      \
	do {                                                                   \
		CK_RV rv_ = (call);                                            \
		if (rv_ != CKR_OK) {                                           \
			record(what, rv_, id);                                 \
			goto out;                                              \
		}                                                              \
	} while (0)

static CK_RV count_label(CK_SESSION_HANDLE s, const char *label,
			 CK_ULONG *count)
{
	CK_ATTRIBUTE t = ATTR_STR(CKA_LABEL, label);
	CK_OBJECT_HANDLE h[4];
	CK_ULONG n = 0;
	CK_RV rv;

	*count = 0;
	rv = p11->C_FindObjectsInit(s, &t, 1);
	if (rv != CKR_OK)
		return rv;
	rv = p11->C_FindObjects(s, h, 4, &n);
	if (rv != CKR_OK) {
		p11->C_FindObjectsFinal(s);
		return rv;
	}
	*count = n;
	return p11->C_FindObjectsFinal(s);
}

static void *object_worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	char label[32], buf[32];

	CHECK("C_OpenSession",
	      p11->C_OpenSession(api_slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				 NULL, NULL, &s));
	for (int k = 0; k < ITERATIONS; k++) {
		/* Every fourth object goes to the store, the rest stay in
		 * memory, so both paths race. */
		CK_BBOOL token = k % 4 == 0;
		CK_OBJECT_HANDLE o;
		CK_ATTRIBUTE a = {CKA_LABEL, buf, sizeof(buf)};
		CK_ULONG n = 0;

		snprintf(label, sizeof(label), "w%d-%d", id, k);
		CHECK("C_CreateObject",
		      api_create_data(s, token, CK_FALSE, label, &o));
		CHECK("find", count_label(s, label, &n));
		if (n != 1) {
			record_count("find after create found", n, id);
			goto out;
		}
		CHECK("C_GetAttributeValue",
		      p11->C_GetAttributeValue(s, o, &a, 1));
		if (a.ulValueLen != strlen(label) ||
		    memcmp(buf, label, a.ulValueLen) != 0) {
			record("label read back differs", CKR_OK, id);
			goto out;
		}
		CHECK("C_DestroyObject", p11->C_DestroyObject(s, o));
		CHECK("find", count_label(s, label, &n));
		if (n != 0) {
			record_count("find after destroy found", n, id);
			goto out;
		}
	}
out:
	if (s != CK_INVALID_HANDLE)
		p11->C_CloseSession(s);
	return NULL;
}

static void run_workers(void *(*fn)(void *), int n)
{
	pthread_t t[NTHREADS];

	assert_true(n <= NTHREADS);
	for (int i = 0; i < n; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i), 0);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

static void test_threads__object_work_in_parallel(void **state)
{
	CK_SESSION_HANDLE s;

	(void)state;
	reset_run();
	run_workers(object_worker, NTHREADS);
	assert_no_failures();
	/* Nothing left behind. */
	s = api_open(api_slot, false);
	assert_int_equal(api_find(s, NULL, 0, NULL, 0), 0);
}

static void *session_worker(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int k = 0; k < ITERATIONS; k++) {
		CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
		CK_SESSION_INFO si;
		CK_FLAGS flags =
		    CKF_SERIAL_SESSION | (k % 2 ? CKF_RW_SESSION : 0);

		CHECK("C_OpenSession",
		      p11->C_OpenSession(api_slot, flags, NULL, NULL, &s));
		CHECK("C_GetSessionInfo", p11->C_GetSessionInfo(s, &si));
		if (si.flags != flags) {
			record("session flags differ", CKR_OK, id);
			goto out;
		}
		CHECK("C_CloseSession", p11->C_CloseSession(s));
	}
out:
	return NULL;
}

static void test_threads__sessions_open_close_in_parallel(void **state)
{
	(void)state;
	reset_run();
	run_workers(session_worker, NTHREADS);
	assert_no_failures();
}

static CK_OBJECT_HANDLE shared_object;

static void *reader(void *arg)
{
	int id = (int)(intptr_t)arg;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	CHECK("C_OpenSession",
	      p11->C_OpenSession(api_slot, CKF_SERIAL_SESSION, NULL, NULL, &s));
	while (!atomic_load(&run.stop)) {
		char buf[32];
		CK_ATTRIBUTE a = {CKA_LABEL, buf, sizeof(buf)};
		CK_ULONG n = 0;

		CHECK("C_GetAttributeValue",
		      p11->C_GetAttributeValue(s, shared_object, &a, 1));
		if (a.ulValueLen != 6 || memcmp(buf, "shared", 6) != 0) {
			record("label read back differs", CKR_OK, id);
			goto out;
		}
		CHECK("find", count_label(s, "shared", &n));
		if (n != 1) {
			record_count("find found", n, id);
			goto out;
		}
	}
out:
	if (s != CK_INVALID_HANDLE)
		p11->C_CloseSession(s);
	return NULL;
}

static void *login_cycler(void *arg)
{
	int id = (int)(intptr_t)arg;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	CHECK("C_OpenSession",
	      p11->C_OpenSession(api_slot, CKF_SERIAL_SESSION, NULL, NULL, &s));
	for (int k = 0; k < ITERATIONS / 2; k++) {
		CHECK("C_Login",
		      p11->C_Login(s, CKU_USER, API_PIN(API_USER_PIN)));
		CHECK("C_Logout", p11->C_Logout(s));
	}
out:
	atomic_store(&run.stop, true);
	if (s != CK_INVALID_HANDLE)
		p11->C_CloseSession(s);
	return NULL;
}

static void *login_or_read(void *arg)
{
	return (intptr_t)arg == 0 ? login_cycler(arg) : reader(arg);
}

static void test_threads__login_logout_under_readers(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	(void)state;
	assert_rv(CKR_OK, api_create_data(s, CK_TRUE, CK_FALSE, "shared",
					  &shared_object));
	reset_run();
	run_workers(login_or_read, 5);
	assert_no_failures();
	assert_int_equal(api_session_state(s), CKS_RW_PUBLIC_SESSION);
}

static int setup_threaded(void **state)
{
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};

	if (api_setup_loaded(state) != 0)
		return -1;
	if (p11->C_Initialize(&args) != CKR_OK)
		return -1;
	api_slot = api_init_token(API_LABEL);
	api_init_user_pin(api_slot, API_USER_PIN);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_threaded, api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_threads__object_work_in_parallel),
	    T(test_threads__sessions_open_close_in_parallel),
	    T(test_threads__login_logout_under_readers),
	};

	return api_run(argc, argv, "api_threads", tests, NELEM(tests));
}
