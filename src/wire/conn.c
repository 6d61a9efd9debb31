/*
 * conn.c - see conn.h. Frames over a socket, plain or TLS.
 *
 * Sends and TLS reads are non-blocking (MSG_DONTWAIT on sockets,
 * O_NONBLOCK on anything else) and wait in poll() with a deadline, so
 * timeouts hold and a shutdown can wake any waiter: each poll also watches
 * an eventfd that cf_conn_shutdown makes readable for good.
 *
 * The reader of a plain socket instead sleeps in recv() itself, bounded by
 * SO_RCVTIMEO: one system call per frame instead of recv, poll, recv,
 * which is most of the CPU a small call costs. shutdown(2) in
 * cf_conn_shutdown wakes it as the eventfd wakes a poll.
 *
 * Locks: send_lock serialises whole frames among senders. For TLS, ssl_lock
 * guards every SSL_* call, because an SSL object is not safe for a
 * concurrent SSL_read and SSL_write; it is never held across poll(), so a
 * reader waiting for data does not stall senders and the other way round.
 * Order: send_lock -> ssl_lock. The receive buffer belongs to the one
 * reader and needs no lock.
 */
#include "wire/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "common/buf.h"

/* One TLS record's worth: reads coalesce small frames, and the first write
 * of a TLS frame carries its header in the same record as its payload. */
#define RBUF_LEN 16384
#define SBUF_LEN 16384
/* TLS payload beyond the first record goes out in pieces of this size, so
 * that the reader gets the SSL lock between them. */
#define TLS_WRITE_CHUNK 65536
#define ERROR_REASON_MAX 1024
/* Frames held back at most: a few replies' worth. */
#define HOLD_MAX 16384
/* A poll() that returned within this found its bytes already there. */
#define TLS_HIT_US 5

struct cf_conn {
	int fd;
	int wake_fd; /* eventfd, readable once shut down */
	SSL *ssl;
	bool is_sock;
	bool blocking_rx; /* plain socket: the reader sleeps in recv() */
	int rcvtimeo_ms;  /* SO_RCVTIMEO as set: 0 none, -1 unknown; reader */
	/* TLS: the reader's last read found its bytes already there. When
	 * it did not, the next one polls first instead of trying a recv()
	 * that is bound to fail. Reader only. */
	bool tls_hit;
	_Atomic uint32_t max_frame;
	_Atomic unsigned spin_usec;
	atomic_bool shut;
	atomic_bool rx_broken; /* only the reader writes it */
	bool tx_broken;	       /* under send_lock */
	pthread_mutex_t send_lock;
	pthread_mutex_t ssl_lock;
	uint8_t *sbuf; /* TLS: header + first payload bytes; send_lock */
	/* Whole frames held back for one later write (cf_conn_send_held);
	 * send_lock. */
	uint8_t *hold;
	size_t hold_len;
	atomic_bool holding; /* hold_len > 0, read without the lock */
	uint8_t *rbuf; /* the reader's */
	size_t rpos;
	size_t rlen;
};

/* -------------------------------------------------------------- time */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* -1 means no deadline. */
static int64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

