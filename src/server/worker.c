/*
 * worker.c - one client connection, in its own process: TLS handshake,
 * peer identity and access control, the version handshake, then the module
 * loaded and initialized for this client alone, served by a few threads.
 * When the peer goes, the module is finalized: every session closes and
 * the login is dropped with the connection.
 *
 * Threads. One thread at a time holds the read role: it reads a request,
 * and every further one already whole in the receive buffer, into a
 * queue. A thread that is free takes the oldest queued request and runs
 * it; with none queued it takes the read role; with that taken too it
 * sleeps on a futex word of its own, so a wake-up wakes exactly one
 * thread, after the waker has dropped the lock.
 * So under load a thread that finishes a call goes straight on to the
 * next request without sleeping or waking anyone, and a single-threaded
 * client is served by one thread that reads, runs and answers in turn.
 *
 * Before a thread runs a call it calls a helper (an idle thread, or a new
 * one up to the in-flight limit) when there is more to do meanwhile:
 * requests queued or waiting in the socket, or a call expected to be slow
 * (a running average per function: key generation and PIN KDFs must not
 * hold up the requests behind them). Quick calls run on at most as many
 * threads as there are CPUs: more would only take turns on them, and each
 * hand-off costs a wake-up.
 *
 * A CF_FRAME_CHAIN (a deferred init, then a request) is one call here: one
 * in-flight slot, one reply, its cost noted under the request's function.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/futex.h"
#include "common/log.h"
#include "pkcs11/functions_table.h"
#include "server/access.h"
#include "server/dispatch.h"
#include "server/module.h"
#include "server/server.h"
#include "wire/conn.h"
#include "wire/tls.h"

#define SEND_TIMEOUT_MS 30000
#define DRAIN_TIMEOUT_S 5
#define MAX_MAPPED 64
/* A call expected to take longer than this gets a helper, so that the
 * requests behind it are read and run meanwhile. */
#define INLINE_MAX_US 200
/* Requests over which one concurrent arrival is remembered. */
#define CONCURRENT_WINDOW 64

/* A thread waiting for work, asleep on its futex word (common/futex.h),
 * so the thread that calls it can wake it after dropping w->mu. */
struct idler {
	_Atomic uint32_t called;
	struct idler *next;
};

/* A request read and not yet taken by a thread. */
struct queued {
	struct cf_frame f;
	struct queued *next;
};

struct worker {
	struct cf_conn *conn;
	struct cf_srv srv;
	uint32_t max_inflight;
	int idle_ms;	     /* -1: never idle out */
	unsigned max_quick; /* quick calls running at once: the CPUs */

	pthread_mutex_t mu;
	pthread_cond_t drained; /* stop is set and busy reached 0 */
	bool reader_busy;	/* a thread holds the read role */
	struct idler *idle;	/* threads waiting for work, LIFO */
	struct queued *qhead, *qtail;
	atomic_uint nqueued; /* the queue's length, read without the lock */
	atomic_uint inflight;	/* counted against max_inflight */
	unsigned busy;		/* calls taken and not yet answered */
	unsigned running_quick; /* threads running a quick call */
	bool stop;
	bool closed; /* the connection is being freed: no more sends */
	/* Counts down from CONCURRENT_WINDOW after a request arrived while
	 * another was under way: the client makes concurrent calls, so a
	 * request waiting in the socket is worth a system call to find. */
	unsigned concurrent;
	pthread_t *threads;
	unsigned nthreads;
	pthread_t sig_thread;
	bool sig_started;
	/* Served on the client's CPU (its cpu setting) until it overlaps
	 * calls; wide is the process's CPUs before. */
	bool pinned;
	pthread_t main_thread;
	cpu_set_t wide;
	/* Running average of each function's duration, in microseconds. */
	atomic_uint cost_us[CF_FN_MAX + 1];
};

static void *serve_thread(void *arg);

