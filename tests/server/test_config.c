/*
 * test_config.c - cofferd's command line and config file: what is
 * accepted, what the command line overrides, and errors that name
 * FILE:LINE.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/access.h"
#include "server/config.h"

static char file[64];

static int write_conf(void **state)
{
	(void)state;
	snprintf(file, sizeof(file), "/tmp/cofferd-conf-XXXXXX");
	int fd = mkstemp(file);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int remove_conf(void **state)
{
	(void)state;
	unlink(file);
	return 0;
}

static void put(const char *text)
{
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int parse(struct cf_srv_conf *c, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"cofferd";
	va_start(ap, errlen);
	for (char *a = va_arg(ap, char *); a != NULL; a = va_arg(ap, char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	cf_srv_conf_defaults(c);
	return cf_srv_conf_from_args(c, argc, argv, err, errlen);
}

static void test_config__file_values_and_command_line_override(void **state)
{
	struct cf_srv_conf c;
	char err[256] = "";

	(void)state;
	put("# comment\n"
	    "module = /lib/a.so\n"
	    "listen = unix:/tmp/a\n"
	    "listen = tls://127.0.0.1:5696\n"
	    "token = pkcs11:token=web\n"
	    "socket_mode = 0660\n"
	    "max_sessions = 7\n"
	    "max_inflight = 3\n"
	    "idle_timeout = 30\n"
	    "allow_uid = 1000\n"
	    "allow_gid = 0\n"
	    "allow_subject = CN=app1,O=x\n"
	    "allow_fingerprint = "
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	    "map = CN=app1,O=x -> pkcs11:token=web\n"
	    "map = uid=1000 -> pkcs11:token=ci\n");
	assert_int_equal(parse(&c, err, sizeof(err), "--config", file,
			       "--module", "/lib/b.so", "--listen",
			       "unix:/tmp/b", NULL),
			 0);
	assert_string_equal(c.module, "/lib/b.so");
	assert_int_equal(c.listens.n, 1);
	assert_string_equal(c.listens.v[0], "unix:/tmp/b");
	assert_int_equal(c.tokens.n, 1);
	assert_int_equal(c.socket_mode, 0660);
	assert_int_equal(c.max_sessions, 7);
	assert_int_equal(c.max_inflight, 3);
	assert_int_equal(c.idle_timeout, 30);
	assert_int_equal(c.access.nuids, 1);
	assert_int_equal(c.access.ngids, 1);
	assert_int_equal(c.access.subjects.n, 1);
	assert_int_equal(c.access.nfps, 1);
	assert_int_equal(c.access.fps[0][31], 0x1f);
	assert_int_equal(c.access.nmaps, 2);
	assert_int_equal(c.access.maps[0].kind, CF_MAP_SUBJECT);
	assert_string_equal(c.access.maps[0].subject, "CN=app1,O=x");
	assert_string_equal(c.access.maps[0].uri, "pkcs11:token=web");
	assert_int_equal(c.access.maps[1].kind, CF_MAP_UID);
	assert_int_equal(c.access.maps[1].id, 1000);
	cf_srv_conf_clear(&c);
}

static void test_config__errors_name_file_and_line(void **state)
{
	struct cf_srv_conf c;
	char err[256] = "", want[128];

	(void)state;
	put("module = /lib/a.so\n\nmax_inflight = 0\n");
	assert_int_equal(parse(&c, err, sizeof(err), "--config", file,
			       "--listen", "unix:/tmp/a", NULL),
			 -1);
	snprintf(want, sizeof(want), "%s:3: max_inflight", file);
	assert_non_null(strstr(err, want));
	cf_srv_conf_clear(&c);

	put("map = CN=x\n");
	assert_int_equal(parse(&c, err, sizeof(err), "--config", file, NULL),
			 -1);
	snprintf(want, sizeof(want), "%s:1: map needs", file);
	assert_non_null(strstr(err, want));
	cf_srv_conf_clear(&c);

	put("allow_fingerprint = AB:CD\n");
	assert_int_equal(parse(&c, err, sizeof(err), "--config", file, NULL),
			 -1);
	assert_non_null(strstr(err, ":1: allow_fingerprint"));
	cf_srv_conf_clear(&c);
}

static void test_config__missing_module_or_listen_is_an_error(void **state)
{
	struct cf_srv_conf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(
	    parse(&c, err, sizeof(err), "--listen", "unix:/x", NULL), -1);
	assert_non_null(strstr(err, "no module"));
	cf_srv_conf_clear(&c);
	assert_int_equal(parse(&c, err, sizeof(err), "--module", "/m.so", NULL),
			 -1);
	assert_non_null(strstr(err, "nothing to listen on"));
	cf_srv_conf_clear(&c);
	assert_int_equal(parse(&c, err, sizeof(err), "--module", "/m.so",
			       "--listen", "unix:/x", "stray", NULL),
			 -1);
	assert_non_null(strstr(err, "unexpected argument"));
	cf_srv_conf_clear(&c);
}

static void test_config__reload_replaces_only_access_rules(void **state)
{
	struct cf_srv_conf c;
	char err[256] = "";

	(void)state;
	put("module = /lib/a.so\nlisten = unix:/tmp/a\nallow_uid = 1\n");
	assert_int_equal(parse(&c, err, sizeof(err), "--config", file, NULL),
			 0);
	put("module = /lib/other.so\nlisten = unix:/tmp/a\n"
	    "allow_uid = 2\nallow_uid = 3\n");
	assert_int_equal(cf_srv_conf_reload_access(&c, err, sizeof(err)), 0);
	assert_string_equal(c.module, "/lib/a.so");
	assert_int_equal(c.access.nuids, 2);
	assert_int_equal(c.access.uids[0], 2);
	/* A broken file leaves the rules as they were. */
	put("allow_uid = 4\nbogus = 1\n");
	assert_int_equal(cf_srv_conf_reload_access(&c, err, sizeof(err)), -1);
	assert_int_equal(c.access.nuids, 2);
	cf_srv_conf_clear(&c);
}