static int poll_timeout(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* ------------------------------------------------------------ waiting */

/* Waits until fd has events, the connection is shut down or the deadline
 * passes. Returns 0 (ready, or an error/hang-up condition the next I/O call
 * will report), -ECONNRESET (shut down) or -ETIMEDOUT. */
static int conn_wait(struct cf_conn *c, short events, int64_t deadline)
{
	struct pollfd p[2] = {
	    {.fd = c->fd, .events = events},
	    {.fd = c->wake_fd, .events = POLLIN},
	};
	unsigned spin =
	    atomic_load_explicit(&c->spin_usec, memory_order_relaxed);
	int n;

	if (spin > 0 && (events & POLLIN)) {
		int64_t until = now_us() + spin;
		do {
			n = poll(p, 2, 0);
			if (n > 0)
				goto out_ready;
		} while (now_us() < until &&
			 (deadline < 0 || now_ms() < deadline));
	}
	for (;;) {
		n = poll(p, 2, poll_timeout(deadline));
		if (n > 0)
			break;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -ECONNRESET;
	}
out_ready:
	if (p[1].revents != 0 || atomic_load(&c->shut))
		return -ECONNRESET;
	return 0;
}

/* ------------------------------------------------------------ the BIO */

/*
 * OpenSSL's socket BIO writes with write(2), which raises SIGPIPE when the
 * peer has gone; a library inside someone else's process must not kill it.
 * This one uses send(MSG_NOSIGNAL). It is also non-blocking per call, so
 * the fd's own flags need not change.
 */
struct sock_bio {
	int fd;
	bool eof;
};

static int sock_bio_write(BIO *b, const char *data, size_t len, size_t *written)
{
	struct sock_bio *sb = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	*written = 0;
	n = send(sb->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_write(b);
		return 0;
	}
	*written = (size_t)n;
	return 1;
}

static int sock_bio_read(BIO *b, char *data, size_t len, size_t *readbytes)
{
	struct sock_bio *sb = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	*readbytes = 0;
	n = recv(sb->fd, data, len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_read(b);
		return 0;
	}
	if (n == 0) {
		sb->eof = true;
		return 0;
	}
	*readbytes = (size_t)n;
	return 1;
}

static int sock_bio_puts(BIO *b, const char *s)
{
	size_t w;

	if (sock_bio_write(b, s, strlen(s), &w) != 1)
		return -1;
	return w > 0x7fffffff ? 0x7fffffff : (int)w;
}

static long sock_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct sock_bio *sb = BIO_get_data(b);

	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return sb->eof;
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = sb->fd;
		return sb->fd;
	default:
		return 0;
	}
}

static int sock_bio_create(BIO *b)
{
	BIO_set_data(b, NULL);
	BIO_set_init(b, 0);
	return 1;
}

static int sock_bio_destroy(BIO *b)
{
	free(BIO_get_data(b)); /* the fd is not ours to close */
	BIO_set_data(b, NULL);
	return 1;
}

static pthread_once_t sock_bio_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *sock_bio_method;
static int sock_bio_type;

static void sock_bio_method_make(void)
{
	int idx = BIO_get_new_index();
	BIO_METHOD *m;

	if (idx < 0)
		return;
	idx |= BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR;
	m = BIO_meth_new(idx, "coffer socket");
	if (m == NULL)
		return;
	if (!BIO_meth_set_write_ex(m, sock_bio_write) ||
	    !BIO_meth_set_read_ex(m, sock_bio_read) ||
	    !BIO_meth_set_puts(m, sock_bio_puts) ||
	    !BIO_meth_set_ctrl(m, sock_bio_ctrl) ||
	    !BIO_meth_set_create(m, sock_bio_create) ||
	    !BIO_meth_set_destroy(m, sock_bio_destroy)) {
		BIO_meth_free(m);
		return;
	}
	sock_bio_type = idx;
	sock_bio_method = m; /* lives as long as the process */
}

BIO *cf_conn_bio_new(int fd)
{
	struct sock_bio *sb;
	BIO *b;

	pthread_once(&sock_bio_once, sock_bio_method_make);
	if (sock_bio_method == NULL)
		return NULL;
	sb = calloc(1, sizeof(*sb));
	if (sb == NULL)
		return NULL;
	sb->fd = fd;
	b = BIO_new(sock_bio_method);
	if (b == NULL) {
		free(sb);
		return NULL;
	}
	BIO_set_data(b, sb);
	BIO_set_init(b, 1);
	return b;
}

/* ------------------------------------------------------- life cycle */

void cf_frame_clear(struct cf_frame *f)
{
	if (f == NULL)
		return;
	if (f->payload != NULL) {
		OPENSSL_cleanse(f->payload, f->len);
		free(f->payload);
	}
	memset(f, 0, sizeof(*f));
}

