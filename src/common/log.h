/*
 * log.h - coffer's logger. Silent but for errors by default; the level and
 * destination come from the config file or COFFER_DEBUG. Thread-safe.
 * Never pass a PIN, key value or plaintext to these functions.
 */
#ifndef CF_LOG_H
#define CF_LOG_H

#include <stdbool.h>
#include <time.h>

enum cf_log_level {
	CF_LOG_NONE = 0,
	CF_LOG_ERROR,
	CF_LOG_WARN,
	CF_LOG_INFO,
	CF_LOG_DEBUG,
};

/* Parses "none", "error", "warn", "info", "debug". */
bool cf_log_level_parse(const char *s, enum cf_log_level *out);

/* dest: "stderr", "syslog" or a file path (appended to, 0600). Returns 0 or
 * -errno; on failure the previous destination stays. */
int cf_log_open(enum cf_log_level level, const char *dest);
void cf_log_close(void);
/* The program name in each line ("coffer" unless set); ident must stay
 * valid. Call before any thread logs. */
void cf_log_set_ident(const char *ident);
void cf_log_set_level(enum cf_log_level level);
bool cf_log_enabled(enum cf_log_level level);

void cf_log(enum cf_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Lines a thread holds back: a server answers its client first and writes
 * the call's audit line after, so the file write is not part of the
 * call's latency, and under load writes the lines of several calls in one
 * go. Each line keeps the time it was made. */
#define CF_LOG_LINE_MAX 1024
#define CF_LOG_HELD_MAX 4

struct cf_log_held {
	unsigned n;
	struct {
		enum cf_log_level level;
		struct timespec ts;
		char msg[CF_LOG_LINE_MAX];
	} line[CF_LOG_HELD_MAX];
};

/* From now on this thread's lines go into h (beyond CF_LOG_HELD_MAX they
 * are written at once, in order). h lives until cf_log_release. */
void cf_log_hold(struct cf_log_held *h);
/* Writes what this thread held, in order, and goes on holding. */
void cf_log_flush(void);
/* Whether this thread holds lines not yet written. */
bool cf_log_holding(void);
/* Writes what this thread held, in order, and logs directly again. */
void cf_log_release(void);

#define cf_error(...) cf_log(CF_LOG_ERROR, __VA_ARGS__)
#define cf_warn(...) cf_log(CF_LOG_WARN, __VA_ARGS__)
#define cf_info(...) cf_log(CF_LOG_INFO, __VA_ARGS__)
#define cf_debug(...) cf_log(CF_LOG_DEBUG, __VA_ARGS__)

#endif
