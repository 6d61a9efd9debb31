/*
 * main.c - coffer-bench: options, one runner process per module, the
 * in-process OpenSSL reference, the report.
 *
 * Timings are measured and printed, never judged: the exit status says
 * only whether every PKCS#11 call succeeded.
 */
#include "bench.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SOFTHSM_DEFAULT_CAP 10000

static void usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: coffer-bench --module NAME=PATH [--module NAME=PATH ...]\n"
	    "         [--workload W[,W...]] [--sizes N[,N...]]\n"
	    "         [--max-objects-for NAME=N] [--seconds S] "
	    "[--init-runs N]\n"
	    "         [--reference NAME] [--json FILE] [--self-check]\n"
	    "         [--module-env NAME=VAR=VALUE ...] "
	    "[--server-pid NAME=PID ...]\n"
	    "         [--pause-us N]\n"
	    "\n"
	    "Runs the same PKCS#11 workloads against each module, each on "
	    "a fresh\nscratch token in its own process, and prints one "
	    "table with ratios.\n"
	    "Defaults: every workload, --sizes 100,10000,100000, "
	    "--seconds 2,\n--init-runs 5, --max-objects-for 10000 for "
	    "SoftHSMv2, reference = the\nSoftHSMv2 module if any, else "
	    "the first.\n"
	    "--self-check: 10 objects, short loops; exits non-zero if any "
	    "call failed.\n"
	    "--module-env: set VAR=VALUE in module NAME's processes only "
	    "(e.g. the\nserver address of a client module).\n"
	    "--server-pid: module NAME forwards to server PID, whose token "
	    "the caller\nset up (no scratch token for it); the CPU time of "
	    "PID and its children\nis measured beside the bench's own.\n"
	    "--pause-us: sleep N microseconds between the operations of a "
	    "timed\n(per-operation) workload, untimed: each operation then "
	    "starts on a CPU\nthat went idle, as a server's does between "
	    "a client's calls.\n"
	    "\nworkloads:\n");
	for (size_t w = 0; w < bench_nworkloads; w++)
		fprintf(fp, "  %-12s %s%s\n", bench_workloads[w].name,
			bench_workloads[w].what,
			bench_workloads[w].sized ? " (per size)" : "");
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	*out = 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 ||
	    v > 100000000ULL)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int parse_sizes(struct bench_opts *o, const char *arg)
{
	char buf[512];
	char *save = NULL;
	size_t n = 0;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	for (char *t = strtok_r(buf, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (n == BENCH_MAX_SIZES || parse_size(t, &o->sizes[n]) != 0)
			return -EINVAL;
		n++;
	}
	if (n == 0)
		return -EINVAL;
	/* The fill only grows, so the sizes run in ascending order. */
	qsort(o->sizes, n, sizeof(o->sizes[0]), cmp_size);
	o->nsizes = 0;
	for (size_t i = 0; i < n; i++)
		if (o->nsizes == 0 || o->sizes[i] != o->sizes[o->nsizes - 1])
			o->sizes[o->nsizes++] = o->sizes[i];
	return 0;
}

static int parse_workloads(struct bench_opts *o, const char *arg)
{
	char buf[512];
	char *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	memset(o->selected, 0, sizeof(o->selected));
	for (char *t = strtok_r(buf, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (size_t w = 0; w < bench_nworkloads; w++) {
			if (strcmp(t, "all") == 0 ||
			    strcmp(t, bench_workloads[w].name) == 0) {
				o->selected[w] = true;
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "coffer-bench: unknown workload %s\n",
				t);
			return -EINVAL;
		}
	}
	return 0;
}

/* Splits "NAME=VALUE"; NAME must be a short file-name-safe word. */
static int split_pair(const char *arg, char name[BENCH_NAME_MAX],
		      const char **value)
{
	const char *eq = strchr(arg, '=');
	size_t len;

	*value = NULL;
	if (eq == NULL)
		return -EINVAL;
	len = (size_t)(eq - arg);
	if (len == 0 || len >= BENCH_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = arg[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return -EINVAL;
	}
	memcpy(name, arg, len);
	name[len] = '\0';
	*value = eq + 1;
	return 0;
}

static int add_module(struct bench_opts *o, const char *arg)
{
	struct bench_module *m;
	const char *path;
	char name[BENCH_NAME_MAX];

	if (o->nmodules == BENCH_MAX_MODULES ||
	    split_pair(arg, name, &path) != 0 || *path == '\0' ||
	    strlen(path) >= BENCH_PATH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < o->nmodules; i++)
		if (strcmp(o->modules[i].name, name) == 0)
			return -EEXIST;
	m = &o->modules[o->nmodules++];
	strcpy(m->name, name);
	strcpy(m->path, path);
	m->softhsm = strstr(path, "softhsm") != NULL;
	m->max_objects = m->softhsm ? SOFTHSM_DEFAULT_CAP : SIZE_MAX;
	return 0;
}

static int set_cap(struct bench_opts *o, const char *arg)
{
	char name[BENCH_NAME_MAX];
	const char *val;
	size_t cap;

	if (split_pair(arg, name, &val) != 0 || parse_size(val, &cap) != 0)
		return -EINVAL;
	for (size_t i = 0; i < o->nmodules; i++) {
		if (strcmp(o->modules[i].name, name) == 0) {
			o->modules[i].max_objects = cap;
			return 0;
		}
	}
	return -ENOENT;
}

static struct bench_module *find_module(struct bench_opts *o,
					const char *name)
{
	for (size_t i = 0; i < o->nmodules; i++)
		if (strcmp(o->modules[i].name, name) == 0)
			return &o->modules[i];
	return NULL;
}

/* NAME=VAR=VALUE: VAR a non-empty name without '='. */
static int add_env(struct bench_opts *o, const char *arg)
{
	char name[BENCH_NAME_MAX];
	struct bench_module *m;
	const char *val;

	if (split_pair(arg, name, &val) != 0 || (m = find_module(o, name)) ==
						    NULL)
		return -EINVAL;
	if (*val == '=' || strchr(val, '=') == NULL ||
	    strlen(val) >= BENCH_PATH_MAX || m->nenv == BENCH_MAX_ENV)
		return -EINVAL;
	strcpy(m->env[m->nenv++], val);
	return 0;
}

static int set_server_pid(struct bench_opts *o, const char *arg)
{
	char name[BENCH_NAME_MAX];
	struct bench_module *m;
	const char *val;
	size_t pid;

	if (split_pair(arg, name, &val) != 0 ||
	    (m = find_module(o, name)) == NULL || parse_size(val, &pid) != 0 ||
	    pid > INT_MAX)
		return -EINVAL;
	m->server_pid = (long)pid;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.001) || v > 3600)
		return -EINVAL;
	*out = v;
	return 0;
}

enum {
	OPT_MODULE = 256,
	OPT_WORKLOAD,
	OPT_SIZES,
	OPT_CAP,
	OPT_SECONDS,
	OPT_INIT_RUNS,
	OPT_REFERENCE,
	OPT_JSON,
	OPT_SELF_CHECK,
	OPT_MODULE_ENV,
	OPT_SERVER_PID,
	OPT_PAUSE,
	OPT_HELP,
};

static const struct option long_opts[] = {
    {"module", required_argument, NULL, OPT_MODULE},
    {"workload", required_argument, NULL, OPT_WORKLOAD},
    {"sizes", required_argument, NULL, OPT_SIZES},
    {"max-objects-for", required_argument, NULL, OPT_CAP},
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"init-runs", required_argument, NULL, OPT_INIT_RUNS},
    {"reference", required_argument, NULL, OPT_REFERENCE},
    {"json", required_argument, NULL, OPT_JSON},
    {"self-check", no_argument, NULL, OPT_SELF_CHECK},
    {"module-env", required_argument, NULL, OPT_MODULE_ENV},
    {"server-pid", required_argument, NULL, OPT_SERVER_PID},
    {"pause-us", required_argument, NULL, OPT_PAUSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char *option_name(int c)
{
	for (size_t i = 0; long_opts[i].name != NULL; i++)
		if (long_opts[i].val == c)
			return long_opts[i].name;
	return "option";
}

/* Caps, module settings and the reference name only mean something once
 * every module is known, so they are applied after the loop. */
#define LATE_MAX (BENCH_MAX_MODULES * (BENCH_MAX_ENV + 2))
struct late_opts {
	const char *caps[LATE_MAX];
	int cap_kind[LATE_MAX]; /* OPT_CAP, OPT_MODULE_ENV, OPT_SERVER_PID */
	size_t ncaps;
	const char *reference;
	bool sizes_given, seconds_given, init_runs_given;
};

static int parse_one(struct bench_opts *o, struct late_opts *l, int c,
		     const char *arg)
{
	size_t n;

	switch (c) {
	case OPT_MODULE:
		return add_module(o, arg);
	case OPT_WORKLOAD:
		return parse_workloads(o, arg);
	case OPT_SIZES:
		l->sizes_given = true;
		return parse_sizes(o, arg);
	case OPT_CAP:
	case OPT_MODULE_ENV:
	case OPT_SERVER_PID:
		if (l->ncaps == LATE_MAX)
			return -EINVAL;
		l->cap_kind[l->ncaps] = c;
		l->caps[l->ncaps++] = arg;
		return 0;
	case OPT_SECONDS:
		l->seconds_given = true;
		return parse_seconds(arg, &o->seconds);
	case OPT_INIT_RUNS:
		l->init_runs_given = true;
		if (parse_size(arg, &n) != 0 || n > 64)
			return -EINVAL;
		o->init_runs = (unsigned int)n;
		return 0;
	case OPT_REFERENCE:
		l->reference = arg;
		return 0;
	case OPT_JSON:
		o->json = arg;
		return 0;
	case OPT_SELF_CHECK:
		o->self_check = true;
		return 0;
	case OPT_PAUSE:
		/* Up to a second: longer pauses only make the loop slow. */
		if (parse_size(arg, &n) != 0 || n > 1000000)
			return -EINVAL;
		o->pause_us = (unsigned int)n;
		return 0;
	default:
		return -EINVAL;
	}
}

static int parse_args(struct bench_opts *o, int argc, char **argv)
{
	struct late_opts l = {0};
	int c;

	o->seconds = 2;
	o->min_runs = 20;
	o->init_runs = 5;
	for (size_t w = 0; w < bench_nworkloads; w++)
		o->selected[w] = true;
	(void)parse_sizes(o, "100,10000,100000");

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			usage(stdout);
			exit(0);
		}
		if (parse_one(o, &l, c, optarg) != 0) {
			fprintf(stderr, "coffer-bench: bad --%s %s\n",
				option_name(c), optarg ? optarg : "");
			return -EINVAL;
		}
	}
	if (optind != argc || o->nmodules == 0) {
		fprintf(stderr, "coffer-bench: %s\n",
			optind != argc ? "unexpected argument"
				       : "give at least one --module");
		return -EINVAL;
	}
	for (size_t i = 0; i < l.ncaps; i++) {
		int k = l.cap_kind[i];
		int rc = k == OPT_CAP	     ? set_cap(o, l.caps[i])
			 : k == OPT_MODULE_ENV ? add_env(o, l.caps[i])
					       : set_server_pid(o, l.caps[i]);

		if (rc != 0) {
			fprintf(stderr,
				"coffer-bench: bad --%s %s (%s for a --module "
				"NAME)\n",
				option_name(k), l.caps[i],
				k == OPT_CAP	       ? "NAME=N"
				: k == OPT_MODULE_ENV ? "NAME=VAR=VALUE"
						      : "NAME=PID");
			return -EINVAL;
		}
	}
	if (o->self_check) {
		/* Small enough to run as a test, big enough to call every
		 * entry point the full run calls. */
		if (!l.sizes_given)
			(void)parse_sizes(o, "10");
		if (!l.seconds_given)
			o->seconds = 0.05;
		if (!l.init_runs_given)
			o->init_runs = 2;
		o->min_runs = 3;
	}
	o->reference = 0;
	for (size_t i = 0; i < o->nmodules; i++) {
		if (l.reference != NULL
			? strcmp(o->modules[i].name, l.reference) == 0
			: o->modules[i].softhsm) {
			o->reference = i;
			break;
		}
		if (l.reference != NULL && i + 1 == o->nmodules) {
			fprintf(stderr, "coffer-bench: no module %s\n",
				l.reference);
			return -EINVAL;
		}
	}
	return 0;
}

