/*
 * harness.c - module loading, scratch store, fixtures and helpers of the
 * PKCS#11 API suite. See harness.h.
 */
#include "harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#ifndef API_DEVIATIONS_FILE
#define API_DEVIATIONS_FILE "tests/api/softhsm-deviations.txt"
#endif

#define SOFTHSM_MAX_PIN_LEN 255
#define COFFER_MAX_PIN_LEN 64
#define MIN_PIN_LEN 4

CK_FUNCTION_LIST *p11;
CK_SLOT_ID api_slot;

struct deviation {
	char *name;
	char *reason;
};

/* A deviation test's stand-in: the original test, run in a child. */
struct xfail {
	struct CMUnitTest orig;
	const char *reason;
};

static struct {
	const char *module;
	bool softhsm;
	/* Remote mode: module is libcoffer-client.so, and the token is the
	 * inner module exported by a cofferd this harness runs. */
	const char *inner;
	pid_t cofferd;
	void *dl;
	char scratch[PATH_MAX - 64];
	char tokens[PATH_MAX];
	bool initialized;
	bool have_token; /* api_slot holds a token labelled API_LABEL */
	struct deviation *dev;
	size_t ndev;
} h;

/* ---- return code names ------------------------------------------------ */

#define RV(x)                                                                  \
	{                                                                      \
		x, #x                                                          \
	}
