/*
 * test_colocate.c - the client's cpu setting (colocate.c): a lone call
 * runs on the configured CPU, the thread's own affinity comes back after
 * it, and the application's choices are respected.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "client/client.h"

/* Two CPUs this thread may use, or false when it may use only one (the
 * pinning is then a no-op by design and is checked as such). */
static bool two_cpus(const cpu_set_t *allowed, int *first, int *second)
{
	*first = *second = -1;
	for (int i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, allowed))
			continue;
		if (*first < 0)
			*first = i;
		else if (*second < 0)
			*second = i;
	}
	return *second >= 0;
}

static void test_colocate__lone_call_runs_on_the_cpu_then_returns(
    void **state)
{
	cpu_set_t before, during, after;
	struct cf_colocate st;
	int a, b;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
	cf_colocate_enter(two_cpus(&before, &a, &b) ? b : a, &st);
	assert_int_equal(sched_getaffinity(0, sizeof(during), &during), 0);
	if (b >= 0) {
		assert_true(st.pinned);
		assert_int_equal(CPU_COUNT(&during), 1);
		assert_true(CPU_ISSET(b, &during));
	} else {
		/* One CPU allowed: already there, nothing to do. */
		assert_false(st.pinned);
		assert_true(CPU_EQUAL(&during, &before));
	}
	cf_colocate_leave(&st);
	assert_int_equal(sched_getaffinity(0, sizeof(after), &after), 0);
	assert_true(CPU_EQUAL(&after, &before));
}

static void test_colocate__off_leaves_the_thread_alone(void **state)
{
	cpu_set_t before, during;
	struct cf_colocate st;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
	cf_colocate_enter(-1, &st);
	assert_int_equal(sched_getaffinity(0, sizeof(during), &during), 0);
	assert_false(st.pinned);
	assert_true(CPU_EQUAL(&during, &before));
	cf_colocate_leave(&st);
}

/* A thread the application keeps off the CPU stays off it. */
static void test_colocate__thread_kept_off_the_cpu_is_not_moved(void **state)
{
	cpu_set_t before, mine, during;
	struct cf_colocate st;
	int a, b;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
	CPU_ZERO(&mine);
	if (two_cpus(&before, &a, &b)) {
		CPU_SET(a, &mine);
		assert_int_equal(sched_setaffinity(0, sizeof(mine), &mine), 0);
	} else {
		mine = before;
		b = a + 1 < CPU_SETSIZE ? a + 1 : a - 1; /* not allowed */
	}
	cf_colocate_enter(b, &st);
	assert_int_equal(sched_getaffinity(0, sizeof(during), &during), 0);
	assert_false(st.pinned);
	assert_true(CPU_EQUAL(&during, &mine));
	cf_colocate_leave(&st);
	assert_int_equal(sched_setaffinity(0, sizeof(before), &before), 0);
}

struct other {
	pthread_barrier_t in, out;
	int cpu;
};

static void *other_call(void *p)
{
	struct other *o = p;
	struct cf_colocate st;

	cf_colocate_enter(o->cpu, &st);
	pthread_barrier_wait(&o->in);
	pthread_barrier_wait(&o->out);
	cf_colocate_leave(&st);
	return NULL;
}

/* With another call under way nothing is pinned: calls of several
 * threads would only take turns on the one CPU. Nor are lone calls after
 * that, until a new connection (whose cofferd worker starts on the CPU
 * again). */
static void test_colocate__concurrent_call_is_not_pinned(void **state)
{
	cpu_set_t before, during;
	struct cf_colocate st;
	struct other o;
	pthread_t th;
	int a, b;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
	(void)two_cpus(&before, &a, &b);
	o.cpu = a;
	pthread_barrier_init(&o.in, NULL, 2);
	pthread_barrier_init(&o.out, NULL, 2);
	assert_int_equal(pthread_create(&th, NULL, other_call, &o), 0);
	pthread_barrier_wait(&o.in);
	cf_colocate_enter(a, &st);
	assert_int_equal(sched_getaffinity(0, sizeof(during), &during), 0);
	assert_false(st.pinned);
	assert_true(CPU_EQUAL(&during, &before));
	cf_colocate_leave(&st);
	pthread_barrier_wait(&o.out);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&o.in);
	pthread_barrier_destroy(&o.out);
	/* A lone call now: still not pinned... */
	cf_colocate_enter(a, &st);
	assert_false(st.pinned);
	cf_colocate_leave(&st);
	/* ...until the next connection. */
	cf_colocate_reset();
	cf_colocate_enter(a, &st);
	assert_int_equal(st.pinned, b >= 0);
	cf_colocate_leave(&st);
}

static int reset(void **state)
{
	(void)state;
	cf_colocate_reset();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(
		test_colocate__lone_call_runs_on_the_cpu_then_returns, reset),
	    cmocka_unit_test_setup(test_colocate__off_leaves_the_thread_alone,
				   reset),
	    cmocka_unit_test_setup(
		test_colocate__thread_kept_off_the_cpu_is_not_moved, reset),
	    cmocka_unit_test_setup(test_colocate__concurrent_call_is_not_pinned,
				   reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
