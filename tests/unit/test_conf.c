/* Unit tests of common/conf: the configuration file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/conf.h"

static char dir[] = "/tmp/coffer-conf-XXXXXX";
static char path[256];

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/coffer.conf", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_conf(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int load(struct cf_conf *c, char *err, size_t errlen)
{
	cf_conf_defaults(c);
	return cf_conf_load_file(c, path, err, errlen);
}

static void test_conf__defaults_are_sane(void **state)
{
	struct cf_conf c;

	(void)state;
	cf_conf_defaults(&c);
	assert_int_equal(c.pin_min_len, 4);
	assert_int_equal(c.pin_lockout, 10);
	assert_int_equal(c.kdf_cost, CF_KDF_COST_DEFAULT);
	assert_non_null(strstr(c.token_dir, "coffer/tokens"));
	assert_int_equal(c.token_dir[0], '/');
}

static void test_conf__every_key_is_read(void **state)
{
	struct cf_conf c;
	char err[512] = "";

	(void)state;
	write_conf("# comment\n\n token_dir = /srv/tokens \nlog_level=debug\n"
		   "log_dest = syslog\npin_min_len = 6\npin_max_len = 32\n"
		   "pin_lockout = 0\nkdf_cost = 12\nmax_sessions = 7\n");
	assert_int_equal(load(&c, err, sizeof(err)), 0);
	assert_string_equal(c.token_dir, "/srv/tokens");
	assert_int_equal(c.log_level, CF_LOG_DEBUG);
	assert_string_equal(c.log_dest, "syslog");
	assert_int_equal(c.pin_min_len, 6);
	assert_int_equal(c.pin_max_len, 32);
	assert_int_equal(c.pin_lockout, 0);
	assert_int_equal(c.kdf_cost, 12);
	assert_int_equal(c.max_sessions, 7);
	assert_string_equal(c.path, path);
}

static void expect_error(const char *text, const char *needle)
{
	struct cf_conf c;
	char err[512] = "";

	write_conf(text);
	assert_int_equal(load(&c, err, sizeof(err)), -1);
	/* the message names the file, the line and the problem */
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, needle));
}

static void test_conf__unknown_key_names_file_and_line(void **state)
{
	(void)state;
	expect_error("log_level = info\nbogus = 1\n", ":2: bogus: unknown key");
}

static void test_conf__line_without_equals_is_an_error(void **state)
{
	(void)state;
	expect_error("token_dir\n", ":1: expected 'key = value'");
}

static void test_conf__out_of_range_numbers_are_errors(void **state)
{
	(void)state;
	expect_error("kdf_cost = 9\n", ":1: kdf_cost");
	expect_error("kdf_cost = 21\n", ":1: kdf_cost");
	expect_error("pin_min_len = 0\n", ":1: pin_min_len");
	expect_error("pin_lockout = -1\n", ":1: pin_lockout");
	expect_error("max_sessions = 12x\n", ":1: max_sessions");
}

static void test_conf__relative_token_dir_is_an_error(void **state)
{
	(void)state;
	expect_error("token_dir = tokens\n", "absolute");
}

static void test_conf__min_above_max_is_an_error(void **state)
{
	(void)state;
	expect_error("pin_min_len = 10\npin_max_len = 8\n", "pin_min_len");
}

static void test_conf__bad_log_level_is_an_error(void **state)
{
	(void)state;
	expect_error("log_level = loud\n", ":1: log_level");
}

static void test_conf__missing_named_file_is_an_error(void **state)
{
	struct cf_conf c;
	char err[512] = "";

	(void)state;
	setenv("COFFER_CONF", "/nonexistent/coffer.conf", 1);
	assert_int_equal(cf_conf_load(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/coffer.conf"));
	unsetenv("COFFER_CONF");
}

static void test_conf__env_names_the_file(void **state)
{
	struct cf_conf c;
	char err[512] = "";

	(void)state;
	write_conf("pin_lockout = 3\n");
	setenv("COFFER_CONF", path, 1);
	assert_int_equal(cf_conf_load(&c, err, sizeof(err)), 0);
	assert_int_equal(c.pin_lockout, 3);
	unsetenv("COFFER_CONF");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf__defaults_are_sane),
		cmocka_unit_test(test_conf__every_key_is_read),
		cmocka_unit_test(test_conf__unknown_key_names_file_and_line),
		cmocka_unit_test(test_conf__line_without_equals_is_an_error),
		cmocka_unit_test(test_conf__out_of_range_numbers_are_errors),
		cmocka_unit_test(test_conf__relative_token_dir_is_an_error),
		cmocka_unit_test(test_conf__min_above_max_is_an_error),
		cmocka_unit_test(test_conf__bad_log_level_is_an_error),
		cmocka_unit_test(test_conf__missing_named_file_is_an_error),
		cmocka_unit_test(test_conf__env_names_the_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