static const struct {
	CK_RV rv;
	const char *name;
} rv_names[] = {
    RV(CKR_OK),
    RV(CKR_CANCEL),
    RV(CKR_HOST_MEMORY),
    RV(CKR_SLOT_ID_INVALID),
    RV(CKR_GENERAL_ERROR),
    RV(CKR_FUNCTION_FAILED),
    RV(CKR_ARGUMENTS_BAD),
    RV(CKR_NO_EVENT),
    RV(CKR_NEED_TO_CREATE_THREADS),
    RV(CKR_CANT_LOCK),
    RV(CKR_ATTRIBUTE_READ_ONLY),
    RV(CKR_ATTRIBUTE_SENSITIVE),
    RV(CKR_ATTRIBUTE_TYPE_INVALID),
    RV(CKR_ATTRIBUTE_VALUE_INVALID),
    RV(CKR_ACTION_PROHIBITED),
    RV(CKR_DATA_INVALID),
    RV(CKR_DATA_LEN_RANGE),
    RV(CKR_DEVICE_ERROR),
    RV(CKR_DEVICE_MEMORY),
    RV(CKR_DEVICE_REMOVED),
    RV(CKR_ENCRYPTED_DATA_INVALID),
    RV(CKR_ENCRYPTED_DATA_LEN_RANGE),
    RV(CKR_FUNCTION_CANCELED),
    RV(CKR_FUNCTION_NOT_PARALLEL),
    RV(CKR_FUNCTION_NOT_SUPPORTED),
    RV(CKR_KEY_HANDLE_INVALID),
    RV(CKR_KEY_SIZE_RANGE),
    RV(CKR_KEY_TYPE_INCONSISTENT),
    RV(CKR_KEY_NOT_NEEDED),
    RV(CKR_KEY_CHANGED),
    RV(CKR_KEY_NEEDED),
    RV(CKR_KEY_INDIGESTIBLE),
    RV(CKR_KEY_FUNCTION_NOT_PERMITTED),
    RV(CKR_KEY_NOT_WRAPPABLE),
    RV(CKR_KEY_UNEXTRACTABLE),
    RV(CKR_MECHANISM_INVALID),
    RV(CKR_MECHANISM_PARAM_INVALID),
    RV(CKR_OBJECT_HANDLE_INVALID),
    RV(CKR_OPERATION_ACTIVE),
    RV(CKR_OPERATION_NOT_INITIALIZED),
    RV(CKR_PIN_INCORRECT),
    RV(CKR_PIN_INVALID),
    RV(CKR_PIN_LEN_RANGE),
    RV(CKR_PIN_EXPIRED),
    RV(CKR_PIN_LOCKED),
    RV(CKR_SESSION_CLOSED),
    RV(CKR_SESSION_COUNT),
    RV(CKR_SESSION_HANDLE_INVALID),
    RV(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
    RV(CKR_SESSION_READ_ONLY),
    RV(CKR_SESSION_EXISTS),
    RV(CKR_SESSION_READ_ONLY_EXISTS),
    RV(CKR_SESSION_READ_WRITE_SO_EXISTS),
    RV(CKR_SIGNATURE_INVALID),
    RV(CKR_SIGNATURE_LEN_RANGE),
    RV(CKR_TEMPLATE_INCOMPLETE),
    RV(CKR_TEMPLATE_INCONSISTENT),
    RV(CKR_TOKEN_NOT_PRESENT),
    RV(CKR_TOKEN_NOT_RECOGNIZED),
    RV(CKR_TOKEN_WRITE_PROTECTED),
    RV(CKR_UNWRAPPING_KEY_HANDLE_INVALID),
    RV(CKR_UNWRAPPING_KEY_SIZE_RANGE),
    RV(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
    RV(CKR_USER_ALREADY_LOGGED_IN),
    RV(CKR_USER_NOT_LOGGED_IN),
    RV(CKR_USER_PIN_NOT_INITIALIZED),
    RV(CKR_USER_TYPE_INVALID),
    RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
    RV(CKR_USER_TOO_MANY_TYPES),
    RV(CKR_WRAPPED_KEY_INVALID),
    RV(CKR_WRAPPED_KEY_LEN_RANGE),
    RV(CKR_WRAPPING_KEY_HANDLE_INVALID),
    RV(CKR_WRAPPING_KEY_SIZE_RANGE),
    RV(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
    RV(CKR_RANDOM_SEED_NOT_SUPPORTED),
    RV(CKR_RANDOM_NO_RNG),
    RV(CKR_DOMAIN_PARAMS_INVALID),
    RV(CKR_CURVE_NOT_SUPPORTED),
    RV(CKR_BUFFER_TOO_SMALL),
    RV(CKR_SAVED_STATE_INVALID),
    RV(CKR_INFORMATION_SENSITIVE),
    RV(CKR_STATE_UNSAVEABLE),
    RV(CKR_CRYPTOKI_NOT_INITIALIZED),
    RV(CKR_CRYPTOKI_ALREADY_INITIALIZED),
    RV(CKR_MUTEX_BAD),
    RV(CKR_MUTEX_NOT_LOCKED),
    RV(CKR_NEW_PIN_MODE),
    RV(CKR_NEXT_OTP),
    RV(CKR_EXCEEDED_MAX_ITERATIONS),
    RV(CKR_FIPS_SELF_TEST_FAILED),
    RV(CKR_LIBRARY_LOAD_FAILED),
    RV(CKR_PIN_TOO_WEAK),
    RV(CKR_PUBLIC_KEY_INVALID),
    RV(CKR_FUNCTION_REJECTED),
    RV(CKR_TOKEN_RESOURCE_EXCEEDED),
    RV(CKR_OPERATION_CANCEL_FAILED),
    RV(CKR_VENDOR_DEFINED),
};
#undef RV

const char *api_rv_name(CK_RV rv)
{
	static __thread char unknown[32];

	for (size_t i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (rv_names[i].rv == rv)
			return rv_names[i].name;
	snprintf(unknown, sizeof(unknown), "0x%lx", (unsigned long)rv);
	return unknown;
}

void api_assert_rv(CK_RV expected, CK_RV actual, const char *expr,
		   const char *file, int line)
{
	if (expected == actual)
		return;
	print_error("%s: expected %s, got %s\n", expr, api_rv_name(expected),
		    api_rv_name(actual));
	_fail(file, line);
}

void api_assert_rv2(CK_RV exp1, CK_RV exp2, CK_RV actual, const char *expr,
		    const char *file, int line)
{
	if (actual == exp1 || actual == exp2)
		return;
	print_error("%s: expected %s or %s, got %s\n", expr, api_rv_name(exp1),
		    api_rv_name(exp2), api_rv_name(actual));
	_fail(file, line);
}

/* ---- scratch directory and configuration ------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ret = -1;

	if (f == NULL)
		return -1;
	if (fputs(text, f) >= 0)
		ret = 0;
	if (fclose(f) != 0)
		ret = -1;
	return ret;
}

static int make_scratch(void)
{
	const char *tmp = getenv("TMPDIR");
	char conf[PATH_MAX + 32], text[2 * PATH_MAX + 256];
	int n;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = snprintf(h.scratch, sizeof(h.scratch), "%s/coffer-api-XXXXXX", tmp);
	if (n < 0 || (size_t)n >= sizeof(h.scratch))
		return -1;
	if (mkdtemp(h.scratch) == NULL)
		return -1;
	snprintf(h.tokens, sizeof(h.tokens), "%s/tokens", h.scratch);
	if (mkdir(h.tokens, 0700) != 0)
		return -1;

	if (h.softhsm) {
		snprintf(conf, sizeof(conf), "%s/softhsm2.conf", h.scratch);
		snprintf(text, sizeof(text),
			 "directories.tokendir = %s\n"
			 "objectstore.backend = file\n"
			 "log.level = ERROR\n"
			 "slots.removable = false\n",
			 h.tokens);
		if (write_file(conf, text) != 0)
			return -1;
		return setenv("SOFTHSM2_CONF", conf, 1);
	}
	snprintf(conf, sizeof(conf), "%s/coffer.conf", h.scratch);
	snprintf(text, sizeof(text),
		 "token_dir = %s\n"
		 "kdf_cost = 10\n"
		 "pin_lockout = %d\n"
		 "pin_min_len = %d\n"
		 "pin_max_len = %d\n",
		 h.tokens, API_PIN_LOCKOUT, MIN_PIN_LEN, COFFER_MAX_PIN_LEN);
	if (write_file(conf, text) != 0)
		return -1;
	return setenv("COFFER_CONF", conf, 1);
}

/* Every test starts from an empty store; the module is finalized here, so
 * no file is open. */
static int reset_tokens(void)
{
	rm_tree(h.tokens);
	if (mkdir(h.tokens, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* ---- deviations ------------------------------------------------------- */

static void load_deviation_file(const char *path, bool must_exist)
{
	char line[512];
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		if (must_exist)
			fprintf(stderr, "# no deviation list at %s\n", path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *name = line, *reason, *end;
		struct deviation *grown;

		line[strcspn(line, "\n")] = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
		if (*name == '\0' || *name == '#')
			continue;
		reason = strchr(name, ':');
		if (reason != NULL) {
			*reason++ = '\0';
			while (*reason == ' ')
				reason++;
		} else {
			reason = "";
		}
		end = name + strlen(name);
		while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		grown = realloc(h.dev, (h.ndev + 1) * sizeof(*h.dev));
		if (grown == NULL)
			break;
		h.dev = grown;
		h.dev[h.ndev].name = strdup(name);
		h.dev[h.ndev].reason = strdup(reason);
		if (h.dev[h.ndev].name == NULL || h.dev[h.ndev].reason == NULL)
			break;
		h.ndev++;
	}
	fclose(f);
}

/* Remote mode: softhsm-deviations-remote.txt beside the shared list names
 * SoftHSMv2 deviations that do not show through libcoffer-client.so
 * ("-name: reason": the client answers the call itself, e.g. the 3.0
 * interface functions, or refuses a mechanism parameter it cannot carry
 * before SoftHSMv2 sees it) and ones that only show there ("name:
 * reason"). */
static void apply_remote_deviations(const char *dir_of)
{
	char path[4096], line[512];
	const char *slash = strrchr(dir_of, '/');
	FILE *f;

	snprintf(path, sizeof(path), "%.*ssofthsm-deviations-remote.txt",
		 slash != NULL ? (int)(slash - dir_of + 1) : 0, dir_of);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *name = line, *colon;

		line[strcspn(line, "\n")] = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
		if (*name != '-')
			continue;
		name++;
		colon = strchr(name, ':');
		if (colon != NULL)
			*colon = '\0';
		for (size_t i = 0; i < h.ndev; i++) {
			if (strcmp(h.dev[i].name, name) != 0)
				continue;
			free(h.dev[i].name);
			free(h.dev[i].reason);
			h.dev[i] = h.dev[--h.ndev];
			break;
		}
	}
	fclose(f);
	/* The additions are ordinary entries; "-" lines are skipped there
	 * because no test is named with a leading '-'. */
	load_deviation_file(path, false);
}

/* The shared list, then the group's own softhsm-deviations-GROUP.txt
 * beside it (each mechanism family keeps its own). */
static void load_deviations(const char *group)
{
	const char *path = getenv("COFFER_TEST_DEVIATIONS");
	char own[4096];
	const char *slash;

	if (path == NULL)
		path = API_DEVIATIONS_FILE;
	load_deviation_file(path, true);
	slash = strrchr(path, '/');
	snprintf(own, sizeof(own), "%.*ssofthsm-deviations-%s.txt",
		 slash != NULL ? (int)(slash - path + 1) : 0, path, group);
	load_deviation_file(own, false);
	if (h.inner != NULL)
		apply_remote_deviations(path);
}

static const char *deviation_reason(const char *name)
{
	for (size_t i = 0; i < h.ndev; i++)
		if (strcmp(h.dev[i].name, name) == 0)
			return h.dev[i].reason;
	return NULL;
}

/* Runs the original test in a child whose output goes to stderr, so that
 * the parent's TAP stream stays clean. A failure (or crash) is the
 * expected outcome; a pass means the list is stale. */
static void xfail_trampoline(void **state)
{
	const struct xfail *x = *state;
	int status = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int failed;

		dup2(STDERR_FILENO, STDOUT_FILENO);
		failed = _cmocka_run_group_tests("deviation", &x->orig, 1, NULL,
						 NULL);
		fflush(stdout);
		_exit(failed == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* A race in SoftHSMv2 shows only on some runs: such entries say so
	 * first in their reason, and a pass is then no sign of a stale list. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    strncmp(x->reason, "(intermittent)", 14) == 0) {
		printf("# intermittent deviation did not show this run: %s\n",
		       x->orig.name);
		fflush(stdout);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		fail_msg("%s is listed in softhsm-deviations.txt but passed; "
			 "remove it from the list",
			 x->orig.name);
	printf("# deviation: %s: %s\n", x->orig.name, x->reason);
	fflush(stdout);
}

/* ---- module ----------------------------------------------------------- */

bool api_is_softhsm(void)
{
	return h.softhsm;
}

const char *api_module_path(void)
{
	return h.module;
}

const char *api_scratch_dir(void)
{
	return h.scratch;
}

void *api_module_symbol(const char *name)
{
	return dlsym(h.dl, name);
}

CK_ULONG api_max_pin_len(void)
{
	return h.softhsm ? SOFTHSM_MAX_PIN_LEN : COFFER_MAX_PIN_LEN;
}

CK_ULONG api_min_pin_len(void)
{
	return MIN_PIN_LEN;
}

static int load_module(void)
{
	CK_C_GetFunctionList get;
	CK_RV rv;

	h.dl = dlopen(h.module, RTLD_NOW | RTLD_LOCAL);
	if (h.dl == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", h.module, dlerror());
		return -1;
	}
	*(void **)&get = dlsym(h.dl, "C_GetFunctionList");
	if (get == NULL) {
		fprintf(stderr, "%s has no C_GetFunctionList\n", h.module);
		return -1;
	}
	rv = get(&p11);
	if (rv != CKR_OK || p11 == NULL) {
		fprintf(stderr, "C_GetFunctionList: %s\n", api_rv_name(rv));
		return -1;
	}
	return 0;
}

/* ---- remote mode ------------------------------------------------------ */

bool api_is_remote(void)
{
	return h.inner != NULL;
}

/* Starts cofferd exporting the inner module on a socket in the scratch
 * directory; it inherits COFFER_CONF / SOFTHSM2_CONF, and dies with this
 * process if the tests crash. Returns 0 once the socket is there. */
static int start_cofferd(void)
{
	const char *cofferd = getenv("COFFER_TEST_COFFERD");
	char sock[PATH_MAX], listen[PATH_MAX + 8];
	struct timespec pause = {0, 10 * 1000 * 1000};
	pid_t parent = getpid();
	int status;

	if (cofferd == NULL || *cofferd == '\0') {
		fprintf(stderr, "COFFER_TEST_REMOTE needs COFFER_TEST_COFFERD\n");
		return -1;
	}
	snprintf(sock, sizeof(sock), "%s/cofferd.sock", h.scratch);
	snprintf(listen, sizeof(listen), "unix:%s", sock);
	fflush(stdout);
	fflush(stderr);
	h.cofferd = fork();
	if (h.cofferd < 0)
		return -1;
	if (h.cofferd == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		execl(cofferd, cofferd, "--module", h.inner, "--listen", listen,
		      "--log-level", "warn", (char *)NULL);
		perror(cofferd);
		_exit(127);
	}
	/* Generous: an ASan cofferd on a loaded machine starts slowly. */
	for (int i = 0; i < 3000; i++) {
		struct stat st;

		if (stat(sock, &st) == 0)
			return setenv("COFFER_SERVER", listen, 1);
		if (waitpid(h.cofferd, &status, WNOHANG) == h.cofferd) {
			fprintf(stderr, "cofferd exited before listening\n");
			h.cofferd = 0;
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "cofferd did not create %s\n", sock);
	return -1;
}

static void stop_cofferd(void)
{
	int status;

	if (h.cofferd <= 0)
		return;
	kill(h.cofferd, SIGTERM);
	waitpid(h.cofferd, &status, 0);
	h.cofferd = 0;
}

int api_run(int argc, char **argv, const char *group,
	    const struct CMUnitTest *tests, size_t count)
{
	struct CMUnitTest *run = NULL;
	struct xfail *xf = NULL;
	int failed = -1;

	h.module = argc > 1 ? argv[1] : getenv("COFFER_TEST_MODULE");
	if (h.module == NULL || *h.module == '\0') {
		fprintf(stderr,
			"usage: %s MODULE [TEST-FILTER]\n"
			"  (or set COFFER_TEST_MODULE)\n",
			argv[0]);
		return 2;
	}
	h.inner = getenv("COFFER_TEST_REMOTE");
	if (h.inner != NULL && *h.inner == '\0')
		h.inner = NULL;
	h.softhsm = strstr(h.inner != NULL ? h.inner : h.module, "softhsm") !=
		    NULL;
	if (make_scratch() != 0) {
		perror("scratch directory");
		goto out_scratch;
	}
	if (h.inner != NULL && start_cofferd() != 0)
		goto out_cofferd;
	if (load_module() != 0)
		goto out_cofferd;
	if (h.softhsm)
		load_deviations(group);

	run = calloc(count, sizeof(*run));
	xf = calloc(count, sizeof(*xf));
	if (run == NULL || xf == NULL)
		goto out_free;
	for (size_t i = 0; i < count; i++) {
		const char *reason = deviation_reason(tests[i].name);

		run[i] = tests[i];
		if (reason == NULL)
			continue;
		xf[i].orig = tests[i];
		xf[i].reason = reason;
		run[i].test_func = xfail_trampoline;
		run[i].setup_func = NULL;
		run[i].teardown_func = NULL;
		run[i].initial_state = &xf[i];
	}
	if (argc > 2)
		cmocka_set_test_filter(argv[2]);
	failed = _cmocka_run_group_tests(group, run, count, NULL, NULL);

out_free:
	free(xf);
	free(run);
	for (size_t i = 0; i < h.ndev; i++) {
		free(h.dev[i].name);
		free(h.dev[i].reason);
	}
	free(h.dev);
	/* The module stays mapped: unloading SoftHSMv2 runs its static
	 * destructors, which have a history of crashing. */
out_cofferd:
	stop_cofferd();
out_scratch:
	if (h.scratch[0] != '\0')
		rm_tree(h.scratch);
	return failed < 0 ? 1 : failed;
}

/* ---- fixtures --------------------------------------------------------- */

int api_setup_loaded(void **state)
{
	(void)state;
	h.initialized = false;
	h.have_token = false;
	return reset_tokens();
}

int api_setup_initialized(void **state)
{
	CK_RV rv;

	if (api_setup_loaded(state) != 0)
		return -1;
	rv = p11->C_Initialize(NULL);
	if (rv != CKR_OK) {
		print_error("C_Initialize: %s\n", api_rv_name(rv));
		return -1;
	}
	h.initialized = true;
	return 0;
}

int api_setup_token_no_user(void **state)
{
	if (api_setup_initialized(state) != 0)
		return -1;
	api_slot = api_init_token(API_LABEL);
	h.have_token = true;
	return 0;
}

int api_setup_token(void **state)
{
	if (api_setup_token_no_user(state) != 0)
		return -1;
	api_init_user_pin(api_slot, API_USER_PIN);
	return 0;
}

int api_teardown(void **state)
{
	CK_RV rv;

	(void)state;
	/* Tests may finalize themselves; a second C_Finalize answers
	 * CKR_CRYPTOKI_NOT_INITIALIZED, which is fine here. */
	rv = p11->C_Finalize(NULL);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_NOT_INITIALIZED) {
		print_error("C_Finalize: %s\n", api_rv_name(rv));
		return -1;
	}
	h.initialized = false;
	return 0;
}

/* ---- token helpers ---------------------------------------------------- */

void api_reinitialize(void)
{
	assert_rv(CKR_OK, p11->C_Finalize(NULL));
	assert_rv(CKR_OK, p11->C_Initialize(NULL));
	/* SoftHSMv2 renumbers its slots here; coffer must not (checked by
	 * test_slot__ids_stable_across_reinitialize), so only follow the
	 * fixture's token on SoftHSMv2. */
	if (h.softhsm && h.have_token)
		api_slot = api_slot_by_label(API_LABEL);
}

void api_pad(CK_UTF8CHAR *dst, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (n > len)
		n = len;
	memset(dst, ' ', len);
	memcpy(dst, s, n);
}

void api_assert_padded(const CK_UTF8CHAR *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			fail_msg("byte %zu of a padded string is 0x%02x", i,
				 s[i]);
	}
}

CK_SLOT_ID api_free_slot(void)
{
	CK_SLOT_ID slots[64], found = 0;
	CK_ULONG n = 64, nfree = 0;

	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, slots, &n));
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		assert_rv(CKR_OK, p11->C_GetTokenInfo(slots[i], &ti));
		if (!(ti.flags & CKF_TOKEN_INITIALIZED)) {
			found = slots[i];
			nfree++;
		}
	}
	assert_int_equal(nfree, 1);
	return found;
}

void api_next_free_slot(void)
{
	if (h.softhsm)
		api_reinitialize();
}

CK_SLOT_ID api_slot_by_label(const char *label)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	CK_UTF8CHAR want[32];

	api_pad(want, sizeof(want), label);
	assert_rv(CKR_OK, p11->C_GetSlotList(CK_FALSE, slots, &n));
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		assert_rv(CKR_OK, p11->C_GetTokenInfo(slots[i], &ti));
		if ((ti.flags & CKF_TOKEN_INITIALIZED) &&
		    memcmp(ti.label, want, sizeof(want)) == 0)
			return slots[i];
	}
	fail_msg("no token labelled %s", label);
	return 0;
}

CK_SLOT_ID api_init_token(const char *label)
{
	CK_UTF8CHAR padded[32];
	CK_SLOT_ID slot = api_free_slot();

	api_pad(padded, sizeof(padded), label);
	assert_rv(CKR_OK, p11->C_InitToken(slot, API_PIN(API_SO_PIN), padded));
	return slot;
}

void api_init_user_pin(CK_SLOT_ID slot, const char *pin)
{
	CK_SESSION_HANDLE s = api_open(slot, true);

	assert_rv(CKR_OK, p11->C_Login(s, CKU_SO, API_PIN(API_SO_PIN)));
	assert_rv(CKR_OK, p11->C_InitPIN(s, API_PIN(pin)));
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_rv(CKR_OK, p11->C_CloseSession(s));
}

CK_FLAGS api_token_flags(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO ti;

	assert_rv(CKR_OK, p11->C_GetTokenInfo(slot, &ti));
	return ti.flags;
}

CK_SESSION_HANDLE api_open(CK_SLOT_ID slot, bool rw)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);

	assert_rv(CKR_OK, p11->C_OpenSession(slot, flags, NULL, NULL, &s));
	assert_int_not_equal(s, CK_INVALID_HANDLE);
	return s;
}

