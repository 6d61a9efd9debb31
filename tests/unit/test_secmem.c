/* Unit tests of common/secmem: the pool of locked secret memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/secmem.h"

static size_t in_use(void)
{
	struct cf_secmem_stats st;

	cf_secmem_stats(&st);
	return st.slots_in_use;
}

static size_t blocks(void)
{
	struct cf_secmem_stats st;

	cf_secmem_stats(&st);
	return st.blocks;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static bool all_byte(const uint8_t *p, size_t len, uint8_t b)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != b)
			return false;
	return true;
}

/* Every pool size class, its edges, and sizes past the pool. */
static const size_t sizes[] = {
    0,	  1,	2,    31,   32,	  33,	63,   64,   65,	   100,	   127,
    128,  129,	255,  256,  257,  511,	512,  513,  1000,  1024,   1025,
    2047, 2048, 2049, 4095, 4096, 4097, 8192, 9000, 65536, 1 << 20};

static void test_secmem__alloc_is_zeroed_for_every_size(void **state)
{
	size_t base = in_use();

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = cf_secret_alloc(sizes[i]);

		assert_non_null(p);
		assert_true(all_zero(p, sizes[i]));
		memset(p, 0xa5, sizes[i]);
		cf_secret_free(p, sizes[i]);
	}
	assert_int_equal(in_use(), base);
}

/* A free wipes the slot: the next allocation of the class gets the very
 * slot back (lowest free slot first), and it must be all zero. */
static void test_secmem__reused_slot_comes_back_zeroed(void **state)
{
	struct cf_secmem_stats st;

	(void)state;
	cf_secmem_stats(&st);
	for (size_t len = 1; len <= st.slot_max; len = len * 2 + 1) {
		uint8_t *p = cf_secret_alloc(len);
		uint8_t *q;

		assert_non_null(p);
		memset(p, 0xff, len);
		cf_secret_free(p, len);
		q = cf_secret_alloc(len);
		assert_ptr_equal(q, p);
		assert_true(all_zero(q, len));
		cf_secret_free(q, len);
	}
}

/* A slot handed out again keeps nothing of a longer secret of the same
 * class that held it before. */
static void test_secmem__shorter_reuse_sees_no_old_tail(void **state)
{
	uint8_t *p, *q;

	(void)state;
	p = cf_secret_alloc(60);
	assert_non_null(p);
	memset(p, 0x5a, 60);
	cf_secret_free(p, 60);
	q = cf_secret_alloc(40); /* same 64-byte class */
	assert_ptr_equal(q, p);
	assert_true(all_zero(q, 40));
	cf_secret_free(q, 40);
}

static void test_secmem__live_secrets_do_not_overlap(void **state)
{
	enum { N = 3000 };
	uint8_t **p = calloc(N, sizeof(*p));
	size_t *len = calloc(N, sizeof(*len));
	size_t base = in_use();

	(void)state;
	assert_non_null(p);
	assert_non_null(len);
	for (size_t i = 0; i < N; i++) {
		len[i] = (i * 37) % 5000;
		p[i] = cf_secret_alloc(len[i]);
		assert_non_null(p[i]);
		memset(p[i], (int)(i & 0xff), len[i]);
	}
	for (size_t i = 0; i < N; i++)
		assert_true(all_byte(p[i], len[i], (uint8_t)(i & 0xff)));
	/* free in an order unrelated to the allocation order */
	for (size_t k = 0; k < N; k++) {
		size_t i = (k * 1237) % N;
		cf_secret_free(p[i], len[i]);
	}
	assert_int_equal(in_use(), base);
	free(len);
	free(p);
}

/* Blocks that empty out go back to the system, one spare per class kept,
 * so a burst of secrets does not keep memory locked for ever. */
static void test_secmem__empty_blocks_are_released(void **state)
{
	struct cf_secmem_stats st;
	size_t n, before;
	uint8_t **p;

	(void)state;
	cf_secmem_stats(&st);
	n = 3 * st.block_size / 64 + 1; /* more than three blocks' worth */
	p = calloc(n, sizeof(*p));
	assert_non_null(p);
	before = blocks();
	for (size_t i = 0; i < n; i++) {
		p[i] = cf_secret_alloc(64);
		assert_non_null(p[i]);
	}
	assert_true(blocks() >= before + 3);
	for (size_t i = 0; i < n; i++)
		cf_secret_free(p[i], 64);
	assert_true(blocks() <= before + 1);
	free(p);
}

