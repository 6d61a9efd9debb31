/*
 * test_client.c - libcoffer-client.so against a cofferd that goes away,
 * stalls or is killed, and under many threads.
 *
 * usage: test_client CLIENT_MODULE, with COFFER_TEST_COFFERD (the daemon)
 * and COFFER_TEST_INNER (the module it exports, libcoffer.so). Each test
 * gets a scratch directory with the token store and cofferd's socket; a
 * fake server (a thread here) plays the silent peer.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "coffer/pkcs11.h"
#include "wire/conn.h"

#define SO_PIN "12345678"
#define USER_PIN "1234"
#define PIN(s) (CK_UTF8CHAR_PTR)(s), (CK_ULONG)strlen(s)
#define NTHREADS 8
#define SIGNS_PER_THREAD 40

static CK_FUNCTION_LIST *p11;
static const char *cofferd_path, *inner_path;

static struct {
	char dir[PATH_MAX - 64];
	char sock[PATH_MAX];
	pid_t cofferd; /* leader of its process group (acceptor + workers) */
	bool initialized;
	bool debug_log; /* cofferd logs at debug level into dir/cofferd.log */
} t;

/* ---- time and files --------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

/* ---- cofferd ---------------------------------------------------------- */

static void cofferd_start(void)
{
	char listen[PATH_MAX + 8];
	struct timespec pause = {0, 10 * 1000 * 1000};
	pid_t parent = getpid();
	int status;

	snprintf(listen, sizeof(listen), "unix:%s", t.sock);
	unlink(t.sock);
	fflush(stdout);
	fflush(stderr);
	t.cofferd = fork();
	assert_true(t.cofferd >= 0);
	if (t.cofferd == 0) {
		/* Its own group, so one kill reaches its workers too. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (t.debug_log) {
			char log[PATH_MAX + 16];
			int fd;

			snprintf(log, sizeof(log), "%s/cofferd.log", t.dir);
			fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
			if (fd < 0 || dup2(fd, 2) < 0)
				_exit(127);
		}
		execl(cofferd_path, cofferd_path, "--module", inner_path,
		      "--listen", listen, "--log-level",
		      t.debug_log ? "debug" : "error", (char *)NULL);
		_exit(127);
	}
	setpgid(t.cofferd, t.cofferd);
	for (int i = 0; i < 3000; i++) {
		struct stat st;

		if (stat(t.sock, &st) == 0)
			return;
		if (waitpid(t.cofferd, &status, WNOHANG) == t.cofferd) {
			t.cofferd = 0;
			fail_msg("cofferd exited before listening");
		}
		nanosleep(&pause, NULL);
	}
	fail_msg("cofferd did not create %s", t.sock);
}

/* SIGTERM (workers drain and exit) or SIGKILL of the whole group. */
static void cofferd_stop(int sig)
{
	int status;

	if (t.cofferd <= 0)
		return;
	if (sig == SIGKILL)
		kill(-t.cofferd, SIGKILL);
	else
		kill(t.cofferd, sig);
	waitpid(t.cofferd, &status, 0);
	if (sig == SIGKILL) {
		/* Workers are the acceptor's children, not ours: wait until
		 * the group is gone. */
		for (int i = 0; i < 500 && kill(-t.cofferd, 0) == 0; i++)
			usleep(10000);
	}
	t.cofferd = 0;
}

/* ---- a fake server that accepts and then says nothing ----------------- */

struct fake {
	int lfd;
	int stop[2];
	bool hello; /* answer the hello, then go silent */
	pthread_t th;
	int conns[16];
	size_t nconns;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	struct cf_conn *keep[16] = {0};
	size_t nkeep = 0;

	for (;;) {
		struct pollfd p[2] = {{.fd = f->lfd, .events = POLLIN},
				      {.fd = f->stop[0], .events = POLLIN}};
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents != 0)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (f->hello && nkeep < 16) {
			struct cf_conn *c = NULL;
			struct cf_hello h;

			/* c owns fd, even on failure. */
			if (cf_conn_new(fd, NULL, CF_FRAME_MAX_DEFAULT, &c) !=
			    0)
				continue;
			(void)cf_hello_server(c, 5000, CF_FRAME_MAX_DEFAULT, 4,
					      &h);
			keep[nkeep++] = c;
		} else if (f->nconns < 16) {
			f->conns[f->nconns++] = fd;
		} else {
			close(fd);
		}
	}
	for (size_t i = 0; i < nkeep; i++)
		cf_conn_free(keep[i]);
	return NULL;
}

static void sun_path(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);

	assert_true(n < sizeof(sa->sun_path));
	memcpy(sa->sun_path, path, n + 1);
}

