/*
 * conf.h - coffer.conf: "key = value" lines, '#' comments, blank lines.
 *
 * Lookup order: $COFFER_CONF (which must then exist), else
 * ~/.config/coffer/coffer.conf, else /etc/coffer/coffer.conf, else the
 * built-in per-user defaults. Unknown keys and bad values are errors that name
 * the file, the line and the problem. Not thread-safe; callers load once.
 */
#ifndef CF_CONF_H
#define CF_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "common/log.h"

#define CF_CONF_PATH_MAX 4096

struct cf_conf {
	char path[CF_CONF_PATH_MAX];      /* file read, "" when defaults */
	char token_dir[CF_CONF_PATH_MAX]; /* where token databases live */
	enum cf_log_level log_level;
	char log_dest[CF_CONF_PATH_MAX]; /* stderr, syslog or a path */
	unsigned long pin_min_len;
	unsigned long pin_max_len;
	unsigned long pin_lockout;  /* failed logins before lock; 0 never */
	unsigned int kdf_cost;      /* scrypt N = 2^kdf_cost, r = 8, p = 1 */
	unsigned long max_sessions; /* per token, per application */
	bool legacy_mechanisms;	    /* DES3 offered (docs/status.md) */
	/* The key-role policy that defeats the known wrap/decrypt attacks
	 * (docs/security.md); false only when the file says relaxed. */
	bool strict_key_roles;
};

#define CF_KDF_COST_DEFAULT 15
#define CF_KDF_COST_MIN 10 /* below 15 is for tests only, and logged */
#define CF_KDF_COST_MAX 20

/* Fills c with the built-in defaults (token_dir from $XDG_DATA_HOME or
 * ~/.local/share/coffer/tokens). */
void cf_conf_defaults(struct cf_conf *c);

/* Finds and parses the config file as described above. Returns 0, or -1
 * with a one-line message "FILE:LINE: problem" in err. */
int cf_conf_load(struct cf_conf *c, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Parses one named file on top of what c holds. */
int cf_conf_load_file(struct cf_conf *c, const char *path, char *err,
		      size_t errlen) __attribute__((warn_unused_result));

#endif
