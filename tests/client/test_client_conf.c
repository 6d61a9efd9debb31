/*
 * test_client_conf.c - libcoffer-client.so's configuration: client.conf
 * parsing, the environment over the file, and the server address forms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "client/client.h"

static const char *envs[] = {
    "COFFER_CLIENT_CONF",	 "COFFER_SERVER",    "COFFER_CLIENT_CERT",
    "COFFER_CLIENT_KEY",	 "COFFER_CLIENT_CA", "COFFER_TIMEOUT_MS",
    "COFFER_CONNECT_TIMEOUT_MS", "COFFER_SPIN_USEC", "COFFER_CPU", "HOME"};

static char path[64];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
		unsetenv(envs[i]);
	/* No ~/.config/coffer/client.conf can interfere. */
	setenv("HOME", "/nonexistent-coffer-home", 1);
	snprintf(path, sizeof(path), "/tmp/coffer-client-conf-XXXXXX");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (strchr(path, 'X') == NULL)
		unlink(path);
	return 0;
}

static void write_conf(const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	setenv("COFFER_CLIENT_CONF", path, 1);
}

static void test_client_conf__parses_every_key(void **state)
{
	struct cf_client_conf c;
	char err[256];

	(void)state;
	write_conf("# coffer client\n"
		   "\n"
		   "server = tls://hsm.example.net:5696\n"
		   "  cert = /c.pem\t\n"
		   "key=/k.pem\n"
		   "ca = /ca.pem\n"
		   "timeout_ms = 1500\n"
		   "connect_timeout_ms = 700\n"
		   "spin_usec = 50\n"
		   "cpu = 3\n");
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), 0);
	assert_int_equal(c.cpu, 3);
	assert_string_equal(c.server, "tls://hsm.example.net:5696");
	assert_string_equal(c.cert, "/c.pem");
	assert_string_equal(c.key, "/k.pem");
	assert_string_equal(c.ca, "/ca.pem");
	assert_int_equal(c.timeout_ms, 1500);
	assert_int_equal(c.connect_timeout_ms, 700);
	assert_int_equal(c.spin_usec, 50);
	assert_string_equal(c.source, path);
}

static void test_client_conf__defaults_from_env_alone(void **state)
{
	struct cf_client_conf c;
	char err[256];

	(void)state;
	setenv("COFFER_SERVER", "unix:/run/cofferd.sock", 1);
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "unix:/run/cofferd.sock");
	assert_int_equal(c.timeout_ms, CF_CLIENT_TIMEOUT_DEFAULT);
	assert_int_equal(c.connect_timeout_ms,
			 CF_CLIENT_CONNECT_TIMEOUT_DEFAULT);
	assert_int_equal(c.spin_usec, 0);
	assert_int_equal(c.cpu, -1); /* off */
}

static void test_client_conf__env_overrides_file(void **state)
{
	struct cf_client_conf c;
	char err[256];

	(void)state;
	write_conf("server = unix:/from/file\ntimeout_ms = 100\n");
	setenv("COFFER_SERVER", "unix:/from/env", 1);
	setenv("COFFER_TIMEOUT_MS", "250", 1);
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "unix:/from/env");
	assert_int_equal(c.timeout_ms, 250);
}

static void test_client_conf__unknown_key_fails_naming_line(void **state)
{
	struct cf_client_conf c;
	char err[256];

	(void)state;
	write_conf("server = unix:/x\n\nsevrer = unix:/y\n");
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3:"));
	assert_non_null(strstr(err, "sevrer"));
}

static void test_client_conf__bad_values_fail(void **state)
{
	static const char *bad[] = {
	    "server = unix:/x\ntimeout_ms = 0\n",
	    "server = unix:/x\ntimeout_ms = 12abc\n",
	    "server = unix:/x\nconnect_timeout_ms = -5\n",
	    "server = unix:/x\nspin_usec = 20000\n",
	    "server = unix:/x\nno equals sign\n",
	    "server = http://x\n",
	    "server = unix:\n",
	};
	struct cf_client_conf c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		write_conf(bad[i]);
		assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		unlink(path);
		snprintf(path, sizeof(path), "/tmp/coffer-client-conf-XXXXXX");
	}
}

