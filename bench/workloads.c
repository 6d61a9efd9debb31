/*
 * workloads.c - the table of workloads and the timed-loop driver.
 *
 * Adding a workload: write prepare (choose the target, untimed) and op (the
 * PKCS#11 call sequence being measured), add a row below, and describe it in
 * bench/README.md. Keys that a future sign/verify/AES-GCM/HMAC row needs can
 * be made in prepare on its first call and kept in struct bench_arg.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include <openssl/rand.h>

/* Returned by an op when a find did not come back with exactly one object;
 * vendor-defined so that it cannot be mistaken for a module's answer. */
#define BENCH_RV_WRONG_COUNT (CKR_VENDOR_DEFINED | 0xbe01UL)
#define BENCH_RV_WRONG_LENGTH (CKR_VENDOR_DEFINED | 0xbe02UL)

/* Enough for a median and p90 of anything that takes over a microsecond
 * for the default two seconds; faster ops stop at the cap. */
#define BENCH_MAX_SAMPLES (1u << 21)

uint64_t bench_rng_next(uint64_t *s)
{
	/* xorshift64*: a fixed seed gives every module the same targets. */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bench_stats(double *v, size_t n, double *median, double *p90)
{
	*median = 0;
	*p90 = 0;
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	*median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	/* Nearest rank: the smallest sample with 90% at or below it. */
	*p90 = v[(n * 9 + 9) / 10 - 1];
}

static size_t random_target(struct bench_tok *t)
{
	return (size_t)(bench_rng_next(&t->rng) % t->nobjects);
}

static CK_RV prepare_target(struct bench_tok *t, struct bench_arg *a)
{
	if (t->nobjects == 0)
		return CKR_GENERAL_ERROR;
	bench_object_name(random_target(t), a);
	return CKR_OK;
}

static CK_RV check_one(CK_RV rv, CK_ULONG count)
{
	if (rv == CKR_OK && count != 1)
		return BENCH_RV_WRONG_COUNT;
	return rv;
}

static CK_RV op_find_label(struct bench_tok *t, struct bench_arg *a)
{
	CK_ULONG count;
	CK_RV rv = bench_find(t->f, t->sess, CKA_LABEL, a->label, a->label_len,
			      &a->obj, &count);

	return check_one(rv, count);
}

static CK_RV op_find_id(struct bench_tok *t, struct bench_arg *a)
{
	CK_ULONG count;
	CK_RV rv = bench_find(t->f, t->sess, CKA_ID, a->id, a->id_len, &a->obj,
			      &count);

	return check_one(rv, count);
}

/* Resolves a small pool of random objects once, so the timed op is the
 * attribute read alone, not a find. */
static CK_RV prepare_getattr(struct bench_tok *t, struct bench_arg *a)
{
	CK_RV rv;

	while (a->npool < sizeof(a->pool) / sizeof(a->pool[0])) {
		rv = prepare_target(t, a);
		if (rv != CKR_OK)
			return rv;
		rv = op_find_label(t, a);
		if (rv != CKR_OK)
			return rv;
		a->pool[a->npool++] = a->obj;
	}
	a->obj = a->pool[bench_rng_next(&t->rng) % a->npool];
	return CKR_OK;
}

static CK_RV op_getattr(struct bench_tok *t, struct bench_arg *a)
{
	CK_ATTRIBUTE attr = {CKA_VALUE, a->buf, sizeof(a->buf)};
	CK_RV rv = t->f->C_GetAttributeValue(t->sess, a->obj, &attr, 1);

	if (rv == CKR_OK && attr.ulValueLen != BENCH_VALUE_LEN)
		return BENCH_RV_WRONG_LENGTH;
	return rv;
}

static CK_RV prepare_nothing(struct bench_tok *t, struct bench_arg *a)
{
	(void)t;
	(void)a;
	return CKR_OK;
}

/* init: the find an application starting up makes, after C_Initialize. */
static CK_RV cold_find(struct bench_tok *t, struct bench_arg *a)
{
	CK_ULONG count = 0;
	CK_RV rv = bench_p11_find_slot(t->f, &t->slot);

	if (rv == CKR_OK)
		rv = t->f->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL,
					 NULL, &t->sess);
	if (rv == CKR_OK)
		rv = bench_find(t->f, t->sess, CKA_LABEL, a->label,
				a->label_len, &a->obj, &count);
	return check_one(rv, count);
}

