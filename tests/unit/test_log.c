/* Unit tests of common/log: the line format and the lines a thread holds
 * back (cf_log_hold / cf_log_flush / cf_log_release), against a log file in
 * a fresh temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define FILE_CAP (64 * 1024)
#define MAX_LINES 64

struct fixture {
	char dir[64];
	char path[96];
	char text[FILE_CAP]; /* the file as last read, NUL-terminated */
	size_t len;
	char split[FILE_CAP]; /* text cut into NUL-terminated lines */
	/* The message part of each complete line, pointing into split. */
	const char *msg[MAX_LINES];
	unsigned nlines;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	strcpy(fx->dir, "/tmp/coffer-test-log-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		goto out_free;
	snprintf(fx->path, sizeof(fx->path), "%s/log", fx->dir);
	if (cf_log_open(CF_LOG_INFO, fx->path) != 0)
		goto out_rmdir;
	*state = fx;
	return 0;

out_rmdir:
	rmdir(fx->dir);
out_free:
	free(fx);
	return -1;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	cf_log_release(); /* a failed test may have left this thread holding */
	cf_log_close();
	cf_log_set_ident("coffer");
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Reads the log file and splits it into lines; each message is what
 * follows "level: " after the "ident[pid]" part. Returns the number of
 * complete (newline-terminated) lines. */
static unsigned read_log(struct fixture *fx)
{
	int fd = open(fx->path, O_RDONLY | O_CLOEXEC);
	char *p, *end;
	ssize_t n;

	assert_true(fd >= 0);
	fx->len = 0;
	while ((n = read(fd, fx->text + fx->len, FILE_CAP - 1 - fx->len)) > 0)
		fx->len += (size_t)n;
	assert_true(n == 0);
	close(fd);
	fx->text[fx->len] = '\0';
	memcpy(fx->split, fx->text, fx->len + 1);

	fx->nlines = 0;
	p = fx->split;
	while ((end = strchr(p, '\n')) != NULL) {
		char *bracket = strchr(p, ']');
		char *colon;

		assert_true(fx->nlines < MAX_LINES);
		assert_non_null(bracket);
		assert_true(bracket < end);
		colon = strstr(bracket, ": ");
		assert_non_null(colon);
		assert_true(colon < end);
		*end = '\0';
		fx->msg[fx->nlines++] = colon + 2;
		p = end + 1;
	}
	/* Nothing after the last newline: lines are written whole. */
	assert_int_equal(*p, '\0');
	return fx->nlines;
}

/* The log holds exactly the messages want[0..n), in that order. */
static void assert_log_is(struct fixture *fx, const char *const *want,
			  unsigned n)
{
	assert_int_equal(read_log(fx), n);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(fx->msg[i], want[i]);
}

/* ------------------------------------------------------------ format */

static void test_log__line_has_time_ident_pid_level_and_message(void **state)
{
	struct fixture *fx = *state;
	char pattern[256];
	regex_t re;
	struct tm tm;
	struct timespec before, after;
	time_t stamped;

	cf_log_set_ident("unit-log");
	clock_gettime(CLOCK_REALTIME, &before);
	cf_warn("hello %d", 42);
	clock_gettime(CLOCK_REALTIME, &after);
	assert_int_equal(read_log(fx), 1);

	snprintf(pattern, sizeof(pattern),
		 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z "
		 "unit-log\\[%ld\\] warn: hello 42\n$",
		 (long)getpid());
	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, fx->text, 0, NULL, 0), 0);
	regfree(&re);

	/* The stamp is UTC and the time the line was made. */
	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(fx->text, "%Y-%m-%dT%H:%M:%SZ", &tm));
	stamped = timegm(&tm);
	assert_true(stamped >= before.tv_sec);
	assert_true(stamped <= after.tv_sec);
}

static void test_log__long_message_is_cut_and_next_line_intact(void **state)
{
	struct fixture *fx = *state;
	char *big = malloc(3 * CF_LOG_LINE_MAX + 1);

	assert_non_null(big);
	memset(big, 'a', 3 * CF_LOG_LINE_MAX);
	big[3 * CF_LOG_LINE_MAX] = '\0';
	cf_info("%s", big);
	cf_info("next");
	/* read_log checks each line ends with a newline. */
	assert_int_equal(read_log(fx), 2);
	assert_true(strlen(fx->msg[0]) > CF_LOG_LINE_MAX / 2);
	assert_true(strlen(fx->msg[0]) < CF_LOG_LINE_MAX);
	assert_memory_equal(fx->msg[0], big, strlen(fx->msg[0]));
	assert_string_equal(fx->msg[1], "next");
	free(big);
}

