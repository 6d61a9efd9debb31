/*
 * test_bench.c - the parts of coffer-bench whose mistakes would not show
 * as a failed PKCS#11 call but as wrong figures: statistics, target
 * naming, the seeded generator and the workload table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench.h"

static void test_bench__median_of_odd_count_is_middle_sample(void **state)
{
	double v[] = {5, 1, 3};
	double median, p90;

	(void)state;
	bench_stats(v, 3, &median, &p90);
	assert_true(median == 3);
}

static void test_bench__median_of_even_count_averages_middle(void **state)
{
	double v[] = {4, 1, 3, 2};
	double median, p90;

	(void)state;
	bench_stats(v, 4, &median, &p90);
	assert_true(median == 2.5);
}

static void test_bench__p90_is_nearest_rank(void **state)
{
	double v[20];
	double median, p90;

	(void)state;
	/* 20 samples 1..20 in reverse: the 18th smallest has 90% at or
	 * below it. */
	for (size_t i = 0; i < 20; i++)
		v[i] = (double)(20 - i);
	bench_stats(v, 20, &median, &p90);
	assert_true(p90 == 18);
}

static void test_bench__p90_of_one_sample_is_that_sample(void **state)
{
	double v[] = {7};
	double median, p90;

	(void)state;
	bench_stats(v, 1, &median, &p90);
	assert_true(median == 7);
	assert_true(p90 == 7);
}

static void test_bench__stats_of_no_samples_are_zero(void **state)
{
	double median = 1, p90 = 1;

	(void)state;
	bench_stats(NULL, 0, &median, &p90);
	assert_true(median == 0);
	assert_true(p90 == 0);
}

static void test_bench__object_names_differ_per_index(void **state)
{
	struct bench_arg a, b;

	(void)state;
	bench_object_name(41, &a);
	bench_object_name(42, &b);
	assert_string_equal(a.label, "bench-obj-0000041");
	assert_int_equal(a.label_len, strlen(a.label));
	assert_int_equal(a.id_len, b.id_len);
	assert_memory_not_equal(a.id, b.id, a.id_len);
}

static void test_bench__object_id_holds_index_big_endian(void **state)
{
	struct bench_arg a;

	(void)state;
	bench_object_name(0x0102, &a);
	assert_int_equal(a.id_len, 10);
	assert_int_equal(a.id[8], 0x01);
	assert_int_equal(a.id[9], 0x02);
}

static void test_bench__rng_same_seed_gives_same_targets(void **state)
{
	uint64_t s1 = 12345, s2 = 12345;

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_true(bench_rng_next(&s1) == bench_rng_next(&s2));
}

static void test_bench__rng_other_seed_gives_other_targets(void **state)
{
	uint64_t s1 = 12345, s2 = 54321;

	(void)state;
	assert_true(bench_rng_next(&s1) != bench_rng_next(&s2));
}

static void test_bench__workload_names_are_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < bench_nworkloads; i++)
		for (size_t j = i + 1; j < bench_nworkloads; j++)
			assert_string_not_equal(bench_workloads[i].name,
						bench_workloads[j].name);
}

static void test_bench__timed_workloads_have_prepare_and_op(void **state)
{
	(void)state;
	for (size_t i = 0; i < bench_nworkloads; i++) {
		if (bench_workloads[i].kind != BENCH_TIMED)
			continue;
		assert_non_null(bench_workloads[i].prepare);
		assert_non_null(bench_workloads[i].op);
	}
}

static void test_bench__cold_workloads_have_prepare_and_op(void **state)
{
	(void)state;
	/* runner.c's cold_run calls both for every cold row. */
	for (size_t i = 0; i < bench_nworkloads; i++) {
		if (bench_workloads[i].kind != BENCH_COLD)
			continue;
		assert_non_null(bench_workloads[i].prepare);
		assert_non_null(bench_workloads[i].op);
	}
}