/* connect: the first call after C_Initialize that a remote module cannot
 * answer without its server, so a module that connects lazily pays its
 * connection set-up here. */
static CK_RV cold_first_call(struct bench_tok *t, struct bench_arg *a)
{
	CK_ULONG n = 0;

	(void)a;
	return t->f->C_GetSlotList(CK_TRUE, NULL, &n);
}

static CK_RV op_random(struct bench_tok *t, struct bench_arg *a)
{
	return t->f->C_GenerateRandom(t->sess, a->buf, 32);
}

static int openssl_random(void)
{
	unsigned char buf[32];

	return RAND_bytes(buf, sizeof(buf)) == 1 ? 0 : -1;
}

static const struct bench_workload base_workloads[] = {
    {"create", "C_CreateObject of a token object with a 64-byte value",
     BENCH_FILL, BENCH_OPS_PER_SECOND, true, NULL, NULL, NULL, NULL, 0},
    {"find-label", "FindObjectsInit/FindObjects/Final on {CKA_LABEL}",
     BENCH_TIMED, BENCH_SECONDS_PER_OP, true, prepare_target, op_find_label,
     NULL, NULL, 0},
    {"find-id", "FindObjectsInit/FindObjects/Final on {CKA_ID}", BENCH_TIMED,
     BENCH_SECONDS_PER_OP, true, prepare_target, op_find_id, NULL,
     NULL, 0},
    {"getattr", "C_GetAttributeValue(CKA_VALUE) of a token object", BENCH_TIMED,
     BENCH_SECONDS_PER_OP, true, prepare_getattr, op_getattr, NULL,
     NULL, 0},
    {"init", "C_Initialize .. first C_FindObjects by label, cold process",
     BENCH_COLD, BENCH_SECONDS_PER_OP, true, prepare_target, cold_find, NULL,
     NULL, 0},
    {"connect", "C_Initialize + first C_GetSlotList, cold process",
     BENCH_COLD, BENCH_SECONDS_PER_OP, false, prepare_nothing,
     cold_first_call, NULL, NULL, 0},
    {"random", "C_GenerateRandom(32 bytes)", BENCH_TIMED, BENCH_SECONDS_PER_OP,
     false, prepare_nothing, op_random, openssl_random, NULL, 0},
};
#define NBASE (sizeof(base_workloads) / sizeof(base_workloads[0]))

struct bench_workload bench_workloads[BENCH_MAX_WORKLOADS];
size_t bench_nworkloads;

/* One table of every row, the token rows above then the cryptographic
 * ones of crypto.c, filled before main() runs. */
__attribute__((constructor)) static void workloads_init(void)
{
	_Static_assert(NBASE <= BENCH_MAX_WORKLOADS, "raise BENCH_MAX_WORKLOADS");
	memcpy(bench_workloads, base_workloads, sizeof(base_workloads));
	bench_nworkloads = NBASE;
	for (size_t i = 0; i < bench_ncrypto_workloads &&
			   bench_nworkloads < BENCH_MAX_WORKLOADS;
	     i++)
		bench_workloads[bench_nworkloads++] = bench_crypto_workloads[i];
}

void bench_result_error(struct bench_result *r, CK_RV rv)
{
	/* A module without the function or the mechanism cannot be
	 * measured on the row: n/a, not an error. */
	r->status = rv == CKR_FUNCTION_NOT_SUPPORTED ||
			    rv == CKR_MECHANISM_INVALID
			? BENCH_UNSUPPORTED
			: BENCH_ERROR;
	if (rv == BENCH_RV_WRONG_COUNT)
		snprintf(r->err, sizeof(r->err), "find: not 1 object");
	else if (rv == BENCH_RV_WRONG_LENGTH)
		snprintf(r->err, sizeof(r->err), "wrong value length");
	else
		snprintf(r->err, sizeof(r->err), "%s", bench_rv_name(rv));
}

/* Growable sample array with a hard cap. */
struct samples {
	double *v;
	size_t n, cap;
};