void api_login(CK_SESSION_HANDLE s, CK_USER_TYPE user)
{
	const char *pin = user == CKU_SO ? API_SO_PIN : API_USER_PIN;

	assert_rv(CKR_OK, p11->C_Login(s, user, API_PIN(pin)));
}

CK_STATE api_session_state(CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO si;

	assert_rv(CKR_OK, p11->C_GetSessionInfo(s, &si));
	return si.state;
}

/* ---- key material ----------------------------------------------------- */

static unsigned char *bn_param(const EVP_PKEY *pk, const char *name,
			       CK_ULONG *len)
{
	BIGNUM *bn = NULL;
	unsigned char *out;

	assert_int_equal(EVP_PKEY_get_bn_param(pk, name, &bn), 1);
	*len = (CK_ULONG)BN_num_bytes(bn);
	out = malloc(*len);
	assert_non_null(out);
	BN_bn2bin(bn, out);
	BN_clear_free(bn);
	return out;
}

const struct api_rsa *api_rsa_material(void)
{
	static struct api_rsa rsa;
	EVP_PKEY *pk;

	if (rsa.n != NULL)
		return &rsa;
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(pk);
	rsa.n = bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &rsa.n_len);
	rsa.e = bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &rsa.e_len);
	rsa.d = bn_param(pk, OSSL_PKEY_PARAM_RSA_D, &rsa.d_len);
	rsa.p = bn_param(pk, OSSL_PKEY_PARAM_RSA_FACTOR1, &rsa.p_len);
	rsa.q = bn_param(pk, OSSL_PKEY_PARAM_RSA_FACTOR2, &rsa.q_len);
	rsa.dp = bn_param(pk, OSSL_PKEY_PARAM_RSA_EXPONENT1, &rsa.dp_len);
	rsa.dq = bn_param(pk, OSSL_PKEY_PARAM_RSA_EXPONENT2, &rsa.dq_len);
	rsa.qi = bn_param(pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &rsa.qi_len);
	EVP_PKEY_free(pk);
	return &rsa;
}

