/*
 * config.c - where libcoffer-client.so finds cofferd: client.conf, then the
 * environment (docs/client.md).
 */
#include "client/client.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_FILE_MAX (64 * 1024)
#define TIMEOUT_MAX (24 * 3600 * 1000)

static int set_str(char *dst, const char *v, const char *name, size_t line,
		   const char *key, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (n == 0 || n >= CF_CLIENT_PATH_MAX) {
		snprintf(err, errlen, "%s:%zu: %s: value empty or too long",
			 name, line, key);
		return -1;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

/* Longer spinning only burns CPU: a reply that slow is a sleep's worth. */
#define SPIN_MAX 10000

static int set_ms(int *dst, const char *v, const char *name, size_t line,
		  const char *key, char *err, size_t errlen)
{
	char *end = NULL;
	long ms;

	errno = 0;
	ms = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || ms <= 0 ||
	    ms > TIMEOUT_MAX) {
		snprintf(err, errlen,
			 "%s:%zu: %s: want milliseconds, 1 to %d, got \"%s\"",
			 name, line, key, TIMEOUT_MAX, v);
		return -1;
	}
	*dst = (int)ms;
	return 0;
}

static int set_key(struct cf_client_conf *c, const char *key, const char *v,
		   const char *name, size_t line, char *err, size_t errlen)
{
	if (strcmp(key, "server") == 0)
		return set_str(c->server, v, name, line, key, err, errlen);
	if (strcmp(key, "cert") == 0)
		return set_str(c->cert, v, name, line, key, err, errlen);
	if (strcmp(key, "key") == 0)
		return set_str(c->key, v, name, line, key, err, errlen);
	if (strcmp(key, "ca") == 0)
		return set_str(c->ca, v, name, line, key, err, errlen);
	if (strcmp(key, "timeout_ms") == 0)
		return set_ms(&c->timeout_ms, v, name, line, key, err, errlen);
	if (strcmp(key, "connect_timeout_ms") == 0)
		return set_ms(&c->connect_timeout_ms, v, name, line, key, err,
			      errlen);
	if (strcmp(key, "spin_usec") == 0) {
		char *end = NULL;
		long us;

		errno = 0;
		us = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || us < 0 ||
		    us > SPIN_MAX) {
			snprintf(err, errlen,
				 "%s:%zu: %s: want microseconds, 0 to %d, got "
				 "\"%s\"",
				 name, line, key, SPIN_MAX, v);
			return -1;
		}
		c->spin_usec = (unsigned)us;
		return 0;
	}
	if (strcmp(key, "cpu") == 0) {
		char *end = NULL;
		long n;

		if (strcmp(v, "auto") == 0) {
			c->cpu = CF_CLIENT_CPU_AUTO;
			return 0;
		}
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < -1 ||
		    n >= CF_HELLO_CPU_MAX) {
			snprintf(err, errlen,
				 "%s:%zu: %s: want a CPU number, 0 to %d, auto, "
				 "or -1 (off), got \"%s\"",
				 name, line, key, CF_HELLO_CPU_MAX - 1, v);
			return -1;
		}
		c->cpu = (int)n;
		return 0;
	}
	snprintf(err, errlen, "%s:%zu: unknown key \"%s\"", name, line, key);
	return -1;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int cf_client_conf_parse(struct cf_client_conf *c, const char *name,
			 const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text), *save = NULL, *ln;
	size_t line = 0;
	int ret = -1;

	if (copy == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	/* strtok_r would merge blank lines and miscount; walk by hand. */
	for (ln = copy; ln != NULL; ln = save) {
		char *eq, *key, *val;

		line++;
		save = strchr(ln, '\n');
		if (save != NULL)
			*save++ = '\0';
		key = trim(ln);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%zu: want \"key = value\"",
				 name, line);
			goto out_free;
		}
		*eq = '\0';
		val = trim(eq + 1);
		key = trim(key);
		if (set_key(c, key, val, name, line, err, errlen) != 0)
			goto out_free;
	}
	ret = 0;
out_free:
	free(copy);
	return ret;
}

