/*
 * daemon.c - the acceptor: opens the listeners, then polls them and a
 * signalfd, forking one worker per accepted connection. It never loads the
 * module (a module must not be used across fork), so a crashing module
 * takes one client's worker down, not the service.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/server.h"
#include "wire/conn.h"
#include "wire/tls.h"

#define MAX_LISTENERS 16
#define STOP_GRACE_MS 7000

struct listener {
	int fd;
	enum cf_listen_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix */
	dev_t dev;
	ino_t ino;
};

struct daemon {
	struct cf_srv_conf *conf;
	struct listener ls[MAX_LISTENERS];
	size_t nls;
	SSL_CTX *tls;
	int sfd;
	pid_t *workers;
	size_t nworkers;
	unsigned long next_conn;
};

/* A start-up failure: one line on stderr (the contract with whoever
 * started us), and in the log when that is elsewhere. */
static void fatal(const struct cf_srv_conf *c, const char *msg)
{
	if (c->log_dest != NULL && strcmp(c->log_dest, "stderr") != 0)
		cf_error("%s", msg);
	fprintf(stderr, "cofferd: %s\n", msg);
}

/* ---- listeners --------------------------------------------------------- */

static int lookup_ids(const struct cf_srv_conf *c, uid_t *uid, gid_t *gid,
		      char *err, size_t errlen)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (c->socket_owner != NULL) {
		struct passwd *pw = getpwnam(c->socket_owner);
		char *end;
		unsigned long n = strtoul(c->socket_owner, &end, 10);
		if (pw != NULL)
			*uid = pw->pw_uid;
		else if (*end == '\0' && end != c->socket_owner)
			*uid = (uid_t)n;
		else {
			snprintf(err, errlen, "socket_owner %s: no such user",
				 c->socket_owner);
			return -1;
		}
	}
	if (c->socket_group != NULL) {
		struct group *gr = getgrnam(c->socket_group);
		char *end;
		unsigned long n = strtoul(c->socket_group, &end, 10);
		if (gr != NULL)
			*gid = gr->gr_gid;
		else if (*end == '\0' && end != c->socket_group)
			*gid = (gid_t)n;
		else {
			snprintf(err, errlen, "socket_group %s: no such group",
				 c->socket_group);
			return -1;
		}
	}
	return 0;
}

/* Binds to a temporary name beside path, sets owner and mode, listens,
 * then renames into place: a client that sees the path can connect. */
static int listen_unix(struct daemon *d, const char *path, char *err,
		       size_t errlen)
{
	struct listener *l = &d->ls[d->nls];
	struct sockaddr_un sa;
	char tmp[sizeof(sa.sun_path)];
	struct stat st;
	uid_t uid;
	gid_t gid;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) + 16 >= sizeof(sa.sun_path) || path[0] == '\0') {
		snprintf(err, errlen, "unix:%s: path too long", path);
		return -1;
	}
	if (lookup_ids(d->conf, &uid, &gid, err, errlen) != 0)
		return -1;
	/* A live server on the path is an error; a stale socket is not. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail_errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(err, errlen, "unix:%s: another server is listening",
			 path);
		return -1;
	}
	close(fd);

	snprintf(tmp, sizeof(tmp), "%s.%ld~", path, (long)getpid());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", tmp);
	unlink(tmp);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail_errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail_close;
	if (chmod(tmp, d->conf->socket_mode) != 0)
		goto fail_unlink;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(tmp, uid, gid) != 0)
		goto fail_unlink;
	if (listen(fd, 128) != 0)
		goto fail_unlink;
	if (rename(tmp, path) != 0)
		goto fail_unlink;
	if (stat(path, &st) == 0) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	l->fd = fd;
	l->kind = CF_LISTEN_UNIX;
	snprintf(l->path, sizeof(l->path), "%s", path);
	d->nls++;
	cf_info("listening on unix:%s (mode %04o)", path, d->conf->socket_mode);
	return 0;

fail_unlink:
	snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
	unlink(tmp);
	close(fd);
	return -1;
fail_close:
	snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
	close(fd);
	return -1;
fail_errno:
	snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
	return -1;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

/* "ADDR:PORT" or "[V6]:PORT". */
static int listen_tcp(struct daemon *d, const char *spec,
		      enum cf_listen_kind kind, char *err, size_t errlen)
{
	struct listener *l = &d->ls[d->nls];
	struct addrinfo hints, *res = NULL;
	char host[256];
	const char *port, *colon;
	int fd = -1, rc, one = 1;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');
		if (rb == NULL || rb[1] != ':')
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(rb - spec - 1),
			 spec + 1);
		port = rb + 2;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL || colon == spec)
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		port = colon + 1;
	}
	if (port[0] == '\0')
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	if (kind == CF_LISTEN_TCP && !is_loopback(res->ai_addr)) {
		snprintf(err, errlen,
			 "tcp://%s: plain TCP only on loopback addresses",
			 spec);
		goto out_free;
	}
	fd = socket(res->ai_family,
		    res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, 128) != 0) {
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out_free;
	}
	freeaddrinfo(res);
	l->fd = fd;
	l->kind = kind;
	l->path[0] = '\0';
	d->nls++;
	cf_info("listening on %s://%s", kind == CF_LISTEN_TLS ? "tls" : "tcp",
		spec);
	return 0;
