/* Unit tests of common/map: the handle tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/map.h"

static void test_map__put_get_replace_remove(void **state)
{
	struct cf_map m;
	int a, b;

	(void)state;
	cf_map_init(&m);
	assert_null(cf_map_get(&m, 1));
	assert_int_equal(cf_map_put(&m, 1, &a), 0);
	assert_ptr_equal(cf_map_get(&m, 1), &a);
	assert_int_equal(cf_map_put(&m, 1, &b), 0);
	assert_ptr_equal(cf_map_get(&m, 1), &b);
	assert_int_equal(m.n, 1);
	assert_ptr_equal(cf_map_remove(&m, 1), &b);
	assert_null(cf_map_get(&m, 1));
	assert_null(cf_map_remove(&m, 1));
	cf_map_clear(&m);
}

static void test_map__zero_key_is_refused(void **state)
{
	struct cf_map m;
	int a;

	(void)state;
	cf_map_init(&m);
	assert_int_not_equal(cf_map_put(&m, 0, &a), 0);
	assert_null(cf_map_get(&m, 0));
	cf_map_clear(&m);
}

/* Many keys with removals in between: every remaining key stays findable
 * (this pins the backward-shift deletion). */
static void test_map__survives_interleaved_removals(void **state)
{
	struct cf_map m;
	static int vals[5000];

	(void)state;
	cf_map_init(&m);
	for (uint64_t k = 1; k <= 5000; k++)
		assert_int_equal(cf_map_put(&m, k, &vals[k - 1]), 0);
	for (uint64_t k = 1; k <= 5000; k += 3)
		assert_ptr_equal(cf_map_remove(&m, k), &vals[k - 1]);
	for (uint64_t k = 1; k <= 5000; k++) {
		if ((k - 1) % 3 == 0)
			assert_null(cf_map_get(&m, k));
		else
			assert_ptr_equal(cf_map_get(&m, k), &vals[k - 1]);
	}
	assert_int_equal(m.n, 5000 - 1667);
	cf_map_clear(&m);
}

static void test_map__large_and_sparse_keys(void **state)
{
	struct cf_map m;
	int a;

	(void)state;
	cf_map_init(&m);
	assert_int_equal(cf_map_put(&m, 0x80000001ull, &a), 0);
	assert_int_equal(cf_map_put(&m, UINT64_MAX, &a), 0);
	assert_ptr_equal(cf_map_get(&m, 0x80000001ull), &a);
	assert_ptr_equal(cf_map_get(&m, UINT64_MAX), &a);
	assert_null(cf_map_get(&m, 0x80000002ull));
	cf_map_clear(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map__put_get_replace_remove),
		cmocka_unit_test(test_map__zero_key_is_refused),
		cmocka_unit_test(test_map__survives_interleaved_removals),
		cmocka_unit_test(test_map__large_and_sparse_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