/* Caller holds w->mu. */
static void stop_locked(struct worker *w)
{
	w->stop = true;
	while (w->idle != NULL) {
		struct idler *i = w->idle;

		/* Asleep or not, it cannot leave before it gets w->mu. */
		w->idle = i->next;
		atomic_store(&i->called, 1);
		cf_futex_wake(&i->called);
	}
	if (w->busy == 0)
		pthread_cond_broadcast(&w->drained);
}

/* Known to be slow before any measurement: they run a PIN KDF or make
 * keys, and must never hold up the requests behind them. */
static void seed_costs(struct worker *w)
{
	static const uint16_t slow[] = {
	    CF_FN_C_InitToken,	 CF_FN_C_InitPIN,	CF_FN_C_SetPIN,
	    CF_FN_C_Login,	 CF_FN_C_LoginUser,	CF_FN_C_GenerateKey,
	    CF_FN_C_GenerateKeyPair,
	};

	for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++)
		atomic_store(&w->cost_us[slow[i]], 1000000u);
}

static bool expect_quick(struct worker *w, uint16_t fn)
{
	return fn > CF_FN_MAX || atomic_load(&w->cost_us[fn]) <= INLINE_MAX_US;
}

static void note_cost(struct worker *w, uint16_t fn,
		      const struct timespec *t0)
{
	struct timespec t1;
	uint64_t us;
	unsigned old;

	if (fn > CF_FN_MAX)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (uint64_t)(t1.tv_sec - t0->tv_sec) * 1000000u +
	     (uint64_t)((t1.tv_nsec - t0->tv_nsec) / 1000);
	if (us > 10000000u)
		us = 10000000u;
	old = atomic_load(&w->cost_us[fn]);
	/* An average over about the last eight calls; races between threads
	 * only blur it. */
	atomic_store(&w->cost_us[fn], (unsigned)((7u * (uint64_t)old + us) / 8u));
}

/* Runs one request and answers it. Returns false when the connection must
 * close (malformed request). A quick call's reply is held back while more
 * requests wait in the queue: this thread runs the next at once, and the
 * replies go out together, one write and one wake-up of the client for
 * several calls (the thread flushes before it waits for anything). */
static bool execute(struct worker *w, const struct cf_frame *f, bool quick)
{
	struct cf_wout out;
	struct timespec t0;
	bool keep = true;
	int rc;
	char reason[64];

	cf_wout_init(&out, w->srv.out_cap + 256);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (f->type == CF_FRAME_CHAIN) {
		uint16_t ifn = 0;

		rc = cf_srv_dispatch_chain(&w->srv, f->fn, f->payload, f->len,
					   &out, &ifn);
		if (rc == 0)
			cf_debug("conn=%lu: chain %s + %s", w->srv.conn_id,
				 cf_srv_fns[ifn].name, cf_srv_fns[f->fn].name);
	} else {
		rc = cf_srv_dispatch(&w->srv, f->fn, f->payload, f->len, &out);
	}
	note_cost(w, f->fn, &t0);
	/* No longer counted against the in-flight limit before the answer
	 * goes out, so a client that got the answer and sends its next call
	 * is never over the limit by a race. */
	atomic_fetch_sub(&w->inflight, 1);
	switch (rc) {
	case 0:
		if (quick && atomic_load(&w->nqueued) > 0)
			cf_conn_send_held(w->conn, CF_FRAME_REPLY, f->fn,
					  f->id, out.data, out.len,
					  SEND_TIMEOUT_MS);
		else
			cf_conn_send(w->conn, CF_FRAME_REPLY, f->fn, f->id,
				     out.data, out.len, SEND_TIMEOUT_MS);
		break;
	case -ENOSYS:
		snprintf(reason, sizeof(reason), "unknown function id %u",
			 (unsigned)f->fn);
		cf_conn_send_error(w->conn, f->id, CF_PERR_UNKNOWN_FN, reason,
				   SEND_TIMEOUT_MS);
		break;
	case -EBADMSG:
		cf_warn("conn=%lu %s: malformed %s %s, closing", w->srv.conn_id,
			w->srv.peer,
			f->fn <= CF_SRV_FN_MAX && cf_srv_fns[f->fn].name
			    ? cf_srv_fns[f->fn].name
			    : "unknown",
			f->type == CF_FRAME_CHAIN ? "chain" : "request");
		cf_conn_send_error(w->conn, f->id, CF_PERR_MALFORMED,
				   "malformed request payload",
				   SEND_TIMEOUT_MS);
		keep = false;
		break;
	default:
		/* The reply did not fit: the call ran, but its outputs
		 * cannot travel. */
		cf_wout_reset(&out);
		out.bad = false;
		cf_w_u64(&out, CKR_DEVICE_MEMORY);
		cf_conn_send(w->conn, CF_FRAME_REPLY, f->fn, f->id, out.data,
			     out.len, SEND_TIMEOUT_MS);
		break;
	}
	cf_wout_clear(&out);
	return keep;
}