static void test_secmem__large_secrets_bypass_the_pool(void **state)
{
	struct cf_secmem_stats st;
	size_t base = in_use();
	uint8_t *p;

	(void)state;
	cf_secmem_stats(&st);
	p = cf_secret_alloc(st.slot_max + 1);
	assert_non_null(p);
	assert_int_equal(in_use(), base);
	assert_true(all_zero(p, st.slot_max + 1));
	memset(p, 0x77, st.slot_max + 1);
	cf_secret_free(p, st.slot_max + 1);
	p = cf_secret_alloc(st.slot_max);
	assert_non_null(p);
	assert_int_equal(in_use(), base + 1);
	cf_secret_free(p, st.slot_max);
	assert_int_equal(in_use(), base);
}

static void test_secmem__secret_helpers_copy_and_clear(void **state)
{
	struct cf_secret s;
	uint8_t *d;

	(void)state;
	assert_int_equal(cf_secret_set(&s, "key material", 12), 0);
	assert_int_equal(s.len, 12);
	assert_memory_equal(s.data, "key material", 12);
	cf_secret_clear(&s);
	assert_null(s.data);
	assert_int_equal(s.len, 0);
	cf_secret_clear(&s); /* clearing an empty secret is fine */
	d = cf_secret_dup("abc", 3);
	assert_non_null(d);
	assert_memory_equal(d, "abc", 3);
	cf_secret_free(d, 3);
	cf_secret_free(NULL, 10);
}

struct hammer {
	unsigned int seed;
	uint8_t tag;
	bool ok;
};

static void *hammer_run(void *arg)
{
	enum { LIVE = 64, ROUNDS = 20000 };
	struct hammer *h = arg;
	uint8_t *p[LIVE] = {NULL};
	size_t len[LIVE] = {0};
	unsigned int x = h->seed;

	h->ok = true;
	for (int r = 0; r < ROUNDS; r++) {
		size_t i;

		x = x * 1103515245u + 12345u;
		i = (x >> 8) % LIVE;
		if (p[i] != NULL) {
			if (!all_byte(p[i], len[i], h->tag))
				h->ok = false;
			cf_secret_free(p[i], len[i]);
			p[i] = NULL;
			continue;
		}
		len[i] = (x >> 12) % 600 + ((x & 0x10) ? 0 : 3000);
		p[i] = cf_secret_alloc(len[i]);
		if (p[i] == NULL || !all_zero(p[i], len[i])) {
			h->ok = false;
			break;
		}
		memset(p[i], h->tag, len[i]);
	}
	for (size_t i = 0; i < LIVE; i++)
		cf_secret_free(p[i], len[i]);
	return NULL;
}

static void test_secmem__threads_never_share_a_slot(void **state)
{
	enum { T = 4 };
	pthread_t th[T];
	struct hammer h[T];
	size_t base = in_use();

	(void)state;
	for (int i = 0; i < T; i++) {
		h[i].seed = 1000u + (unsigned int)i;
		h[i].tag = (uint8_t)(0x10 + i);
		assert_int_equal(
		    pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
	}
	for (int i = 0; i < T; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(h[i].ok);
	}
	assert_int_equal(in_use(), base);
}

/* Other threads allocate and free all the time while the main thread
 * forks: the child must still be able to use the pool (a pool lock
 * inherited locked would hang it, which the alarm turns into a failure). */
static void
test_secmem__fork_during_use_leaves_child_a_usable_pool(void **state)
{
	enum { T = 2 };
	pthread_t th[T];
	struct hammer h[T];

	(void)state;
	for (int i = 0; i < T; i++) {
		h[i].seed = 7u + (unsigned int)i;
		h[i].tag = (uint8_t)(0x40 + i);
		assert_int_equal(
		    pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
	}
	for (int k = 0; k < 20; k++) {
		int status = 0;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			uint8_t *p[100];
			int bad = 0;

			alarm(10);
			for (int i = 0; i < 100; i++) {
				p[i] = cf_secret_alloc((size_t)(i * 40));
				if (p[i] == NULL ||
				    !all_zero(p[i], (size_t)(i * 40)))
					bad = 1;
			}
			for (int i = 0; i < 100; i++)
				cf_secret_free(p[i], (size_t)(i * 40));
			_exit(bad);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	for (int i = 0; i < T; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(h[i].ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_secmem__alloc_is_zeroed_for_every_size),
	    cmocka_unit_test(test_secmem__reused_slot_comes_back_zeroed),
	    cmocka_unit_test(test_secmem__shorter_reuse_sees_no_old_tail),
	    cmocka_unit_test(test_secmem__live_secrets_do_not_overlap),
	    cmocka_unit_test(test_secmem__empty_blocks_are_released),
	    cmocka_unit_test(test_secmem__large_secrets_bypass_the_pool),
	    cmocka_unit_test(test_secmem__secret_helpers_copy_and_clear),
	    cmocka_unit_test(test_secmem__threads_never_share_a_slot),
	    cmocka_unit_test(
		test_secmem__fork_during_use_leaves_child_a_usable_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