static void fake_start(struct fake *f, bool hello)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(f, 0, sizeof(*f));
	f->hello = hello;
	sun_path(&sa, t.sock);
	unlink(t.sock);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(pipe(f->stop), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	assert_int_equal(write(f->stop[1], "x", 1), 1);
	pthread_join(f->th, NULL);
	for (size_t i = 0; i < f->nconns; i++)
		close(f->conns[i]);
	close(f->lfd);
	close(f->stop[0]);
	close(f->stop[1]);
}

/* ---- fixtures --------------------------------------------------------- */

static int write_conf(void)
{
	char path[PATH_MAX + 32], tokens[PATH_MAX + 16];
	FILE *f;

	snprintf(tokens, sizeof(tokens), "%s/tokens", t.dir);
	if (mkdir(tokens, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/coffer.conf", t.dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "token_dir = %s\nkdf_cost = 10\n", tokens);
	if (fclose(f) != 0)
		return -1;
	return setenv("COFFER_CONF", path, 1);
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char server[PATH_MAX + 8];

	(void)state;
	memset(&t, 0, sizeof(t));
	snprintf(t.dir, sizeof(t.dir), "%s/coffer-client-XXXXXX",
		 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(t.dir) == NULL || write_conf() != 0)
		return -1;
	snprintf(t.sock, sizeof(t.sock), "%s/cofferd.sock", t.dir);
	snprintf(server, sizeof(server), "unix:%s", t.sock);
	setenv("COFFER_SERVER", server, 1);
	unsetenv("COFFER_TIMEOUT_MS");
	unsetenv("COFFER_CONNECT_TIMEOUT_MS");
	unsetenv("COFFER_CPU");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (t.initialized)
		p11->C_Finalize(NULL);
	t.initialized = false;
	cofferd_stop(SIGKILL);
	nftw(t.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void initialize(void)
{
	assert_int_equal(p11->C_Initialize(NULL), CKR_OK);
	t.initialized = true;
}

static void pad(CK_UTF8CHAR *dst, size_t len, const char *s)
{
	memset(dst, ' ', len);
	memcpy(dst, s, strlen(s));
}

/* A token labelled "client" with the user PIN set; returns its slot. */
static CK_SLOT_ID make_token(void)
{
	CK_SLOT_ID slots[8], slot = 0;
	CK_ULONG n = 8;
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE s;
	bool found = false;

	assert_int_equal(p11->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n && !found; i++) {
		CK_TOKEN_INFO ti;

		assert_int_equal(p11->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		if (!(ti.flags & CKF_TOKEN_INITIALIZED)) {
			slot = slots[i];
			found = true;
		}
	}
	assert_true(found);
	pad(label, sizeof(label), "client");
	assert_int_equal(p11->C_InitToken(slot, PIN(SO_PIN), label), CKR_OK);
	assert_int_equal(p11->C_OpenSession(slot,
					    CKF_SERIAL_SESSION | CKF_RW_SESSION,
					    NULL, NULL, &s),
			 CKR_OK);
	assert_int_equal(p11->C_Login(s, CKU_SO, PIN(SO_PIN)), CKR_OK);
	assert_int_equal(p11->C_InitPIN(s, PIN(USER_PIN)), CKR_OK);
	assert_int_equal(p11->C_CloseSession(s), CKR_OK);
	return slot;
}

static CK_SESSION_HANDLE open_session(CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;

	assert_int_equal(
	    p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s),
	    CKR_OK);
	return s;
}

/* ---- C_Initialize's arguments (v3.0 base 5.4.1) ----------------------- */

static int app_mutexes_created;

/* The application's mutex functions: counted, so a test sees whether the
 * library used them. */
static CK_RV app_mutex_create(CK_VOID_PTR_PTR out)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (m == NULL)
		return CKR_HOST_MEMORY;
	pthread_mutex_init(m, NULL);
	app_mutexes_created++;
	*out = m;
	return CKR_OK;
}

static CK_RV app_mutex_destroy(CK_VOID_PTR m)
{
	pthread_mutex_destroy(m);
	free(m);
	return CKR_OK;
}

static CK_RV app_mutex_lock(CK_VOID_PTR m)
{
	return pthread_mutex_lock(m) == 0 ? CKR_OK : CKR_MUTEX_BAD;
}

static CK_RV app_mutex_unlock(CK_VOID_PTR m)
{
	return pthread_mutex_unlock(m) == 0 ? CKR_OK : CKR_MUTEX_NOT_LOCKED;
}

static CK_C_INITIALIZE_ARGS app_mutex_args(CK_FLAGS flags)
{
	CK_C_INITIALIZE_ARGS a = {
	    .CreateMutex = app_mutex_create,
	    .DestroyMutex = app_mutex_destroy,
	    .LockMutex = app_mutex_lock,
	    .UnlockMutex = app_mutex_unlock,
	    .flags = flags,
	};

	return a;
}

/* The client's waits need condition variables, which the application's
 * mutexes cannot serve: with those alone it must say CKR_CANT_LOCK, not
 * accept them and lock with something else. */
static void test_client__app_mutexes_without_os_locking_cant_lock(void **state)
{
	CK_C_INITIALIZE_ARGS a = app_mutex_args(0);
	CK_RV rv;

	(void)state;
	app_mutexes_created = 0;
	rv = p11->C_Initialize(&a);
	t.initialized = rv == CKR_OK; /* the teardown finalizes a failure */
	assert_int_equal(rv, CKR_CANT_LOCK);
	assert_int_equal(app_mutexes_created, 0);
	/* A failed C_Initialize leaves the library uninitialized. */
	assert_int_equal(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void test_client__app_mutexes_with_os_locking_initialize(void **state)
{
	CK_C_INITIALIZE_ARGS a = app_mutex_args(CKF_OS_LOCKING_OK);

	(void)state;
	assert_int_equal(p11->C_Initialize(&a), CKR_OK);
	t.initialized = true;
}

static void test_client__some_mutex_functions_are_bad_arguments(void **state)
{
	CK_C_INITIALIZE_ARGS a = app_mutex_args(0);
	CK_C_INITIALIZE_ARGS b = app_mutex_args(CKF_OS_LOCKING_OK);

	(void)state;
	a.UnlockMutex = NULL;
	b.CreateMutex = NULL;
	assert_int_equal(p11->C_Initialize(&a), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11->C_Initialize(&b), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void test_client__reserved_non_null_is_bad_arguments(void **state)
{
	CK_C_INITIALIZE_ARGS a = {.flags = CKF_OS_LOCKING_OK};
	int reserved = 0;

	(void)state;
	a.pReserved = &reserved;
	assert_int_equal(p11->C_Initialize(&a), CKR_ARGUMENTS_BAD);
	assert_int_equal(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

/* ---- restart and dead servers ----------------------------------------- */

static void test_client__reconnects_after_cofferd_restart(void **state)
{
	CK_SESSION_HANDLE old, fresh;
	CK_SESSION_INFO si;
	CK_SLOT_ID slot;
	CK_RV rv;

	(void)state;
	cofferd_start();
	initialize();
	slot = make_token();
	old = open_session(slot);
	assert_int_equal(p11->C_GetSessionInfo(old, &si), CKR_OK);

	cofferd_stop(SIGTERM);
	cofferd_start();

	rv = p11->C_GetSessionInfo(old, &si);
	assert_true(rv == CKR_SESSION_HANDLE_INVALID ||
		    rv == CKR_DEVICE_REMOVED);
	/* Once noticed, the old session stays invalid. */
	assert_int_equal(p11->C_GetSessionInfo(old, &si),
			 CKR_SESSION_HANDLE_INVALID);
	fresh = open_session(slot);
	assert_int_not_equal(fresh, old);
	assert_int_equal(p11->C_GetSessionInfo(fresh, &si), CKR_OK);
	assert_int_equal(si.slotID, slot);
	assert_int_equal(p11->C_GetSessionInfo(old, &si),
			 CKR_SESSION_HANDLE_INVALID);
}

static void test_client__unreachable_server_initializes(void **state)
{
	CK_ULONG n = 0;

	(void)state;
	/* Nothing at the path at all. */
	initialize();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n),
			 CKR_DEVICE_ERROR);
	/* The server comes up later: the next call connects. */
	cofferd_start();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	assert_true(n >= 1);
}

/* Runs fn with the process's stderr going to a file, and returns how many
 * of the lines written meanwhile contain s. */
static int stderr_lines_with(void (*fn)(void), const char *s)
{
	char path[PATH_MAX + 16], line[1024];
	int fd, saved, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stderr.txt", t.dir);
	fflush(stderr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	fn();
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	fclose(f);
	return n;
}

static void three_calls_without_server(void)
{
	CK_ULONG n = 0;

	initialize();
	for (int i = 0; i < 3; i++)
		assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n),
				 CKR_DEVICE_ERROR);
}

static void finalize_and_one_more_call(void)
{
	CK_ULONG n = 0;

	assert_int_equal(p11->C_Finalize(NULL), CKR_OK);
	t.initialized = false;
	initialize();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n),
			 CKR_DEVICE_ERROR);
}

/* An application whose server is not there is told why, on stderr, at the
 * default log level, once, not once per call; a new C_Initialize starts
 * over. */
static void test_client__unreachable_server_is_reported_once(void **state)
{
	(void)state;
	assert_int_equal(
	    stderr_lines_with(three_calls_without_server, "cannot connect"), 1);
	assert_int_equal(
	    stderr_lines_with(finalize_and_one_more_call, "cannot connect"), 1);
}

/* The pid of cofferd's (only) worker process. */
static pid_t worker_pid(void)
{
	char path[64];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
		 (int)t.cofferd, (int)t.cofferd);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	return (pid_t)pid;
}

/* Sets COFFER_CPU to the first CPU this process may use, whose set
 * *mine gets; returns that CPU. */
static int ask_first_cpu(cpu_set_t *mine)
{
	char cpu[16];
	int first = -1;

	assert_int_equal(sched_getaffinity(0, sizeof(*mine), mine), 0);
	for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
		if (CPU_ISSET(i, mine))
			first = i;
	assert_true(first >= 0);
	snprintf(cpu, sizeof(cpu), "%d", first);
	setenv("COFFER_CPU", cpu, 1);
	return first;
}

/* COFFER_CPU asks cofferd to serve the connection on that CPU: its worker
 * process runs there alone (docs/client.md, "Latency"). Without it the
 * worker may run anywhere cofferd may. */
static void test_client__cpu_setting_serves_on_that_cpu(void **state)
{
	cpu_set_t mine, worker;
	CK_ULONG n = 0;
	int first;

	(void)state;
	first = ask_first_cpu(&mine);
	cofferd_start();
	initialize();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	assert_int_equal(sched_getaffinity(worker_pid(), sizeof(worker),
					   &worker),
			 0);
	assert_int_equal(CPU_COUNT(&worker), 1);
	assert_true(CPU_ISSET(first, &worker));
	unsetenv("COFFER_CPU");
}

/* cpu = auto: the worker serves on one CPU, one the client may use. */
static void test_client__cpu_auto_serves_on_one_cpu(void **state)
{
	cpu_set_t mine, worker;
	CK_ULONG n = 0;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
	setenv("COFFER_CPU", "auto", 1);
	cofferd_start();
	initialize();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	assert_int_equal(sched_getaffinity(worker_pid(), sizeof(worker),
					   &worker),
			 0);
	assert_int_equal(CPU_COUNT(&worker), 1);
	CPU_AND(&worker, &worker, &mine);
	assert_int_equal(CPU_COUNT(&worker), 1);
	unsetenv("COFFER_CPU");
}

/* Sequential calls never count as overlapping, slow ones neither: a slow
 * call runs on a thread of its own, which may still be finishing when the
 * client, answered, already sent its next call. */
static void test_client__cpu_setting_stays_after_slow_sequential_calls(
    void **state)
{
	cpu_set_t mine, worker;
	CK_SESSION_HANDLE s;
	CK_ULONG n = 0;
	int first;

	(void)state;
	first = ask_first_cpu(&mine);
	cofferd_start();
	initialize();
	s = open_session(make_token()); /* C_InitToken, C_InitPIN: slow */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(p11->C_Login(s, CKU_USER, PIN(USER_PIN)),
				 CKR_OK);
		assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n),
				 CKR_OK);
		assert_int_equal(p11->C_Logout(s), CKR_OK);
	}
	assert_int_equal(sched_getaffinity(worker_pid(), sizeof(worker),
					   &worker),
			 0);
	assert_int_equal(CPU_COUNT(&worker), 1);
	assert_true(CPU_ISSET(first, &worker));
	unsetenv("COFFER_CPU");
}