/* Calls an idle thread, or starts a new one. One more thread than calls
 * may run, so that a frame over the limit is read and refused instead of
 * waiting unseen. Caller holds w->mu, and wakes *wake (if set) once it
 * has dropped it. */
static void call_helper_locked(struct worker *w, _Atomic uint32_t **wake)
{
	struct idler *i = w->idle;

	if (i != NULL) {
		w->idle = i->next;
		atomic_store(&i->called, 1);
		*wake = &i->called;
	} else if (w->nthreads < w->max_inflight) {
		if (pthread_create(&w->threads[w->nthreads], NULL, serve_thread,
				   w) == 0)
			w->nthreads++;
	}
}

/* Answers a frame with a protocol error, without the lock. */
static void refuse_frame_locked(struct worker *w, const struct cf_frame *f,
				enum cf_proto_error code, const char *reason)
{
	pthread_mutex_unlock(&w->mu);
	cf_conn_send_error(w->conn, f->id, code, reason, SEND_TIMEOUT_MS);
	pthread_mutex_lock(&w->mu);
}

/* A call is over: caller holds w->mu. */
static void done_locked(struct worker *w)
{
	w->busy--;
	if (w->stop && w->busy == 0)
		pthread_cond_broadcast(&w->drained);
}

/* Whether another request is already at hand. A client that has never
 * overlapped its calls cannot have sent one, so then only the bytes
 * already read are looked at, and the poll() is saved. Caller holds w->mu
 * and nobody holds the read role. */
static bool more_input_locked(struct worker *w)
{
	if (w->concurrent == 0)
		return cf_conn_input_buffered(w->conn);
	return cf_conn_input_pending(w->conn);
}

/* Runs a queued request, answers it and frees it. Returns false when the
 * connection must close. Caller holds w->mu; it is held again on return. */
static bool run_locked(struct worker *w, struct queued *q)
{
	bool quick = expect_quick(w, q->f.fn), keep;
	_Atomic uint32_t *wake = NULL;

	if (w->stop) {
		atomic_fetch_sub(&w->inflight, 1);
		refuse_frame_locked(w, &q->f, CF_PERR_SHUTDOWN,
				    "server is stopping");
		keep = true;
		goto out;
	}
	if (!quick || (w->running_quick < w->max_quick &&
		       (w->qhead != NULL ||
			(!w->reader_busy && more_input_locked(w)))))
		call_helper_locked(w, &wake);
	if (quick)
		w->running_quick++;
	pthread_mutex_unlock(&w->mu);
	if (wake != NULL)
		cf_futex_wake(wake);

	/* Replies held back must not wait behind a slow call. */
	if (!quick)
		cf_conn_flush(w->conn, SEND_TIMEOUT_MS);
	keep = execute(w, &q->f, quick);

	pthread_mutex_lock(&w->mu);
	if (quick)
		w->running_quick--;
out:
	done_locked(w);
	cf_frame_clear(&q->f);
	free(q);
	return keep;
}