int cf_conn_new(int fd, SSL *ssl, uint32_t max_frame, struct cf_conn **out)
{
	struct cf_conn *c;
	int type;
	socklen_t tlen = sizeof(type);
	int rc = -ENOMEM;

	*out = NULL;
	if (fd < 0) {
		rc = -EBADF;
		goto out_drop;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto out_drop;
	c->fd = fd;
	c->ssl = ssl;
	c->is_sock = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0;
	atomic_init(&c->max_frame, max_frame);
	atomic_init(&c->spin_usec, 0);
	atomic_init(&c->shut, false);
	atomic_init(&c->rx_broken, false);
	atomic_init(&c->holding, false);
	c->rbuf = malloc(RBUF_LEN);
	if (c->rbuf == NULL)
		goto out_free_conn;
	if (ssl != NULL) {
		c->sbuf = malloc(SBUF_LEN);
		if (c->sbuf == NULL)
			goto out_free_rbuf;
		if (!c->is_sock) {
			rc = -ENOTSOCK; /* the BIO uses send/recv */
			goto out_free_sbuf;
		}
	}
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake_fd < 0) {
		rc = -errno;
		goto out_free_sbuf;
	}
	if (!c->is_sock) {
		/* Pipes and the like: no MSG_DONTWAIT, so the fd itself must
		 * not block. */
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			rc = -errno;
			goto out_close_wake;
		}
	} else if (ssl == NULL) {
		/* Every send says MSG_DONTWAIT; only the reader's recv may
		 * block, and it must (a dialled socket may come here still
		 * non-blocking). */
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
			rc = -errno;
			goto out_close_wake;
		}
		c->blocking_rx = true;
		c->rcvtimeo_ms = -1;
	}
	if (ssl != NULL) {
		BIO *rb = SSL_get_rbio(ssl);
		pthread_once(&sock_bio_once, sock_bio_method_make);
		if (sock_bio_method == NULL)
			goto out_close_wake;
		if (rb == NULL || BIO_method_type(rb) != sock_bio_type) {
			BIO *b = cf_conn_bio_new(fd);
			if (b == NULL)
				goto out_close_wake;
			/* After the handshake the record layer keeps its
			 * buffers in the SSL, not the BIO, so a swap loses
			 * nothing. */
			SSL_set_bio(ssl, b, b);
		}
		/* A WANT_WRITE retry may come with the buffer anywhere
		 * (we retry with the same one, but say so anyway). */
		SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
		/* One recv() takes in whatever has arrived, instead of a
		 * record header and then its body. Every SSL_read comes
		 * before any poll(), and input_pending asks
		 * SSL_has_pending, so bytes read ahead are never slept on. */
		SSL_set_read_ahead(ssl, 1);
	}
	if (pthread_mutex_init(&c->send_lock, NULL) != 0)
		goto out_close_wake;
	if (pthread_mutex_init(&c->ssl_lock, NULL) != 0)
		goto out_destroy_send;
	*out = c;
	return 0;

out_destroy_send:
	pthread_mutex_destroy(&c->send_lock);
out_close_wake:
	close(c->wake_fd);
out_free_sbuf:
	free(c->sbuf);
out_free_rbuf:
	free(c->rbuf);
out_free_conn:
	free(c);
out_drop:
	/* Ownership moved in either case: the caller never cleans up. */
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	return rc;
}

void cf_conn_free(struct cf_conn *c)
{
	if (c == NULL)
		return;
	/* No SSL_shutdown here: see conn.h (fork). */
	SSL_free(c->ssl);
	close(c->fd);
	close(c->wake_fd);
	pthread_mutex_destroy(&c->ssl_lock);
	pthread_mutex_destroy(&c->send_lock);
	OPENSSL_cleanse(c->rbuf, RBUF_LEN);
	free(c->rbuf);
	if (c->hold != NULL) {
		OPENSSL_cleanse(c->hold, HOLD_MAX);
		free(c->hold);
	}
	if (c->sbuf != NULL) {
		OPENSSL_cleanse(c->sbuf, SBUF_LEN);
		free(c->sbuf);
	}
	free(c);
}

void cf_conn_set_max_frame(struct cf_conn *c, uint32_t max_frame)
{
	atomic_store(&c->max_frame, max_frame);
}

uint32_t cf_conn_max_frame(const struct cf_conn *c)
{
	return atomic_load(&((struct cf_conn *)c)->max_frame);
}

void cf_conn_set_spin(struct cf_conn *c, unsigned usec)
{
	atomic_store(&c->spin_usec, usec);
}

void cf_conn_shutdown(struct cf_conn *c)
{
	uint64_t one = 1;

	if (c == NULL)
		return;
	atomic_store(&c->shut, true);
	/* The eventfd wakes every poll() on this connection, now and later;
	 * shutdown() tells the peer. */
	if (write(c->wake_fd, &one, sizeof(one)) < 0) {
		/* only EAGAIN at counter overflow: it is readable anyway */
	}
	if (c->is_sock)
		shutdown(c->fd, SHUT_RDWR);
}