out_free:
	freeaddrinfo(res);
	return -1;
bad:
	snprintf(err, errlen, "%s: expected ADDR:PORT", spec);
	return -1;
}

static int open_listeners(struct daemon *d, char *err, size_t errlen)
{
	const struct cf_srv_conf *c = d->conf;
	bool need_tls = false;

	for (size_t i = 0; i < c->listens.n; i++)
		if (strncmp(c->listens.v[i], "tls://", 6) == 0)
			need_tls = true;
	if (need_tls) {
		if (c->tls_cert == NULL || c->tls_key == NULL ||
		    c->tls_ca == NULL) {
			snprintf(err, errlen,
				 "tls:// needs --tls-cert, --tls-key and "
				 "--tls-ca (tls_cert, tls_key, tls_ca)");
			return -1;
		}
		d->tls = cf_tls_server_ctx(c->tls_cert, c->tls_key, c->tls_ca,
					   err, errlen);
		if (d->tls == NULL)
			return -1;
	}
	for (size_t i = 0; i < c->listens.n; i++) {
		const char *v = c->listens.v[i];
		int rc;
		if (d->nls == MAX_LISTENERS) {
			snprintf(err, errlen, "too many listen addresses");
			return -1;
		}
		if (strncmp(v, "unix:", 5) == 0) {
			rc = listen_unix(d, v + 5, err, errlen);
		} else if (strncmp(v, "tls://", 6) == 0) {
			rc = listen_tcp(d, v + 6, CF_LISTEN_TLS, err, errlen);
		} else if (strncmp(v, "tcp://", 6) == 0) {
			if (!c->allow_plain_tcp) {
				snprintf(err, errlen,
					 "%s: plain TCP carries PINs in the "
					 "clear; refused unless the config "
					 "says allow_plain_tcp = yes",
					 v);
				return -1;
			}
			rc = listen_tcp(d, v + 6, CF_LISTEN_TCP, err, errlen);
		} else {
			snprintf(err, errlen,
				 "%s: expected unix:PATH or tls://ADDR:PORT",
				 v);
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Removes our socket files, unless something else replaced them. */
static void close_listeners(struct daemon *d, bool unlink_paths)
{
	for (size_t i = 0; i < d->nls; i++) {
		struct listener *l = &d->ls[i];
		struct stat st;
		if (l->fd < 0)
			continue;
		close(l->fd);
		l->fd = -1;
		if (unlink_paths && l->kind == CF_LISTEN_UNIX &&
		    stat(l->path, &st) == 0 && st.st_dev == l->dev &&
		    st.st_ino == l->ino)
			unlink(l->path);
	}
}

/* ---- workers ----------------------------------------------------------- */

static void reap(struct daemon *d)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (size_t i = 0; i < d->nworkers; i++) {
			if (d->workers[i] != pid)
				continue;
			d->workers[i] = d->workers[--d->nworkers];
			break;
		}
		if (WIFSIGNALED(st))
			cf_warn("worker %ld killed by signal %d", (long)pid,
				WTERMSIG(st));
		else
			cf_debug("worker %ld exited with %d", (long)pid,
				 WEXITSTATUS(st));
	}
}

static void peer_addr(const struct sockaddr_storage *ss, char *out,
		      size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	} else {
		snprintf(out, outlen, "unix");
		return;
	}
	snprintf(out, outlen, "%s:%u", host, port);
}

/* Closes a connection over max_clients. On a Unix socket the client
 * first gets an error frame in place of its hello reply, without waiting
 * for its hello (the acceptor never blocks on a client): closing a Unix
 * socket with the hello unread still delivers the frame. Over TCP that
 * close would reset the connection and lose the frame, and over TLS no
 * frame can go before the handshake, so those are only closed. */
static void refuse_busy(int fd, enum cf_listen_kind kind)
{
	struct cf_conn *c = NULL;

	if (kind != CF_LISTEN_UNIX) {
		close(fd);
		return;
	}
	if (cf_conn_new(fd, NULL, CF_FRAME_MAX_DEFAULT, &c) != 0)
		return; /* fd closed */
	(void)cf_conn_send_error(c, 0, CF_PERR_LIMIT, "too many clients", 0);
	cf_conn_free(c);
}