/* spin_usec is in microseconds, and its error says so. */
static void test_client_conf__bad_spin_names_its_unit(void **state)
{
	static const char *bad[] = {"20000", "-1", "5x"};
	struct cf_client_conf c;
	char err[256], text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "server = unix:/x\nspin_usec = %s\n",
			 bad[i]);
		write_conf(text);
		assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "want microseconds, 0 to 10000"));
		unlink(path);
		snprintf(path, sizeof(path), "/tmp/coffer-client-conf-XXXXXX");
	}
}

/* cpu names a CPU a cpu_set_t holds, auto, or -1 (off); COFFER_CPU sets
 * it. */
static void test_client_conf__cpu_values(void **state)
{
	static const char *bad[] = {"1024", "-2", "x", "1.5"};
	struct cf_client_conf c;
	char err[256], text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "server = unix:/x\ncpu = %s\n",
			 bad[i]);
		write_conf(text);
		assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "want a CPU number, 0 to 1023"));
		unlink(path);
		snprintf(path, sizeof(path), "/tmp/coffer-client-conf-XXXXXX");
	}
	unsetenv("COFFER_CLIENT_CONF");
	setenv("COFFER_SERVER", "unix:/x", 1);
	setenv("COFFER_CPU", "1023", 1);
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), 0);
	assert_int_equal(c.cpu, 1023);
	setenv("COFFER_CPU", "-1", 1);
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), 0);
	assert_int_equal(c.cpu, -1);
	setenv("COFFER_CPU", "auto", 1);
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), 0);
	assert_int_equal(c.cpu, CF_CLIENT_CPU_AUTO);
	unsetenv("COFFER_CPU");
}

static void test_client_conf__missing_named_file_fails(void **state)
{
	struct cf_client_conf c;
	char err[256];

	(void)state;
	setenv("COFFER_CLIENT_CONF", "/nonexistent/client.conf", 1);
	setenv("COFFER_SERVER", "unix:/x", 1);
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/client.conf"));
}

static void test_client_conf__no_server_fails(void **state)
{
	struct cf_client_conf c;
	char err[256];

	(void)state;
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "COFFER_SERVER"));
}

static void test_client_conf__tls_needs_cert_key_and_ca(void **state)
{
	struct cf_client_conf c;
	char err[256];

	(void)state;
	setenv("COFFER_SERVER", "tls://127.0.0.1:5696", 1);
	setenv("COFFER_CLIENT_CERT", "/c.pem", 1);
	setenv("COFFER_CLIENT_KEY", "/k.pem", 1);
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), -1);
	setenv("COFFER_CLIENT_CA", "/ca.pem", 1);
	assert_int_equal(cf_client_conf_load(&c, err, sizeof(err)), 0);
}

static void test_client_conf__tls_address_forms(void **state)
{
	char host[64], port[8];

	(void)state;
	assert_int_equal(cf_client_parse_tls("tls://hsm.example:5696", host,
					     sizeof(host), port, sizeof(port)),
			 0);
	assert_string_equal(host, "hsm.example");
	assert_string_equal(port, "5696");
	assert_int_equal(cf_client_parse_tls("tls://[::1]:443", host,
					     sizeof(host), port, sizeof(port)),
			 0);
	assert_string_equal(host, "::1");
	assert_string_equal(port, "443");
	assert_int_equal(cf_client_parse_tls("tls://hsm.example", host,
					     sizeof(host), port, sizeof(port)),
			 -1);
	assert_int_equal(cf_client_parse_tls("tls://:5696", host, sizeof(host),
					     port, sizeof(port)),
			 -1);
	assert_int_equal(cf_client_parse_tls("tls://h:56x", host, sizeof(host),
					     port, sizeof(port)),
			 -1);
	assert_int_equal(cf_client_parse_tls("tls://[::1]443", host,
					     sizeof(host), port, sizeof(port)),
			 -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_client_conf__parses_every_key),
	    T(test_client_conf__defaults_from_env_alone),
	    T(test_client_conf__env_overrides_file),
	    T(test_client_conf__unknown_key_fails_naming_line),
	    T(test_client_conf__bad_values_fail),
	    T(test_client_conf__bad_spin_names_its_unit),
	    T(test_client_conf__cpu_values),
	    T(test_client_conf__missing_named_file_fails),
	    T(test_client_conf__no_server_fails),
	    T(test_client_conf__tls_needs_cert_key_and_ca),
	    T(test_client_conf__tls_address_forms),
	};

	return cmocka_run_group_tests_name("client_conf", tests, NULL, NULL);
}
