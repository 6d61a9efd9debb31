/*
 * test_gen.c - the cross-process write generation (src/token/store/gen.h):
 * when a reader may skip the store's change check and when it must not.
 * Two struct cf_gen on one file stand for two processes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "token/store/gen.h"

static char dir[] = "/tmp/coffer-gen-XXXXXX";
static char path[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/coffer-gen-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char p[80];

	(void)state;
	snprintf(p, sizeof(p), "%s-gen", path);
	unlink(p);
	rmdir(dir);
	return 0;
}

/* Checks, as a reader does, and says whether a check was needed. */
static bool reader_checks(struct cf_gen *g)
{
	uint64_t token;
	bool must = cf_gen_must_check(g, &token);

	if (must)
		cf_gen_checked(g, token);
	return must;
}

static void test_gen__first_call_checks_then_skips(void **state)
{
	struct cf_gen r;

	(void)state;
	cf_gen_open(&r, path);
	assert_non_null(r.map);
	assert_true(reader_checks(&r));
	assert_false(reader_checks(&r));
	assert_false(reader_checks(&r));
	cf_gen_close(&r);
}

static void test_gen__file_is_private(void **state)
{
	struct cf_gen r;
	struct stat st;
	char p[80];

	(void)state;
	cf_gen_open(&r, path);
	snprintf(p, sizeof(p), "%s-gen", path);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	cf_gen_close(&r);
}

static void test_gen__a_write_forces_a_check(void **state)
{
	struct cf_gen r, w;

	(void)state;
	cf_gen_open(&r, path);
	cf_gen_open(&w, path);
	assert_true(reader_checks(&r));
	cf_gen_enter(&w);
	/* a writer inside: every call checks */
	assert_true(reader_checks(&r));
	assert_true(reader_checks(&r));
	cf_gen_leave(&w);
	assert_true(reader_checks(&r));
	assert_false(reader_checks(&r));
	cf_gen_close(&w);
	cf_gen_close(&r);
}

static void test_gen__writer_that_died_inside_keeps_readers_checking(void **state)
{
	struct cf_gen r, w, w2;

	(void)state;
	cf_gen_open(&r, path);
	cf_gen_open(&w, path);
	cf_gen_enter(&w); /* and never leaves: killed after its commit */
	cf_gen_close(&w);
	for (int i = 0; i < 5; i++)
		assert_true(reader_checks(&r));
	/* the next clean write settles it */
	cf_gen_open(&w2, path);
	cf_gen_enter(&w2);
	cf_gen_leave(&w2);
	assert_true(reader_checks(&r));
	assert_false(reader_checks(&r));
	cf_gen_close(&w2);
	cf_gen_close(&r);
}

/* A writer's late leave must not make the value look settled while the
 * next writer is still inside. */
static void test_gen__overlapping_writers_never_look_settled(void **state)
{
	struct cf_gen r, w1, w2, w3;

	(void)state;
	cf_gen_open(&r, path);
	cf_gen_open(&w1, path);
	cf_gen_open(&w2, path);
	cf_gen_open(&w3, path);
	assert_true(reader_checks(&r));
	cf_gen_enter(&w1);
	/* w1 committed and let go of the lock, but has not left yet */
	cf_gen_enter(&w2);
	cf_gen_leave(&w1);
	assert_true(reader_checks(&r)); /* w2 is inside */
	assert_true(reader_checks(&r));
	cf_gen_leave(&w2);
	assert_true(reader_checks(&r));
	/* a clean write settles it again */
	cf_gen_enter(&w3);
	cf_gen_leave(&w3);
	assert_true(reader_checks(&r));
	assert_false(reader_checks(&r));
	cf_gen_close(&w1);
	cf_gen_close(&w2);
	cf_gen_close(&w3);
	cf_gen_close(&r);
}

/* A reader that sampled a settled value, then saw a write begin, must
 * check even if the value returns to even. */
static void test_gen__values_never_come_back(void **state)
{
	struct cf_gen r, w;
	uint64_t before, token;

	(void)state;
	cf_gen_open(&r, path);
	cf_gen_open(&w, path);
	assert_true(reader_checks(&r));
	assert_false(cf_gen_must_check(&r, &before));
	for (int i = 0; i < 3; i++) {
		cf_gen_enter(&w);
		cf_gen_leave(&w);
		assert_true(cf_gen_must_check(&r, &token));
		assert_true(token > before);
		before = token;
	}
	cf_gen_close(&w);
	cf_gen_close(&r);
}

static void test_gen__no_file_always_checks(void **state)
{
	struct cf_gen r;

	(void)state;
	cf_gen_open(&r, "/nonexistent-dir/x.db");
	assert_null(r.map);
	assert_true(reader_checks(&r));
	assert_true(reader_checks(&r));
	cf_gen_enter(&r); /* harmless without a file */
	cf_gen_leave(&r);
	cf_gen_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_gen__first_call_checks_then_skips),
	    T(test_gen__file_is_private),
	    T(test_gen__a_write_forces_a_check),
	    T(test_gen__writer_that_died_inside_keeps_readers_checking),
	    T(test_gen__overlapping_writers_never_look_settled),
	    T(test_gen__values_never_come_back),
	    T(test_gen__no_file_always_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
