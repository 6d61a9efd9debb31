/* config.c - see config.h. */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/conn.h"

void cf_srv_conf_defaults(struct cf_srv_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->socket_mode = 0600;
	c->max_frame = CF_FRAME_MAX_DEFAULT;
	c->max_sessions = 1024;
	c->max_inflight = 16;
	c->idle_timeout = 0;
	c->max_clients = 256;
	c->handshake_timeout = 10;
	c->log_level = CF_LOG_INFO;
}

static void strv_clear(struct cf_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

static int strv_add(struct cf_strv *v, const char *s)
{
	char **nv = realloc(v->v, (v->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	v->v = nv;
	v->v[v->n] = strdup(s);
	if (v->v[v->n] == NULL)
		return -ENOMEM;
	v->n++;
	return 0;
}

void cf_access_clear(struct cf_access *a)
{
	free(a->uids);
	free(a->gids);
	strv_clear(&a->subjects);
	free(a->fps);
	for (size_t i = 0; i < a->nmaps; i++) {
		free(a->maps[i].subject);
		free(a->maps[i].uri);
	}
	free(a->maps);
	memset(a, 0, sizeof(*a));
}

void cf_srv_conf_clear(struct cf_srv_conf *c)
{
	free(c->config_path);
	free(c->module);
	strv_clear(&c->tokens);
	strv_clear(&c->listens);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_ca);
	free(c->socket_owner);
	free(c->socket_group);
	cf_access_clear(&c->access);
	free(c->log_dest);
	memset(c, 0, sizeof(*c));
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

static bool parse_ulong(const char *v, int base, unsigned long lo,
			unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	n = strtoul(v, &end, base);
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

static bool parse_uid(const char *v, unsigned long *out)
{
	struct passwd *pw;

	if (parse_ulong(v, 10, 0, 0xfffffffeUL, out))
		return true;
	pw = getpwnam(v);
	if (pw == NULL)
		return false;
	*out = pw->pw_uid;
	return true;
}

static bool parse_gid(const char *v, unsigned long *out)
{
	struct group *gr;

	if (parse_ulong(v, 10, 0, 0xfffffffeUL, out))
		return true;
	gr = getgrnam(v);
	if (gr == NULL)
		return false;
	*out = gr->gr_gid;
	return true;
}

bool cf_srv_parse_fp(const char *s, uint8_t fp[CF_TLS_FP_LEN])
{
	size_t n = 0;

	while (*s != '\0') {
		unsigned int hi, lo;
		if (*s == ':') {
			s++;
			continue;
		}
		if (!isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]) || n == CF_TLS_FP_LEN)
			return false;
		hi = (unsigned int)(isdigit((unsigned char)s[0])
					    ? s[0] - '0'
					    : tolower((unsigned char)s[0]) - 'a' + 10);
		lo = (unsigned int)(isdigit((unsigned char)s[1])
					    ? s[1] - '0'
					    : tolower((unsigned char)s[1]) - 'a' + 10);
		fp[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return n == CF_TLS_FP_LEN;
}

/* "IDENTITY -> URI"; IDENTITY is uid=N, gid=N, fingerprint=HEX, subject=DN
 * or a bare DN. */
static int parse_map(struct cf_access *a, char *v, const char **why)
{
	struct cf_map_rule r;
	struct cf_map_rule *nm;
	char *arrow = strstr(v, "->");
	char *id, *uri;

	memset(&r, 0, sizeof(r));
	if (arrow == NULL) {
		*why = "map needs IDENTITY -> PKCS11-URI";
		return -EINVAL;
	}
	*arrow = '\0';
	id = trim(v);
	uri = trim(arrow + 2);
	if (strncmp(uri, "pkcs11:", 7) != 0) {
		*why = "map target must be a pkcs11: URI";
		return -EINVAL;
	}
	if (strncmp(id, "uid=", 4) == 0) {
		r.kind = CF_MAP_UID;
		if (!parse_uid(id + 4, &r.id)) {
			*why = "map: unknown user";
			return -EINVAL;
		}
	} else if (strncmp(id, "gid=", 4) == 0) {
		r.kind = CF_MAP_GID;
		if (!parse_gid(id + 4, &r.id)) {
			*why = "map: unknown group";
			return -EINVAL;
		}
	} else if (strncmp(id, "fingerprint=", 12) == 0) {
		r.kind = CF_MAP_FINGERPRINT;
		if (!cf_srv_parse_fp(id + 12, r.fp)) {
			*why = "map: fingerprint must be 32 hex bytes";
			return -EINVAL;
		}
	} else {
		r.kind = CF_MAP_SUBJECT;
		if (strncmp(id, "subject=", 8) == 0)
			id += 8;
		if (id[0] == '\0' || strchr(id, '=') == NULL) {
			*why = "map: identity must be uid=, gid=, "
			       "fingerprint= or a subject DN";
			return -EINVAL;
		}
		r.subject = strdup(id);
		if (r.subject == NULL)
			return -ENOMEM;
	}
	r.uri = strdup(uri);
	nm = realloc(a->maps, (a->nmaps + 1) * sizeof(*nm));
	if (r.uri == NULL || nm == NULL) {
		free(r.subject);
		free(r.uri);
		if (nm != NULL)
			a->maps = nm;
		return -ENOMEM;
	}
	a->maps = nm;
	a->maps[a->nmaps++] = r;
	return 0;
}

/* Access-rule keys; returns 1 when key is not one of them. */
static int access_key(struct cf_access *a, const char *key, char *v,
		      const char **why)
{
	unsigned long n;

	if (strcmp(key, "allow_uid") == 0) {
		uid_t *nu;
		if (!parse_uid(v, &n)) {
			*why = "allow_uid: unknown user";
			return -EINVAL;
		}
		nu = realloc(a->uids, (a->nuids + 1) * sizeof(*nu));
		if (nu == NULL)
			return -ENOMEM;
		a->uids = nu;
		a->uids[a->nuids++] = (uid_t)n;
		return 0;
	}
	if (strcmp(key, "allow_gid") == 0) {
		gid_t *ng;
		if (!parse_gid(v, &n)) {
			*why = "allow_gid: unknown group";
			return -EINVAL;
		}
		ng = realloc(a->gids, (a->ngids + 1) * sizeof(*ng));
		if (ng == NULL)
			return -ENOMEM;
		a->gids = ng;
		a->gids[a->ngids++] = (gid_t)n;
		return 0;
	}
	if (strcmp(key, "allow_subject") == 0) {
		if (strchr(v, '=') == NULL) {
			*why = "allow_subject: expected a DN like CN=app,O=org";
			return -EINVAL;
		}
		return strv_add(&a->subjects, v);
	}
	if (strcmp(key, "allow_fingerprint") == 0) {
		uint8_t(*nf)[CF_TLS_FP_LEN];
		nf = realloc(a->fps, (a->nfps + 1) * sizeof(*nf));
		if (nf == NULL)
			return -ENOMEM;
		a->fps = nf;
		if (!cf_srv_parse_fp(v, a->fps[a->nfps])) {
			*why = "allow_fingerprint: expected 32 hex bytes "
			       "(AB:CD:...)";
			return -EINVAL;
		}
		a->nfps++;
		return 0;
	}
	if (strcmp(key, "map") == 0)
		return parse_map(a, v, why);
	return 1;
}

static int set_str(char **dst, const char *v)
{
	char *d = strdup(v);
	if (d == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static int conf_key(struct cf_srv_conf *c, const char *key, char *v,
		    const char **why)
{
	unsigned long n;
	int rc = access_key(&c->access, key, v, why);

	if (rc <= 0)
		return rc;
	if (strcmp(key, "module") == 0)
		return set_str(&c->module, v);
	if (strcmp(key, "token") == 0) {
		if (strncmp(v, "pkcs11:", 7) != 0) {
			*why = "token must be a pkcs11: URI";
			return -EINVAL;
		}
		return strv_add(&c->tokens, v);
	}
	if (strcmp(key, "listen") == 0)
		return strv_add(&c->listens, v);
	if (strcmp(key, "tls_cert") == 0)
		return set_str(&c->tls_cert, v);
	if (strcmp(key, "tls_key") == 0)
		return set_str(&c->tls_key, v);
	if (strcmp(key, "tls_ca") == 0)
		return set_str(&c->tls_ca, v);
	if (strcmp(key, "socket_owner") == 0)
		return set_str(&c->socket_owner, v);
	if (strcmp(key, "socket_group") == 0)
		return set_str(&c->socket_group, v);
	if (strcmp(key, "log") == 0)
		return set_str(&c->log_dest, v);
	if (strcmp(key, "socket_mode") == 0) {
		if (!parse_ulong(v, 8, 0, 0777, &n)) {
			*why = "socket_mode: expected an octal mode like 0660";
			return -EINVAL;
		}
		c->socket_mode = (unsigned int)n;
		return 0;
	}
	if (strcmp(key, "max_frame") == 0) {
		if (!parse_ulong(v, 10, CF_FRAME_MAX_FLOOR, 1UL << 30, &n)) {
			*why = "max_frame: expected 65536 .. 1073741824";
			return -EINVAL;
		}
		c->max_frame = (uint32_t)n;
		return 0;
	}
	if (strcmp(key, "max_sessions") == 0) {
		if (!parse_ulong(v, 10, 1, 1UL << 20, &c->max_sessions)) {
			*why = "max_sessions: expected 1 .. 1048576";
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "max_inflight") == 0) {
		if (!parse_ulong(v, 10, 1, 256, &n)) {
			*why = "max_inflight: expected 1 .. 256";
			return -EINVAL;
		}
		c->max_inflight = (uint32_t)n;
		return 0;
	}
	if (strcmp(key, "idle_timeout") == 0) {
		if (!parse_ulong(v, 10, 0, 1UL << 30, &c->idle_timeout)) {
			*why = "idle_timeout: expected seconds (0: never)";
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "max_clients") == 0) {
		if (!parse_ulong(v, 10, 1, 65536, &c->max_clients)) {
			*why = "max_clients: expected 1 .. 65536";
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "handshake_timeout") == 0) {
		if (!parse_ulong(v, 10, 1, 600, &c->handshake_timeout)) {
			*why = "handshake_timeout: expected 1 .. 600 seconds";
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "allow_plain_tcp") == 0) {
		if (!parse_bool(v, &c->allow_plain_tcp)) {
			*why = "allow_plain_tcp: expected yes or no";
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		if (!cf_log_level_parse(v, &c->log_level)) {
			*why = "log_level: expected none, error, warn, info "
			       "or debug";
			return -EINVAL;
		}
		return 0;
	}
	*why = "unknown key";
	return -EINVAL;
}

/* Parses the file; with only_access, every key but the access rules is
 * skipped (SIGHUP) and the rules go into acc. */
static int load_file(struct cf_srv_conf *c, struct cf_access *acc,
		     const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	unsigned int lineno = 0;
	int ret = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *key, *val;
		const char *why = "out of memory";
		int rc;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path,
				 lineno);
			ret = -1;
			break;
		}
		s = trim(line);
		if (s[0] == '\0' || s[0] == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value",
				 path, lineno);
			ret = -1;
			break;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (val[0] == '\0') {
			snprintf(err, errlen, "%s:%u: %s: empty value", path,
				 lineno, key);
			ret = -1;
			break;
		}
		if (acc != NULL) {
			rc = access_key(acc, key, val, &why);
			if (rc > 0) {
				/* not an access key: validate it anyway on a
				 * scratch copy so a typo still fails */
				struct cf_srv_conf scratch;
				cf_srv_conf_defaults(&scratch);
				rc = conf_key(&scratch, key, val, &why);
				cf_srv_conf_clear(&scratch);
			}
		} else {
			rc = conf_key(c, key, val, &why);
		}
		if (rc != 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			ret = -1;
			break;
		}
	}
	fclose(f);
	return ret;
}

int cf_srv_conf_reload_access(struct cf_srv_conf *c, char *err, size_t errlen)
{
	struct cf_access acc;

	memset(&acc, 0, sizeof(acc));
	if (c->config_path == NULL) {
		snprintf(err, errlen, "no config file to reload");
		return -1;
	}
	if (load_file(c, &acc, c->config_path, err, errlen) != 0) {
		cf_access_clear(&acc);
		return -1;
	}
	cf_access_clear(&c->access);
	c->access = acc;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cofferd --module PATH [--token PKCS11-URI]...\n"
		"               --listen unix:PATH | --listen tls://ADDR:PORT\n"
		"               [--tls-cert FILE --tls-key FILE --tls-ca FILE]\n"
		"               [--config FILE] [--log-level LEVEL]\n");
}

int cf_srv_conf_from_args(struct cf_srv_conf *c, int argc, char **argv,
			  char *err, size_t errlen)
{
	static const struct option opts[] = {
		{"module", required_argument, NULL, 'm'},
		{"token", required_argument, NULL, 't'},
		{"listen", required_argument, NULL, 'l'},
		{"tls-cert", required_argument, NULL, 'C'},
		{"tls-key", required_argument, NULL, 'K'},
		{"tls-ca", required_argument, NULL, 'A'},
		{"config", required_argument, NULL, 'c'},
		{"log-level", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cf_srv_conf cli;
	bool have_level = false;
	int opt, ret = -1;
	const char *why = NULL;

	cf_srv_conf_defaults(&cli);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int rc = 0;
		switch (opt) {
		case 'm':
			rc = set_str(&cli.module, optarg);
			break;
		case 't':
			if (strncmp(optarg, "pkcs11:", 7) != 0) {
				snprintf(err, errlen,
					 "--token %s: not a pkcs11: URI",
					 optarg);
				goto out;
			}
			rc = strv_add(&cli.tokens, optarg);
			break;
		case 'l':
			rc = strv_add(&cli.listens, optarg);
			break;
		case 'C':
			rc = set_str(&cli.tls_cert, optarg);
			break;
		case 'K':
			rc = set_str(&cli.tls_key, optarg);
			break;
		case 'A':
			rc = set_str(&cli.tls_ca, optarg);
			break;
		case 'c':
			rc = set_str(&cli.config_path, optarg);
			break;
		case 'L':
			if (!cf_log_level_parse(optarg, &cli.log_level)) {
				snprintf(err, errlen,
					 "--log-level %s: expected none, "
					 "error, warn, info or debug",
					 optarg);
				goto out;
			}
			have_level = true;
			break;
		case 'h':
			usage(stderr);
			ret = 1;
			goto out;
		case 'V':
			fprintf(stderr, "cofferd %s\n", COFFER_VERSION);
			ret = 1;
			goto out;
		default:
			snprintf(err, errlen, "%s: unknown or incomplete option",
				 argv[optind - 1]);
			goto out;
		}
		if (rc != 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "%s: unexpected argument", argv[optind]);
		goto out;
	}

	cf_srv_conf_clear(c);
	cf_srv_conf_defaults(c);
	if (cli.config_path != NULL) {
		if (set_str(&c->config_path, cli.config_path) != 0 ||
		    load_file(c, NULL, cli.config_path, err, errlen) != 0)
			goto out;
	}
	/* The command line wins over the file. */
#define TAKE(f)                                                                \
	if (cli.f != NULL) {                                                   \
		free(c->f);                                                    \
		c->f = cli.f;                                                  \
		cli.f = NULL;                                                  \
	}
	TAKE(module)
	TAKE(tls_cert)
	TAKE(tls_key)
	TAKE(tls_ca)
#undef TAKE
	if (cli.tokens.n > 0) {
		strv_clear(&c->tokens);
		c->tokens = cli.tokens;
		memset(&cli.tokens, 0, sizeof(cli.tokens));
	}
	if (cli.listens.n > 0) {
		strv_clear(&c->listens);
		c->listens = cli.listens;
		memset(&cli.listens, 0, sizeof(cli.listens));
	}
	if (have_level)
		c->log_level = cli.log_level;

	if (c->module == NULL)
		why = "no module: give --module PATH or module = PATH";
	else if (c->listens.n == 0)
		why = "nothing to listen on: give --listen unix:PATH or "
		      "tls://ADDR:PORT";
	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		goto out;
	}
	ret = 0;
out:
	cf_srv_conf_clear(&cli);
	return ret;
}