struct keygen_arg {
	CK_SESSION_HANDLE s;
	atomic_bool done;
	CK_RV rv;
};

/* A slow call: an RSA key pair (session objects). */
static void *rsa_keygen(void *p)
{
	struct keygen_arg *a = p;
	CK_MECHANISM m = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ULONG bits = 3072;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE pub[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
			      {CKA_VERIFY, &yes, sizeof(yes)}};
	CK_ATTRIBUTE priv[] = {{CKA_SIGN, &yes, sizeof(yes)}};
	CK_OBJECT_HANDLE hpub, hpriv;

	a->rv = p11->C_GenerateKeyPair(a->s, &m, pub, 2, priv, 1, &hpub,
				       &hpriv);
	atomic_store(&a->done, true);
	return NULL;
}

/* Whether every thread of process pid may run on exactly the CPUs of
 * want. */
static bool all_tasks_on(pid_t pid, const cpu_set_t *want)
{
	char path[64];
	struct dirent *e;
	bool all = true;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		cpu_set_t m;
		long tid = strtol(e->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		if (sched_getaffinity((pid_t)tid, sizeof(m), &m) != 0 ||
		    !CPU_EQUAL(&m, want))
			all = false;
	}
	closedir(d);
	return all;
}

/* A client with the cpu setting that overlaps its calls gets its worker's
 * CPUs back: on one CPU its calls would only take turns. */