/* DER OID 1.2.840.10045.3.1.7 (prime256v1). */
static const unsigned char p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
					 0xce, 0x3d, 0x03, 0x01, 0x07};

struct ec_material {
	unsigned char
	    point[2 + 65]; /* OCTET STRING of the uncompressed point */
	unsigned char priv[32];
	bool made;
};

static const struct ec_material *ec_material(void)
{
	static struct ec_material ec;
	unsigned char pub[65];
	size_t pub_len = 0;
	BIGNUM *d = NULL;
	EVP_PKEY *pk;

	if (ec.made)
		return &ec;
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(pk);
	assert_int_equal(
	    EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pub,
					    sizeof(pub), &pub_len),
	    1);
	assert_int_equal(pub_len, 65);
	ec.point[0] = 0x04;
	ec.point[1] = 65;
	memcpy(ec.point + 2, pub, 65);
	assert_int_equal(
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
	assert_int_equal(BN_bn2binpad(d, ec.priv, sizeof(ec.priv)), 32);
	BN_clear_free(d);
	EVP_PKEY_free(pk);
	ec.made = true;
	return &ec;
}

static unsigned char *der_dup(const void *obj,
			      int (*enc)(const void *, unsigned char **),
			      CK_ULONG *len)
{
	unsigned char *out = NULL;
	int n = enc(obj, &out);

	assert_true(n > 0);
	*len = (CK_ULONG)n;
	return out;
}