static void test_bench__rate_rows_fit_the_thread_cap(void **state)
{
	(void)state;
	/* workloads.c runs at most 8 threads; a row asking for more would
	 * silently be measured with fewer. */
	for (size_t i = 0; i < bench_nworkloads; i++)
		if (bench_workloads[i].kind == BENCH_RATE)
			assert_in_range(bench_workloads[i].threads, 1, 8);
}

static void test_bench__cpu_tree_of_missing_pid_is_negative(void **state)
{
	(void)state;
	assert_true(bench_cpu_tree(0) < 0);
	assert_true(bench_cpu_tree(-5) < 0);
}

static void test_bench__cpu_tree_of_own_pid_is_counted(void **state)
{
	volatile double x = 0;

	(void)state;
	/* Spend a few clock ticks so that the figure cannot be zero. */
	while (bench_cpu_tree(getpid()) <= 0)
		for (int i = 0; i < 1000000; i++)
			x += i;
	assert_true(x >= 0);
	assert_true(bench_cpu_tree(getpid()) > 0);
}

static void test_bench__cpu_end_without_server_leaves_it_unmeasured(
    void **state)
{
	struct bench_result r = {.status = BENCH_OK, .runs = 10};
	struct bench_cpu_mark m;

	(void)state;
	bench_cpu_start(&m, 0);
	bench_cpu_end(&m, &r);
	assert_true(r.cpu_client >= 0);
	assert_true(r.cpu_server < 0);
}

static void test_bench__cpu_end_of_failed_loop_is_unmeasured(void **state)
{
	struct bench_result r = {.status = BENCH_ERROR, .runs = 10};
	struct bench_cpu_mark m;

	(void)state;
	bench_cpu_start(&m, getpid());
	bench_cpu_end(&m, &r);
	assert_true(r.cpu_client < 0);
	assert_true(r.cpu_server < 0);
}

static void test_bench__create_is_the_first_workload(void **state)
{
	(void)state;
	/* runner.c files the fill's rate under index 0. */
	assert_int_equal(bench_workloads[0].kind, BENCH_FILL);
}

static void test_bench__unknown_rv_is_named_by_number(void **state)
{
	(void)state;
	assert_string_equal(bench_rv_name(CKR_PIN_INCORRECT),
			    "CKR_PIN_INCORRECT");
	assert_string_equal(bench_rv_name(0x12345), "CKR_0x12345");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bench__median_of_odd_count_is_middle_sample),
	    cmocka_unit_test(test_bench__median_of_even_count_averages_middle),
	    cmocka_unit_test(test_bench__p90_is_nearest_rank),
	    cmocka_unit_test(test_bench__p90_of_one_sample_is_that_sample),
	    cmocka_unit_test(test_bench__stats_of_no_samples_are_zero),
	    cmocka_unit_test(test_bench__object_names_differ_per_index),
	    cmocka_unit_test(test_bench__object_id_holds_index_big_endian),
	    cmocka_unit_test(test_bench__rng_same_seed_gives_same_targets),
	    cmocka_unit_test(test_bench__rng_other_seed_gives_other_targets),
	    cmocka_unit_test(test_bench__workload_names_are_unique),
	    cmocka_unit_test(test_bench__timed_workloads_have_prepare_and_op),
	    cmocka_unit_test(test_bench__cold_workloads_have_prepare_and_op),
	    cmocka_unit_test(test_bench__rate_rows_fit_the_thread_cap),
	    cmocka_unit_test(test_bench__cpu_tree_of_missing_pid_is_negative),
	    cmocka_unit_test(test_bench__cpu_tree_of_own_pid_is_counted),
	    cmocka_unit_test(
		test_bench__cpu_end_without_server_leaves_it_unmeasured),
	    cmocka_unit_test(test_bench__cpu_end_of_failed_loop_is_unmeasured),
	    cmocka_unit_test(test_bench__create_is_the_first_workload),
	    cmocka_unit_test(test_bench__unknown_rv_is_named_by_number),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