static void test_client__cpu_setting_widens_when_calls_overlap(void **state)
{
	cpu_set_t mine;
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	bool overlapped = false;

	(void)state;
	(void)ask_first_cpu(&mine);
	cofferd_start();
	initialize();
	slot = make_token();
	s = open_session(slot);
	assert_int_equal(p11->C_Login(s, CKU_USER, PIN(USER_PIN)), CKR_OK);
	/* Calls while a key pair is being made overlap it; a key made too
	 * fast for any of them to get in is made again. */
	for (int tries = 0; tries < 5 && !overlapped; tries++) {
		struct keygen_arg a = {.s = s, .rv = CKR_GENERAL_ERROR};
		pthread_t th;
		CK_ULONG n = 0;
		int calls = 0;

		atomic_init(&a.done, false);
		assert_int_equal(pthread_create(&th, NULL, rsa_keygen, &a), 0);
		while (!atomic_load(&a.done)) {
			assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n),
					 CKR_OK);
			calls++;
		}
		pthread_join(th, NULL);
		assert_int_equal(a.rv, CKR_OK);
		overlapped = calls >= 2;
	}
	assert_true(overlapped);
	assert_true(all_tasks_on(worker_pid(), &mine));
	unsetenv("COFFER_CPU");
}

static void test_client__no_cpu_setting_leaves_the_worker_free(void **state)
{
	cpu_set_t mine, worker;
	CK_ULONG n = 0;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
	cofferd_start();
	initialize();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	assert_int_equal(sched_getaffinity(worker_pid(), sizeof(worker),
					   &worker),
			 0);
	assert_true(CPU_EQUAL(&worker, &mine));
}