static int enc_name(const void *o, unsigned char **p)
{
	return i2d_X509_NAME(o, p);
}

static int enc_int(const void *o, unsigned char **p)
{
	return i2d_ASN1_INTEGER(o, p);
}

static int enc_cert(const void *o, unsigned char **p)
{
	return i2d_X509(o, p);
}

void api_cert_make(struct api_cert *c, const char *cn, long serial)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(pk);
	assert_non_null(x);
	memset(c, 0, sizeof(*c));
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)cn,
						    -1, -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L));
	assert_int_equal(X509_set_pubkey(x, pk), 1);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);

	c->der = der_dup(x, enc_cert, &c->der_len);
	c->subject =
	    der_dup(X509_get_subject_name(x), enc_name, &c->subject_len);
	c->issuer = der_dup(X509_get_issuer_name(x), enc_name, &c->issuer_len);
	c->serial = der_dup(X509_get_serialNumber(x), enc_int, &c->serial_len);
	X509_free(x);
	EVP_PKEY_free(pk);
}

void api_cert_clear(struct api_cert *c)
{
	OPENSSL_free(c->der);
	OPENSSL_free(c->subject);
	OPENSSL_free(c->issuer);
	OPENSSL_free(c->serial);
	memset(c, 0, sizeof(*c));
}