/* The client overlaps its calls: one CPU would only make them take turns,
 * so every thread of this worker process gets the process's CPUs back:
 * ours, and any the module or a runtime made, all listed in /proc (threads
 * made later inherit the wide set from their creator, unless it was one
 * still narrow). Caller holds w->mu. */
static void widen_locked(struct worker *w)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	w->pinned = false;
	if (d == NULL) {
		/* No /proc: at least the threads this worker made. */
		(void)pthread_setaffinity_np(w->main_thread, sizeof(w->wide),
					     &w->wide);
		for (unsigned i = 0; i < w->nthreads; i++)
			(void)pthread_setaffinity_np(
			    w->threads[i], sizeof(w->wide), &w->wide);
	} else {
		while ((e = readdir(d)) != NULL) {
			long tid = strtol(e->d_name, NULL, 10);

			if (tid > 0)
				(void)sched_setaffinity(
				    (pid_t)tid, sizeof(w->wide), &w->wide);
		}
		closedir(d);
	}
	cf_debug("conn=%lu: the client overlaps its calls: served on every "
		 "CPU again",
		 w->srv.conn_id);
}

/* Takes a frame the reader got: queues a request, or refuses it. Returns
 * false when the connection must close. Caller holds w->mu and the read
 * role. */
static bool accept_frame_locked(struct worker *w, struct cf_frame *f)
{
	struct queued *q;
	bool overlap;

	if (f->type != CF_FRAME_REQUEST && f->type != CF_FRAME_CHAIN) {
		refuse_frame_locked(w, f, CF_PERR_MALFORMED,
				    "expected a request frame");
		return false;
	}
	if (w->stop) {
		refuse_frame_locked(w, f, CF_PERR_SHUTDOWN,
				    "server is stopping");
		return true;
	}
	if (atomic_load(&w->inflight) >= w->max_inflight) {
		refuse_frame_locked(w, f, CF_PERR_LIMIT,
				    "too many calls in flight");
		return true;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		refuse_frame_locked(w, f, CF_PERR_LIMIT, "out of memory");
		return true;
	}
	q->f = *f;
	memset(f, 0, sizeof(*f)); /* moved */
	/* Overlap for certain: a call whose answer has not gone out yet
	 * (busy also counts calls whose answer is out, and a client that
	 * got it may already have sent its next one). */
	overlap = atomic_fetch_add(&w->inflight, 1) > 0;
	if (overlap && w->pinned)
		widen_locked(w);
	if (overlap)
		w->concurrent = CONCURRENT_WINDOW;
	else if (w->concurrent > 0)
		w->concurrent--;
	w->busy++;
	if (w->qtail != NULL)
		w->qtail->next = q;
	else
		w->qhead = q;
	w->qtail = q;
	atomic_fetch_add(&w->nqueued, 1);
	return true;
}

/* Ends a failed read. Caller holds w->mu. Returns true to go on (an idle
 * timeout with calls under way). */
static bool read_failed_locked(struct worker *w, int rc)
{
	if (rc == -ETIMEDOUT) {
		if (atomic_load(&w->inflight) > 0)
			return true; /* busy, not idle */
		pthread_mutex_unlock(&w->mu);
		cf_info("conn=%lu %s: idle, closing", w->srv.conn_id,
			w->srv.peer);
		cf_conn_send_error(w->conn, 0, CF_PERR_IDLE, "idle timeout",
				   SEND_TIMEOUT_MS);
		pthread_mutex_lock(&w->mu);
	} else if (rc == -EMSGSIZE) {
		pthread_mutex_unlock(&w->mu);
		cf_warn("conn=%lu %s: frame over the limit, closing",
			w->srv.conn_id, w->srv.peer);
		cf_conn_send_error(w->conn, 0, CF_PERR_TOO_LARGE,
				   "frame too large", SEND_TIMEOUT_MS);
		pthread_mutex_lock(&w->mu);
	} else if (rc != -ECONNRESET || !w->stop) {
		cf_debug("conn=%lu: connection ended (%s)", w->srv.conn_id,
			 strerror(-rc));
	}
	stop_locked(w);
	return false;
}