static void test_config__access_rules_decide(void **state)
{
	struct cf_access a;
	struct cf_peer p;
	char why[128];
	uid_t uids[1] = {1000};
	char *mapped[4];
	struct cf_map_rule rules[2];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	p.kind = CF_PEER_UNIX;
	p.uid = 1001;
	p.gid = 1001;
	assert_true(cf_access_allows(&a, &p, why, sizeof(why)));
	a.uids = uids;
	a.nuids = 1;
	assert_false(cf_access_allows(&a, &p, why, sizeof(why)));
	p.uid = 1000;
	assert_true(cf_access_allows(&a, &p, why, sizeof(why)));

	memset(rules, 0, sizeof(rules));
	rules[0].kind = CF_MAP_UID;
	rules[0].id = 1000;
	rules[0].uri = (char *)"pkcs11:token=a";
	rules[1].kind = CF_MAP_SUBJECT;
	rules[1].subject = (char *)"CN=x";
	rules[1].uri = (char *)"pkcs11:token=b";
	a.maps = rules;
	a.nmaps = 2;
	assert_int_equal(cf_access_mapped(&a, &p, mapped, 4), 1);
	assert_string_equal(mapped[0], "pkcs11:token=a");
	p.uid = 5;
	assert_int_equal(cf_access_mapped(&a, &p, mapped, 4), 0);
}

/* A peer in the allowed group only as a supplementary group (the usual
 * way a service user is given access) is let in; one in neither is not. */
