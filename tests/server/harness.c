/* harness.c - see harness.h. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

const char *h_cofferd, *h_module;
char h_dir[64];
char h_sock[100];
char h_conf[512];

static pid_t running[32];
static size_t nrunning;
static unsigned nconf;

const char *h_path(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", h_dir, name);
	return buf[i];
}

void h_write(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

static void check_clean(void);

static void forget(pid_t pid)
{
	for (size_t i = 0; i < nrunning; i++)
		if (running[i] == pid) {
			running[i] = running[--nrunning];
			return;
		}
}

pid_t h_start(const char *conf, bool listen, const char *const *extra,
	      int *status)
{
	const char *argv[40];
	char listen_arg[256], conf_file[512];
	size_t n = 0;
	pid_t pid;
	long deadline;
	int st;

	snprintf(listen_arg, sizeof(listen_arg), "unix:%s", h_sock);
	unlink(h_sock);
	argv[n++] = h_cofferd;
	argv[n++] = "--module";
	argv[n++] = h_module;
	argv[n++] = "--log-level";
	argv[n++] = "debug";
	if (conf != NULL) {
		snprintf(conf_file, sizeof(conf_file), "%s",
			 h_path("cofferd.conf"));
		snprintf(conf_file + strlen(conf_file) - 5, 16, "-%u.conf",
			 nconf++);
		h_write(conf_file, conf);
		snprintf(h_conf, sizeof(h_conf), "%s", conf_file);
		argv[n++] = "--config";
		argv[n++] = conf_file;
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 34; i++)
		argv[n++] = extra[i];
	/* The socket last: when it exists, every other listener is up. */
	if (listen) {
		argv[n++] = "--listen";
		argv[n++] = listen_arg;
	}
	argv[n] = NULL;

	/* Each cofferd's log alone, so a test reads only its own. */
	{
		int fd = open(h_path("cofferd.log"),
			      O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0)
			close(fd);
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(h_path("cofferd.log"),
			      O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		if (fd >= 0)
			dup2(fd, 2);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		execv(h_cofferd, (char *const *)argv);
		_exit(127);
	}
	running[nrunning++] = pid;
	deadline = now_ms() + T_MS;
	while (now_ms() < deadline) {
		struct stat sb;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			forget(pid);
			check_clean();
			if (status != NULL)
				*status = st;
			return -1;
		}
		if (listen && stat(h_sock, &sb) == 0 && S_ISSOCK(sb.st_mode))
			return pid;
		nap();
	}
	if (!listen)
		return pid; /* still running: the caller decides */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	forget(pid);
	fail_msg("cofferd did not create %s in time", h_sock);
	return -1;
}

/* A sanitizer report from cofferd or a worker fails the test. */
static void check_clean(void)
{
	assert_false(h_log_has("runtime error:"));
	assert_false(h_log_has("ERROR: AddressSanitizer"));
	assert_false(h_log_has("ERROR: LeakSanitizer"));
}

int h_stop(pid_t pid)
{
	long deadline = now_ms() + T_MS;
	int st = -1;

	kill(pid, SIGTERM);
	while (now_ms() < deadline) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			forget(pid);
			check_clean();
			return st;
		}
		nap();
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	forget(pid);
	fail_msg("cofferd %ld did not stop on SIGTERM", (long)pid);
	return st;
}

