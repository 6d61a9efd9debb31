/*
 * call.c - one call's log entry and the per-function counters behind the
 * summary at C_Finalize (see spy.h).
 *
 * The counters are relaxed atomics: each is exact on its own, and the
 * summary is a snapshot that a concurrent call may race by one, which is
 * fine for a table read by a person. No lock is ever taken, so nothing is
 * held across the real module's call.
 */
#include "spy/spy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pkcs11/schema.h"

struct fn_stats {
	atomic_uint_fast64_t calls;
	atomic_uint_fast64_t errors;
	atomic_uint_fast64_t ns;
};

static struct fn_stats stats[CF_SPY_NFUNC + 1];

static uint64_t elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	int64_t s = (int64_t)b->tv_sec - (int64_t)a->tv_sec;
	int64_t ns = (int64_t)b->tv_nsec - (int64_t)a->tv_nsec;
	int64_t t = s * 1000000000 + ns;

	return t > 0 ? (uint64_t)t : 0;
}

void cf_spy_begin(struct cf_spy_call *c, unsigned fn, const char *name)
{
	cf_spy_out_init(&c->o, cf_spy_show_secrets());
	c->fn = fn <= CF_SPY_NFUNC ? fn : 0;
	c->ns = 0;
	memset(&c->t0, 0, sizeof(c->t0));
	cf_spy_printf(&c->o, "%s thread=%ld\n", name,
		      (long)syscall(SYS_gettid));
}

void cf_spy_start(struct cf_spy_call *c)
{
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
}

void cf_spy_returned(struct cf_spy_call *c, CK_RV rv)
{
	struct timespec t1;
	char buf[32];

	clock_gettime(CLOCK_MONOTONIC, &t1);
	c->ns = elapsed_ns(&c->t0, &t1);
	atomic_fetch_add_explicit(&stats[c->fn].calls, 1, memory_order_relaxed);
	if (rv != CKR_OK)
		atomic_fetch_add_explicit(&stats[c->fn].errors, 1,
					  memory_order_relaxed);
	atomic_fetch_add_explicit(&stats[c->fn].ns, c->ns,
				  memory_order_relaxed);
	cf_spy_printf(&c->o, "  -> %s", cf_p11_rv_str(rv, buf, sizeof(buf)));
	if (cf_p11_rv_name(rv) == NULL)
		cf_spy_printf(&c->o, " (unknown)");
	cf_spy_printf(&c->o, " in %llu.%03llu ms\n",
		      (unsigned long long)(c->ns / 1000000),
		      (unsigned long long)(c->ns / 1000 % 1000));
}

void cf_spy_end(struct cf_spy_call *c)
{
	if (c->o.p != NULL)
		cf_spy_log_write(c->o.p, c->o.len);
	cf_spy_out_clear(&c->o);
}

void cf_spy_stats_reset(void)
{
	for (size_t i = 0; i <= CF_SPY_NFUNC; i++) {
		atomic_store_explicit(&stats[i].calls, 0, memory_order_relaxed);
		atomic_store_explicit(&stats[i].errors, 0,
				      memory_order_relaxed);
		atomic_store_explicit(&stats[i].ns, 0, memory_order_relaxed);
	}
}

void cf_spy_summary(void)
{
	struct cf_spy_out o;
	uint64_t tcalls = 0, terrors = 0, tns = 0;

	cf_spy_out_init(&o, false);
	cf_spy_printf(&o, "summary thread=%ld\n", (long)syscall(SYS_gettid));
	cf_spy_printf(&o, "  %-26s %10s %8s %14s\n", "function", "calls",
		      "errors", "total ms");
	for (unsigned i = 1; i <= CF_SPY_NFUNC; i++) {
		uint64_t calls =
		    atomic_load_explicit(&stats[i].calls, memory_order_relaxed);
		uint64_t errors = atomic_load_explicit(&stats[i].errors,
						       memory_order_relaxed);
		uint64_t ns =
		    atomic_load_explicit(&stats[i].ns, memory_order_relaxed);

		if (calls == 0)
			continue;
		cf_spy_printf(&o, "  %-26s %10llu %8llu %10llu.%03llu\n",
			      cf_spy_fn_name(i), (unsigned long long)calls,
			      (unsigned long long)errors,
			      (unsigned long long)(ns / 1000000),
			      (unsigned long long)(ns / 1000 % 1000));
		tcalls += calls;
		terrors += errors;
		tns += ns;
	}
	cf_spy_printf(&o, "  %-26s %10llu %8llu %10llu.%03llu\n", "total",
		      (unsigned long long)tcalls, (unsigned long long)terrors,
		      (unsigned long long)(tns / 1000000),
		      (unsigned long long)(tns / 1000 % 1000));
	if (o.p != NULL)
		cf_spy_log_write(o.p, o.len);
	cf_spy_out_clear(&o);
	cf_spy_stats_reset();
}