static bool read_full(int fd, struct bench_result *r)
{
	char *p = (char *)r;
	size_t off = 0;

	while (off < sizeof(*r)) {
		ssize_t n = read(fd, p + off, sizeof(*r) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		off += (size_t)n;
	}
	return true;
}

/* Forks the module's runner and files every record it (and its children)
 * send into the table. Returns the runner's verdict. */
static int run_module(const struct bench_opts *o, size_t mi,
		      struct bench_table *t)
{
	struct bench_result r;
	int p[2], status, result;
	pid_t pid;

	if (pipe(p) != 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		result = -errno;
		close(p[0]);
		close(p[1]);
		return result;
	}
	if (pid == 0) {
		close(p[0]);
		_exit(bench_runner(o, mi, p[1]));
	}
	close(p[1]);
	while (read_full(p[0], &r)) {
		if (r.workload >= bench_nworkloads || r.size_idx >= o->nsizes)
			continue;
		r.err[sizeof(r.err) - 1] = '\0';
		t->cell[r.workload][r.size_idx][mi] = r;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status))
		return -EINTR;
	return WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static void run_openssl(const struct bench_opts *o, struct bench_table *t)
{
	for (size_t w = 0; w < bench_nworkloads; w++) {
		const struct bench_workload *wl = &bench_workloads[w];
		struct bench_result *r = &t->cell[w][0][o->nmodules];

		if (!o->selected[w] || wl->openssl_op == NULL || wl->sized)
			continue;
		r->workload = (uint32_t)w;
		bench_run_openssl(o, wl, r);
	}
}

/* A module cell that should hold a figure but holds a failure. */
static bool any_failure(const struct bench_opts *o, const struct bench_table *t)
{
	bool failed = false;

	for (size_t w = 0; w < bench_nworkloads; w++) {
		size_t ns = bench_workloads[w].sized ? o->nsizes : 1;

		if (!o->selected[w])
			continue;
		for (size_t s = 0; s < ns; s++)
			for (size_t m = 0; m <= o->nmodules; m++) {
				uint32_t st = t->cell[w][s][m].status;

				if (m == o->nmodules &&
				    (bench_workloads[w].openssl_op == NULL ||
				     bench_workloads[w].sized))
					continue;
				if (st == BENCH_ERROR || st == BENCH_MISSING)
					failed = true;
			}
	}
	return failed;
}

static int remove_entry(const char *path, const struct stat *sb, int type,
			struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "coffer-bench: cannot remove %s: %s\n", path,
			strerror(errno));
	return 0;
}

