/*
 * dial.c - opening the stream to cofferd: a Unix socket or TCP + TLS 1.3,
 * then the protocol hello. Every step is bounded by connect_timeout_ms so
 * that a dead or silent server costs a bounded wait, never a hang.
 */
#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "wire/tls.h"

/* Connects fd to addr within timeout_ms, leaving fd blocking. */
static int connect_bounded(int fd, const struct sockaddr *addr, socklen_t alen,
			   int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	int flags = fcntl(fd, F_GETFL), soerr = 0, r;
	socklen_t slen = sizeof(soerr);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return -errno;
	if (connect(fd, addr, alen) != 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			return -errno;
		do
			r = poll(&pfd, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) != 0)
			return -errno;
		if (soerr != 0)
			return -soerr;
	}
	if (fcntl(fd, F_SETFL, flags) != 0)
		return -errno;
	return 0;
}

static int dial_unix(const char *path, int timeout_ms, int *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	int fd, r;

	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect_bounded(fd, (const struct sockaddr *)&sa, sizeof(sa),
			    timeout_ms);
	if (r != 0) {
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

static int dial_tcp(const char *host, const char *port, int timeout_ms,
		    int *out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL, *ai;
	int r, last = -ECONNREFUSED;

	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0)
		return -EHOSTUNREACH;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
				ai->ai_protocol);

		if (fd < 0) {
			last = -errno;
			continue;
		}
		last = connect_bounded(fd, ai->ai_addr, ai->ai_addrlen,
				       timeout_ms);
		if (last == 0) {
			int one = 1;

			/* Each call is one small request waiting for its
			 * reply: Nagle's delay would stall every frame that
			 * follows an unacknowledged one. */
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
					 sizeof(one));
			*out = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return last;
}

/* The CPU to ask the server for: the setting's, or with "auto" the one
 * this thread runs on now (each new connection asks again). */
static int32_t hello_cpu(const struct cf_client_conf *conf)
{
	int cpu = conf->cpu;

	if (cpu == CF_CLIENT_CPU_AUTO)
		cpu = sched_getcpu();
	return cpu >= 0 && cpu < CF_HELLO_CPU_MAX ? cpu : -1;
}

/* Whether the last attempt failed: an application retries on every call,
 * so only the first failure in a row is an error line (with why), and the
 * next success says the server is back. */
static atomic_bool failing;

static void dial_failed(const struct cf_client_conf *conf, const char *why)
{
	if (!atomic_exchange(&failing, true))
		cf_error("coffer-client: %s: %s (CKR_DEVICE_ERROR until it "
			 "works; further failures are logged at debug level)",
			 conf->server, why);
	else
		cf_debug("coffer-client: %s: %s", conf->server, why);
}

void cf_client_dial_reset(void)
{
	atomic_store(&failing, false);
}

int cf_client_dial(const struct cf_client_conf *conf, SSL_CTX *ctx,
		   struct cf_conn **out, struct cf_hello *hello)
{
	struct cf_conn *c = NULL;
	char host[256], port[16], err[256], why[320];
	SSL *ssl = NULL;
	int fd = -1, r;

	*out = NULL;
	if (strncmp(conf->server, "unix:", 5) == 0) {
		r = dial_unix(conf->server + 5, conf->connect_timeout_ms, &fd);
	} else {
		if (ctx == NULL ||
		    cf_client_parse_tls(conf->server, host, sizeof(host), port,
					sizeof(port)) != 0) {
			dial_failed(conf, "not a usable server address");
			return -EINVAL;
		}
		r = dial_tcp(host, port, conf->connect_timeout_ms, &fd);
		if (r == 0) {
			r = cf_tls_connect(ctx, fd, host,
					   conf->connect_timeout_ms, &ssl, err,
					   sizeof(err));
			if (r != 0) {
				snprintf(why, sizeof(why), "TLS: %s", err);
				dial_failed(conf, why);
				close(fd);
				return r;
			}
		}
	}
	if (r != 0) {
		snprintf(why, sizeof(why), "cannot connect: %s",
			 strerror(-r));
		dial_failed(conf, why);
		return r;
	}
	/* fd and ssl belong to the connection from here on, even when
	 * cf_conn_new fails. */
	r = cf_conn_new(fd, ssl, CF_FRAME_MAX_DEFAULT, &c);
	if (r != 0) {
		dial_failed(conf, strerror(-r));
		return r;
	}
	r = cf_hello_client_cpu(c, conf->connect_timeout_ms, hello_cpu(conf),
				hello);
	if (r != 0) {
		if (hello->refused != 0)
			snprintf(why, sizeof(why),
				 "the server refused the connection: %s",
				 hello->refused_reason[0] != '\0'
				     ? hello->refused_reason
				     : "no reason given");
		else
			snprintf(why, sizeof(why), "hello failed: %s",
				 strerror(-r));
		dial_failed(conf, why);
		cf_conn_free(c);
		return r;
	}
	if (atomic_exchange(&failing, false))
		cf_info("coffer-client: %s: connected again", conf->server);
	cf_conn_set_max_frame(c, hello->max_frame);
	*out = c;
	return 0;
}