void h_kill_all(void)
{
	while (nrunning > 0) {
		pid_t pid = running[--nrunning];
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

bool h_log_has(const char *s)
{
	FILE *f = fopen(h_path("cofferd.log"), "r");
	char line[2048];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

bool h_wait_log(const char *s)
{
	long deadline = now_ms() + T_MS;

	while (!h_log_has(s) && now_ms() < deadline)
		nap();
	return h_log_has(s);
}

size_t h_children(pid_t pid, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL && n < max) {
		char p[300], buf[512], *rp;
		long ppid = 0;
		FILE *f;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", e->d_name);
		f = fopen(p, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL) {
			/* pid (comm) state ppid: comm may hold spaces */
			rp = strrchr(buf, ')');
			char state = 0;
			if (rp != NULL &&
			    sscanf(rp + 1, " %c %ld", &state, &ppid) == 2 &&
			    ppid == pid && state != 'Z')
				out[n++] = (pid_t)atol(e->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* ---- the raw client ---------------------------------------------------- */

int h_unix_fd(void)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h_sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

void h_connect(struct h_cli *cli)
{
	memset(cli, 0, sizeof(*cli));
	assert_int_equal(
	    cf_conn_new(h_unix_fd(), NULL, CF_FRAME_MAX_DEFAULT, &cli->c), 0);
	assert_int_equal(cf_hello_client(cli->c, T_MS, &cli->hello), 0);
}

void h_close(struct h_cli *cli)
{
	cf_conn_free(cli->c);
	cli->c = NULL;
}

int h_recv(struct h_cli *cli, struct cf_frame *f)
{
	memset(f, 0, sizeof(*f));
	return cf_conn_recv(cli->c, f, T_MS);
}

CK_RV h_call(struct h_cli *cli, uint16_t fn, struct cf_wout *req,
	     struct cf_frame *f, struct cf_win *r)
{
	uint32_t id = ++cli->id;
	uint64_t rv = (uint64_t)-1;

	assert_false(req->bad);
	assert_int_equal(cf_conn_send(cli->c, CF_FRAME_REQUEST, fn, id,
				      req->data, req->len, T_MS),
			 0);
	cf_wout_clear(req);
	assert_int_equal(h_recv(cli, f), 0);
	if (f->type == CF_FRAME_ERROR) {
		uint32_t code = 0;
		char why[128] = "";
		cf_conn_parse_error(f, &code, why, sizeof(why));
		fail_msg("fn %u: error frame %u: %s", fn, code, why);
	}
	assert_int_equal(f->type, CF_FRAME_REPLY);
	assert_int_equal(f->id, id);
	assert_int_equal(f->fn, fn);
	cf_win_init(r, f->payload, f->len);
	assert_true(cf_r_u64(r, &rv));
	return (CK_RV)rv;
}

void h_expect_error(struct h_cli *cli, uint32_t code)
{
	struct cf_frame f;
	uint32_t got = 0;

	assert_int_equal(h_recv(cli, &f), 0);
	assert_int_equal(f.type, CF_FRAME_ERROR);
	assert_int_equal(cf_conn_parse_error(&f, &got, NULL, 0), 0);
	assert_int_equal(got, code);
	cf_frame_clear(&f);
}

void h_expect_closed(struct h_cli *cli)
{
	struct cf_frame f;
	int rc;

	/* Error frames may come first; then the end of the stream. */
	for (int i = 0; i < 4; i++) {
		rc = h_recv(cli, &f);
		if (rc != 0)
			break;
		assert_int_equal(f.type, CF_FRAME_ERROR);
		cf_frame_clear(&f);
	}
	assert_int_equal(rc, -ECONNRESET);
}

static void done(struct cf_frame *f, struct cf_win *r)
{
	assert_true(cf_win_done(r));
	cf_win_clear(r);
	cf_frame_clear(f);
}

CK_RV h_get_info(struct h_cli *cli)
{
	struct cf_wout w;
	struct cf_frame f;
	struct cf_win r;
	CK_INFO info;
	CK_RV rv;

	cf_wout_init(&w, 1024);
	rv = h_call(cli, 3, &w, &f, &r);
	if (rv == CKR_OK)
		assert_true(cf_r_info(&r, &info));
	done(&f, &r);
	return rv;
}

CK_RV h_slot_list(struct h_cli *cli, CK_SLOT_ID *slots, CK_ULONG *n)
{
	struct cf_wout w;
	struct cf_frame f;
	struct cf_win r;
	CK_RV rv;

	cf_wout_init(&w, 1024);
	cf_w_u8(&w, 0);
	cf_w_ulongs_req(&w, slots, n);
	rv = h_call(cli, 7, &w, &f, &r);
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		assert_true(cf_r_ulongs_rep(&r, rv, slots, n));
	done(&f, &r);
	return rv;
}

CK_RV h_token_label(struct h_cli *cli, CK_SLOT_ID slot, char label[33])
{
	struct cf_wout w;
	struct cf_frame f;
	struct cf_win r;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	cf_wout_init(&w, 1024);
	cf_w_ulong(&w, slot);
	rv = h_call(cli, 9, &w, &f, &r);
	label[0] = '\0';
	if (rv == CKR_OK) {
		assert_true(cf_r_token_info(&r, &ti));
		memcpy(label, ti.label, 32);
		label[32] = '\0';
		for (int i = 31; i >= 0 && label[i] == ' '; i--)
			label[i] = '\0';
	}
	done(&f, &r);
	return rv;
}

CK_RV h_slot_of(struct h_cli *cli, const char *label, CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	char l[33];

	assert_int_equal(h_slot_list(cli, slots, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++)
		if (h_token_label(cli, slots[i], l) == CKR_OK &&
		    strcmp(l, label) == 0) {
			*slot = slots[i];
			return CKR_OK;
		}
	return CKR_SLOT_ID_INVALID;
}

CK_RV h_open_session(struct h_cli *cli, CK_SLOT_ID slot, CK_SESSION_HANDLE *h)
{
	struct cf_wout w;
	struct cf_frame f;
	struct cf_win r;
	CK_RV rv;

	cf_wout_init(&w, 1024);
	cf_w_ulong(&w, slot);
	cf_w_ulong(&w, CKF_SERIAL_SESSION | CKF_RW_SESSION);
	rv = h_call(cli, 16, &w, &f, &r);
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		assert_true(cf_r_ulong(&r, h));
	done(&f, &r);
	return rv;
}

CK_RV h_close_session(struct h_cli *cli, CK_SESSION_HANDLE h)
{
	struct cf_wout w;
	struct cf_frame f;
	struct cf_win r;
	CK_RV rv;

	cf_wout_init(&w, 1024);
	cf_w_ulong(&w, h);
	rv = h_call(cli, 17, &w, &f, &r);
	done(&f, &r);
	return rv;
}

CK_RV h_random(struct h_cli *cli, CK_SESSION_HANDLE h, uint8_t *buf,
	       CK_ULONG len)
{
	struct cf_wout w;
	struct cf_frame f;
	struct cf_win r;
	const uint8_t *p = NULL;
	CK_ULONG n = 0;
	CK_RV rv;

	cf_wout_init(&w, 1024);
	cf_w_ulong(&w, h);
	cf_w_ulong(&w, len);
	rv = h_call(cli, 90, &w, &f, &r);
	if (rv == CKR_OK) {
		assert_true(cf_r_bytes(&r, &p, &n));
		assert_int_equal(n, len);
		memcpy(buf, p, n);
	}
	done(&f, &r);
	return rv;
}

/* ---- suite set-up ------------------------------------------------------ */

static CK_RV init_token(struct h_cli *cli, CK_SLOT_ID slot, const char *label)
{
	struct cf_wout w;
	struct cf_frame f;
	struct cf_win r;
	char padded[32];
	CK_RV rv;

	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, strlen(label));
	cf_wout_init(&w, 1024);
	cf_w_ulong(&w, slot);
	cf_w_bytes(&w, "12345678", 8);
	cf_w_raw(&w, padded, 32);
	rv = h_call(cli, 13, &w, &f, &r);
	done(&f, &r);
	return rv;
}

/* The uninitialized token's slot (libcoffer always keeps one free). */
static CK_SLOT_ID free_slot(struct h_cli *cli)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	char l[33];

	assert_int_equal(h_slot_list(cli, slots, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++)
		if (h_token_label(cli, slots[i], l) == CKR_OK && l[0] == '\0')
			return slots[i];
	fail_msg("no free slot");
	return 0;
}

int h_setup(int argc, char **argv)
{
	struct h_cli cli;
	pid_t pid;
	char conf[600];

	if (argc < 3) {
		fprintf(stderr, "usage: %s COFFERD MODULE\n", argv[0]);
		return -1;
	}
	h_cofferd = argv[1];
	h_module = argv[2];
	signal(SIGPIPE, SIG_IGN);
	snprintf(h_dir, sizeof(h_dir), "/tmp/cofferd-test-XXXXXX");
	if (mkdtemp(h_dir) == NULL)
		return -1;
	snprintf(h_sock, sizeof(h_sock), "%s/sock", h_dir);
	mkdir(h_path("tokens"), 0700);
	snprintf(conf, sizeof(conf), "token_dir = %s\nkdf_cost = 10\n",
		 h_path("tokens"));
	h_write(h_path("coffer.conf"), conf);
	setenv("COFFER_CONF", h_path("coffer.conf"), 1);

	pid = h_start(NULL, true, NULL, NULL);
	h_connect(&cli);
	assert_int_equal(init_token(&cli, free_slot(&cli), "alpha"), CKR_OK);
	assert_int_equal(init_token(&cli, free_slot(&cli), "beta"), CKR_OK);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
	return 0;
}

static int rm_entry(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return unlink(dir);
	while ((e = readdir(d)) != NULL) {
		char p[1024];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		rm_entry(p);
	}
	closedir(d);
	return rmdir(dir);
}

void h_teardown(void)
{
	h_kill_all();
	if (getenv("COFFERD_TEST_KEEP") == NULL && h_dir[0] != '\0')
		rm_entry(h_dir);
}
