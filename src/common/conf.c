/* conf.c - see conf.h. */
#include "common/conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h != NULL && h[0] == '/')
		return h;
	struct passwd *pw = getpwuid(getuid());
	return pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : "/";
}

void cf_conf_defaults(struct cf_conf *c)
{
	const char *xdg = getenv("XDG_DATA_HOME");

	memset(c, 0, sizeof(*c));
	if (xdg != NULL && xdg[0] == '/')
		snprintf(c->token_dir, sizeof(c->token_dir),
			 "%s/coffer/tokens", xdg);
	else
		snprintf(c->token_dir, sizeof(c->token_dir),
			 "%s/.local/share/coffer/tokens", home_dir());
	c->log_level = CF_LOG_ERROR;
	snprintf(c->log_dest, sizeof(c->log_dest), "stderr");
	c->pin_min_len = 4;
	c->pin_max_len = 255;
	c->pin_lockout = 10;
	c->kdf_cost = CF_KDF_COST_DEFAULT;
	c->max_sessions = 4096;
	c->legacy_mechanisms = true;
	c->strict_key_roles = true;
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool parse_ulong(const char *v, unsigned long lo, unsigned long hi,
			unsigned long *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		return false;
	*out = n;
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0) {
		*out = false;
		return true;
	}
	return false;
}

static bool copy_path(char *dst, const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n >= CF_CONF_PATH_MAX)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

/* Applies one key; returns NULL or the problem. */
static const char *apply(struct cf_conf *c, const char *k, const char *v)
{
	unsigned long n;

	if (strcmp(k, "token_dir") == 0) {
		if (v[0] != '/')
			return "token_dir must be an absolute path";
		return copy_path(c->token_dir, v) ? NULL : "path too long";
	}
	if (strcmp(k, "log_level") == 0)
		return cf_log_level_parse(v, &c->log_level)
			       ? NULL
			       : "log_level must be none, error, warn, info "
				 "or debug";
	if (strcmp(k, "log_dest") == 0) {
		if (strcmp(v, "stderr") != 0 && strcmp(v, "syslog") != 0 &&
		    v[0] != '/')
			return "log_dest must be stderr, syslog or an absolute "
			       "path";
		return copy_path(c->log_dest, v) ? NULL : "path too long";
	}
	if (strcmp(k, "pin_min_len") == 0) {
		if (!parse_ulong(v, 1, 255, &n))
			return "pin_min_len must be a number from 1 to 255";
		c->pin_min_len = n;
		return NULL;
	}
	if (strcmp(k, "pin_max_len") == 0) {
		if (!parse_ulong(v, 1, 255, &n))
			return "pin_max_len must be a number from 1 to 255";
		c->pin_max_len = n;
		return NULL;
	}
	if (strcmp(k, "pin_lockout") == 0) {
		if (!parse_ulong(v, 0, 1000, &n))
			return "pin_lockout must be a number from 0 (never) "
			       "to 1000";
		c->pin_lockout = n;
		return NULL;
	}
	if (strcmp(k, "kdf_cost") == 0) {
		if (!parse_ulong(v, CF_KDF_COST_MIN, CF_KDF_COST_MAX, &n))
			return "kdf_cost must be a number from 10 to 20 "
			       "(scrypt N = 2^kdf_cost)";
		c->kdf_cost = (unsigned int)n;
		return NULL;
	}
	if (strcmp(k, "max_sessions") == 0) {
		if (!parse_ulong(v, 1, 1000000, &n))
			return "max_sessions must be a number from 1 to "
			       "1000000";
		c->max_sessions = n;
		return NULL;
	}
	if (strcmp(k, "legacy_mechanisms") == 0) {
		if (!parse_bool(v, &c->legacy_mechanisms))
			return "legacy_mechanisms must be yes or no";
		return NULL;
	}
	if (strcmp(k, "key_roles") == 0) {
		if (strcmp(v, "strict") != 0 && strcmp(v, "relaxed") != 0)
			return "key_roles must be strict or relaxed";
		c->strict_key_roles = strcmp(v, "strict") == 0;
		return NULL;
	}
	return "unknown key";
}

int cf_conf_load_file(struct cf_conf *c, const char *path, char *err,
		      size_t errlen)
{
	FILE *f;
	char line[CF_CONF_PATH_MAX + 128];
	unsigned lineno = 0;
	int rc = -1;

	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *k, *v;
		const char *problem;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path,
				 lineno);
			goto out_close;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'",
				 path, lineno);
			goto out_close;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		problem = apply(c, k, v);
		if (problem != NULL) {
			snprintf(err, errlen, "%s:%u: %s: %s", path, lineno, k,
				 problem);
			goto out_close;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out_close;
	}
	if (c->pin_min_len > c->pin_max_len) {
		snprintf(err, errlen, "%s: pin_min_len is above pin_max_len",
			 path);
		goto out_close;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	rc = 0;
out_close:
	fclose(f);
	return rc;
}

int cf_conf_load(struct cf_conf *c, char *err, size_t errlen)
{
	const char *env = getenv("COFFER_CONF");
	char p[CF_CONF_PATH_MAX];

	cf_conf_defaults(c);
	if (env != NULL && env[0] != '\0')
		return cf_conf_load_file(c, env, err, errlen);
	snprintf(p, sizeof(p), "%s/.config/coffer/coffer.conf", home_dir());
	if (access(p, F_OK) == 0)
		return cf_conf_load_file(c, p, err, errlen);
	if (access("/etc/coffer/coffer.conf", F_OK) == 0)
		return cf_conf_load_file(c, "/etc/coffer/coffer.conf", err,
					 errlen);
	return 0;
}