static void test_client__dead_socket_fails_fast(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	CK_ULONG n = 0;
	long long t0;
	int fd;

	(void)state;
	/* The socket file exists, but nobody listens on it. */
	sun_path(&sa, t.sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	initialize();
	t0 = now_ms();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n),
			 CKR_DEVICE_ERROR);
	assert_true(now_ms() - t0 < 2000);
}

static void test_client__stopped_server_fails_fast(void **state)
{
	CK_ULONG n = 0;
	long long t0;

	(void)state;
	cofferd_start();
	initialize();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	cofferd_stop(SIGTERM);
	t0 = now_ms();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n),
			 CKR_DEVICE_ERROR);
	assert_true(now_ms() - t0 < 2000);
}

/* ---- silent servers --------------------------------------------------- */

static void test_client__silent_server_times_out(void **state)
{
	struct fake f;
	CK_ULONG n = 0;
	long long t0;

	(void)state;
	setenv("COFFER_TIMEOUT_MS", "500", 1);
	setenv("COFFER_CONNECT_TIMEOUT_MS", "500", 1);
	fake_start(&f, false);
	/* The hello goes unanswered: C_Initialize still succeeds. */
	initialize();
	t0 = now_ms();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n),
			 CKR_DEVICE_ERROR);
	assert_true(now_ms() - t0 < 3000);
	assert_int_equal(p11->C_Finalize(NULL), CKR_OK);
	t.initialized = false;
	fake_stop(&f);
}

static void test_client__silent_after_hello_times_out(void **state)
{
	struct fake f;
	CK_ULONG n = 0;
	long long t0, took;

	(void)state;
	setenv("COFFER_TIMEOUT_MS", "500", 1);
	fake_start(&f, true);
	initialize();
	t0 = now_ms();
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n),
			 CKR_DEVICE_ERROR);
	took = now_ms() - t0;
	/* The call timeout, not the connect one, and no hang. */
	assert_true(took >= 400);
	assert_true(took < 3000);
	assert_int_equal(p11->C_Finalize(NULL), CKR_OK);
	t.initialized = false;
	fake_stop(&f);
}

/* ---- cofferd killed mid-call ------------------------------------------ */

struct looper {
	CK_SESSION_HANDLE s;
	_Atomic CK_RV first_error;
	atomic_ulong ok;
};