static void test_config__allow_gid_matches_a_supplementary_group(void **state)
{
	struct cf_access a;
	struct cf_peer p;
	char why[128];
	gid_t allowed[1] = {2000};
	gid_t groups[3] = {5, 2000, 7};

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	p.kind = CF_PEER_UNIX;
	p.uid = 1001;
	p.gid = 1001;
	a.gids = allowed;
	a.ngids = 1;
	assert_false(cf_access_allows(&a, &p, why, sizeof(why)));
	p.groups = groups;
	p.ngroups = 3;
	assert_true(cf_access_allows(&a, &p, why, sizeof(why)));
	groups[1] = 2001;
	assert_false(cf_access_allows(&a, &p, why, sizeof(why)));
}

/* A map line naming a supplementary group narrows what the peer sees, as
 * one naming its primary group does. */
static void test_config__map_gid_names_a_supplementary_group(void **state)
{
	struct cf_access a;
	struct cf_peer p;
	struct cf_map_rule rule;
	char *mapped[2];
	gid_t groups[2] = {5, 3000};

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	memset(&rule, 0, sizeof(rule));
	p.kind = CF_PEER_UNIX;
	p.gid = 1001;
	rule.kind = CF_MAP_GID;
	rule.id = 3000;
	rule.uri = (char *)"pkcs11:token=ops";
	a.maps = &rule;
	a.nmaps = 1;
	assert_int_equal(cf_access_mapped(&a, &p, mapped, 2), 0);
	p.groups = groups;
	p.ngroups = 2;
	assert_int_equal(cf_access_mapped(&a, &p, mapped, 2), 1);
	assert_string_equal(mapped[0], "pkcs11:token=ops");
	/* A gid beyond gid_t's range names nobody. */
	rule.id = 3000 + (1UL << 32);
	assert_int_equal(cf_access_mapped(&a, &p, mapped, 2), 0);
}

/* The groups cofferd sees are the connecting process's: a child (given
 * extra groups when the test runs as root) connects and sends the list
 * getgroups() gives it; the accepted socket's peer must hold the same. */
static void test_config__peer_unix_reports_supplementary_groups(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct cf_peer p;
	gid_t sent[256];
	ssize_t n;
	int lfd, fd, status;
	pid_t pid;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/cofferd-peer-%ld",
		 (long)getpid());
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		gid_t extra[3] = {4242, 4243, 4244};
		gid_t mine[256];
		int c = socket(AF_UNIX, SOCK_STREAM, 0), k;

		if (geteuid() == 0 && setgroups(3, extra) != 0)
			_exit(2);
		k = getgroups(256, mine);
		if (c < 0 || k < 0 ||
		    connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    write(c, mine, (size_t)k * sizeof(gid_t)) !=
			(ssize_t)((size_t)k * sizeof(gid_t)))
			_exit(3);
		_exit(0);
	}
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(cf_peer_unix(fd, &p), 0);
	n = read(fd, sent, sizeof(sent));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(n >= 0);
	assert_int_equal(p.ngroups, (size_t)n / sizeof(gid_t));
	for (size_t i = 0; i < p.ngroups; i++) {
		bool found = false;
		for (size_t j = 0; j < p.ngroups; j++)
			found = found || sent[j] == p.groups[i];
		assert_true(found);
	}
	if (geteuid() == 0)
		assert_int_equal(p.ngroups, 3);
	cf_peer_clear(&p);
	assert_null(p.groups);
	close(fd);
	close(lfd);
	unlink(sa.sun_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		test_config__file_values_and_command_line_override),
	    cmocka_unit_test(test_config__errors_name_file_and_line),
	    cmocka_unit_test(test_config__missing_module_or_listen_is_an_error),
	    cmocka_unit_test(test_config__reload_replaces_only_access_rules),
	    cmocka_unit_test(test_config__access_rules_decide),
	    cmocka_unit_test(
		test_config__allow_gid_matches_a_supplementary_group),
	    cmocka_unit_test(test_config__map_gid_names_a_supplementary_group),
	    cmocka_unit_test(
		test_config__peer_unix_reports_supplementary_groups),
	};
	return cmocka_run_group_tests(tests, write_conf, remove_conf);
}