/* ---- object helpers --------------------------------------------------- */

const CK_BBOOL api_true = CK_TRUE, api_false = CK_FALSE;
#define yes api_true
#define no api_false

CK_RV api_create_data(CK_SESSION_HANDLE s, CK_BBOOL token, CK_BBOOL priv,
		      const char *label, CK_OBJECT_HANDLE *h_out)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	static const char value[] = "some data";
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls),
	    ATTR(CKA_TOKEN, &token),
	    ATTR(CKA_PRIVATE, &priv),
	    ATTR_STR(CKA_LABEL, label),
	    ATTR_STR(CKA_APPLICATION, "coffer-api"),
	    ATTR_BUF(CKA_VALUE, value, sizeof(value) - 1),
	};

	return p11->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), h_out);
}

CK_RV api_create_aes(CK_SESSION_HANDLE s, CK_BBOOL token, CK_BBOOL sensitive,
		     CK_BBOOL extractable, const char *label,
		     CK_OBJECT_HANDLE *h_out)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	unsigned char value[32];
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls),
	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &token),
	    ATTR(CKA_PRIVATE, &yes),
	    ATTR(CKA_SENSITIVE, &sensitive),
	    ATTR(CKA_EXTRACTABLE, &extractable),
	    ATTR(CKA_ENCRYPT, &yes),
	    ATTR(CKA_DECRYPT, &yes),
	    ATTR_STR(CKA_LABEL, label),
	    ATTR_BUF(CKA_VALUE, value, sizeof(value)),
	};
	CK_RV rv;

	assert_int_equal(RAND_bytes(value, sizeof(value)), 1);
	rv = p11->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), h_out);
	OPENSSL_cleanse(value, sizeof(value));
	return rv;
}

