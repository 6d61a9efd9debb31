/*
 * rpc.c - one connection to cofferd shared by every thread of the
 * application, calls multiplexed on it by request id.
 *
 * There is no reader thread. A caller registers its request, sends it,
 * then either takes the read role (if no one holds it) and reads frames,
 * handing other callers their replies, until its own reply arrives, or
 * sleeps on a futex word of its own until the reader hands it its reply or
 * the read role. The reader does all the bookkeeping of a reply under the
 * lock (unlinking, the in-flight count), so a woken caller goes straight
 * on without taking the lock again: one lock round per call, and a reply
 * costs at most one wake-up, none when its caller had not gone to sleep
 * yet. A single-threaded application pays one send and one receive.
 *
 * A connection that fails (EOF, reset, protocol violation, a call with no
 * reply within the timeout) is dropped whole: its calls in flight fail, and
 * the sessions opened on it are invalid from then on (they carry the
 * connection's generation). Calls without a session connect again.
 *
 * A session with a deferred init (session.c) sends its next request as a
 * CF_FRAME_CHAIN: the init, then the request, in one frame; the reply
 * starts with the init's rv (docs/protocol.md, "Deferred initialisation").
 */
#include "client/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/futex.h"
#include "common/log.h"

/* What a waiting caller is told, in its futex word. */
enum {
	P_WAIT,	 /* nothing yet */
	P_SLEEP, /* nothing yet, and asleep on the word: wake it */
	P_ROLE,	 /* nobody reads: take the read role */
	P_DONE,	 /* answered (or failed); the pending is off the list */
};

/* A caller waiting for its reply. Lives on the caller's stack. Fields but
 * state are under rpc.lock until state is P_DONE, then the caller's. */
struct pending {
	struct pending *next;
	uint32_t id;
	uint16_t fn;
	bool done;
	int err;       /* 0, or -errno: the connection failed */
	uint32_t perr; /* CF_FRAME_ERROR code, 0 for none */
	struct cf_frame frame;
	_Atomic uint32_t state;
};

struct rconn {
	struct cf_conn *conn;
	uint64_t gen;
	uint32_t max_inflight;
	uint32_t max_frame;
	uint32_t inflight;
	uint32_t next_id;
	/* The library's pointer, plus one per caller; the last one frees. */
	atomic_uint refs;
	/* A caller holds the read role. Taken by compare-and-swap, after
	 * the caller's request is out: a caller stuck sending must never
	 * hold it, or replies would pile up unread while the server waits
	 * for its sends to drain. */
	atomic_bool reading;
	bool dead;
	struct pending *pending;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* slots freed, connection attempts ended */
	const struct cf_client_conf *conf;
	SSL_CTX *tls;
	struct rconn *cur;
	uint64_t gen;	   /* of the last connection made */
	uint64_t attempts; /* connection attempts ended */
	bool connecting;
	atomic_int timeout_ms; /* per call; read without the lock */
	atomic_int cpu;	       /* the cpu setting (colocate.c); the same */
} rpc = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cpu = -1,
};

static pthread_once_t cond_once = PTHREAD_ONCE_INIT;

static void cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

static void rpc_cond_init(void)
{
	cond_init_monotonic(&rpc.cond);
}

/* ---- time ------------------------------------------------------------- */

