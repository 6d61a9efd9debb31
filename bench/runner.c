/*
 * runner.c - everything that happens for one module, in processes that
 * main forked for it: the scratch token's config, one worker process per
 * fill stage and one fresh process per cold (init, connect) repetition.
 *
 * The runner itself never loads the module, so each fork below starts
 * from a process in which the module has never run.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Same targets for every module: the seed depends on the workload and
 * the size only. */
static uint64_t seed_for(size_t w, size_t n)
{
	return 0x9e3779b97f4a7c15ULL ^ ((uint64_t)w << 40) ^ (uint64_t)n;
}

int bench_write_result(int fd, const struct bench_result *r)
{
	const char *p = (const char *)r;
	size_t off = 0;

	while (off < sizeof(*r)) {
		ssize_t n = write(fd, p + off, sizeof(*r) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

static void emit(int fd, size_t w, size_t si, enum bench_status st,
		 const char *err)
{
	struct bench_result r = {
	    .workload = (uint32_t)w, .size_idx = (uint32_t)si, .status = st};

	if (err != NULL)
		snprintf(r.err, sizeof(r.err), "%s", err);
	bench_write_result(fd, &r);
}

/* What one worker process does. */
struct stage {
	size_t si;    /* size index of the sized rows, when sized */
	size_t from;  /* objects already on the token */
	size_t to;    /* objects wanted on the token */
	bool init;    /* first stage: C_InitToken + C_InitPIN */
	bool sized;   /* run the sized rows at si */
	bool unsized; /* run the unsized rows (once per module) */
};

static bool in_stage(const struct bench_workload *w, const struct stage *s)
{
	if (w->kind == BENCH_COLD)
		return false;
	return w->sized ? s->sized : s->unsized;
}

/* A stage that cannot start marks each of its rows with the reason. */
static void stage_failed(const struct bench_opts *o, const struct stage *s,
			 int fd, const char *err)
{
	for (size_t w = 0; w < bench_nworkloads; w++)
		if (o->selected[w] && in_stage(&bench_workloads[w], s))
			emit(fd, w, bench_workloads[w].sized ? s->si : 0,
			     BENCH_ERROR, err);
}

static CK_RV fill(const struct bench_opts *o, struct bench_tok *t,
		  const struct stage *s, int fd)
{
	struct bench_result r = {.workload = 0, .size_idx = (uint32_t)s->si};
	double start = bench_now();
	CK_RV rv = CKR_OK;

	t->rng = seed_for(0, s->from);
	for (size_t i = s->from; i < s->to; i++) {
		rv = bench_create_object(t, i);
		if (rv != CKR_OK)
			break;
		t->nobjects = i + 1;
	}
	if (!o->selected[0] || !s->sized)
		return rv;
	if (rv != CKR_OK) {
		r.status = BENCH_ERROR;
		snprintf(r.err, sizeof(r.err), "%s", bench_rv_name(rv));
	} else {
		double dt = bench_now() - start;

		r.status = BENCH_OK;
		r.runs = (uint32_t)(s->to - s->from);
		r.value = dt > 0 ? (double)(s->to - s->from) / dt : 0;
	}
	bench_write_result(fd, &r);
	return rv;
}

static int worker(const struct bench_opts *o, const struct bench_module *m,
		  const struct stage *s, int fd)
{
	struct bench_tok t = {.nobjects = s->from, .server_pid = m->server_pid};
	char err[BENCH_ERR_MAX] = "";
	CK_RV rv;

	rv = bench_p11_load(m->path, &t.f, err, sizeof(err));
	if (rv != CKR_OK)
		goto out_fail;
	rv = bench_p11_initialize(t.f);
	if (rv != CKR_OK) {
		snprintf(err, sizeof(err), "C_Initialize: %s",
			 bench_rv_name(rv));
		goto out_fail;
	}
	/* A token the caller prepared (the one a server exports, set up
	 * before the server started) is used as it is. */
	if (s->init && bench_p11_find_slot(t.f, &t.slot) != CKR_OK) {
		rv = bench_p11_init_token(t.f, err, sizeof(err));
		if (rv != CKR_OK)
			goto out_finalize;
	}
	rv = bench_p11_find_slot(t.f, &t.slot);
	if (rv == CKR_OK)
		rv = t.f->C_OpenSession(t.slot,
					CKF_SERIAL_SESSION | CKF_RW_SESSION,
					NULL, NULL, &t.sess);
	if (rv != CKR_OK) {
		snprintf(err, sizeof(err), "C_OpenSession: %s",
			 bench_rv_name(rv));
		goto out_finalize;
	}
	rv = t.f->C_Login(t.sess, CKU_USER, (CK_UTF8CHAR_PTR)BENCH_USER_PIN,
			  sizeof(BENCH_USER_PIN) - 1);
	if (rv != CKR_OK) {
		snprintf(err, sizeof(err), "C_Login: %s", bench_rv_name(rv));
		goto out_finalize;
	}

	rv = fill(o, &t, s, fd);
	if (rv != CKR_OK) {
		snprintf(err, sizeof(err), "fill: %s", bench_rv_name(rv));
		goto out_finalize;
	}
	for (size_t w = 0; w < bench_nworkloads; w++) {
		const struct bench_workload *wl = &bench_workloads[w];
		struct bench_result r = {.workload = (uint32_t)w,
					 .size_idx =
					     (uint32_t)(wl->sized ? s->si : 0)};

		if (!o->selected[w] ||
		    (wl->kind != BENCH_TIMED && wl->kind != BENCH_RATE) ||
		    !in_stage(wl, s))
			continue;
		t.rng = seed_for(w, s->to);
		if (wl->kind == BENCH_RATE)
			bench_run_rate(o, &t, wl, &r);
		else
			bench_run_timed(o, &t, wl, &r);
		bench_write_result(fd, &r);
		if (r.status == BENCH_ERROR)
			rv = CKR_GENERAL_ERROR;
	}
	t.f->C_Logout(t.sess);
	t.f->C_CloseSession(t.sess);
	t.f->C_Finalize(NULL);
	/* A failed op is reported in its cell; later stages still run. */
	return rv == CKR_OK ? 0 : 2;

out_finalize:
	t.f->C_Finalize(NULL);
out_fail:
	stage_failed(o, s, fd, err);
	return 1;
}

/* One cold repetition: the module is loaded and the row's prepare runs
 * (not timed), then the clock runs from C_Initialize to the end of the
 * row's op (init: the first find; connect: the first call). */
static int cold_run(const struct bench_module *m,
		    const struct bench_workload *w, size_t n, uint64_t seed,
		    int fd)
{
	struct bench_result r = {.status = BENCH_ERROR};
	struct bench_tok t = {.nobjects = n, .rng = seed};
	struct bench_arg a = {0};
	double t0;
	CK_RV rv;

	rv = bench_p11_load(m->path, &t.f, r.err, sizeof(r.err));
	if (rv != CKR_OK)
		goto out;
	rv = w->prepare(&t, &a);
	if (rv != CKR_OK) {
		snprintf(r.err, sizeof(r.err), "%s",
			 n == 0 ? "no objects" : "prepare failed");
		goto out;
	}
	t0 = bench_now();
	rv = bench_p11_initialize(t.f);
	if (rv != CKR_OK)
		goto out_err;
	rv = w->op(&t, &a);
	r.value = bench_now() - t0;
	if (rv == CKR_OK)
		r.status = BENCH_OK;
	t.f->C_Finalize(NULL);
out_err:
	if (rv != CKR_OK)
		bench_result_error(&r, rv);
out:
	bench_write_result(fd, &r);
	return r.status == BENCH_OK ? 0 : 1;
}

/* Forks; the child runs fn and leaves with _exit so that no module
 * destructor or atexit handler runs after the measurement (SoftHSMv2's
 * are known to crash). Returns the child's exit status, or -1. */
static int run_child(int (*fn)(const void *), const void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "coffer-bench: child killed by signal %d\n",
			WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

struct worker_call {
	const struct bench_opts *o;
	const struct bench_module *m;
	const struct stage *s;
	int fd;
};

static int worker_thunk(const void *p)
{
	const struct worker_call *c = p;

	return worker(c->o, c->m, c->s, c->fd);
}

struct cold_call {
	const struct bench_module *m;
	const struct bench_workload *w;
	size_t n;
	uint64_t seed;
	int fd;
};

static int cold_thunk(const void *p)
{
	const struct cold_call *c = p;

	return cold_run(c->m, c->w, c->n, c->seed, c->fd);
}

static int read_result(int fd, struct bench_result *r)
{
	char *p = (char *)r;
	size_t off = 0;

	while (off < sizeof(*r)) {
		ssize_t n = read(fd, p + off, sizeof(*r) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* A cold row (init@N, connect): a fresh process per repetition, median
 * of the repetitions. */
static int measure_cold(const struct bench_opts *o, size_t mi, size_t w,
			size_t si, int fd)
{
	const struct bench_workload *wl = &bench_workloads[w];
	size_t objects = wl->sized ? o->sizes[si] : 0;
	struct bench_result out = {.workload = (uint32_t)w,
				   .size_idx = (uint32_t)si,
				   .status = BENCH_OK};
	double v[64];
	size_t n = 0;
	int p[2];

	if (pipe(p) != 0)
		return -1;
	for (unsigned int i = 0; i < o->init_runs && n < 64; i++) {
		struct cold_call c = {&o->modules[mi], wl, objects,
				      seed_for(w, objects) + i, p[1]};
		struct bench_result r;

		if (run_child(cold_thunk, &c) < 0 ||
		    read_result(p[0], &r) != 0) {
			out.status = BENCH_ERROR;
			snprintf(out.err, sizeof(out.err), "process died");
			break;
		}
		if (r.status != BENCH_OK) {
			out.status = r.status;
			memcpy(out.err, r.err, sizeof(out.err));
			break;
		}
		v[n++] = r.value;
	}
	close(p[0]);
	close(p[1]);
	if (out.status == BENCH_OK) {
		out.runs = (uint32_t)n;
		bench_stats(v, n, &out.value, &out.p90);
	}
	bench_write_result(fd, &out);
	return out.status == BENCH_OK || out.status == BENCH_UNSUPPORTED ? 0
									 : 1;
}

/* Every selected cold row of one kind (sized at si, or unsized). */
static int measure_colds(const struct bench_opts *o, size_t mi, bool sized,
			 size_t si, int fd)
{
	int result = 0;

	for (size_t w = 0; w < bench_nworkloads; w++)
		if (o->selected[w] && bench_workloads[w].kind == BENCH_COLD &&
		    bench_workloads[w].sized == sized &&
		    measure_cold(o, mi, w, si, fd) != 0)
			result = 1;
	return result;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The module's own scratch token: a private directory and a config file
 * naming it, found through the module's environment variable. */
static int setup_env(const struct bench_opts *o, const struct bench_module *m)
{
	char dir[BENCH_PATH_MAX], tokens[BENCH_PATH_MAX], conf[BENCH_PATH_MAX];
	FILE *fp;
	int rc;

	if (snprintf(dir, sizeof(dir), "%s/%s", o->scratch, m->name) >=
		(int)sizeof(dir) ||
	    snprintf(tokens, sizeof(tokens), "%s/tokens", dir) >=
		(int)sizeof(tokens) ||
	    snprintf(conf, sizeof(conf), "%s/%s", dir,
		     m->softhsm ? "softhsm2.conf" : "coffer.conf") >=
		(int)sizeof(conf))
		return -ENAMETOOLONG;
	rc = make_dir(dir);
	if (rc == 0)
		rc = make_dir(tokens);
	if (rc != 0)
		return rc;
	fp = fopen(conf, "w");
	if (fp == NULL)
		return -errno;
	if (m->softhsm)
		fprintf(fp,
			"directories.tokendir = %s\n"
			"objectstore.backend = file\n"
			"log.level = ERROR\n"
			"slots.removable = false\n",
			tokens);
	else
		/* kdf_cost stays at its default: the bench logs in once
		 * per stage, and a weakened KDF would flatter nothing. */
		fprintf(fp, "token_dir = %s\n", tokens);
	if (fclose(fp) != 0)
		return -errno;
	if (setenv(m->softhsm ? "SOFTHSM2_CONF" : "COFFER_CONF", conf, 1) != 0)
		return -errno;
	return 0;
}

/* After a stage failed: its init row and every later row say why they
 * have no figure (the failed stage marked its own). */
static void not_run(const struct bench_opts *o, int fd, size_t failed)
{
	for (size_t w = 0; w < bench_nworkloads; w++) {
		const struct bench_workload *wl = &bench_workloads[w];

		/* Unsized rows ran in an earlier stage or were marked by
		 * the failed one. */
		if (!o->selected[w] || !wl->sized)
			continue;
		for (size_t si = failed; si < o->nsizes; si++)
			if (si > failed || wl->kind == BENCH_COLD)
				emit(fd, w, si, BENCH_ERROR,
				     "not run: a fill stage failed");
	}
}

static bool any_selected(const struct bench_opts *o, bool sized)
{
	for (size_t w = 0; w < bench_nworkloads; w++)
		if (o->selected[w] && bench_workloads[w].sized == sized)
			return true;
	return false;
}

/* The module's --module-env settings, for this process and its children. */
static int apply_env(const struct bench_module *m)
{
	for (size_t i = 0; i < m->nenv; i++) {
		char var[BENCH_PATH_MAX];
		const char *eq = strchr(m->env[i], '=');

		if (eq == NULL || (size_t)(eq - m->env[i]) >= sizeof(var))
			return -EINVAL;
		memcpy(var, m->env[i], (size_t)(eq - m->env[i]));
		var[eq - m->env[i]] = '\0';
		if (setenv(var, eq + 1, 1) != 0)
			return -errno;
	}
	return 0;
}

int bench_runner(const struct bench_opts *o, size_t mi, int fd)
{
	const struct bench_module *m = &o->modules[mi];
	struct stage s = {.init = true, .unsized = true};
	int rc, result = 0;

	/* A remote module's token lives in its server, set up by the
	 * caller: a scratch config here would only confuse the client. */
	rc = m->server_pid > 0 ? 0 : setup_env(o, m);
	if (rc == 0)
		rc = apply_env(m);
	if (rc != 0) {
		fprintf(stderr, "coffer-bench: %s: scratch token: %s\n",
			m->name, strerror(-rc));
		return 1;
	}
	/* Filling a token that no selected row looks at would only
	 * waste time. */
	for (size_t si = 0; si < o->nsizes && any_selected(o, true); si++) {
		struct worker_call c = {o, m, &s, fd};
		bool first = s.unsized;

		if (o->sizes[si] > m->max_objects) {
			for (size_t w = 0; w < bench_nworkloads; w++)
				if (o->selected[w] && bench_workloads[w].sized)
					emit(fd, w, si, BENCH_SKIPPED, NULL);
			continue;
		}
		s.si = si;
		s.to = o->sizes[si];
		s.sized = true;
		fprintf(stderr, "coffer-bench: %s: %zu -> %zu objects\n",
			m->name, s.from, s.to);
		rc = run_child(worker_thunk, &c);
		if (rc != 0)
			result = 1;
		if (rc != 0 && rc != 2) {
			/* The token is in an unknown state: what is left
			 * is marked, not run. */
			not_run(o, fd, si);
			if (first && measure_colds(o, mi, false, 0, fd) != 0)
				result = 1;
			return result;
		}
		s.from = s.to;
		s.init = false;
		s.unsized = false;
		if (measure_colds(o, mi, true, si, fd) != 0)
			result = 1;
		/* The unsized cold rows once, on the token the first stage
		 * set up. */
		if (first && measure_colds(o, mi, false, 0, fd) != 0)
			result = 1;
	}
	if (s.unsized && any_selected(o, false)) {
		/* No sized stage ran (none selected, or every size above
		 * the cap): the unsized rows still run. */
		struct worker_call c = {o, m, &s, fd};

		s.sized = false;
		if (run_child(worker_thunk, &c) != 0)
			result = 1;
		if (measure_colds(o, mi, false, 0, fd) != 0)
			result = 1;
	}
	return result;
}