static bool samples_push(struct samples *s, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		double *v;

		if (cap > BENCH_MAX_SAMPLES)
			return false;
		v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return false;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return true;
}

static bool loop_done(const struct bench_opts *o, double start, size_t n)
{
	return n >= o->min_runs && bench_now() - start >= o->seconds;
}

static void finish(struct samples *s, struct bench_result *r)
{
	if (r->status == BENCH_OK && s->n == 0) {
		r->status = BENCH_ERROR;
		snprintf(r->err, sizeof(r->err), "out of memory");
	}
	if (r->status == BENCH_OK) {
		r->runs = (uint32_t)s->n;
		bench_stats(s->v, s->n, &r->value, &r->p90);
	}
	free(s->v);
}

/* --pause-us: the CPU goes idle before the next operation. Returns the
 * seconds paused. */
static double pause_between(const struct bench_opts *o)
{
	struct timespec d = {.tv_sec = o->pause_us / 1000000,
			     .tv_nsec = (long)(o->pause_us % 1000000) * 1000};
	double t0;

	if (o->pause_us == 0)
		return 0;
	t0 = bench_now();
	nanosleep(&d, NULL);
	return bench_now() - t0;
}

void bench_run_timed(const struct bench_opts *o, struct bench_tok *t,
		     const struct bench_workload *w, struct bench_result *r)
{
	struct samples s = {0};
	struct bench_arg a = {0};
	struct bench_cpu_mark cpu;
	double start;
	CK_RV rv;

	bench_cpu_start(&cpu, t->server_pid);
	start = bench_now();
	r->status = BENCH_OK;
	while (!loop_done(o, start, s.n)) {
		double t0;

		rv = w->prepare(t, &a);
		if (rv != CKR_OK) {
			bench_result_error(r, rv);
			break;
		}
		t0 = bench_now();
		rv = w->op(t, &a);
		if (rv != CKR_OK) {
			bench_result_error(r, rv);
			break;
		}
		if (!samples_push(&s, bench_now() - t0))
			break;
		pause_between(o);
	}
	finish(&s, r);
	bench_cpu_end(&cpu, r);
}

/* One thread of a BENCH_RATE loop. */
struct rate_thread {
	pthread_t tid;
	const struct bench_opts *o;
	const struct bench_workload *w;
	struct bench_tok tok;
	struct bench_arg a;
	bool openssl;
	double start, end;
	double paused; /* seconds of --pause-us, not counted in the rate */
	unsigned long ops;
	CK_RV rv;
};

static void *rate_main(void *p)
{
	struct rate_thread *rt = p;

	while (rt->ops < rt->o->min_runs ||
	       bench_now() - rt->start < rt->o->seconds) {
		CK_RV rv = rt->openssl ? (rt->w->openssl_op() == 0
						  ? CKR_OK
						  : CKR_FUNCTION_FAILED)
				       : rt->w->op(&rt->tok, &rt->a);
		if (rv != CKR_OK) {
			rt->rv = rv;
			break;
		}
		rt->ops++;
		rt->paused += pause_between(rt->o);
	}
	rt->end = bench_now();
	return NULL;
}

/* Runs the threads of rt[0..n) (rt[0] on the calling thread) and turns
 * their counts into one rate. */
static void rate_run(struct rate_thread *rt, unsigned int n,
		     struct bench_result *r)
{
	struct bench_cpu_mark cpu;
	unsigned long ops = 0;
	double start, end;
	unsigned int started = 1;

	bench_cpu_start(&cpu, rt[0].tok.server_pid);
	start = end = bench_now();