static void test_log__overlong_line_is_cut_and_ends_with_newline(void **state)
{
	/* A long ident makes the whole line, not just its message, longer
	 * than a line may be. */
	static char ident[301];
	struct fixture *fx = *state;
	char *big = malloc(CF_LOG_LINE_MAX + 1);

	assert_non_null(big);
	memset(ident, 'i', sizeof(ident) - 1);
	memset(big, 'c', CF_LOG_LINE_MAX);
	big[CF_LOG_LINE_MAX] = '\0';
	cf_log_set_ident(ident);
	cf_info("%s", big);
	cf_info("next");
	/* read_log checks each line ends with a newline. */
	assert_int_equal(read_log(fx), 2);
	assert_true(strlen(fx->msg[0]) > CF_LOG_LINE_MAX / 2);
	assert_true(strlen(fx->msg[0]) < CF_LOG_LINE_MAX);
	assert_memory_equal(fx->msg[0], big, strlen(fx->msg[0]));
	assert_string_equal(fx->msg[1], "next");
	assert_non_null(strstr(fx->text, ident));
	free(big);
}

static void test_log__long_held_message_is_cut_and_next_intact(void **state)
{
	struct fixture *fx = *state;
	struct cf_log_held h;
	char *big = malloc(3 * CF_LOG_LINE_MAX + 1);

	assert_non_null(big);
	memset(big, 'b', 3 * CF_LOG_LINE_MAX);
	big[3 * CF_LOG_LINE_MAX] = '\0';
	cf_log_hold(&h);
	cf_info("%s", big);
	cf_info("next");
	cf_log_release();
	assert_int_equal(read_log(fx), 2);
	assert_true(strlen(fx->msg[0]) > CF_LOG_LINE_MAX / 2);
	assert_true(strlen(fx->msg[0]) < CF_LOG_LINE_MAX);
	assert_memory_equal(fx->msg[0], big, strlen(fx->msg[0]));
	assert_string_equal(fx->msg[1], "next");
	free(big);
}

/* ----------------------------------------------------------- holding */

static void test_log__held_lines_are_written_in_order_on_flush(void **state)
{
	static const char *const want[] = {"one", "two", "three"};
	struct fixture *fx = *state;
	struct cf_log_held h;

	cf_log_hold(&h);
	assert_false(cf_log_holding());
	cf_info("one");
	cf_warn("two");
	cf_error("three");
	assert_true(cf_log_holding());
	assert_int_equal(read_log(fx), 0);
	assert_int_equal(fx->len, 0);
	cf_log_flush();
	assert_log_is(fx, want, 3);
	cf_log_release();
}

static void test_log__holding_goes_on_after_flush(void **state)
{
	static const char *const want[] = {"before flush", "after flush"};
	struct fixture *fx = *state;
	struct cf_log_held h;

	cf_log_hold(&h);
	cf_info("before flush");
	cf_log_flush();
	assert_false(cf_log_holding());
	cf_info("after flush");
	assert_true(cf_log_holding());
	assert_log_is(fx, want, 1);
	cf_log_flush();
	assert_log_is(fx, want, 2);
	cf_log_release();
}

static void test_log__release_writes_and_later_lines_go_direct(void **state)
{
	static const char *const want[] = {"held", "direct"};
	struct fixture *fx = *state;
	struct cf_log_held h;

	cf_log_hold(&h);
	cf_info("held");
	assert_log_is(fx, want, 0);
	cf_log_release();
	assert_false(cf_log_holding());
	assert_log_is(fx, want, 1);
	cf_info("direct");
	assert_false(cf_log_holding());
	assert_log_is(fx, want, 2);
}