int cf_conn_fd(const struct cf_conn *c)
{
	return c->fd;
}

SSL *cf_conn_ssl(const struct cf_conn *c)
{
	return c->ssl;
}

/* ---------------------------------------------------------- reading */

/* Maps a failed SSL call to -errno. */
static int ssl_failure(int err, bool eof_flag)
{
	unsigned long e;

	switch (err) {
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		return -ECONNRESET;
	case SSL_ERROR_SSL:
		e = ERR_peek_last_error();
		if (eof_flag ||
		    (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		     ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
			return -ECONNRESET;
		return -EPROTO;
	default:
		return -EPROTO;
	}
}

/* Bounds the reader's next blocking recv() by the deadline. Setting
 * SO_RCVTIMEO costs a system call, so a value already set is kept while it
 * ends neither much before nor after the deadline: per-call timeouts of
 * the same length then set it once. Returns 0 or -ETIMEDOUT (deadline
 * passed). */
static int set_rcvtimeo(struct cf_conn *c, int64_t deadline)
{
	int64_t left, slack;
	struct timeval tv;
	int want;

	if (deadline < 0) {
		want = 0; /* no bound */
	} else {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		want = left > 0x7fffffff ? 0x7fffffff : (int)left;
		/* Late by at most a sixteenth of the bound, or 20 ms. */
		slack = left / 16 > 20 ? left / 16 : 20;
		if (c->rcvtimeo_ms > 0 && c->rcvtimeo_ms <= left + slack &&
		    c->rcvtimeo_ms >= left / 2)
			return 0;
	}
	if (want == c->rcvtimeo_ms)
		return 0;
	tv.tv_sec = want / 1000;
	tv.tv_usec = (want % 1000) * 1000;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		return -ECONNRESET;
	c->rcvtimeo_ms = want;
	return 0;
}

/* A plain socket's read: sleeps in recv() until bytes, the deadline, or
 * cf_conn_shutdown (whose shutdown(2) makes recv return 0). */
static ssize_t sock_read_blocking(struct cf_conn *c, uint8_t *buf, size_t cap,
				  int64_t deadline)
{
	unsigned spin =
	    atomic_load_explicit(&c->spin_usec, memory_order_relaxed);

	if (spin > 0) {
		/* Spin mode: poll without sleeping first. */
		int rc = conn_wait(c, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
	for (;;) {
		ssize_t n;
		int rc;

		if (atomic_load(&c->shut))
			return -ECONNRESET;
		/* Past the deadline, bytes already there are still taken. */
		rc = set_rcvtimeo(c, deadline);
		n = recv(c->fd, buf, cap, rc < 0 ? MSG_DONTWAIT : 0);
		if (rc < 0 && n < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			return rc;
		if (n > 0)
			return n;
		if (n == 0 || atomic_load(&c->shut))
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* SO_RCVTIMEO ran out; set_rcvtimeo tells whether
			 * the deadline did too. */
			continue;
		}
		return -ECONNRESET;
	}
}

/* Reads some bytes (at least one) into buf. Returns the count or -errno. */
static ssize_t conn_read_some(struct cf_conn *c, uint8_t *buf, size_t cap,
			      int64_t deadline)
{
	bool first = true;

	if (c->blocking_rx)
		return sock_read_blocking(c, buf, cap, deadline);
	if (c->ssl != NULL && !c->tls_hit) {
		int rc, has;
		int64_t t0;

		pthread_mutex_lock(&c->ssl_lock);
		has = SSL_has_pending(c->ssl);
		pthread_mutex_unlock(&c->ssl_lock);
		if (has != 1) {
			/* A poll() that finds bytes returns at once: then
			 * they were there, and the next read tries recv()
			 * first again. */
			t0 = now_us();
			rc = conn_wait(c, POLLIN, deadline);
			if (rc < 0)
				return rc;
			c->tls_hit = now_us() - t0 < TLS_HIT_US;
			first = false;
		}
	}
	for (;;) {
		int rc;

		if (atomic_load(&c->shut))
			return -ECONNRESET;
		if (c->ssl == NULL) {
			ssize_t n = c->is_sock
					? recv(c->fd, buf, cap, MSG_DONTWAIT)
					: read(c->fd, buf, cap);
			if (n > 0)
				return n;
			if (n == 0)
				return -ECONNRESET;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -ECONNRESET;
			rc = conn_wait(c, POLLIN, deadline);
		} else {
			size_t got = 0;
			int ok, err;

			pthread_mutex_lock(&c->ssl_lock);
			ERR_clear_error();
			ok = SSL_read_ex(c->ssl, buf, cap, &got);
			err = ok ? SSL_ERROR_NONE : SSL_get_error(c->ssl, 0);
			if (err != SSL_ERROR_NONE &&
			    err != SSL_ERROR_WANT_READ &&
			    err != SSL_ERROR_WANT_WRITE)
				rc = ssl_failure(err, false);
			else
				rc = 0;
			ERR_clear_error();
			pthread_mutex_unlock(&c->ssl_lock);
			if (first)
				c->tls_hit = ok;
			first = false;
			if (ok)
				return (ssize_t)got;
			if (rc < 0)
				return rc;
			/* SSL_read found no whole record (or must send
			 * first); only now is it right to sleep. */
			rc = conn_wait(
			    c, err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN,
			    deadline);
		}
		if (rc < 0)
			return rc;
	}
}

/* Makes at least want bytes available in rbuf from rpos on. */
static int conn_fill(struct cf_conn *c, size_t want, int64_t deadline)
{
	if (c->rpos > 0 && c->rlen - c->rpos < want) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	while (c->rlen - c->rpos < want) {
		ssize_t n = conn_read_some(c, c->rbuf + c->rlen,
					   RBUF_LEN - c->rlen, deadline);
		if (n < 0)
			return (int)n;
		c->rlen += (size_t)n;
	}
	return 0;
}

bool cf_conn_input_buffered(const struct cf_conn *c)
{
	return c->rlen > c->rpos;
}

bool cf_conn_frame_buffered(const struct cf_conn *c)
{
	size_t avail = c->rlen - c->rpos;

	return avail >= CF_FRAME_HDR_LEN &&
	       cf_get_be32(c->rbuf + c->rpos) <= avail - CF_FRAME_HDR_LEN;
}

bool cf_conn_input_pending(struct cf_conn *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	bool pending = false;

	if (c->rlen > c->rpos)
		return true;
	if (c->ssl != NULL) {
		pthread_mutex_lock(&c->ssl_lock);
		/* Records read ahead but not yet decrypted count too. */
		pending = SSL_has_pending(c->ssl) == 1;
		pthread_mutex_unlock(&c->ssl_lock);
		if (pending)
			return true;
	}
	/* For TLS a readable socket may hold only a non-data record; the
	 * answer is then a harmless "yes". */
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) != 0;
}

int cf_conn_recv(struct cf_conn *c, struct cf_frame *f, int timeout_ms)
{
	int64_t frame_deadline;
	uint8_t *hdr;
	uint32_t len;
	size_t have;
	int rc;

	memset(f, 0, sizeof(*f));
	if (atomic_load(&c->rx_broken) || atomic_load(&c->shut))
		return -ECONNRESET;

	/* Until the first byte: timeout_ms, or forever. */
	if (c->rlen == c->rpos) {
		rc = conn_fill(c, 1, deadline_after(timeout_ms));
		if (rc < 0)
			return rc;
	}
	/* From the first byte: the whole frame within the bound. */
	frame_deadline =
	    deadline_after(timeout_ms < 0 ? CF_CONN_STALL_MS : timeout_ms);
	rc = conn_fill(c, CF_FRAME_HDR_LEN, frame_deadline);
	if (rc < 0)
		goto out_broken;
	hdr = c->rbuf + c->rpos;
	len = cf_get_be32(hdr);
	if (len > atomic_load(&c->max_frame)) {
		rc = -EMSGSIZE;
		goto out_broken;
	}
	f->id = cf_get_be32(hdr + 4);
	f->type = (uint16_t)(hdr[8] << 8 | hdr[9]);
	f->fn = (uint16_t)(hdr[10] << 8 | hdr[11]);
	c->rpos += CF_FRAME_HDR_LEN;
	if (len == 0)
		return 0;

	f->payload = malloc(len);
	if (f->payload == NULL) {
		/* The payload is still in the stream: out of step. */
		rc = -ENOMEM;
		goto out_broken;
	}
	f->len = len;
	have = 0;
	while (have < len) {
		size_t left = len - have;
		size_t avail = c->rlen - c->rpos;

		if (avail > 0) {
			size_t n = avail < left ? avail : left;
			memcpy(f->payload + have, c->rbuf + c->rpos, n);
			/* Payloads hold PINs and plaintexts: no copy of them
			 * stays behind in the receive buffer. */
			OPENSSL_cleanse(c->rbuf + c->rpos, n);
			c->rpos += n;
			have += n;
			continue;
		}
		c->rpos = c->rlen = 0;
		if (left >= RBUF_LEN) {
			/* Big payloads go straight to their buffer. */
			ssize_t n = conn_read_some(c, f->payload + have, left,
						   frame_deadline);
			if (n < 0) {
				rc = (int)n;
				goto out_clear;
			}
			have += (size_t)n;
		} else {
			rc = conn_fill(c, 1, frame_deadline);
			if (rc < 0)
				goto out_clear;
		}
	}
	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
	return 0;

out_clear:
	cf_frame_clear(f);
out_broken:
	atomic_store(&c->rx_broken, true);
	memset(f, 0, sizeof(*f));
	return rc;
}

/* ---------------------------------------------------------- sending */

static void put_header(uint8_t *p, uint32_t len, uint32_t id, uint16_t type,
		       uint16_t fn)
{
	cf_put_be32(p, len);
	cf_put_be32(p + 4, id);
	p[8] = (uint8_t)(type >> 8);
	p[9] = (uint8_t)type;
	p[10] = (uint8_t)(fn >> 8);
	p[11] = (uint8_t)fn;
}

static int errno_to_send_error(int e)
{
	return e == ECONNRESET ? -ECONNRESET : -EPIPE;
}

/* Plain streams: header and payload with one sendmsg when they fit. */
static int send_plain_locked(struct cf_conn *c, const uint8_t *hdr,
			     const void *payload, size_t len, int64_t deadline,
			     bool *started)
{
	struct iovec iov[2] = {
	    {.iov_base = (void *)hdr, .iov_len = CF_FRAME_HDR_LEN},
	    {.iov_base = (void *)payload, .iov_len = len},
	};
	struct iovec *v = iov;
	int cnt = len > 0 ? 2 : 1;

	while (cnt > 0) {
		ssize_t n;
		int rc;

		if (atomic_load(&c->shut))
			return -EPIPE;
		if (c->is_sock) {
			struct msghdr m = {.msg_iov = v,
					   .msg_iovlen = (size_t)cnt};
			n = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else {
			n = writev(c->fd, v, cnt);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return errno_to_send_error(errno);
			rc = conn_wait(c, POLLOUT, deadline);
			if (rc == -ECONNRESET)
				return -EPIPE;
			if (rc < 0)
				return rc;
			continue;
		}
		if (n > 0)
			*started = true;
		while (cnt > 0 && (size_t)n >= v->iov_len) {
			n -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt > 0) {
			v->iov_base = (uint8_t *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* One SSL_write_ex of p, retried (same buffer, as OpenSSL requires) until
 * done. */
static int ssl_write_all(struct cf_conn *c, const uint8_t *p, size_t n,
			 int64_t deadline, bool *started)
{
	for (;;) {
		size_t w = 0;
		int ok, err, rc = 0;

		if (atomic_load(&c->shut))
			return -EPIPE;
		pthread_mutex_lock(&c->ssl_lock);
		ERR_clear_error();
		ok = SSL_write_ex(c->ssl, p, n, &w);
		err = ok ? SSL_ERROR_NONE : SSL_get_error(c->ssl, 0);
		if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ &&
		    err != SSL_ERROR_WANT_WRITE)
			rc = ssl_failure(err, false);
		ERR_clear_error();
		pthread_mutex_unlock(&c->ssl_lock);
		if (ok)
			return 0;
		/* A retry is pending inside the SSL now: the frame is under
		 * way. */
		*started = true;
		if (rc < 0)
			return rc;
		rc = conn_wait(c, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			       deadline);
		if (rc == -ECONNRESET)
			return -EPIPE;
		if (rc < 0)
			return rc;
	}
}

static int send_tls_locked(struct cf_conn *c, const uint8_t *hdr,
			   const void *payload, size_t len, int64_t deadline,
			   bool *started)
{
	const uint8_t *p = payload;
	size_t first = len < SBUF_LEN - CF_FRAME_HDR_LEN
			   ? len
			   : SBUF_LEN - CF_FRAME_HDR_LEN;
	size_t used = CF_FRAME_HDR_LEN + first;
	int rc;

	/* Header and the start of the payload in one record: a small frame
	 * costs one record and one system call. */
	memcpy(c->sbuf, hdr, CF_FRAME_HDR_LEN);
	if (first > 0)
		memcpy(c->sbuf + CF_FRAME_HDR_LEN, p, first);
	rc = ssl_write_all(c, c->sbuf, used, deadline, started);
	OPENSSL_cleanse(c->sbuf, used); /* payloads carry PINs */
	if (rc < 0)
		return rc;
	*started = true;
	p += first;
	len -= first;
	while (len > 0) {
		size_t n = len < TLS_WRITE_CHUNK ? len : TLS_WRITE_CHUNK;
		rc = ssl_write_all(c, p, n, deadline, started);
		if (rc < 0)
			return rc;
		p += n;
		len -= n;
	}
	return 0;
}

/* Sends the held frames, if any, and wipes them (replies carry
 * plaintexts). They are gone either way: frames their senders were told
 * went out and did not, leave the stream unusable (tx_broken), as a
 * stream cut mid-frame does. Caller holds send_lock. */
static int flush_locked(struct cf_conn *c, int64_t deadline)
{
	bool started = false;
	int rc = -EPIPE;

	if (c->hold_len == 0)
		return 0;
	if (!c->tx_broken && !atomic_load(&c->shut))
		rc = send_plain_locked(c, c->hold, c->hold + CF_FRAME_HDR_LEN,
				       c->hold_len - CF_FRAME_HDR_LEN,
				       deadline, &started);
	OPENSSL_cleanse(c->hold, c->hold_len);
	c->hold_len = 0;
	atomic_store(&c->holding, false);
	if (rc < 0)
		c->tx_broken = true;
	return rc;
}

int cf_conn_send(struct cf_conn *c, uint16_t type, uint16_t fn, uint32_t id,
		 const void *payload, size_t len, int timeout_ms)
{
	uint8_t hdr[CF_FRAME_HDR_LEN];
	int64_t deadline = deadline_after(timeout_ms);
	bool started = false;
	int rc;

	if (len > UINT32_MAX || (len > 0 && payload == NULL))
		return -EINVAL;
	put_header(hdr, (uint32_t)len, id, type, fn);
	pthread_mutex_lock(&c->send_lock);
	if (c->tx_broken || atomic_load(&c->shut)) {
		rc = -EPIPE;
		goto out_unlock;
	}
	/* Frames held back go first, whole. */
	rc = flush_locked(c, deadline);
	if (rc < 0)
		goto out_unlock;
	if (c->ssl == NULL)
		rc =
		    send_plain_locked(c, hdr, payload, len, deadline, &started);
	else
		rc = send_tls_locked(c, hdr, payload, len, deadline, &started);
	/* Part of a frame went out and the rest never will: the peer would
	 * read the next frame's bytes as this one's. */
	if (rc < 0 && started)
		c->tx_broken = true;
out_unlock:
	pthread_mutex_unlock(&c->send_lock);
	return rc;
}

int cf_conn_send_held(struct cf_conn *c, uint16_t type, uint16_t fn,
		      uint32_t id, const void *payload, size_t len,
		      int timeout_ms)
{
	int rc = 0;

	if (len > UINT32_MAX || (len > 0 && payload == NULL))
		return -EINVAL;
	/* TLS writes records of its own; big frames gain nothing. */
	if (c->ssl != NULL || CF_FRAME_HDR_LEN + len > HOLD_MAX / 2)
		return cf_conn_send(c, type, fn, id, payload, len, timeout_ms);
	pthread_mutex_lock(&c->send_lock);
	if (c->tx_broken || atomic_load(&c->shut)) {
		rc = -EPIPE;
		goto out_unlock;
	}
	if (c->hold == NULL) {
		c->hold = malloc(HOLD_MAX);
		if (c->hold == NULL)
			goto out_send;
	}
	if (c->hold_len + CF_FRAME_HDR_LEN + len > HOLD_MAX)
		goto out_send;
	put_header(c->hold + c->hold_len, (uint32_t)len, id, type, fn);
	if (len > 0)
		memcpy(c->hold + c->hold_len + CF_FRAME_HDR_LEN, payload, len);
	c->hold_len += CF_FRAME_HDR_LEN + len;
	atomic_store(&c->holding, true);
out_unlock:
	pthread_mutex_unlock(&c->send_lock);
	return rc;
out_send:
	/* No room: everything goes now, this frame behind the held ones. */
	pthread_mutex_unlock(&c->send_lock);
	return cf_conn_send(c, type, fn, id, payload, len, timeout_ms);
}

int cf_conn_flush(struct cf_conn *c, int timeout_ms)
{
	int rc;

	pthread_mutex_lock(&c->send_lock);
	rc = flush_locked(c, deadline_after(timeout_ms));
	pthread_mutex_unlock(&c->send_lock);
	return rc;
}

bool cf_conn_holding(struct cf_conn *c)
{
	return atomic_load(&c->holding);
}

int cf_conn_send_error(struct cf_conn *c, uint32_t id, enum cf_proto_error code,
		       const char *reason, int timeout_ms)
{
	uint8_t buf[8 + ERROR_REASON_MAX];
	size_t rlen = reason != NULL ? strnlen(reason, ERROR_REASON_MAX) : 0;

	cf_put_be32(buf, (uint32_t)code);
	cf_put_be32(buf + 4, (uint32_t)rlen);
	if (rlen > 0)
		memcpy(buf + 8, reason, rlen);
	return cf_conn_send(c, CF_FRAME_ERROR, 0, id, buf, 8 + rlen,
			    timeout_ms);
}

int cf_conn_parse_error(const struct cf_frame *f, uint32_t *code, char *reason,
			size_t reasonlen)
{
	struct cf_rbuf r;
	const uint8_t *p;
	size_t len, n;

	*code = 0;
	if (reason != NULL && reasonlen > 0)
		reason[0] = '\0';
	if (f->type != CF_FRAME_ERROR)
		return -EPROTO;
	cf_rbuf_init(&r, f->payload, f->len);
	if (!cf_rbuf_get_u32(&r, code) ||
	    !cf_rbuf_ref_lv(&r, &p, &len, f->len)) {
		*code = 0;
		return -EPROTO;
	}
	if (reason == NULL || reasonlen == 0)
		return 0;
	n = len < reasonlen - 1 ? len : reasonlen - 1;
	for (size_t i = 0; i < n; i++)
		reason[i] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	reason[n] = '\0';
	return 0;
}

int cf_conn_close_write(struct cf_conn *c, int timeout_ms)
{
	int64_t deadline = deadline_after(timeout_ms);
	int rc = 0;

	pthread_mutex_lock(&c->send_lock);
	/* Held frames are the last ones. */
	rc = flush_locked(c, deadline);
	if (rc < 0)
		goto out_unlock;
	if (c->tx_broken || atomic_load(&c->shut)) {
		rc = -EPIPE;
		goto out_unlock;
	}
	c->tx_broken = true; /* no frame may follow */
	while (c->ssl != NULL) {
		int r, err;

		pthread_mutex_lock(&c->ssl_lock);
		ERR_clear_error();
		r = SSL_shutdown(c->ssl);
		err = r < 0 ? SSL_get_error(c->ssl, r) : SSL_ERROR_NONE;
		ERR_clear_error();
		pthread_mutex_unlock(&c->ssl_lock);
		/* 0: close_notify sent, the peer's not yet seen; that is
		 * all a half-close needs. */
		if (r >= 0)
			break;
		if (err != SSL_ERROR_WANT_WRITE) {
			rc = -EPIPE;
			goto out_unlock;
		}
		rc = conn_wait(c, POLLOUT, deadline);
		if (rc < 0)
			goto out_unlock;
	}
	if (c->is_sock && shutdown(c->fd, SHUT_WR) < 0)
		rc = -errno;
out_unlock:
	pthread_mutex_unlock(&c->send_lock);
	return rc;
}