static void *loop_calls(void *arg)
{
	struct looper *l = arg;
	uint8_t buf[32];

	for (;;) {
		CK_RV rv = p11->C_GenerateRandom(l->s, buf, sizeof(buf));

		if (rv != CKR_OK) {
			atomic_store(&l->first_error, rv);
			break;
		}
		atomic_fetch_add(&l->ok, 1);
	}
	return NULL;
}

static void test_client__cofferd_killed_mid_call_recovers(void **state)
{
	struct looper l = {0};
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	pthread_t th;
	uint8_t buf[16];

	(void)state;
	cofferd_start();
	initialize();
	slot = make_token();
	l.s = open_session(slot);
	assert_int_equal(pthread_create(&th, NULL, loop_calls, &l), 0);
	/* Let calls flow, then kill acceptor and worker at once. */
	while (atomic_load(&l.ok) < 50 && atomic_load(&l.first_error) == CKR_OK)
		usleep(1000);
	cofferd_stop(SIGKILL);
	pthread_join(th, NULL);
	assert_true(l.first_error == CKR_DEVICE_REMOVED ||
		    l.first_error == CKR_SESSION_HANDLE_INVALID ||
		    l.first_error == CKR_DEVICE_ERROR);
	cofferd_start();
	s = open_session(slot);
	assert_int_equal(p11->C_GenerateRandom(s, buf, sizeof(buf)), CKR_OK);
	assert_int_equal(p11->C_GenerateRandom(l.s, buf, sizeof(buf)),
			 CKR_SESSION_HANDLE_INVALID);
}

/* ---- many threads on one connection ----------------------------------- */

static const uint8_t hmac_key[32] = {
    0x0b, 0x1c, 0x2d, 0x3e, 0x4f, 0x50, 0x61, 0x72, 0x83, 0x94, 0xa5,
    0xb6, 0xc7, 0xd8, 0xe9, 0xfa, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a,
    0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};

struct signer {
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	int id;
	int wrong; /* MACs that differ from OpenSSL's */
	CK_RV rv;  /* first failure */
};

static void *sign_many(void *arg)
{
	struct signer *g = arg;
	CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};

	for (int i = 0; i < SIGNS_PER_THREAD; i++) {
		char msg[64];
		uint8_t mac[32], want[32];
		unsigned int wlen = sizeof(want);
		CK_ULONG len = sizeof(mac);
		CK_RV rv;
		int n = snprintf(msg, sizeof(msg), "thread %d message %d",
				 g->id, i);

		rv = p11->C_SignInit(g->s, &m, g->key);
		if (rv == CKR_OK)
			rv = p11->C_Sign(g->s, (CK_BYTE_PTR)msg, (CK_ULONG)n,
					 mac, &len);
		if (rv != CKR_OK) {
			g->rv = rv;
			return NULL;
		}
		HMAC(EVP_sha256(), hmac_key, sizeof(hmac_key),
		     (const uint8_t *)msg, (size_t)n, want, &wlen);
		if (len != 32 || memcmp(mac, want, 32) != 0)
			g->wrong++;
	}
	return NULL;
}

static void test_client__threads_sign_concurrently(void **state)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_TOKEN, &no, sizeof(no)},
	    {CKA_SIGN, &yes, sizeof(yes)},
	    {CKA_VALUE, (void *)hmac_key, sizeof(hmac_key)},
	};
	struct signer g[NTHREADS];
	pthread_t th[NTHREADS];
	CK_SESSION_HANDLE login;
	CK_OBJECT_HANDLE key;
	CK_SLOT_ID slot;

	(void)state;
	cofferd_start();
	initialize();
	slot = make_token();
	login = open_session(slot);
	assert_int_equal(p11->C_Login(login, CKU_USER, PIN(USER_PIN)), CKR_OK);
	/* A session object: every session of this application sees it. */
	assert_int_equal(p11->C_CreateObject(login, tmpl, 5, &key), CKR_OK);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&g[i], 0, sizeof(g[i]));
		g[i].s = open_session(slot);
		g[i].key = key;
		g[i].id = i;
	}
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, sign_many, &g[i]),
				 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NTHREADS; i++) {
		if (g[i].rv != CKR_OK)
			fail_msg("thread %d: rv 0x%lx", i,
				 (unsigned long)g[i].rv);
		assert_int_equal(g[i].wrong, 0);
	}
}

/* ---- deferred initialisation (chains) --------------------------------- */

#define NSIGNS 20

