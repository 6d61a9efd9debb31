/* log.c - see log.h. */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum cf_log_level log_level = CF_LOG_ERROR;
static FILE *log_file; /* NULL: stderr */
static bool log_syslog;

static const char *const level_names[] = {"none", "error", "warn", "info",
					  "debug"};

bool cf_log_level_parse(const char *s, enum cf_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum cf_log_level)i;
			return true;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = CF_LOG_WARN;
		return true;
	}
	return false;
}

int cf_log_open(enum cf_log_level level, const char *dest)
{
	FILE *f = NULL;
	bool use_syslog = false;

	if (dest == NULL || strcmp(dest, "stderr") == 0) {
		/* stderr */
	} else if (strcmp(dest, "syslog") == 0) {
		use_syslog = true;
	} else {
		int fd = open(dest, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			      0600);
		if (fd < 0)
			return -errno;
		f = fdopen(fd, "a");
		if (f == NULL) {
			int e = errno;
			close(fd);
			return -e;
		}
		setvbuf(f, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&log_lock);
	if (log_file != NULL)
		fclose(log_file);
	log_file = f;
	log_syslog = use_syslog;
	log_level = level;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

static const char *log_ident = "coffer";

void cf_log_set_ident(const char *ident)
{
	log_ident = ident;
}

void cf_log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	log_syslog = false;
	pthread_mutex_unlock(&log_lock);
}

void cf_log_set_level(enum cf_log_level level)
{
	pthread_mutex_lock(&log_lock);
	log_level = level;
	pthread_mutex_unlock(&log_lock);
}

bool cf_log_enabled(enum cf_log_level level)
{
	return level != CF_LOG_NONE && level <= log_level;
}

static __thread struct cf_log_held *held;

/* Writes one line made at ts. Caller holds log_lock. */
static void emit_locked(enum cf_log_level level, const struct timespec *ts,
			const char *msg)
{
	if (log_syslog) {
		static const int prio[] = {LOG_ERR, LOG_ERR, LOG_WARNING,
					   LOG_INFO, LOG_DEBUG};
		syslog(prio[level], "%s: %s", log_ident, msg);
	} else {
		FILE *out = log_file != NULL ? log_file : stderr;
		struct tm tm;
		char when[32] = "";

		if (gmtime_r(&ts->tv_sec, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(out, "%s %s[%ld] %s: %s\n", when, log_ident,
			(long)getpid(), level_names[level], msg);
		fflush(out);
	}
}

/* Writes what h holds and empties it. */
static void flush_held(struct cf_log_held *h)
{
	if (h->n == 0)
		return;
	pthread_mutex_lock(&log_lock);
	for (unsigned i = 0; i < h->n; i++)
		emit_locked(h->line[i].level, &h->line[i].ts, h->line[i].msg);
	pthread_mutex_unlock(&log_lock);
	h->n = 0;
}

void cf_log(enum cf_log_level level, const char *fmt, ...)
{
	char msg[CF_LOG_LINE_MAX];
	struct timespec ts;
	va_list ap;

	if (!cf_log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (held != NULL) {
		if (held->n == CF_LOG_HELD_MAX)
			flush_held(held);
		va_start(ap, fmt);
		vsnprintf(held->line[held->n].msg, CF_LOG_LINE_MAX, fmt, ap);
		va_end(ap);
		held->line[held->n].level = level;
		held->line[held->n].ts = ts;
		held->n++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&log_lock);
	emit_locked(level, &ts, msg);
	pthread_mutex_unlock(&log_lock);
}

void cf_log_hold(struct cf_log_held *h)
{
	h->n = 0;
	held = h;
}

void cf_log_release(void)
{
	struct cf_log_held *h = held;

	held = NULL;
	if (h != NULL)
		flush_held(h);
}