static void accept_one(struct daemon *d, struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct cf_worker_args a;
	pid_t pid;
	int fd;

	fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			cf_warn("accept: %s", strerror(errno));
		return;
	}
	if (l->kind != CF_LISTEN_UNIX) {
		int one = 1;

		/* Replies are small and latency-bound; see dial.c. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
	}
	memset(&a, 0, sizeof(a));
	a.fd = fd;
	a.kind = l->kind;
	a.tls = d->tls;
	a.conf = d->conf;
	a.conn_id = ++d->next_conn;
	peer_addr(&ss, a.addr, sizeof(a.addr));
	if (d->nworkers >= d->conf->max_clients) {
		cf_warn("conn=%lu %s: refused: max_clients (%lu) reached",
			a.conn_id, a.addr, d->conf->max_clients);
		refuse_busy(fd, l->kind);
		return;
	}
	pid = fork();
	if (pid < 0) {
		cf_error("fork: %s", strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		sigset_t set;
		close(d->sfd);
		close_listeners(d, false);
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		sigaddset(&set, SIGHUP);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		/* SIGTERM and SIGINT stay blocked: the worker's signal
		 * thread waits for them. */
		_exit(cf_worker_run(&a));
	}
	close(fd);
	d->workers[d->nworkers++] = pid;
	cf_debug("conn=%lu %s: worker %ld", a.conn_id, a.addr, (long)pid);
}

/* SIGTERM: every worker drains and exits; those still there after the
 * grace period are killed. */
static void stop_workers(struct daemon *d)
{
	struct timespec start, now;

	for (size_t i = 0; i < d->nworkers; i++)
		kill(d->workers[i], SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (d->nworkers > 0) {
		struct pollfd p = {.fd = d->sfd, .events = POLLIN};
		struct signalfd_siginfo si;
		long ms;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - start.tv_sec) * 1000 +
		     (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms >= STOP_GRACE_MS)
			break;
		if (poll(&p, 1, (int)(STOP_GRACE_MS - ms)) > 0)
			while (read(d->sfd, &si, sizeof(si)) == sizeof(si))
				;
		reap(d);
	}
	for (size_t i = 0; i < d->nworkers; i++) {
		cf_warn("worker %ld did not stop; killing it",
			(long)d->workers[i]);
		kill(d->workers[i], SIGKILL);
	}
	while (d->nworkers > 0 && waitpid(-1, NULL, 0) > 0)
		reap(d);
}

static void reload(struct daemon *d)
{
	char err[512] = "";

	if (d->conf->config_path == NULL) {
		cf_warn("SIGHUP: no config file; access rules unchanged");
		return;
	}
	if (cf_srv_conf_reload_access(d->conf, err, sizeof(err)) != 0) {
		cf_error("SIGHUP: %s; access rules unchanged", err);
		return;
	}
	cf_info("SIGHUP: reloaded access rules from %s (new connections)",
		d->conf->config_path);
}

int cf_daemon_run(struct cf_srv_conf *conf)
{
	struct daemon d;
	sigset_t set;
	char err[512] = "";
	bool stopping = false;
	int status = 1;

	memset(&d, 0, sizeof(d));
	d.conf = conf;
	d.sfd = -1;
	for (size_t i = 0; i < MAX_LISTENERS; i++)
		d.ls[i].fd = -1;
	if (access(conf->module, R_OK) != 0) {
		snprintf(err, sizeof(err), "module %s: %s", conf->module,
			 strerror(errno));
		fatal(conf, err);
		return 1;
	}
	d.workers = calloc(conf->max_clients, sizeof(*d.workers));
	if (d.workers == NULL)
		return 1;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d.sfd < 0) {
		snprintf(err, sizeof(err), "signalfd: %s", strerror(errno));
		fatal(conf, err);
		goto out_free;
	}
	if (open_listeners(&d, err, sizeof(err)) != 0) {
		fatal(conf, err);
		goto out_close;
	}
	cf_info("cofferd %s ready: module %s, %zu token filter(s)",
		COFFER_VERSION, conf->module, conf->tokens.n);

	while (!stopping) {
		struct pollfd p[MAX_LISTENERS + 1];
		struct signalfd_siginfo si;

		p[0].fd = d.sfd;
		p[0].events = POLLIN;
		for (size_t i = 0; i < d.nls; i++) {
			p[i + 1].fd = d.ls[i].fd;
			p[i + 1].events = POLLIN;
		}
		if (poll(p, d.nls + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			cf_error("poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents & POLLIN) {
			while (read(d.sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					reap(&d);
				else if (si.ssi_signo == SIGHUP)
					reload(&d);
				else
					stopping = true;
			}
			reap(&d);
		}
		if (stopping)
			break;
		for (size_t i = 0; i < d.nls; i++)
			if (p[i + 1].revents & POLLIN)
				accept_one(&d, &d.ls[i]);
	}
	cf_info("stopping: draining %zu connection(s)", d.nworkers);
	close_listeners(&d, true);
	stop_workers(&d);
	cf_info("stopped");
	status = 0;
out_close:
	close_listeners(&d, true);
	close(d.sfd);
	if (d.tls != NULL)
		SSL_CTX_free(d.tls);
out_free:
	free(d.workers);
	return status;
}