/* Lines of cofferd's log (t.debug_log) that contain s. */
static int log_count_now(const char *s)
{
	char path[PATH_MAX + 16], line[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/cofferd.log", t.dir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	fclose(f);
	return n;
}

/* cofferd writes a call's log lines after its reply: the count of lines
 * with s once it reaches want (or after 5 s). */
static int log_count(const char *s, int want)
{
	int n = 0;

	for (int i = 0; i < 500; i++) {
		n = log_count_now(s);
		if (n >= want)
			break;
		usleep(10000);
	}
	return n;
}

/* A logged-in session and an HMAC token key labelled label. */
static CK_OBJECT_HANDLE hmac_token_key(CK_SESSION_HANDLE s, const char *label)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_SIGN, &yes, sizeof(yes)},
	    {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
	    {CKA_VALUE, (void *)hmac_key, sizeof(hmac_key)},
	};
	CK_OBJECT_HANDLE key;

	assert_int_equal(p11->C_CreateObject(s, tmpl, 6, &key), CKR_OK);
	return key;
}

static CK_SESSION_HANDLE chain_setup(CK_SLOT_ID *slot_out)
{
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;

	t.debug_log = true;
	cofferd_start();
	initialize();
	slot = make_token();
	assert_int_equal(p11->C_OpenSession(slot,
					    CKF_SERIAL_SESSION | CKF_RW_SESSION,
					    NULL, NULL, &s),
			 CKR_OK);
	assert_int_equal(p11->C_Login(s, CKU_USER, PIN(USER_PIN)), CKR_OK);
	if (slot_out != NULL)
		*slot_out = slot;
	return s;
}

/* One HMAC-SHA256 over msg with key, checked against OpenSSL. */
static CK_RV sign_checked(CK_SESSION_HANDLE s, const char *msg)
{
	uint8_t mac[32], want[32];
	CK_ULONG len = sizeof(mac);
	unsigned wlen = 0;
	CK_RV rv;

	rv = p11->C_Sign(s, (CK_BYTE_PTR)msg, (CK_ULONG)strlen(msg), mac, &len);
	if (rv != CKR_OK)
		return rv;
	HMAC(EVP_sha256(), hmac_key, sizeof(hmac_key), (const uint8_t *)msg,
	     strlen(msg), want, &wlen);
	assert_int_equal(len, 32);
	assert_memory_equal(mac, want, 32);
	return CKR_OK;
}

static void test_client__repeated_sign_init_rides_with_sign(void **state)
{
	CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	char msg[64];

	(void)state;
	s = chain_setup(NULL);
	key = hmac_token_key(s, "chain");
	for (int i = 0; i < NSIGNS; i++) {
		snprintf(msg, sizeof(msg), "message %d", i);
		assert_int_equal(p11->C_SignInit(s, &m, key), CKR_OK);
		assert_int_equal(sign_checked(s, msg), CKR_OK);
	}
	/* The first init went alone; every repeat rode with its C_Sign. The
	 * worker logs each chain before it answers. */
	assert_int_equal(log_count("chain C_SignInit + C_Sign", NSIGNS - 1), NSIGNS - 1);
}

/* Another process (its own connection, so the client's epoch never
 * moves) destroys the key between the deferred init and the C_Sign. */
