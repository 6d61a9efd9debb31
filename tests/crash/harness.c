/*
 * harness.c - scratch directories, module loading, token setup and
 * pipe-carried TAP results for the multi-process tests (see harness.h).
 */
#include "harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define H_MSG_LEN 256

/* The results pipe of this process, drained while the parent waits. */
static struct h_results *active_results;
static int report_fd = -1;

static int write_file(const char *path, const char *text)
{
	int rc = -EIO;
	FILE *f = fopen(path, "we");

	if (f == NULL)
		return -errno;
	if (fputs(text, f) < 0)
		goto out_close;
	rc = 0;
out_close:
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

int h_scratch_new(struct h_scratch *s, const char *module_path)
{
	char conf_path[700];
	char text[2048];
	const char *tmp = getenv("TMPDIR");
	int rc;

	memset(s, 0, sizeof(*s));
	s->softhsm = strstr(module_path, "softhsm") != NULL;
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	snprintf(s->dir, sizeof(s->dir), "%s/coffer-test-XXXXXX", tmp);
	if (mkdtemp(s->dir) == NULL)
		return -errno;
	snprintf(s->token_dir, sizeof(s->token_dir), "%s/tokens", s->dir);
	if (mkdir(s->token_dir, 0700) != 0) {
		rc = -errno;
		goto out_remove;
	}
	if (s->softhsm) {
		snprintf(conf_path, sizeof(conf_path), "%s/softhsm2.conf",
			 s->dir);
		snprintf(text, sizeof(text),
			 "directories.tokendir = %s\n"
			 "objectstore.backend = file\n"
			 "log.level = ERROR\n",
			 s->token_dir);
	} else {
		snprintf(conf_path, sizeof(conf_path), "%s/coffer.conf",
			 s->dir);
		snprintf(text, sizeof(text),
			 "token_dir = %s\n"
			 "kdf_cost = 10\n"
			 "pin_lockout = %d\n",
			 s->token_dir, H_PIN_LOCKOUT);
	}
	rc = write_file(conf_path, text);
	if (rc != 0)
		goto out_remove;
	if (setenv(s->softhsm ? "SOFTHSM2_CONF" : "COFFER_CONF", conf_path,
		   1) != 0) {
		rc = -errno;
		goto out_remove;
	}
	return 0;
out_remove:
	h_scratch_remove(s);
	return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "# cannot remove %s: %s\n", path,
			strerror(errno));
	return 0;
}