/* 0 parsed, 1 absent (and allowed to be), -1 error. */
static int load_file(struct cf_client_conf *c, const char *path,
		     bool must_exist, char *err, size_t errlen)
{
	char *text = NULL;
	size_t n;
	FILE *f;
	int ret = -1;

	f = fopen(path, "re");
	if (f == NULL) {
		if (!must_exist && errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(CONF_FILE_MAX + 1);
	if (text == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out_close;
	}
	n = fread(text, 1, CONF_FILE_MAX + 1, f);
	if (ferror(f) || n > CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: unreadable or over %d bytes", path,
			 CONF_FILE_MAX);
		goto out_free;
	}
	text[n] = '\0';
	if (cf_client_conf_parse(c, path, text, err, errlen) != 0)
		goto out_free;
	snprintf(c->source, sizeof(c->source), "%s", path);
	ret = 0;
out_free:
	free(text);
out_close:
	fclose(f);
	return ret;
}

static int load_env(struct cf_client_conf *c, char *err, size_t errlen)
{
	static const struct {
		const char *env, *key;
	} map[] = {
	    {"COFFER_SERVER", "server"},
	    {"COFFER_CLIENT_CERT", "cert"},
	    {"COFFER_CLIENT_KEY", "key"},
	    {"COFFER_CLIENT_CA", "ca"},
	    {"COFFER_TIMEOUT_MS", "timeout_ms"},
	    {"COFFER_CONNECT_TIMEOUT_MS", "connect_timeout_ms"},
	    {"COFFER_SPIN_USEC", "spin_usec"},
	    {"COFFER_CPU", "cpu"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = getenv(map[i].env);

		if (v == NULL || *v == '\0')
			continue;
		if (set_key(c, map[i].key, v, map[i].env, 0, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int cf_client_conf_load(struct cf_client_conf *c, char *err, size_t errlen)
{
	const char *env = getenv("COFFER_CLIENT_CONF");
	const char *home = getenv("HOME");
	char path[CF_CLIENT_PATH_MAX];
	int r;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = CF_CLIENT_TIMEOUT_DEFAULT;
	c->connect_timeout_ms = CF_CLIENT_CONNECT_TIMEOUT_DEFAULT;
	c->cpu = -1;
	if (env != NULL && *env != '\0') {
		r = load_file(c, env, true, err, errlen);
	} else {
		r = 1;
		if (home != NULL && *home != '\0' &&
		    (size_t)snprintf(path, sizeof(path),
				     "%s/.config/coffer/client.conf",
				     home) < sizeof(path))
			r = load_file(c, path, false, err, errlen);
		if (r == 1)
			r = load_file(c, "/etc/coffer/client.conf", false, err,
				      errlen);
	}
	if (r < 0)
		return -1;
	if (load_env(c, err, errlen) != 0)
		return -1;
	if (c->server[0] == '\0') {
		snprintf(err, errlen,
			 "no server: set COFFER_SERVER or \"server\" in "
			 "client.conf");
		return -1;
	}
	if (strncmp(c->server, "unix:", 5) == 0 && c->server[5] != '\0')
		return 0;
	if (strncmp(c->server, "tls://", 6) == 0) {
		char host[256], port[16];

		if (cf_client_parse_tls(c->server, host, sizeof(host), port,
					sizeof(port)) != 0) {
			snprintf(err, errlen, "server %s: want tls://HOST:PORT",
				 c->server);
			return -1;
		}
		if (c->cert[0] == '\0' || c->key[0] == '\0' ||
		    c->ca[0] == '\0') {
			snprintf(err, errlen,
				 "server %s: TLS needs cert, key and ca",
				 c->server);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "server %s: want unix:PATH or tls://HOST:PORT",
		 c->server);
	return -1;
}

int cf_client_parse_tls(const char *server, char *host, size_t hostlen,
			char *port, size_t portlen)
{
	const char *h, *colon, *hend;
	size_t hl, pl;

	if (strncmp(server, "tls://", 6) != 0)
		return -1;
	h = server + 6;
	if (*h == '[') {
		hend = strchr(h, ']');
		if (hend == NULL || hend[1] != ':')
			return -1;
		h++;
		colon = hend + 1;
	} else {
		colon = strrchr(h, ':');
		if (colon == NULL)
			return -1;
		hend = colon;
	}
	hl = (size_t)(hend - h);
	pl = strlen(colon + 1);
	if (hl == 0 || hl >= hostlen || pl == 0 || pl >= portlen)
		return -1;
	for (const char *p = colon + 1; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, pl + 1);
	return 0;
}