static void destroy_in_child(CK_SLOT_ID slot, const char *label)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
		CK_ATTRIBUTE find[] = {
		    {CKA_CLASS, &cls, sizeof(cls)},
		    {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
		};
		CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
		CK_SESSION_HANDLE c;
		CK_ULONG n = 0;
		int ok = p11->C_Initialize(NULL) == CKR_OK &&
			 p11->C_OpenSession(slot,
					    CKF_SERIAL_SESSION | CKF_RW_SESSION,
					    NULL, NULL, &c) == CKR_OK &&
			 p11->C_Login(c, CKU_USER, PIN(USER_PIN)) == CKR_OK &&
			 p11->C_FindObjectsInit(c, find, 2) == CKR_OK &&
			 p11->C_FindObjects(c, &k, 1, &n) == CKR_OK && n == 1 &&
			 p11->C_FindObjectsFinal(c) == CKR_OK &&
			 p11->C_DestroyObject(c, k) == CKR_OK;

		p11->C_Finalize(NULL);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_client__deferred_init_of_destroyed_key_fails_call(
    void **state)
{
	CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE gone, other;
	CK_SLOT_ID slot;
	CK_RV rv, plain;

	(void)state;
	s = chain_setup(&slot);
	gone = hmac_token_key(s, "gone");
	other = hmac_token_key(s, "other");
	assert_int_equal(p11->C_SignInit(s, &m, gone), CKR_OK);
	assert_int_equal(sign_checked(s, "first"), CKR_OK);
	destroy_in_child(slot, "gone");
	/* Deferred: answered at once, the failure comes with C_Sign. */
	assert_int_equal(p11->C_SignInit(s, &m, gone), CKR_OK);
	rv = sign_checked(s, "second");
	assert_int_equal(log_count("chain C_SignInit + C_Sign", 1), 1);
	/* What the init itself answers when sent alone. */
	plain = p11->C_SignInit(s, &m, gone);
	assert_int_not_equal(plain, CKR_OK);
	assert_int_equal(rv, plain);
	/* No operation was left behind. */
	assert_int_equal(sign_checked(s, "third"),
			 CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(p11->C_SignInit(s, &m, other), CKR_OK);
	assert_int_equal(sign_checked(s, "fourth"), CKR_OK);
}

static void test_client__second_init_after_deferred_is_active(void **state)
{
	CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;

	(void)state;
	s = chain_setup(NULL);
	key = hmac_token_key(s, "active");
	assert_int_equal(p11->C_SignInit(s, &m, key), CKR_OK);
	assert_int_equal(sign_checked(s, "first"), CKR_OK);
	assert_int_equal(p11->C_SignInit(s, &m, key), CKR_OK); /* deferred */
	assert_int_equal(p11->C_SignInit(s, &m, key), CKR_OPERATION_ACTIVE);
	assert_int_equal(log_count("chain C_SignInit + C_SignInit", 1), 1);
	/* The deferred one runs on. */
	assert_int_equal(sign_checked(s, "second"), CKR_OK);
}

static void test_client__close_session_with_deferred_init(void **state)
{
	CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
	CK_SESSION_HANDLE s, sign;
	CK_SESSION_INFO si;
	CK_OBJECT_HANDLE key;
	CK_SLOT_ID slot;

	(void)state;
	s = chain_setup(&slot);
	key = hmac_token_key(s, "close");
	sign = open_session(slot);
	assert_int_equal(p11->C_SignInit(sign, &m, key), CKR_OK);
	assert_int_equal(sign_checked(sign, "first"), CKR_OK);
	assert_int_equal(p11->C_SignInit(sign, &m, key), CKR_OK); /* deferred */
	assert_int_equal(p11->C_CloseSession(sign), CKR_OK);
	assert_int_equal(log_count("chain C_SignInit + C_CloseSession", 1), 1);
	assert_int_equal(p11->C_GetSessionInfo(sign, &si),
			 CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(p11->C_GetSessionInfo(s, &si), CKR_OK);
}

/* ---- main ------------------------------------------------------------- */

static int load(const char *path)
{
	CK_C_GetFunctionList get;
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (dl == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	if (get == NULL || get(&p11) != CKR_OK)
		return -1;
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_client__app_mutexes_without_os_locking_cant_lock),
	    T(test_client__app_mutexes_with_os_locking_initialize),
	    T(test_client__some_mutex_functions_are_bad_arguments),
	    T(test_client__reserved_non_null_is_bad_arguments),
	    T(test_client__reconnects_after_cofferd_restart),
	    T(test_client__unreachable_server_initializes),
	    T(test_client__unreachable_server_is_reported_once),
	    T(test_client__cpu_setting_serves_on_that_cpu),
	    T(test_client__cpu_auto_serves_on_one_cpu),
	    T(test_client__cpu_setting_stays_after_slow_sequential_calls),
	    T(test_client__cpu_setting_widens_when_calls_overlap),
	    T(test_client__no_cpu_setting_leaves_the_worker_free),
	    T(test_client__dead_socket_fails_fast),
	    T(test_client__stopped_server_fails_fast),
	    T(test_client__silent_server_times_out),
	    T(test_client__silent_after_hello_times_out),
	    T(test_client__cofferd_killed_mid_call_recovers),
	    T(test_client__threads_sign_concurrently),
	    T(test_client__repeated_sign_init_rides_with_sign),
	    T(test_client__deferred_init_of_destroyed_key_fails_call),
	    T(test_client__second_init_after_deferred_is_active),
	    T(test_client__close_session_with_deferred_init),
	};

	cofferd_path = getenv("COFFER_TEST_COFFERD");
	inner_path = getenv("COFFER_TEST_INNER");
	if (argc < 2 || cofferd_path == NULL || inner_path == NULL) {
		fprintf(stderr,
			"usage: COFFER_TEST_COFFERD=... "
			"COFFER_TEST_INNER=... %s CLIENT_MODULE\n",
			argv[0]);
		return 2;
	}
	if (load(argv[1]) != 0)
		return 1;
	return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