void h_scratch_remove(const struct h_scratch *s)
{
	if (s->dir[0] == '\0')
		return;
	nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

CK_RV h_module_load(struct h_module *m, const char *path)
{
	CK_C_GetFunctionList get_list;
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
	CK_RV rv = CKR_GENERAL_ERROR;

	m->dl = NULL;
	m->f = NULL;
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (m->dl == NULL) {
		fprintf(stderr, "# dlopen %s: %s\n", path, dlerror());
		return rv;
	}
	get_list = (CK_C_GetFunctionList)dlsym(m->dl, "C_GetFunctionList");
	if (get_list == NULL) {
		fprintf(stderr, "# %s has no C_GetFunctionList\n", path);
		goto out_close;
	}
	rv = get_list(&m->f);
	if (rv != CKR_OK) {
		fprintf(stderr, "# C_GetFunctionList: %s\n", h_rv_name(rv));
		goto out_close;
	}
	rv = m->f->C_Initialize(&args);
	if (rv != CKR_OK) {
		fprintf(stderr, "# C_Initialize: %s\n", h_rv_name(rv));
		goto out_close;
	}
	return CKR_OK;
out_close:
	m->f = NULL;
	dlclose(m->dl);
	m->dl = NULL;
	return rv;
}

void h_module_unload(struct h_module *m)
{
	if (m->f != NULL)
		m->f->C_Finalize(NULL);
	if (m->dl != NULL)
		dlclose(m->dl);
	m->f = NULL;
	m->dl = NULL;
}

void h_unpad(char *out, size_t outlen, const unsigned char *in, size_t len)
{
	size_t n = len;

	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\0'))
		n--;
	if (n > outlen - 1)
		n = outlen - 1;
	memcpy(out, in, n);
	out[n] = '\0';
}

/* C_GetSlotList's two-call pattern; *slots is malloc'd. */
static CK_RV slot_list(const struct h_module *m, CK_BBOOL present,
		       CK_SLOT_ID **slots, CK_ULONG *n)
{
	CK_SLOT_ID *list = NULL;
	CK_ULONG count = 0;
	CK_RV rv;

	*slots = NULL;
	*n = 0;
	rv = m->f->C_GetSlotList(present, NULL, &count);
	if (rv != CKR_OK)
		return rv;
	list = calloc(count + 1, sizeof(*list));
	if (list == NULL)
		return CKR_HOST_MEMORY;
	rv = m->f->C_GetSlotList(present, list, &count);
	if (rv != CKR_OK) {
		free(list);
		return rv;
	}
	*slots = list;
	*n = count;
	return CKR_OK;
}

CK_RV h_find_token(const struct h_module *m, const char *label,
		   CK_SLOT_ID *slot)
{
	CK_SLOT_ID *slots;
	CK_TOKEN_INFO ti;
	CK_ULONG n, i;
	char have[33];
	CK_RV rv;

	*slot = 0;
	rv = slot_list(m, CK_TRUE, &slots, &n);
	if (rv != CKR_OK)
		return rv;
	rv = CKR_TOKEN_NOT_PRESENT;
	for (i = 0; i < n; i++) {
		if (m->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (!(ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		h_unpad(have, sizeof(have), ti.label, sizeof(ti.label));
		if (strcmp(have, label) == 0) {
			*slot = slots[i];
			rv = CKR_OK;
			break;
		}
	}
	free(slots);
	return rv;
}

static CK_RV find_free_slot(const struct h_module *m, CK_SLOT_ID *slot)
{
	CK_SLOT_ID *slots;
	CK_TOKEN_INFO ti;
	CK_ULONG n, i;
	CK_RV rv;

	*slot = 0;
	rv = slot_list(m, CK_FALSE, &slots, &n);
	if (rv != CKR_OK)
		return rv;
	rv = CKR_TOKEN_NOT_PRESENT;
	for (i = 0; i < n; i++) {
		if (m->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (!(ti.flags & CKF_TOKEN_INITIALIZED)) {
			*slot = slots[i];
			rv = CKR_OK;
			break;
		}
	}
	free(slots);
	return rv;
}

CK_RV h_token_setup(const struct h_module *m)
{
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE sh;
	CK_SLOT_ID slot;
	CK_RV rv;

	rv = find_free_slot(m, &slot);
	if (rv != CKR_OK) {
		fprintf(stderr, "# no free slot: %s\n", h_rv_name(rv));
		return rv;
	}
	memset(label, ' ', sizeof(label));
	memcpy(label, H_TOKEN_LABEL, strlen(H_TOKEN_LABEL));
	rv = m->f->C_InitToken(slot, (CK_UTF8CHAR_PTR)H_SO_PIN,
			       strlen(H_SO_PIN), label);
	if (rv != CKR_OK) {
		fprintf(stderr, "# C_InitToken: %s\n", h_rv_name(rv));
		return rv;
	}
	/* The token may move to another slot id once initialised
	 * (SoftHSMv2 renumbers), so look it up again by label. */
	rv = h_find_token(m, H_TOKEN_LABEL, &slot);
	if (rv != CKR_OK) {
		fprintf(stderr, "# new token not listed: %s\n", h_rv_name(rv));
		return rv;
	}
	rv = m->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				 NULL, NULL, &sh);
	if (rv != CKR_OK) {
		fprintf(stderr, "# C_OpenSession: %s\n", h_rv_name(rv));
		return rv;
	}
	rv = m->f->C_Login(sh, CKU_SO, (CK_UTF8CHAR_PTR)H_SO_PIN,
			   strlen(H_SO_PIN));
	if (rv != CKR_OK) {
		fprintf(stderr, "# C_Login(SO): %s\n", h_rv_name(rv));
		goto out_close;
	}
	rv = m->f->C_InitPIN(sh, (CK_UTF8CHAR_PTR)H_USER_PIN,
			     strlen(H_USER_PIN));
	if (rv != CKR_OK)
		fprintf(stderr, "# C_InitPIN: %s\n", h_rv_name(rv));
	m->f->C_Logout(sh);
out_close:
	m->f->C_CloseSession(sh);
	return rv;
}

pid_t h_spawn(const char *module_path, int (*fn)(struct h_module *, void *),
	      void *arg)
{
	struct h_module m;
	pid_t pid;
	CK_RV rv;
	int rc;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid != 0)
		return pid;
	/* A child must never outlive a parent killed by a test timeout. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (active_results != NULL) {
		close(active_results->rfd);
		active_results = NULL;
	}
	rv = h_module_load(&m, module_path);
	if (rv != CKR_OK) {
		h_report(false, "load %s: %s", module_path, h_rv_name(rv));
		_exit(2);
	}
	rc = fn(&m, arg);
	h_module_unload(&m);
	_exit(rc);
}

void h_sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int h_token_setup_main(struct h_module *m, void *arg)
{
	(void)arg;
	return h_token_setup(m) == CKR_OK ? 0 : 1;
}

int h_wait(pid_t pid, unsigned int timeout_ms)
{
	unsigned int waited = 0;
	int status;
	pid_t r;

	if (pid <= 0)
		return -1;
	for (;;) {
		if (active_results != NULL)
			h_results_drain(active_results);
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms) {
			fprintf(stderr, "# pid %d timed out after %u ms\n",
				(int)pid, timeout_ms);
			kill(pid, SIGKILL);
			if (waitpid(pid, &status, 0) != pid)
				return -1;
			break;
		}
		h_sleep_ms(2);
		waited += 2;
	}
	if (active_results != NULL)
		h_results_drain(active_results);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

const char *h_rv_name(CK_RV rv)
{
	static char buf[32];

	switch (rv) {
	case CKR_OK:
		return "CKR_OK";
	case CKR_GENERAL_ERROR:
		return "CKR_GENERAL_ERROR";
	case CKR_FUNCTION_FAILED:
		return "CKR_FUNCTION_FAILED";
	case CKR_ARGUMENTS_BAD:
		return "CKR_ARGUMENTS_BAD";
	case CKR_ATTRIBUTE_VALUE_INVALID:
		return "CKR_ATTRIBUTE_VALUE_INVALID";
	case CKR_ATTRIBUTE_TYPE_INVALID:
		return "CKR_ATTRIBUTE_TYPE_INVALID";
	case CKR_DEVICE_ERROR:
		return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_MEMORY:
		return "CKR_DEVICE_MEMORY";
	case CKR_FUNCTION_NOT_SUPPORTED:
		return "CKR_FUNCTION_NOT_SUPPORTED";
	case CKR_OBJECT_HANDLE_INVALID:
		return "CKR_OBJECT_HANDLE_INVALID";
	case CKR_PIN_INCORRECT:
		return "CKR_PIN_INCORRECT";
	case CKR_PIN_LOCKED:
		return "CKR_PIN_LOCKED";
	case CKR_SESSION_HANDLE_INVALID:
		return "CKR_SESSION_HANDLE_INVALID";
	case CKR_SESSION_READ_ONLY:
		return "CKR_SESSION_READ_ONLY";
	case CKR_SLOT_ID_INVALID:
		return "CKR_SLOT_ID_INVALID";
	case CKR_TEMPLATE_INCOMPLETE:
		return "CKR_TEMPLATE_INCOMPLETE";
	case CKR_TEMPLATE_INCONSISTENT:
		return "CKR_TEMPLATE_INCONSISTENT";
	case CKR_TOKEN_NOT_PRESENT:
		return "CKR_TOKEN_NOT_PRESENT";
	case CKR_TOKEN_NOT_RECOGNIZED:
		return "CKR_TOKEN_NOT_RECOGNIZED";
	case CKR_USER_NOT_LOGGED_IN:
		return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_ALREADY_LOGGED_IN:
		return "CKR_USER_ALREADY_LOGGED_IN";
	case CKR_USER_PIN_NOT_INITIALIZED:
		return "CKR_USER_PIN_NOT_INITIALIZED";
	case CKR_CRYPTOKI_NOT_INITIALIZED:
		return "CKR_CRYPTOKI_NOT_INITIALIZED";
	default:
		snprintf(buf, sizeof(buf), "0x%08lx", (unsigned long)rv);
		return buf;
	}
}

int h_results_init(struct h_results *r)
{
	int fds[2];

	memset(r, 0, sizeof(*r));
	r->rfd = -1;
	r->wfd = -1;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	r->rfd = fds[0];
	r->wfd = fds[1];
	report_fd = fds[1];
	active_results = r;
	return 0;
}

void h_results_close(struct h_results *r)
{
	if (r->wfd >= 0)
		close(r->wfd);
	if (r->rfd >= 0)
		close(r->rfd);
	if (active_results == r)
		active_results = NULL;
	r->rfd = -1;
	r->wfd = -1;
}

void h_report_fd(int fd)
{
	report_fd = fd;
}

/* One message is 1 kind byte and H_MSG_LEN - 1 bytes of text, sent in one
 * write() so that concurrent writers cannot interleave. The format
 * attribute carries the printf checks of h_report/h_note through to the
 * vsnprintf here. */
static void __attribute__((format(printf, 2, 0)))
send_msg(char kind, const char *fmt, va_list ap)
{
	char msg[H_MSG_LEN];
	ssize_t w;

	memset(msg, 0, sizeof(msg));
	msg[0] = kind;
	vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
	if (report_fd < 0) {
		printf("%s %s\n",
		       kind == '#'   ? "#"
		       : kind == 'o' ? "ok"
				     : "not ok",
		       msg + 1);
		return;
	}
	do {
		w = write(report_fd, msg, sizeof(msg));
	} while (w < 0 && errno == EINTR);
}

bool h_report(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_msg(ok ? 'o' : 'n', fmt, ap);
	va_end(ap);
	return ok;
}

void h_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_msg('#', fmt, ap);
	va_end(ap);
}

void h_results_drain(struct h_results *r)
{
	char msg[H_MSG_LEN];
	size_t got = 0;
	ssize_t n;

	for (;;) {
		n = read(r->rfd, msg + got, sizeof(msg) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got < sizeof(msg))
			continue;
		got = 0;
		msg[sizeof(msg) - 1] = '\0';
		if (msg[0] == '#') {
			printf("# %s\n", msg + 1);
			continue;
		}
		r->count++;
		if (msg[0] != 'o')
			r->failed++;
		printf("%s %u - %s\n", msg[0] == 'o' ? "ok" : "not ok",
		       r->count, msg + 1);
	}
	fflush(stdout);
}

int h_kill_when_ready(const char *module_path,
		      int (*fn)(struct h_module *, void *), void *arg,
		      int *ready_fd, bool wait_ready, unsigned int delay_ms,
		      unsigned int timeout_ms)
{
	struct pollfd pfd;
	int fds[2], st;
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	*ready_fd = fds[1];
	pid = h_spawn(module_path, fn, arg);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	if (wait_ready && (poll(&pfd, 1, (int)timeout_ms) != 1 ||
			   read(fds[0], &c, 1) != 1)) {
		printf("# worker never became ready\n");
		kill(pid, SIGKILL);
		close(fds[0]);
		h_wait(pid, 1000);
		return -1;
	}
	close(fds[0]);
	h_sleep_ms(delay_ms);
	kill(pid, SIGKILL);
	st = h_wait(pid, timeout_ms);
	return st == 128 + SIGKILL ? 0 : st;
}
