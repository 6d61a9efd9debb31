/* log.c - see log.h. */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* Read on every cf_log call without log_lock, and set at any time (cofferd
 * on SIGHUP): an atomic. Relaxed is enough, as nothing else is published
 * through it; a thread may log one more line at the old level. */
static atomic_int log_level = CF_LOG_ERROR;
static FILE *log_file; /* NULL: stderr */
static bool log_syslog;
static const char *log_ident = "coffer";

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
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
	pthread_mutex_unlock(&log_lock);
	return 0;
}

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
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

bool cf_log_enabled(enum cf_log_level level)
{
	return level != CF_LOG_NONE &&
	       (int)level <=
		   atomic_load_explicit(&log_level, memory_order_relaxed);
}

static __thread struct cf_log_held *held;

/* The time part of a line, remade once a second. Under log_lock. */
static const char *when_locked(const struct timespec *ts)
{
	static time_t when_sec = (time_t)-1;
	static char when[32];
	struct tm tm;

	if (ts->tv_sec != when_sec) {
		when[0] = '\0';
		if (gmtime_r(&ts->tv_sec, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		when_sec = ts->tv_sec;
	}
	return when;
}

/* Appends one line made at ts to buf (cap bytes, *len used): a line that
 * does not fit whole is cut, and still ends with a newline. */
static void format_locked(char *buf, size_t cap, size_t *len,
			  enum cf_log_level level, const struct timespec *ts,
			  const char *msg)
{
	int n;

	if (*len + 2 > cap)
		return;
	n = snprintf(buf + *len, cap - *len, "%s %s[%ld] %s: %s\n",
		     when_locked(ts), log_ident, (long)getpid(),
		     level_names[level], msg);
	if (n < 0)
		return;
	if ((size_t)n >= cap - *len) {
		*len = cap - 1;
		buf[*len - 1] = '\n';
		return;
	}
	*len += (size_t)n;
}

/* One write(2) for what was formatted: lines of several calls reach the
 * file together, and stdio's buffering is not in the way. */
static void write_locked(const char *buf, size_t len)
{
	int fd = fileno(log_file != NULL ? log_file : stderr);

	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere to say so */
		buf += n;
		len -= (size_t)n;
	}
}

static void syslog_line(enum cf_log_level level, const char *msg)
{
	static const int prio[] = {LOG_ERR, LOG_ERR, LOG_WARNING, LOG_INFO,
				   LOG_DEBUG};

	syslog(prio[level], "%s: %s", log_ident, msg);
}

/* Writes what h holds and empties it. */
static void flush_held(struct cf_log_held *h)
{
	char buf[CF_LOG_HELD_MAX * (CF_LOG_LINE_MAX + 128)];
	size_t len = 0;

	if (h->n == 0)
		return;
	pthread_mutex_lock(&log_lock);
	for (unsigned i = 0; i < h->n; i++) {
		if (log_syslog)
			syslog_line(h->line[i].level, h->line[i].msg);
		else
			format_locked(buf, sizeof(buf), &len, h->line[i].level,
				      &h->line[i].ts, h->line[i].msg);
	}
	write_locked(buf, len);
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
	if (log_syslog) {
		syslog_line(level, msg);
	} else {
		char line[CF_LOG_LINE_MAX + 128];
		size_t len = 0;

		format_locked(line, sizeof(line), &len, level, &ts, msg);
		write_locked(line, len);
	}
	pthread_mutex_unlock(&log_lock);
}

void cf_log_hold(struct cf_log_held *h)
{
	if (held != NULL)
		flush_held(held);
	h->n = 0;
	held = h;
}

void cf_log_flush(void)
{
	if (held != NULL)
		flush_held(held);
}

bool cf_log_holding(void)
{
	return held != NULL && held->n > 0;
}

void cf_log_release(void)
{
	struct cf_log_held *h = held;

	held = NULL;
	if (h != NULL)
		flush_held(h);
}