static void test_log__lines_beyond_held_max_all_arrive_in_order(void **state)
{
	enum { N = 2 * CF_LOG_HELD_MAX + 1 };
	struct fixture *fx = *state;
	struct cf_log_held h;
	char want[N][16];
	unsigned got;

	cf_log_hold(&h);
	for (unsigned i = 0; i < N; i++) {
		snprintf(want[i], sizeof(want[i]), "line %u", i);
		cf_info("%s", want[i]);
	}
	/* No more than CF_LOG_HELD_MAX can still be held: the rest are out,
	 * and what is out is the start of the sequence. */
	got = read_log(fx);
	assert_true(got >= N - CF_LOG_HELD_MAX);
	assert_true(got < N);
	for (unsigned i = 0; i < got; i++)
		assert_string_equal(fx->msg[i], want[i]);
	cf_log_release();
	assert_int_equal(read_log(fx), N);
	for (unsigned i = 0; i < N; i++)
		assert_string_equal(fx->msg[i], want[i]);
}

static void test_log__line_below_level_is_neither_held_nor_written(void **state)
{
	static const char *const want[] = {"info line"};
	struct fixture *fx = *state;
	struct cf_log_held h;

	cf_log_hold(&h);
	cf_debug("debug line");
	assert_false(cf_log_holding());
	cf_info("info line");
	cf_log_release();
	assert_log_is(fx, want, 1);
}

static void *log_other(void *p)
{
	(void)p;
	cf_info("other thread");
	return NULL;
}

static void test_log__other_thread_logs_directly_while_one_holds(void **state)
{
	static const char *const want[] = {"other thread", "this thread"};
	struct fixture *fx = *state;
	struct cf_log_held h;
	pthread_t th;

	cf_log_hold(&h);
	cf_info("this thread");
	assert_int_equal(pthread_create(&th, NULL, log_other, NULL), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_log_is(fx, want, 1);
	cf_log_flush();
	assert_log_is(fx, want, 2);
	cf_log_release();
}

static void test_log__held_line_keeps_the_time_it_was_made(void **state)
{
	struct fixture *fx = *state;
	struct cf_log_held h;
	struct timespec before, after, nap = {0, 20 * 1000000};
	struct tm tm;

	/* A line made within one wall-clock second (retry at a boundary). */
	do {
		cf_log_hold(&h); /* empties h */
		clock_gettime(CLOCK_REALTIME, &before);
		cf_info("made early");
		clock_gettime(CLOCK_REALTIME, &after);
	} while (before.tv_sec != after.tv_sec);
	/* Time passes, not synchronisation: written only once a line made
	 * now would get a later stamp. */
	do {
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_REALTIME, &after);
	} while (after.tv_sec == before.tv_sec);
	cf_log_release();
	assert_int_equal(read_log(fx), 1);
	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(fx->text, "%Y-%m-%dT%H:%M:%SZ", &tm));
	assert_int_equal(timegm(&tm), before.tv_sec);
}

/* ------------------------------------------------------------- level */

#define LEVEL_FLIPS 2000

static void *flip_level(void *p)
{
	(void)p;
	for (int i = 0; i < LEVEL_FLIPS; i++)
		cf_log_set_level(i % 2 ? CF_LOG_DEBUG : CF_LOG_INFO);
	cf_log_set_level(CF_LOG_WARN);
	return NULL;
}

/* A daemon sets the level on SIGHUP while its threads log: the level is
 * read without the log's lock, so it must be an atomic (ThreadSanitizer,
 * make check's build-tsan, reports a plain variable here). */
static void test_log__level_set_while_another_thread_reads_it(void **state)
{
	static const char *const want[] = {"warn line"};
	struct fixture *fx = *state;
	unsigned debug_seen = 0;
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, flip_level, NULL), 0);
	for (int i = 0; i < LEVEL_FLIPS; i++)
		debug_seen += cf_log_enabled(CF_LOG_DEBUG);
	assert_true(cf_log_enabled(CF_LOG_ERROR));
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(debug_seen <= LEVEL_FLIPS);
	/* What the other thread set last is what this one sees after. */
	assert_false(cf_log_enabled(CF_LOG_INFO));
	cf_info("info line");
	cf_warn("warn line");
	assert_log_is(fx, want, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_log__line_has_time_ident_pid_level_and_message, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__long_message_is_cut_and_next_line_intact, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__long_held_message_is_cut_and_next_intact, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__overlong_line_is_cut_and_ends_with_newline, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__held_lines_are_written_in_order_on_flush, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__holding_goes_on_after_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__release_writes_and_later_lines_go_direct, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__lines_beyond_held_max_all_arrive_in_order, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__line_below_level_is_neither_held_nor_written, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__other_thread_logs_directly_while_one_holds, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__held_line_keeps_the_time_it_was_made, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_log__level_set_while_another_thread_reads_it, setup,
		teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
