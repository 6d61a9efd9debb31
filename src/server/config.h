/*
 * config.h - cofferd's settings: the command line over the config file
 * (docs/cofferd.md). The file is "key = value" lines, '#' comments, and
 * keys that make lists (listen, token, allow_*, map) may repeat. Errors
 * name FILE:LINE and the problem. Not thread-safe: the acceptor loads it at
 * start and on SIGHUP, and each worker inherits a copy by fork.
 */
#ifndef CF_SERVER_CONFIG_H
#define CF_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/log.h"
#include "wire/tls.h"

struct cf_strv {
	char **v;
	size_t n;
};

enum cf_map_kind {
	CF_MAP_UID,
	CF_MAP_GID,
	CF_MAP_SUBJECT,
	CF_MAP_FINGERPRINT,
};

struct cf_map_rule {
	enum cf_map_kind kind;
	unsigned long id; /* uid or gid */
	char *subject;
	uint8_t fp[CF_TLS_FP_LEN];
	char *uri;
};

/* Who may connect and what each peer sees; replaced whole on SIGHUP. */
struct cf_access {
	uid_t *uids;
	size_t nuids;
	gid_t *gids;
	size_t ngids;
	struct cf_strv subjects;
	uint8_t (*fps)[CF_TLS_FP_LEN];
	size_t nfps;
	struct cf_map_rule *maps;
	size_t nmaps;
};

struct cf_srv_conf {
	char *config_path; /* NULL: no file */
	char *module;
	struct cf_strv tokens;	/* PKCS#11 URIs; none: every token */
	struct cf_strv listens; /* unix:PATH, tls://ADDR:PORT, tcp://... */
	char *tls_cert, *tls_key, *tls_ca;
	unsigned int socket_mode;
	char *socket_owner, *socket_group;
	struct cf_access access;
	uint32_t max_frame;
	unsigned long max_sessions;
	uint32_t max_inflight;
	unsigned long idle_timeout; /* seconds; 0: never */
	unsigned long max_clients;
	unsigned long handshake_timeout; /* seconds */
	bool allow_plain_tcp;
	enum cf_log_level log_level;
	char *log_dest; /* stderr, syslog or a path */
};

void cf_srv_conf_defaults(struct cf_srv_conf *c);
void cf_srv_conf_clear(struct cf_srv_conf *c);

/* Command line, then the config file it names, then the command line again
 * on top. Returns 0, 1 when --help or --version printed, or -1 with a
 * one-line message in err. */
int cf_srv_conf_from_args(struct cf_srv_conf *c, int argc, char **argv,
			  char *err, size_t errlen);

/* Re-reads only the access rules of the config file (SIGHUP). On error c
 * is unchanged. */
int cf_srv_conf_reload_access(struct cf_srv_conf *c, char *err, size_t errlen);

void cf_access_clear(struct cf_access *a);

/* Parses "AB:CD:..." (or without colons) into 32 bytes. */
bool cf_srv_parse_fp(const char *s, uint8_t fp[CF_TLS_FP_LEN]);

#endif