CK_RV api_create_rsa_pair(CK_SESSION_HANDLE s, CK_BBOOL token,
			  const char *label, CK_OBJECT_HANDLE *pub,
			  CK_OBJECT_HANDLE *priv)
{
	const struct api_rsa *r = api_rsa_material();
	CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_RSA;
	CK_ATTRIBUTE pt[] = {
	    ATTR(CKA_CLASS, &pub_cls),
	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &token),
	    ATTR(CKA_PRIVATE, &no),
	    ATTR(CKA_VERIFY, &yes),
	    ATTR_STR(CKA_LABEL, label),
	    ATTR_STR(CKA_ID, label),
	    ATTR_BUF(CKA_MODULUS, r->n, r->n_len),
	    ATTR_BUF(CKA_PUBLIC_EXPONENT, r->e, r->e_len),
	};
	CK_ATTRIBUTE kt_[] = {
	    ATTR(CKA_CLASS, &priv_cls),
	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &token),
	    ATTR(CKA_PRIVATE, &yes),
	    ATTR(CKA_SENSITIVE, &yes),
	    ATTR(CKA_SIGN, &yes),
	    ATTR_STR(CKA_LABEL, label),
	    ATTR_STR(CKA_ID, label),
	    ATTR_BUF(CKA_MODULUS, r->n, r->n_len),
	    ATTR_BUF(CKA_PUBLIC_EXPONENT, r->e, r->e_len),
	    ATTR_BUF(CKA_PRIVATE_EXPONENT, r->d, r->d_len),
	    ATTR_BUF(CKA_PRIME_1, r->p, r->p_len),
	    ATTR_BUF(CKA_PRIME_2, r->q, r->q_len),
	    ATTR_BUF(CKA_EXPONENT_1, r->dp, r->dp_len),
	    ATTR_BUF(CKA_EXPONENT_2, r->dq, r->dq_len),
	    ATTR_BUF(CKA_COEFFICIENT, r->qi, r->qi_len),
	};
	CK_RV rv;

	rv = p11->C_CreateObject(s, pt, sizeof(pt) / sizeof(pt[0]), pub);
	if (rv != CKR_OK)
		return rv;
	return p11->C_CreateObject(s, kt_, sizeof(kt_) / sizeof(kt_[0]), priv);
}