static struct timespec deadline_in(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Milliseconds left until d, 0 when past. */
static int ms_left(const struct timespec *d)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(d->tv_sec - now.tv_sec) * 1000 +
	     (d->tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* ---- waking callers --------------------------------------------------- */

/* Futex words to wake once the lock is dropped: waking a sleeping thread
 * can cost tens of microseconds on a VM, and every other caller would
 * wait for the lock meanwhile. */
#define WAKES_MAX 16
struct wakes {
	_Atomic uint32_t *word[WAKES_MAX];
	unsigned n;
};

static void wake_all(struct wakes *wk)
{
	for (unsigned i = 0; i < wk->n; i++)
		cf_futex_wake(wk->word[i]);
	wk->n = 0;
}

/* Tells the caller of p what happened (P_ROLE or P_DONE), waking it if it
 * sleeps: later through wk, or at once when wk is NULL or full. With
 * P_DONE p may be gone once the store is seen; the wake-up is harmless
 * then (futex.h). */
static void tell(struct pending *p, uint32_t what, struct wakes *wk)
{
	if (atomic_exchange_explicit(&p->state, what, memory_order_acq_rel) !=
	    P_SLEEP)
		return;
	if (wk != NULL && wk->n < WAKES_MAX)
		wk->word[wk->n++] = &p->state;
	else
		cf_futex_wake(&p->state);
}

/* ---- connections ------------------------------------------------------ */

static void rconn_free(struct rconn *rc)
{
	if (rc == NULL)
		return;
	cf_conn_free(rc->conn);
	free(rc);
}

static void rconn_put_locked(struct rconn *rc, struct rconn **to_free)
{
	if (atomic_fetch_sub(&rc->refs, 1) == 1)
		*to_free = rc;
}

/* p is answered (or failed): off the list, its in-flight slot free, its
 * caller told (woken through wk). Caller holds the lock. */
static void complete_locked(struct rconn *rc, struct pending *p,
			    struct wakes *wk)
{
	for (struct pending **pp = &rc->pending; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->done = true;
	rc->inflight--;
	/* Callers waiting for a slot; no system call when there are none. */
	pthread_cond_broadcast(&rpc.cond);
	tell(p, P_DONE, wk);
}

/* The reader leaves: a caller still waiting takes the role. */
static void hand_role_locked(struct rconn *rc, struct wakes *wk)
{
	struct pending *q;

	if (rc->dead)
		return;
	for (q = rc->pending; q != NULL; q = q->next) {
		uint32_t st = atomic_load(&q->state);
		if (st == P_WAIT || st == P_SLEEP) {
			tell(q, P_ROLE, wk);
			return;
		}
	}
}

/* Drops rc: every caller waiting on it fails with err, the library
 * forgets it, and the stream is shut down so a blocked reader returns. */
static void rconn_kill_locked(struct rconn *rc, int err, struct rconn **to_free)
{
	if (!rc->dead) {
		rc->dead = true;
		cf_conn_shutdown(rc->conn);
		while (rc->pending != NULL) {
			struct pending *p = rc->pending;
			p->err = err;
			complete_locked(rc, p, NULL);
		}
	}
	if (rpc.cur == rc) {
		rpc.cur = NULL;
		rconn_put_locked(rc, to_free);
	}
	pthread_cond_broadcast(&rpc.cond);
}

/* Connects unless a connection is up; one thread dials at a time and the
 * others wait for its outcome. Called and returns with the lock held. */
static CK_RV connect_locked(const struct timespec *deadline)
{
	struct cf_conn *conn = NULL;
	struct cf_hello hello;
	struct rconn *rc;
	uint64_t seen;
	int r;

	while (rpc.connecting) {
		seen = rpc.attempts;
		while (rpc.connecting && rpc.attempts == seen)
			if (pthread_cond_timedwait(&rpc.cond, &rpc.lock,
						   deadline) == ETIMEDOUT)
				return CKR_DEVICE_ERROR;
		if (rpc.cur != NULL)
			return CKR_OK;
		/* The attempt this caller waited for failed: so does it. */
		return CKR_DEVICE_ERROR;
	}
	if (rpc.cur != NULL)
		return CKR_OK;
	if (rpc.conf == NULL)
		return CKR_DEVICE_ERROR;
	rpc.connecting = true;
	pthread_mutex_unlock(&rpc.lock);
	r = cf_client_dial(rpc.conf, rpc.tls, &conn, &hello);
	rc = r == 0 ? calloc(1, sizeof(*rc)) : NULL;
	pthread_mutex_lock(&rpc.lock);
	rpc.connecting = false;
	rpc.attempts++;
	pthread_cond_broadcast(&rpc.cond);
	if (rc == NULL) {
		/* Outside the lock would be nicer, but conn is only set when
		 * the allocation failed, which is rare. */
		cf_conn_free(conn);
		return CKR_DEVICE_ERROR;
	}
	rc->conn = conn;
	rc->gen = ++rpc.gen;
	/* A new connection is a new module instance: nothing remembered
	 * about the old one holds. */
	cf_client_epoch_bump();
	rc->max_inflight = hello.max_inflight > 0 ? hello.max_inflight : 1;
	rc->max_frame = hello.max_frame;
	rc->next_id = 1;
	atomic_init(&rc->refs, 1u);
	atomic_init(&rc->reading, false);
	if (rpc.conf->spin_usec > 0)
		cf_conn_set_spin(conn, rpc.conf->spin_usec);
	if (rpc.conf->cpu == CF_CLIENT_CPU_AUTO)
		atomic_store(&rpc.cpu, hello.cpu);
	cf_colocate_reset();
	rpc.cur = rc;
	return CKR_OK;
}

void cf_rpc_init(const struct cf_client_conf *conf, SSL_CTX *tls)
{
	pthread_once(&cond_once, rpc_cond_init);
	cf_client_dial_reset();
	pthread_mutex_lock(&rpc.lock);
	rpc.conf = conf;
	rpc.tls = tls;
	atomic_store(&rpc.timeout_ms, conf != NULL ? conf->timeout_ms
						   : CF_CLIENT_TIMEOUT_DEFAULT);
	/* "auto" is known once a connection asked the server for a CPU. */
	atomic_store(&rpc.cpu, conf != NULL && conf->cpu >= 0 ? conf->cpu : -1);
	pthread_mutex_unlock(&rpc.lock);
}

void cf_rpc_connect_now(void)
{
	struct timespec d;

	pthread_mutex_lock(&rpc.lock);
	d = deadline_in(rpc.conf != NULL ? rpc.conf->connect_timeout_ms
					 : CF_CLIENT_CONNECT_TIMEOUT_DEFAULT);
	(void)connect_locked(&d);
	pthread_mutex_unlock(&rpc.lock);
}

uint64_t cf_rpc_current_gen(void)
{
	uint64_t g;

	pthread_mutex_lock(&rpc.lock);
	g = rpc.cur != NULL && !rpc.cur->dead ? rpc.cur->gen : 0;
	pthread_mutex_unlock(&rpc.lock);
	return g;
}

/* The server closes after C_Finalize of its module; waiting for that makes
 * a following C_Initialize see a fresh module (and its files closed). */
static void close_gracefully(struct rconn *rc, int timeout_ms)
{
	struct timespec d = deadline_in(timeout_ms);
	struct cf_frame f;
	int r, left;

	if (cf_conn_close_write(rc->conn, timeout_ms) != 0)
		return;
	while ((left = ms_left(&d)) > 0) {
		memset(&f, 0, sizeof(f));
		r = cf_conn_recv(rc->conn, &f, left);
		cf_frame_clear(&f);
		if (r != 0)
			break;
	}
}

void cf_rpc_shutdown(void)
{
	struct rconn *rc, *to_free = NULL;
	int wait_ms = CF_CLIENT_CONNECT_TIMEOUT_DEFAULT;

	pthread_mutex_lock(&rpc.lock);
	rc = rpc.cur;
	if (rpc.conf != NULL && rpc.conf->timeout_ms < wait_ms)
		wait_ms = rpc.conf->timeout_ms;
	if (rc != NULL && atomic_load(&rc->refs) == 1 && !rc->dead) {
		/* No call in flight: the stream is ours alone. */
		rpc.cur = NULL;
		pthread_mutex_unlock(&rpc.lock);
		close_gracefully(rc, wait_ms);
		rconn_free(rc);
		pthread_mutex_lock(&rpc.lock);
	} else if (rc != NULL) {
		rconn_kill_locked(rc, -ECONNRESET, &to_free);
	}
	rpc.conf = NULL;
	rpc.tls = NULL;
	pthread_mutex_unlock(&rpc.lock);
	rconn_free(to_free);
}

void cf_rpc_forget(void)
{
	/* The parent's threads do not exist here, so nobody holds the lock
	 * legitimately; the stream is the parent's: close our descriptor
	 * without a TLS close_notify or a shutdown, which would reach the
	 * server on the parent's behalf. */
	pthread_mutex_init(&rpc.lock, NULL);
	cond_init_monotonic(&rpc.cond);
	if (rpc.cur != NULL) {
		/* Callers of the parent had references; only the memory
		 * counts now. OpenSSL may hold locks of the parent's threads,
		 * so a TLS connection's memory is left alone and only its
		 * socket closed (many children exec or _exit at once). */
		if (cf_conn_ssl(rpc.cur->conn) != NULL)
			close(cf_conn_fd(rpc.cur->conn));
		else
			rconn_free(rpc.cur);
	}
	rpc.cur = NULL;
	rpc.connecting = false;
	rpc.conf = NULL;
	rpc.tls = NULL;
}

/* ---- one call --------------------------------------------------------- */

/* Hands a received frame to its caller. Returns 0, -ECONNRESET when the
 * server says it is closing the connection (an error frame with id 0:
 * shutdown, idleness, a limit), or -EPROTO when it broke the protocol (a
 * reply nobody asked for, or of the wrong function). */
static int deliver_locked(struct rconn *rc, struct cf_frame *f,
			  struct wakes *wk)
{
	struct pending *p;

	if (f->type == CF_FRAME_ERROR && f->id == 0) {
		char reason[128];
		uint32_t code = 0;

		if (cf_conn_parse_error(f, &code, reason, sizeof(reason)) == 0)
			cf_info("coffer-client: server closes the connection "
				"(%u: %s)",
				code, reason);
		return -ECONNRESET;
	}
	for (p = rc->pending; p != NULL; p = p->next)
		if (p->id == f->id)
			break;
	if (p == NULL)
		return -EPROTO;
	if (f->type == CF_FRAME_ERROR) {
		char reason[128];
		uint32_t code = 0;

		if (cf_conn_parse_error(f, &code, reason, sizeof(reason)) !=
			0 ||
		    code == 0)
			code = CF_PERR_MALFORMED;
		else if (code != CF_PERR_UNKNOWN_FN)
			cf_warn("coffer-client: server refused call %u: %s",
				p->fn, reason);
		p->perr = code;
		cf_frame_clear(f);
	} else if (f->type == CF_FRAME_REPLY && f->fn == p->fn) {
		p->frame = *f;
		memset(f, 0, sizeof(*f)); /* transferred */
	} else {
		return -EPROTO;
	}
	complete_locked(rc, p, wk);
	return 0;
}

/* Reads frames until p is answered or rc fails, and then those already
 * whole in the buffer too: each one it delivers is one caller less that
 * may need the read role handed on (a wake-up). Called with the lock held
 * and the read role taken; returns with the lock held and wake-ups still
 * due in wk. */
static void read_locked(struct rconn *rc, struct pending *p,
			const struct timespec *deadline, struct rconn **to_free,
			struct wakes *wk)
{
	while ((!p->done || cf_conn_frame_buffered(rc->conn)) && !rc->dead) {
		struct cf_frame f;
		int r, left = ms_left(deadline);

		if (left == 0) {
			if (!p->done)
				rconn_kill_locked(rc, -ETIMEDOUT, to_free);
			break;
		}
		memset(&f, 0, sizeof(f));
		pthread_mutex_unlock(&rpc.lock);
		wake_all(wk);
		r = cf_conn_recv(rc->conn, &f, left);
		pthread_mutex_lock(&rpc.lock);
		if (r == -ETIMEDOUT) {
			cf_frame_clear(&f);
			continue; /* the deadline check above decides */
		}
		if (r != 0) {
			cf_frame_clear(&f);
			rconn_kill_locked(rc, r, to_free);
			break;
		}
		r = deliver_locked(rc, &f, wk);
		if (r == -EPROTO)
			cf_warn("coffer-client: protocol violation from "
				"server (frame type %u, id %u); dropping the "
				"connection",
				f.type, f.id);
		if (r != 0) {
			cf_frame_clear(&f);
			rconn_kill_locked(rc, r, to_free);
			break;
		}
	}
}

static CK_RV map_failure(const struct cf_client_call *c,
			 const struct pending *p)
{
	if (p->perr == CF_PERR_UNKNOWN_FN)
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (p->perr != 0)
		return CKR_DEVICE_ERROR;
	if (p->err == -ETIMEDOUT)
		return CKR_DEVICE_ERROR;
	/* The connection went away under the call: a session's state is
	 * gone with it; other calls were retried by the caller. */
	return c->gen != 0 ? CKR_DEVICE_REMOVED : CKR_DEVICE_ERROR;
}

static bool take_role(struct rconn *rc)
{
	bool no = false;

	return atomic_compare_exchange_strong(&rc->reading, &no, true);
}

/* Reads as the reader until p is answered, then hands the role on.
 * Caller holds the lock and took the role; it wakes wk once it drops the
 * lock. */
static void lead_locked(struct rconn *rc, struct pending *p,
			const struct timespec *deadline, struct rconn **to_free,
			struct wakes *wk)
{
	read_locked(rc, p, deadline, to_free, wk);
	atomic_store(&rc->reading, false);
	hand_role_locked(rc, wk);
}

/* Waits until p is answered, reading when told to. Without the lock. */
static void wait_reply(struct rconn *rc, struct pending *p,
		       const struct timespec *deadline, struct rconn **to_free)
{
	for (;;) {
		uint32_t st = atomic_load_explicit(&p->state,
						   memory_order_acquire);

		if (st == P_DONE)
			return;
		if (st == P_ROLE) {
			struct wakes wk = {.n = 0};

			pthread_mutex_lock(&rpc.lock);
			if (!p->done && take_role(rc)) {
				lead_locked(rc, p, deadline, to_free, &wk);
			} else if (!p->done) {
				/* Someone else took the role meanwhile. */
				atomic_store(&p->state, P_WAIT);
			}
			pthread_mutex_unlock(&rpc.lock);
			wake_all(&wk);
			continue;
		}
		if (st == P_WAIT &&
		    !atomic_compare_exchange_strong(&p->state, &st, P_SLEEP))
			continue;
		if (cf_futex_wait(&p->state, P_SLEEP, deadline) ==
		    ETIMEDOUT) {
			pthread_mutex_lock(&rpc.lock);
			if (!p->done)
				rconn_kill_locked(rc, -ETIMEDOUT, to_free);
			pthread_mutex_unlock(&rpc.lock);
		}
	}
}

/* One attempt. *retry is set when the call failed because a connection
 * that existed before it had died, so a fresh one may succeed; *sent when
 * the frame was handed to the connection (it may have reached the server). */
static CK_RV roundtrip_once(struct cf_client_call *c,
			    const struct timespec *deadline, uint16_t type,
			    const uint8_t *payload, size_t len, bool *retry,
			    bool *sent)
{
	struct rconn *rc, *to_free = NULL;
	struct pending p;
	bool fresh = false;
	CK_RV rv = CKR_DEVICE_ERROR;
	int r;

	memset(&p, 0, sizeof(p));
	atomic_init(&p.state, P_WAIT);
	*retry = false;
	*sent = false;
	pthread_mutex_lock(&rpc.lock);
	if (c->gen != 0) {
		rc = rpc.cur;
		if (rc == NULL || rc->dead || rc->gen != c->gen) {
			rv = CKR_SESSION_HANDLE_INVALID;
			goto out_unlock;
		}
	} else {
		if (rpc.cur == NULL) {
			rv = connect_locked(deadline);
			if (rv != CKR_OK)
				goto out_unlock;
			fresh = true;
		}
		rc = rpc.cur;
		if (rc == NULL) {
			rv = CKR_DEVICE_ERROR;
			goto out_unlock;
		}
	}
	if (len > rc->max_frame) {
		rv = CKR_DATA_LEN_RANGE;
		goto out_unlock;
	}
	atomic_fetch_add(&rc->refs, 1);
	while (rc->inflight >= rc->max_inflight && !rc->dead) {
		if (pthread_cond_timedwait(&rpc.cond, &rpc.lock, deadline) ==
		    ETIMEDOUT) {
			rv = CKR_DEVICE_ERROR;
			goto out_put;
		}
	}
	if (rc->dead) {
		rv =
		    c->gen != 0 ? CKR_SESSION_HANDLE_INVALID : CKR_DEVICE_ERROR;
		*retry = c->gen == 0 && !fresh;
		goto out_put;
	}
	p.fn = c->fn;
	p.id = rc->next_id++;
	if (rc->next_id == 0)
		rc->next_id = 1;
	p.next = rc->pending;
	rc->pending = &p;
	rc->inflight++;
	*sent = true;
	pthread_mutex_unlock(&rpc.lock);

	r = cf_conn_send(rc->conn, type, c->fn, p.id, payload, len,
			 ms_left(deadline));

	if (r != 0) {
		pthread_mutex_lock(&rpc.lock);
		if (!p.done)
			rconn_kill_locked(rc,
					  r == -ETIMEDOUT ? -ETIMEDOUT : -EPIPE,
					  &to_free);
		pthread_mutex_unlock(&rpc.lock);
	} else if (take_role(rc)) {
		/* Nobody reads: this caller does, until its reply is in. */
		struct wakes wk = {.n = 0};

		pthread_mutex_lock(&rpc.lock);
		lead_locked(rc, &p, deadline, &to_free, &wk);
		pthread_mutex_unlock(&rpc.lock);
		wake_all(&wk);
	}
	wait_reply(rc, &p, deadline, &to_free);

	/* p is off the list and its fields are this caller's now. */
	if (p.err == 0 && p.perr == 0 && p.frame.payload != NULL) {
		c->rep = p.frame;
		cf_win_init(&c->rd, c->rep.payload, c->rep.len);
		c->have_rd = true;
		c->used_gen = rc->gen;
		rv = CKR_OK;
	} else if (p.err == 0 && p.perr == 0) {
		/* A reply with an empty payload lacks even its rv. */
		cf_frame_clear(&p.frame);
		rv = CKR_DEVICE_ERROR;
	} else {
		cf_frame_clear(&p.frame);
		rv = map_failure(c, &p);
		*retry =
		    c->gen == 0 && !fresh && p.err != 0 && p.err != -ETIMEDOUT;
	}
	if (atomic_fetch_sub(&rc->refs, 1) == 1)
		to_free = rc;
	rconn_free(to_free);
	return rv;

out_put:
	rconn_put_locked(rc, &to_free);
out_unlock:
	pthread_mutex_unlock(&rpc.lock);
	rconn_free(to_free);
	return rv;
}

static void wipe_free(uint8_t *p, size_t len)
{
	OPENSSL_cleanse(p, len);
	free(p);
}

static void forget_reply(struct cf_client_call *c)
{
	if (c->have_rd)
		cf_win_clear(&c->rd);
	cf_frame_clear(&c->rep);
	c->have_rd = false;
}

/* Sends c's request behind the session's deferred init (fn dfn, request
 * dp, which this takes) as one CF_FRAME_CHAIN. When the init failed the
 * call did not run and c->rd reads the init's rv as the call's own. */
static CK_RV roundtrip_chain(struct cf_client_call *c,
			     const struct timespec *deadline, uint16_t dfn,
			     uint8_t *dp, size_t dlen)
{
	struct cf_wout w;
	uint64_t init_rv = 0;
	bool retry = false, sent = false;
	CK_RV rv;

	cf_wout_init(&w, CF_FRAME_MAX_DEFAULT);
	cf_w_u8(&w, (uint8_t)(dfn >> 8));
	cf_w_u8(&w, (uint8_t)dfn);
	cf_w_u32(&w, (uint32_t)dlen);
	cf_w_raw(&w, dp, dlen);
	cf_w_raw(&w, c->req.data, c->req.len);
	rv = w.bad ? CKR_DATA_LEN_RANGE
		   : roundtrip_once(c, deadline, CF_FRAME_CHAIN, w.data, w.len,
				    &retry, &sent);
	cf_wout_clear(&w);
	if (rv != CKR_OK && !sent) {
		/* Nothing went out (too large, no slot in time, connection
		 * gone): the init stays deferred, as it would have stayed
		 * active. */
		cf_client_session_put_deferred(c->local, dfn, dp, dlen);
		return rv;
	}
	wipe_free(dp, dlen);
	if (rv != CKR_OK)
		return rv;
	if (!cf_r_u64(&c->rd, &init_rv)) {
		forget_reply(c);
		return CKR_DEVICE_ERROR;
	}
	if (init_rv == CKR_OK)
		return CKR_OK; /* c->rd goes on with the call's reply */
	if (c->fn == CF_FN_CLOSE_SESSION || c->fn == CF_FN_SESSION_CANCEL) {
		/* Ending the session or its operations does not depend on
		 * the init: they run as they would have without it. */
		forget_reply(c);
		return roundtrip_once(c, deadline, CF_FRAME_REQUEST,
				      c->req.data, c->req.len, &retry, &sent);
	}
	/* The reply is the bare u64 rv: the decoder reads it as the call's. */
	cf_win_clear(&c->rd);
	cf_win_init(&c->rd, c->rep.payload, c->rep.len);
	return CKR_OK;
}

static CK_RV roundtrip(struct cf_client_call *c)
{
	uint8_t *dp = NULL;
	size_t dlen = 0;
	uint16_t dfn = 0;
	bool sent = false;
	struct timespec deadline;
	bool retry = false;
	int timeout_ms;
	CK_RV rv;

	if (c->req.bad)
		return c->req.len >= c->req.max ? CKR_DATA_LEN_RANGE
						: CKR_HOST_MEMORY;
	timeout_ms = atomic_load(&rpc.timeout_ms);
	if (timeout_ms <= 0)
		timeout_ms = CF_CLIENT_TIMEOUT_DEFAULT;
	deadline = deadline_in(timeout_ms);
	if (c->gen != 0 && c->local != 0 &&
	    cf_client_session_take_deferred(c->local, &dfn, &dp, &dlen))
		return roundtrip_chain(c, &deadline, dfn, dp, dlen);
	rv = roundtrip_once(c, &deadline, CF_FRAME_REQUEST, c->req.data,
			    c->req.len, &retry, &sent);
	/* A call without a session on a connection that had died before it
	 * (cofferd restarted): once more on a fresh one. */
	if (retry && ms_left(&deadline) > 0)
		rv = roundtrip_once(c, &deadline, CF_FRAME_REQUEST,
				    c->req.data, c->req.len, &retry, &sent);
	return rv;
}

CK_RV cf_client_roundtrip(struct cf_client_call *c)
{
	struct cf_colocate co;
	CK_RV rv;

	cf_colocate_enter(atomic_load(&rpc.cpu), &co);
	rv = roundtrip(c);
	cf_colocate_leave(&co);
	return rv;
}