/* With the read role: reads a request, and then every one already whole
 * in the buffer, into the queue. Caller holds w->mu; held on return. */
static void read_requests_locked(struct worker *w)
{
	int timeout = w->idle_ms;

	w->reader_busy = true;
	for (;;) {
		struct cf_frame f;
		int rc;

		pthread_mutex_unlock(&w->mu);
		memset(&f, 0, sizeof(f));
		rc = cf_conn_recv(w->conn, &f, timeout);
		pthread_mutex_lock(&w->mu);
		if (rc != 0) {
			cf_frame_clear(&f);
			if (!read_failed_locked(w, rc) || w->qhead != NULL)
				break;
			continue;
		}
		if (!accept_frame_locked(w, &f)) {
			cf_frame_clear(&f);
			stop_locked(w);
			/* Wake a reader blocked on the dead stream. */
			cf_conn_shutdown(w->conn);
			break;
		}
		cf_frame_clear(&f);
		if (w->stop || !cf_conn_frame_buffered(w->conn))
			break;
		timeout = 0; /* whole in the buffer: no wait */
	}
	w->reader_busy = false;
}

/* Sleeps until called: work queued, the read role free, or the worker
 * stopping. Caller holds w->mu. */
static void wait_for_work_locked(struct worker *w)
{
	struct idler me = {.next = w->idle};

	atomic_init(&me.called, 0);
	w->idle = &me;
	pthread_mutex_unlock(&w->mu);
	while (atomic_load(&me.called) == 0)
		cf_futex_wait(&me.called, 0, NULL);
	pthread_mutex_lock(&w->mu);
}

static void serve(struct worker *w)
{
	struct cf_log_held held;

	/* A call's log lines (its audit line) are written once its answer
	 * is on its way, so the file write is not part of the client's
	 * wait; under load, those of the calls a thread runs back to back
	 * go in one write. Never held while the thread waits. */
	cf_log_hold(&held);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct queued *q = w->qhead;

		if (q != NULL) {
			w->qhead = q->next;
			if (w->qhead == NULL)
				w->qtail = NULL;
			atomic_fetch_sub(&w->nqueued, 1);
			if (!run_locked(w, q)) {
				stop_locked(w);
				cf_conn_shutdown(w->conn);
			}
			continue;
		}
		if (cf_conn_holding(w->conn) || cf_log_holding()) {
			/* Before this thread waits: replies, then log lines. */
			pthread_mutex_unlock(&w->mu);
			cf_conn_flush(w->conn, SEND_TIMEOUT_MS);
			cf_log_flush();
			pthread_mutex_lock(&w->mu);
			continue;
		}
		if (w->stop)
			break;
		if (!w->reader_busy) {
			read_requests_locked(w);
			continue;
		}
		wait_for_work_locked(w);
	}
	pthread_mutex_unlock(&w->mu);
	cf_log_release();
}

static void *serve_thread(void *arg)
{
	serve(arg);
	return NULL;
}

/* SIGTERM/SIGINT: stop taking calls, let those under way finish (bounded),
 * tell the client, and end the stream so the reader returns. */