	for (unsigned int i = 0; i < n; i++)
		rt[i].start = start;
	for (unsigned int i = 1; i < n; i++, started++)
		if (pthread_create(&rt[i].tid, NULL, rate_main, &rt[i]) != 0)
			break;
	rate_main(&rt[0]);
	for (unsigned int i = 1; i < started; i++)
		pthread_join(rt[i].tid, NULL);
	r->status = BENCH_OK;
	if (started != n) {
		r->status = BENCH_ERROR;
		snprintf(r->err, sizeof(r->err), "cannot start a thread");
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (rt[i].rv != CKR_OK) {
			if (rt[i].openssl) {
				r->status = BENCH_ERROR;
				snprintf(r->err, sizeof(r->err),
					 "OpenSSL failed");
			} else {
				bench_result_error(r, rt[i].rv);
			}
			return;
		}
		ops += rt[i].ops;
		if (rt[i].end > end)
			end = rt[i].end;
	}
	r->runs = (uint32_t)ops;
	r->value = end > start ? (double)ops / (end - start) : 0;
	if (rt[0].o->pause_us > 0) {
		/* Each thread's rate over the time it was not pausing. */
		r->value = 0;
		for (unsigned int i = 0; i < n; i++) {
			double busy = rt[i].end - start - rt[i].paused;

			if (busy > 0)
				r->value += (double)rt[i].ops / busy;
		}
	}
	bench_cpu_end(&cpu, r);
}

#define RATE_MAX_THREADS 8

void bench_run_rate(const struct bench_opts *o, struct bench_tok *t,
		    const struct bench_workload *w, struct bench_result *r)
{
	struct rate_thread rt[RATE_MAX_THREADS];
	struct bench_arg a = {0};
	unsigned int n = w->threads ? w->threads : 1, opened = 1;
	CK_RV rv;

	if (n > RATE_MAX_THREADS)
		n = RATE_MAX_THREADS;
	rv = w->setup(t, &a);
	if (rv != CKR_OK) {
		bench_result_error(r, rv);
		return;
	}
	memset(rt, 0, sizeof(rt));
	for (unsigned int i = 0; i < n; i++) {
		rt[i].o = o;
		rt[i].w = w;
		rt[i].tok = *t;
		rt[i].a = a;
	}
	/* Thread 0 keeps the logged-in session; the others open their own
	 * (the login is the application's, shared by all its sessions). */
	for (; opened < n; opened++) {
		rv = t->f->C_OpenSession(t->slot,
					 CKF_SERIAL_SESSION | CKF_RW_SESSION,
					 NULL, NULL, &rt[opened].tok.sess);
		if (rv != CKR_OK) {
			bench_result_error(r, rv);
			break;
		}
	}
	if (opened == n)
		rate_run(rt, n, r);
	for (unsigned int i = 1; i < opened; i++)
		t->f->C_CloseSession(rt[i].tok.sess);
	if (a.key != CK_INVALID_HANDLE)
		t->f->C_DestroyObject(t->sess, a.key);
	if (a.pub != CK_INVALID_HANDLE)
		t->f->C_DestroyObject(t->sess, a.pub);
}

static void run_openssl_rate(const struct bench_opts *o,
			     const struct bench_workload *w,
			     struct bench_result *r)
{
	struct rate_thread rt[RATE_MAX_THREADS];
	unsigned int n = w->threads ? w->threads : 1;

	if (n > RATE_MAX_THREADS)
		n = RATE_MAX_THREADS;
	memset(rt, 0, sizeof(rt));
	for (unsigned int i = 0; i < n; i++) {
		rt[i].o = o;
		rt[i].w = w;
		rt[i].openssl = true;
	}
	/* The first call may set up the reference keys: not timed. */
	if (w->openssl_op() != 0) {
		r->status = BENCH_ERROR;
		snprintf(r->err, sizeof(r->err), "OpenSSL failed");
		return;
	}
	rate_run(rt, n, r);
}

void bench_run_openssl(const struct bench_opts *o,
		       const struct bench_workload *w, struct bench_result *r)
{
	struct samples s = {0};
	struct bench_cpu_mark cpu;
	double start;

	if (w->kind == BENCH_RATE) {
		run_openssl_rate(o, w, r);
		return;
	}
	bench_cpu_start(&cpu, 0);
	start = bench_now();
	r->status = BENCH_OK;
	while (!loop_done(o, start, s.n)) {
		double t0 = bench_now();

		if (w->openssl_op() != 0) {
			r->status = BENCH_ERROR;
			snprintf(r->err, sizeof(r->err), "OpenSSL failed");
			break;
		}
		if (!samples_push(&s, bench_now() - t0))
			break;
		pause_between(o);
	}
	finish(&s, r);
	bench_cpu_end(&cpu, r);
}