static int make_scratch(struct bench_opts *o)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (snprintf(o->scratch, sizeof(o->scratch), "%s/coffer-bench-XXXXXX",
		     tmp) >= (int)sizeof(o->scratch))
		return -ENAMETOOLONG;
	if (mkdtemp(o->scratch) == NULL)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts *o;
	struct bench_table *t;
	int rc, result = 2;

	o = calloc(1, sizeof(*o));
	t = calloc(1, sizeof(*t));
	if (o == NULL || t == NULL) {
		fprintf(stderr, "coffer-bench: out of memory\n");
		goto out_free;
	}
	if (parse_args(o, argc, argv) != 0) {
		usage(stderr);
		goto out_free;
	}
	rc = make_scratch(o);
	if (rc != 0) {
		fprintf(stderr, "coffer-bench: scratch directory: %s\n",
			strerror(-rc));
		goto out_free;
	}

	result = 0;
	for (size_t m = 0; m < o->nmodules; m++) {
		rc = run_module(o, m, t);
		if (rc != 0) {
			fprintf(stderr, "coffer-bench: %s: %s\n",
				o->modules[m].name,
				rc == -EINTR ? "runner killed by a signal"
					     : "some calls failed");
			result = 1;
		}
	}
	run_openssl(o, t);
	if (any_failure(o, t))
		result = 1;

	bench_report_table(o, t);
	if (o->json != NULL && bench_report_json(o, t, o->json) != 0) {
		fprintf(stderr, "coffer-bench: cannot write %s\n", o->json);
		result = 1;
	}
	if (o->self_check)
		printf("self-check: %s\n", result == 0 ? "ok" : "FAILED");

	nftw(o->scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
out_free:
	free(t);
	free(o);
	return result;
}