static void *signal_thread(void *arg)
{
	struct worker *w = arg;
	sigset_t set;
	int sig = 0;
	struct timespec until;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigwait(&set, &sig) != 0)
		return NULL;
	pthread_mutex_lock(&w->mu);
	if (w->closed) {
		pthread_mutex_unlock(&w->mu);
		return NULL;
	}
	cf_info("conn=%lu: stopping (signal %d)", w->srv.conn_id, sig);
	stop_locked(w);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DRAIN_TIMEOUT_S;
	while (w->busy > 0)
		if (pthread_cond_timedwait(&w->drained, &w->mu, &until) ==
		    ETIMEDOUT)
			break;
	if (!w->closed) {
		cf_conn_send_error(w->conn, 0, CF_PERR_SHUTDOWN,
				   "server is stopping", 1000);
		cf_conn_shutdown(w->conn);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Refuses a peer: its hello is read first, so the refusal is what it
 * reads in place of the hello reply, not a reset. */
static void refuse(struct cf_conn *conn, enum cf_proto_error code,
		   const char *reason, int timeout_ms)
{
	struct cf_frame f;

	memset(&f, 0, sizeof(f));
	if (cf_conn_recv(conn, &f, timeout_ms) == 0)
		cf_frame_clear(&f);
	cf_conn_send_error(conn, 0, code, reason, timeout_ms);
}

/* The client's cpu setting (docs/client.md, "Latency"): this worker
 * process serves it on that CPU alone, so that a blocking hand-off between
 * its thread and ours needs no wake-up of an idle CPU. Set before any
 * serving thread exists: they all inherit it. Only this client's calls are
 * affected; a CPU this process may not use is refused by the kernel and
 * the connection is served as usual. */
static void serve_on_cpu(struct worker *w, unsigned long conn_id, int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_getaffinity(0, sizeof(w->wide), &w->wide) != 0 ||
	    sched_setaffinity(0, sizeof(one), &one) != 0) {
		cf_warn("conn=%lu: cannot serve on CPU %d as the client asks: "
			"%s",
			conn_id, cpu, strerror(errno));
		return;
	}
	w->pinned = true;
	w->main_thread = pthread_self();
	cf_debug("conn=%lu: served on CPU %d, as the client asks", conn_id,
		 cpu);
}

/* Narrows the visible slots: --token/token lines, then the peer's map. */
static int filter(struct worker *w, const struct cf_srv_conf *conf,
		  const struct cf_peer *peer)
{
	char *mapped[MAX_MAPPED];
	size_t nmapped;
	char err[512] = "";

	if (cf_srv_filter_slots(&w->srv, conf->tokens.v, conf->tokens.n, err,
				sizeof(err)) != 0) {
		cf_error("conn=%lu: %s", w->srv.conn_id, err);
		return -1;
	}
	nmapped = cf_access_mapped(&conf->access, peer, mapped, MAX_MAPPED);
	if (cf_srv_filter_slots(&w->srv, mapped, nmapped, err, sizeof(err)) !=
	    0) {
		cf_error("conn=%lu: %s", w->srv.conn_id, err);
		return -1;
	}
	return 0;
}

