/* Unit tests of common/buf: bounded big-endian encoding and decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void test_buf__round_trip_of_every_width(void **state)
{
	struct cf_wbuf w;
	struct cf_rbuf r;
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p;
	size_t len;

	(void)state;
	cf_wbuf_init(&w, 1024, false);
	cf_wbuf_put_u8(&w, 0xab);
	cf_wbuf_put_u32(&w, 0x01020304);
	cf_wbuf_put_u64(&w, 0x1122334455667788ull);
	cf_wbuf_put_lv(&w, "hello", 5);
	assert_false(w.failed);
	assert_int_equal(w.len, 1 + 4 + 8 + 4 + 5);
	/* big-endian on the wire */
	assert_int_equal(w.data[1], 0x01);
	assert_int_equal(w.data[4], 0x04);

	cf_rbuf_init(&r, w.data, w.len);
	assert_true(cf_rbuf_get_u8(&r, &u8));
	assert_true(cf_rbuf_get_u32(&r, &u32));
	assert_true(cf_rbuf_get_u64(&r, &u64));
	assert_true(cf_rbuf_ref_lv(&r, &p, &len, 100));
	assert_int_equal(u8, 0xab);
	assert_int_equal(u32, 0x01020304);
	assert_true(u64 == 0x1122334455667788ull);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(cf_rbuf_left(&r), 0);
	cf_wbuf_clear(&w);
}

static void test_buf__write_past_limit_fails_and_sticks(void **state)
{
	struct cf_wbuf w;
	size_t len;

	(void)state;
	cf_wbuf_init(&w, 6, false);
	cf_wbuf_put_u32(&w, 1);
	cf_wbuf_put_u32(&w, 2); /* 8 > 6 */
	assert_true(w.failed);
	cf_wbuf_put_u8(&w, 3);
	assert_true(w.failed);
	assert_null(cf_wbuf_steal(&w, &len));
	assert_int_equal(len, 0);
}

static void test_buf__read_past_end_fails_and_sticks(void **state)
{
	const uint8_t data[3] = {1, 2, 3};
	struct cf_rbuf r;
	uint32_t v;
	uint8_t b;

	(void)state;
	cf_rbuf_init(&r, data, sizeof(data));
	assert_false(cf_rbuf_get_u32(&r, &v));
	assert_true(r.failed);
	/* a failed reader gives nothing more, even what would fit */
	assert_false(cf_rbuf_get_u8(&r, &b));
	assert_int_equal(cf_rbuf_left(&r), 0);
}

static void test_buf__length_prefix_above_max_is_refused(void **state)
{
	uint8_t data[4 + 10] = {0, 0, 0, 10};
	struct cf_rbuf r;
	const uint8_t *p;
	size_t len;

	(void)state;
	cf_rbuf_init(&r, data, sizeof(data));
	assert_false(cf_rbuf_ref_lv(&r, &p, &len, 9));
	cf_rbuf_init(&r, data, sizeof(data));
	assert_true(cf_rbuf_ref_lv(&r, &p, &len, 10));
}

static void test_buf__length_prefix_past_end_is_refused(void **state)
{
	const uint8_t data[4 + 2] = {0xff, 0xff, 0xff, 0xff, 1, 2};
	struct cf_rbuf r;
	const uint8_t *p;
	size_t len;

	(void)state;
	cf_rbuf_init(&r, data, sizeof(data));
	assert_false(cf_rbuf_ref_lv(&r, &p, &len, SIZE_MAX));
}

static void test_buf__steal_of_empty_buffer_gives_valid_pointer(void **state)
{
	struct cf_wbuf w;
	size_t len = 99;
	uint8_t *p;

	(void)state;
	cf_wbuf_init(&w, 16, true);
	p = cf_wbuf_steal(&w, &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__round_trip_of_every_width),
		cmocka_unit_test(test_buf__write_past_limit_fails_and_sticks),
		cmocka_unit_test(test_buf__read_past_end_fails_and_sticks),
		cmocka_unit_test(test_buf__length_prefix_above_max_is_refused),
		cmocka_unit_test(test_buf__length_prefix_past_end_is_refused),
		cmocka_unit_test(
			test_buf__steal_of_empty_buffer_gives_valid_pointer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