CK_RV api_create_ec_pair(CK_SESSION_HANDLE s, CK_BBOOL token, const char *label,
			 CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	const struct ec_material *ec = ec_material();
	CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_EC;
	CK_ATTRIBUTE pt[] = {
	    ATTR(CKA_CLASS, &pub_cls),
	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &token),
	    ATTR(CKA_PRIVATE, &no),
	    ATTR(CKA_VERIFY, &yes),
	    ATTR_STR(CKA_LABEL, label),
	    ATTR_STR(CKA_ID, label),
	    ATTR_BUF(CKA_EC_PARAMS, p256_oid, sizeof(p256_oid)),
	    ATTR_BUF(CKA_EC_POINT, ec->point, sizeof(ec->point)),
	};
	CK_ATTRIBUTE kt_[] = {
	    ATTR(CKA_CLASS, &priv_cls),
	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &token),
	    ATTR(CKA_PRIVATE, &yes),
	    ATTR(CKA_SENSITIVE, &yes),
	    ATTR(CKA_SIGN, &yes),
	    ATTR_STR(CKA_LABEL, label),
	    ATTR_STR(CKA_ID, label),
	    ATTR_BUF(CKA_EC_PARAMS, p256_oid, sizeof(p256_oid)),
	    ATTR_BUF(CKA_VALUE, ec->priv, sizeof(ec->priv)),
	};
	CK_RV rv;

	rv = p11->C_CreateObject(s, pt, sizeof(pt) / sizeof(pt[0]), pub);
	if (rv != CKR_OK)
		return rv;
	return p11->C_CreateObject(s, kt_, sizeof(kt_) / sizeof(kt_[0]), priv);
}

CK_RV api_create_cert(CK_SESSION_HANDLE s, CK_BBOOL token,
		      const struct api_cert *c, const char *label,
		      CK_OBJECT_HANDLE *h_out)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	char id[64];
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls),
	    ATTR(CKA_CERTIFICATE_TYPE, &ct),
	    ATTR(CKA_TOKEN, &token),
	    ATTR(CKA_PRIVATE, &no),
	    ATTR_STR(CKA_LABEL, label),
	    ATTR_BUF(CKA_ID, id, 0),
	    ATTR_BUF(CKA_SUBJECT, c->subject, c->subject_len),
	    ATTR_BUF(CKA_ISSUER, c->issuer, c->issuer_len),
	    ATTR_BUF(CKA_SERIAL_NUMBER, c->serial, c->serial_len),
	    ATTR_BUF(CKA_VALUE, c->der, c->der_len),
	};

	snprintf(id, sizeof(id), "id-%s", label);
	t[5].ulValueLen = (CK_ULONG)strlen(id);
	return p11->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), h_out);
}

/* ---- searches and attributes ------------------------------------------ */

CK_ULONG api_find(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		  CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_OBJECT_HANDLE chunk[16];
	CK_ULONG total = 0, got;

	assert_rv(CKR_OK, p11->C_FindObjectsInit(s, tmpl, n));
	do {
		got = 0;
		assert_rv(CKR_OK, p11->C_FindObjects(s, chunk, 16, &got));
		assert_true(got <= 16);
		for (CK_ULONG i = 0; i < got; i++, total++)
			if (out != NULL && total < max)
				out[total] = chunk[i];
	} while (got > 0);
	assert_rv(CKR_OK, p11->C_FindObjectsFinal(s));
	return total;
}

bool api_contains(const CK_OBJECT_HANDLE *v, CK_ULONG n, CK_OBJECT_HANDLE x)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

CK_RV api_get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
		   CK_ATTRIBUTE_TYPE type, CK_BBOOL *out)
{
	CK_ATTRIBUTE a = {type, out, sizeof(*out)};

	return p11->C_GetAttributeValue(s, o, &a, 1);
}

CK_RV api_get_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
		    CK_ATTRIBUTE_TYPE type, CK_ULONG *out)
{
	CK_ATTRIBUTE a = {type, out, sizeof(*out)};

	return p11->C_GetAttributeValue(s, o, &a, 1);
}

CK_RV api_get_bytes(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
		    CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG *len)
{
	CK_ATTRIBUTE a = {type, buf, *len};
	CK_RV rv = p11->C_GetAttributeValue(s, o, &a, 1);

	*len = a.ulValueLen;
	return rv;
}