int cf_worker_run(const struct cf_worker_args *a)
{
	const struct cf_srv_conf *conf = a->conf;
	int hs_ms = (int)(conf->handshake_timeout * 1000);
	struct worker w;
	struct cf_peer peer;
	struct cf_module mod;
	struct cf_hello hello;
	SSL *ssl = NULL;
	char err[512] = "";
	int status = 1;
	int fd = a->fd;

	memset(&w, 0, sizeof(w));
	memset(&mod, 0, sizeof(mod));
	memset(&peer, 0, sizeof(peer));
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.drained, NULL);
	seed_costs(&w);

	if (a->kind == CF_LISTEN_UNIX) {
		int rc = cf_peer_unix(fd, &peer);

		if (rc != 0) {
			cf_error("conn=%lu: peer credentials: %s", a->conn_id,
				 strerror(-rc));
			close(fd);
			goto out;
		}
	} else if (a->kind == CF_LISTEN_TLS) {
		struct cf_tls_peer tp;
		if (cf_tls_accept(a->tls, fd, hs_ms, &ssl, err, sizeof(err)) !=
		    0) {
			cf_warn("conn=%lu %s: TLS handshake failed: %s",
				a->conn_id, a->addr, err);
			close(fd);
			goto out;
		}
		if (cf_tls_peer(ssl, &tp) != 0) {
			cf_warn("conn=%lu %s: no client certificate",
				a->conn_id, a->addr);
			SSL_free(ssl);
			close(fd);
			goto out;
		}
		cf_peer_set_tls(&peer, &tp);
	} else {
		cf_peer_set_tcp(&peer, a->addr);
	}
	if (cf_conn_new(fd, ssl, conf->max_frame, &w.conn) != 0) {
		cf_error("conn=%lu: out of memory", a->conn_id);
		if (ssl != NULL)
			SSL_free(ssl);
		close(fd);
		goto out;
	}
	fd = -1; /* transferred */

	if (!cf_access_allows(&conf->access, &peer, err, sizeof(err))) {
		cf_warn("audit conn=%lu %s: refused: %s", a->conn_id, peer.desc,
			err);
		refuse(w.conn, CF_PERR_DENIED, "access denied", hs_ms);
		goto out_free_conn;
	}
	if (cf_hello_server(w.conn, hs_ms, conf->max_frame, conf->max_inflight,
			    &hello) != 0) {
		cf_info("conn=%lu %s: handshake failed", a->conn_id, peer.desc);
		goto out_free_conn;
	}
	cf_info("audit conn=%lu %s: connected", a->conn_id, peer.desc);
	if (hello.cpu >= 0)
		serve_on_cpu(&w, a->conn_id, hello.cpu);

	if (cf_module_open(conf->module, &mod, err, sizeof(err)) != CKR_OK) {
		cf_error("conn=%lu: %s", a->conn_id, err);
		cf_conn_send_error(w.conn, 0, CF_PERR_SHUTDOWN,
				   "the module failed to initialize", hs_ms);
		goto out_close_module;
	}
	if (cf_srv_init(&w.srv, mod.fl, mod.v3, hello.max_frame) != 0)
		goto out_close_module;
	w.srv.conn_id = a->conn_id;
	w.srv.max_sessions = conf->max_sessions;
	w.srv.audit = true;
	snprintf(w.srv.peer, sizeof(w.srv.peer), "%s", peer.desc);
	if (filter(&w, conf, &peer) != 0) {
		cf_conn_send_error(w.conn, 0, CF_PERR_SHUTDOWN,
				   "bad token filter", hs_ms);
		goto out_clear_srv;
	}

	if (conf->spin_usec > 0)
		cf_conn_set_spin(w.conn, (unsigned)conf->spin_usec);
	w.max_inflight = conf->max_inflight;
	{
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		w.max_quick = n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
	}
	w.idle_ms =
	    conf->idle_timeout > 0 ? (int)(conf->idle_timeout * 1000) : -1;
	w.threads = calloc(w.max_inflight + 1, sizeof(*w.threads));
	if (w.threads == NULL)
		goto out_clear_srv;
	if (pthread_create(&w.sig_thread, NULL, signal_thread, &w) == 0)
		w.sig_started = true;

	serve(&w);

	/* Every thread ends once stop is set and its call is answered. */
	for (unsigned i = 0; i < w.nthreads; i++)
		pthread_join(w.threads[i], NULL);
	status = 0;
	free(w.threads);
out_clear_srv:
	cf_srv_clear(&w.srv);
out_close_module:
	cf_module_close(&mod);
	cf_info("conn=%lu %s: closed", a->conn_id, peer.desc);
out_free_conn:
	pthread_mutex_lock(&w.mu);
	w.closed = true;
	pthread_mutex_unlock(&w.mu);
	if (w.sig_started) {
		/* w lives on this stack: the signal thread must be gone
		 * before it is. A signal of its own ends its wait; with
		 * closed set it touches nothing else. */
		pthread_kill(w.sig_thread, SIGTERM);
		pthread_join(w.sig_thread, NULL);
	}
	/* Closing the socket last tells the client that C_Finalize of the
	 * module is done (its C_Finalize waits for this). */
	cf_conn_free(w.conn);
out:
	cf_peer_clear(&peer);
	pthread_cond_destroy(&w.drained);
	pthread_mutex_destroy(&w.mu);
	return status;
}
