/* Unit tests of wire/conn and wire/hello: frames and the version handshake
 * over a socketpair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "wire/conn.h"

#define T_MS 10000 /* generous: a loaded 2-core VM under ASan */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pair(struct cf_conn **a, struct cf_conn **b, uint32_t max_frame)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(cf_conn_new(sv[0], NULL, max_frame, a), 0);
	assert_int_equal(cf_conn_new(sv[1], NULL, max_frame, b), 0);
}

/* A conn on one end, the raw fd on the other, for hand-made bytes. */
static void half_pair(struct cf_conn **a, int *raw, uint32_t max_frame)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(cf_conn_new(sv[0], NULL, max_frame, a), 0);
	*raw = sv[1];
}

static void raw_header(uint8_t *h, uint32_t len, uint32_t id, uint16_t type,
		       uint16_t fn)
{
	cf_put_be32(h, len);
	cf_put_be32(h + 4, id);
	h[8] = (uint8_t)(type >> 8);
	h[9] = (uint8_t)type;
	h[10] = (uint8_t)(fn >> 8);
	h[11] = (uint8_t)fn;
}

static void raw_write(int fd, const void *p, size_t len)
{
	assert_int_equal(write(fd, p, len), (ssize_t)len);
}

/* ------------------------------------------------------------ frames */

static void test_conn__round_trip(void **state)
{
	struct cf_conn *a, *b;
	struct cf_frame f;
	const char msg[] = "hello, coffer";

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(
	    cf_conn_send(a, CF_FRAME_REQUEST, 42, 7, msg, sizeof(msg), T_MS),
	    0);
	assert_int_equal(cf_conn_send(a, CF_FRAME_REPLY, 0, 8, NULL, 0, T_MS),
			 0);
	assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
	assert_int_equal(f.type, CF_FRAME_REQUEST);
	assert_int_equal(f.fn, 42);
	assert_int_equal(f.id, 7);
	assert_int_equal(f.len, sizeof(msg));
	assert_memory_equal(f.payload, msg, sizeof(msg));
	cf_frame_clear(&f);
	assert_null(f.payload);
	assert_int_equal(f.len, 0);
	assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
	assert_int_equal(f.type, CF_FRAME_REPLY);
	assert_int_equal(f.id, 8);
	assert_int_equal(f.len, 0);
	assert_null(f.payload);
	cf_frame_clear(&f);
	cf_conn_free(a);
	cf_conn_free(b);
}

/* cofferd runs a quick call on the reading thread only when no other
 * request is waiting; this is how it knows. */
static void test_conn__input_pending_tells_whether_a_frame_waits(void **state)
{
	struct cf_conn *a, *b;
	struct cf_frame f;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_false(cf_conn_input_pending(b));
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 1, "x", 1, T_MS),
			 0);
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 2, "y", 1, T_MS),
			 0);
	assert_true(cf_conn_input_pending(b)); /* in the socket */
	assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
	cf_frame_clear(&f);
	assert_true(cf_conn_input_pending(b)); /* buffered by the read */
	assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
	assert_int_equal(f.id, 2);
	cf_frame_clear(&f);
	assert_false(cf_conn_input_pending(b));
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__header_is_big_endian_on_the_wire(void **state)
{
	struct cf_conn *a;
	uint8_t got[CF_FRAME_HDR_LEN + 2], want[CF_FRAME_HDR_LEN];
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 0x0102, 0x03040506,
				      "xy", 2, T_MS),
			 0);
	assert_int_equal(read(raw, got, sizeof(got)), (ssize_t)sizeof(got));
	raw_header(want, 2, 0x03040506, CF_FRAME_REQUEST, 0x0102);
	assert_memory_equal(got, want, sizeof(want));
	assert_memory_equal(got + CF_FRAME_HDR_LEN, "xy", 2);
	cf_conn_free(a);
	close(raw);
}

/* Frame id -> length and bytes, so the reader can check each one. */
static size_t pattern_len(uint32_t id)
{
	/* Some frames far above a socket buffer, so that writes split. */
	return id % 5 == 0 ? 300000 + id % 977 : id % 700;
}

static uint8_t pattern_byte(uint32_t id, size_t i)
{
	return (uint8_t)(id * 131u + i * 7u + (i >> 8));
}

#define SENDERS 6
#define PER_SENDER 60

struct sender_arg {
	struct cf_conn *c;
	unsigned base;
	int rc;
};

static void *sender(void *p)
{
	struct sender_arg *a = p;
	uint8_t *buf = malloc(400000);

	a->rc = buf == NULL ? -ENOMEM : 0;
	for (unsigned k = 0; k < PER_SENDER && a->rc == 0; k++) {
		uint32_t id = a->base + k;
		size_t len = pattern_len(id);
		for (size_t i = 0; i < len; i++)
			buf[i] = pattern_byte(id, i);
		a->rc = cf_conn_send(a->c, CF_FRAME_REQUEST, (uint16_t)id, id,
				     buf, len, 60000);
	}
	free(buf);
	return NULL;
}

/* Reads n frames and checks each; returns how many were bad. */
static int read_and_check(struct cf_conn *c, int n, bool *seen)
{
	int bad = 0;

	for (int k = 0; k < n; k++) {
		struct cf_frame f;
		int rc = cf_conn_recv(c, &f, 60000);
		if (rc != 0)
			return bad + n - k;
		if (f.id >= SENDERS * PER_SENDER || seen[f.id] ||
		    f.fn != (uint16_t)f.id || f.len != pattern_len(f.id)) {
			bad++;
		} else {
			seen[f.id] = true;
			for (size_t i = 0; i < f.len; i++)
				if (f.payload[i] != pattern_byte(f.id, i)) {
					bad++;
					break;
				}
		}
		cf_frame_clear(&f);
	}
	return bad;
}

static void test_conn__concurrent_senders_never_interleave(void **state)
{
	struct cf_conn *a, *b;
	pthread_t th[SENDERS];
	struct sender_arg args[SENDERS];
	bool seen[SENDERS * PER_SENDER] = {false};

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	for (unsigned i = 0; i < SENDERS; i++) {
		args[i] = (struct sender_arg){.c = a, .base = i * PER_SENDER};
		assert_int_equal(pthread_create(&th[i], NULL, sender, &args[i]),
				 0);
	}
	assert_int_equal(read_and_check(b, SENDERS * PER_SENDER, seen), 0);
	for (unsigned i = 0; i < SENDERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].rc, 0);
	}
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__header_over_max_frame_is_emsgsize(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	uint8_t h[CF_FRAME_HDR_LEN];
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_FLOOR);
	raw_header(h, CF_FRAME_MAX_FLOOR + 1, 1, CF_FRAME_REQUEST, 1);
	raw_write(raw, h, sizeof(h));
	assert_int_equal(cf_conn_recv(a, &f, T_MS), -EMSGSIZE);
	assert_null(f.payload);
	/* Out of step for good, but an error frame can still go out. */
	assert_int_equal(cf_conn_recv(a, &f, T_MS), -ECONNRESET);
	assert_int_equal(
	    cf_conn_send_error(a, 1, CF_PERR_TOO_LARGE, "big", T_MS), 0);
	cf_conn_free(a);
	close(raw);
}

static void test_conn__frame_at_max_frame_is_accepted(void **state)
{
	struct cf_conn *a, *b;
	struct cf_frame f;
	uint8_t *buf = calloc(1, CF_FRAME_MAX_FLOOR);

	(void)state;
	assert_non_null(buf);
	pair(&a, &b, CF_FRAME_MAX_FLOOR);
	buf[CF_FRAME_MAX_FLOOR - 1] = 0x5a;
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 1, buf,
				      CF_FRAME_MAX_FLOOR, T_MS),
			 0);
	assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
	assert_int_equal(f.len, CF_FRAME_MAX_FLOOR);
	assert_int_equal(f.payload[CF_FRAME_MAX_FLOOR - 1], 0x5a);
	cf_frame_clear(&f);
	free(buf);
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__truncated_frame_then_eof_is_econnreset(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	uint8_t h[CF_FRAME_HDR_LEN + 50] = {0};
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	raw_header(h, 100, 1, CF_FRAME_REQUEST, 1);
	raw_write(raw, h, sizeof(h));
	close(raw);
	assert_int_equal(cf_conn_recv(a, &f, T_MS), -ECONNRESET);
	assert_null(f.payload);
	cf_conn_free(a);
}

static void test_conn__truncated_header_then_eof_is_econnreset(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	uint8_t h[5] = {0};
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	raw_write(raw, h, sizeof(h));
	close(raw);
	assert_int_equal(cf_conn_recv(a, &f, T_MS), -ECONNRESET);
	cf_conn_free(a);
}

static void test_conn__stall_mid_frame_times_out_within_bound(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	uint8_t h[CF_FRAME_HDR_LEN + 10] = {0};
	int64_t t0, dt;
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	raw_header(h, 1000, 1, CF_FRAME_REQUEST, 1);
	raw_write(raw, h, sizeof(h));
	t0 = now_ms();
	assert_int_equal(cf_conn_recv(a, &f, 300), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 250);
	assert_true(dt < 5000);
	assert_null(f.payload);
	/* The reader is out of step now. */
	assert_int_equal(cf_conn_recv(a, &f, 0), -ECONNRESET);
	cf_conn_free(a);
	close(raw);
}

struct drip_arg {
	int fd;
	atomic_bool stop;
};

static void *drip(void *p)
{
	struct drip_arg *a = p;
	struct timespec ts = {0, 40 * 1000000};

	/* The byte stream is the behaviour under test; the sleeps pace it. */
	for (int i = 0; i < 200 && !atomic_load(&a->stop); i++) {
		if (write(a->fd, "", 1) != 1)
			break;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void test_conn__stall_with_drip_feed_still_times_out(void **state)
{
	/* A peer sending a byte now and then must not restart the bound: it
	 * counts from the first byte of the frame. */
	struct cf_conn *a;
	struct cf_frame f;
	struct drip_arg d;
	uint8_t h[CF_FRAME_HDR_LEN];
	pthread_t th;
	int64_t t0, dt;
	int raw, rc;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	raw_header(h, 1000, 1, CF_FRAME_REQUEST, 1);
	raw_write(raw, h, sizeof(h));
	d.fd = raw;
	atomic_init(&d.stop, false);
	assert_int_equal(pthread_create(&th, NULL, drip, &d), 0);
	t0 = now_ms();
	rc = cf_conn_recv(a, &f, 300);
	dt = now_ms() - t0;
	atomic_store(&d.stop, true);
	pthread_join(th, NULL);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_true(dt < 3000); /* 200 drips would take 8 s */
	cf_conn_free(a);
	close(raw);
}

static void test_conn__idle_timeout_keeps_connection_usable(void **state)
{
	struct cf_conn *a, *b;
	struct cf_frame f;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(cf_conn_recv(b, &f, 50), -ETIMEDOUT);
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 2, "z", 1, T_MS),
			 0);
	assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
	assert_int_equal(f.id, 2);
	cf_frame_clear(&f);
	cf_conn_free(a);
	cf_conn_free(b);
}

/* ------------------------------------------ what the reader has at hand */

static void test_conn__frame_buffered_false_before_any_read(void **state)
{
	struct cf_conn *a, *b;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_false(cf_conn_frame_buffered(b));
	assert_false(cf_conn_input_buffered(b));
	/* A frame in the socket but not yet read is not "buffered". */
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 1, "x", 1, T_MS),
			 0);
	assert_false(cf_conn_frame_buffered(b));
	assert_false(cf_conn_input_buffered(b));
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__frame_buffered_when_two_came_in_one_read(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	uint8_t w[2 * (CF_FRAME_HDR_LEN + 3)];
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	raw_header(w, 3, 1, CF_FRAME_REQUEST, 1);
	memcpy(w + CF_FRAME_HDR_LEN, "abc", 3);
	raw_header(w + CF_FRAME_HDR_LEN + 3, 3, 2, CF_FRAME_REQUEST, 1);
	memcpy(w + 2 * CF_FRAME_HDR_LEN + 3, "def", 3);
	raw_write(raw, w, sizeof(w)); /* one write: one read takes both */
	assert_int_equal(cf_conn_recv(a, &f, T_MS), 0);
	assert_int_equal(f.id, 1);
	cf_frame_clear(&f);
	assert_true(cf_conn_frame_buffered(a));
	assert_true(cf_conn_input_buffered(a));
	/* The buffered frame comes out whole, even with no time to wait. */
	assert_int_equal(cf_conn_recv(a, &f, 0), 0);
	assert_int_equal(f.id, 2);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.payload, "def", 3);
	cf_frame_clear(&f);
	assert_false(cf_conn_frame_buffered(a));
	assert_false(cf_conn_input_buffered(a));
	cf_conn_free(a);
	close(raw);
}

static void test_conn__frame_buffered_false_for_part_of_payload(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	uint8_t w[2 * CF_FRAME_HDR_LEN + 3 + 4];
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	raw_header(w, 3, 1, CF_FRAME_REQUEST, 1);
	memcpy(w + CF_FRAME_HDR_LEN, "abc", 3);
	/* The next frame announces 10 bytes; 4 of them come along. */
	raw_header(w + CF_FRAME_HDR_LEN + 3, 10, 2, CF_FRAME_REQUEST, 1);
	memcpy(w + 2 * CF_FRAME_HDR_LEN + 3, "defg", 4);
	raw_write(raw, w, sizeof(w));
	assert_int_equal(cf_conn_recv(a, &f, T_MS), 0);
	assert_int_equal(f.id, 1);
	cf_frame_clear(&f);
	assert_false(cf_conn_frame_buffered(a));
	assert_true(cf_conn_input_buffered(a));
	cf_conn_free(a);
	close(raw);
}

static void test_conn__frame_buffered_false_for_part_of_header(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	uint8_t w[2 * CF_FRAME_HDR_LEN + 3];
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	raw_header(w, 3, 1, CF_FRAME_REQUEST, 1);
	memcpy(w + CF_FRAME_HDR_LEN, "abc", 3);
	/* Only 5 of the next header's 12 bytes; a zero length, so its
	 * first bytes alone would look like a whole empty frame. */
	raw_header(w + CF_FRAME_HDR_LEN + 3, 0, 2, CF_FRAME_REQUEST, 1);
	raw_write(raw, w, CF_FRAME_HDR_LEN + 3 + 5);
	assert_int_equal(cf_conn_recv(a, &f, T_MS), 0);
	assert_int_equal(f.id, 1);
	cf_frame_clear(&f);
	assert_false(cf_conn_frame_buffered(a));
	assert_true(cf_conn_input_buffered(a));
	cf_conn_free(a);
	close(raw);
}

/* --------------------------------------------- blocking receive bounds */

/* A conn over a socket that arrives with O_NONBLOCK set, as a dialled one
 * may; the other end stays raw and silent. */
static void nonblocking_half_pair(struct cf_conn **a, int *raw)
{
	int sv[2], fl;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fl = fcntl(sv[0], F_GETFL);
	assert_true(fl >= 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, fl | O_NONBLOCK), 0);
	assert_int_equal(cf_conn_new(sv[0], NULL, CF_FRAME_MAX_DEFAULT, a), 0);
	*raw = sv[1];
}

static int64_t thread_cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_conn__nonblocking_socket_recv_times_out_on_time(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	int64_t t0, dt;
	int raw;

	(void)state;
	nonblocking_half_pair(&a, &raw);
	t0 = now_ms();
	assert_int_equal(cf_conn_recv(a, &f, 100), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 80);
	assert_true(dt < 100 + 2000);
	assert_null(f.payload);
	cf_conn_free(a);
	close(raw);
}

static void test_conn__nonblocking_socket_recv_sleeps_not_spins(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	int64_t cpu0, cpu;
	int raw;

	(void)state;
	nonblocking_half_pair(&a, &raw);
	cpu0 = thread_cpu_ms();
	assert_int_equal(cf_conn_recv(a, &f, 300), -ETIMEDOUT);
	cpu = thread_cpu_ms() - cpu0;
	/* A recv() that returned EAGAIN at once would burn the wait. */
	assert_true(cpu < 100);
	cf_conn_free(a);
	close(raw);
}

static void test_conn__nonblocking_socket_still_receives(void **state)
{
	struct cf_conn *a;
	struct cf_frame f;
	uint8_t w[CF_FRAME_HDR_LEN + 2];
	int raw;

	(void)state;
	nonblocking_half_pair(&a, &raw);
	raw_header(w, 2, 9, CF_FRAME_REPLY, 4);
	memcpy(w + CF_FRAME_HDR_LEN, "ok", 2);
	raw_write(raw, w, sizeof(w));
	assert_int_equal(cf_conn_recv(a, &f, T_MS), 0);
	assert_int_equal(f.id, 9);
	assert_int_equal(f.len, 2);
	assert_memory_equal(f.payload, "ok", 2);
	cf_frame_clear(&f);
	cf_conn_free(a);
	close(raw);
}

static void test_conn__short_timeout_after_long_one_not_stretched(void **state)
{
	/* The first recv leaves a 5 s receive bound on the socket; the
	 * second must not sleep that long. */
	struct cf_conn *a, *b;
	struct cf_frame f;
	int64_t t0, dt;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 1, "x", 1, T_MS),
			 0);
	assert_int_equal(cf_conn_recv(b, &f, 5000), 0);
	assert_int_equal(f.id, 1);
	cf_frame_clear(&f);
	t0 = now_ms();
	assert_int_equal(cf_conn_recv(b, &f, 150), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 120);
	assert_true(dt < 150 + 2000);
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__long_timeout_after_short_one_not_cut(void **state)
{
	/* The other way round: a short bound left on the socket must not
	 * cut a longer wait short. */
	struct cf_conn *a, *b;
	struct cf_frame f;
	int64_t t0, dt;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(cf_conn_recv(b, &f, 50), -ETIMEDOUT);
	t0 = now_ms();
	assert_int_equal(cf_conn_recv(b, &f, 600), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 480);
	assert_true(dt < 600 + 2000);
	cf_conn_free(a);
	cf_conn_free(b);
}

struct recv_arg {
	struct cf_conn *c;
	int rc;
};

static void *blocked_recv(void *p)
{
	struct recv_arg *a = p;
	struct cf_frame f;

	a->rc = cf_conn_recv(a->c, &f, -1);
	cf_frame_clear(&f);
	return NULL;
}

static void test_conn__shutdown_wakes_blocked_recv(void **state)
{
	struct cf_conn *a, *b;
	struct recv_arg arg;
	struct timespec ts = {0, 50 * 1000000};
	pthread_t th;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	arg = (struct recv_arg){.c = b, .rc = 1};
	assert_int_equal(pthread_create(&th, NULL, blocked_recv, &arg), 0);
	/* Not synchronisation: the result is the same whether the reader is
	 * already waiting or not; this only makes the former likely. */
	nanosleep(&ts, NULL);
	cf_conn_shutdown(b);
	pthread_join(th, NULL);
	assert_int_equal(arg.rc, -ECONNRESET);
	assert_int_equal(cf_conn_send(b, CF_FRAME_REQUEST, 1, 1, "x", 1, T_MS),
			 -EPIPE);
	cf_conn_free(a);
	cf_conn_free(b);
}

struct timed_recv_arg {
	struct cf_conn *c;
	int timeout_ms;
	int rc;
	int64_t took_ms;
};

static void *timed_recv(void *p)
{
	struct timed_recv_arg *a = p;
	struct cf_frame f;
	int64_t t0 = now_ms();

	a->rc = cf_conn_recv(a->c, &f, a->timeout_ms);
	a->took_ms = now_ms() - t0;
	cf_frame_clear(&f);
	return NULL;
}

static void test_conn__shutdown_wakes_recv_blocked_with_timeout(void **state)
{
	/* Woken by the shutdown, not by the end of its receive bound. */
	struct cf_conn *a, *b;
	struct timed_recv_arg arg;
	struct timespec ts = {0, 50 * 1000000};
	pthread_t th;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	arg = (struct timed_recv_arg){.c = b, .timeout_ms = 30000, .rc = 1};
	assert_int_equal(pthread_create(&th, NULL, timed_recv, &arg), 0);
	/* Not synchronisation: the result is the same whether the reader is
	 * already in recv() or not; this only makes the former likely. */
	nanosleep(&ts, NULL);
	cf_conn_shutdown(b);
	pthread_join(th, NULL);
	assert_int_equal(arg.rc, -ECONNRESET);
	assert_true(arg.took_ms < 10000);
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__send_to_closed_peer_fails_without_sigpipe(void **state)
{
	struct cf_conn *a;
	uint8_t *buf = calloc(1, 1 << 20);
	int raw, rc;

	(void)state;
	assert_non_null(buf);
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	close(raw);
	/* SIGPIPE's default action would end this process here. */
	rc = cf_conn_send(a, CF_FRAME_REQUEST, 1, 1, buf, 1 << 20, T_MS);
	assert_true(rc == -EPIPE || rc == -ECONNRESET);
	free(buf);
	cf_conn_free(a);
}

static void test_conn__send_times_out_when_peer_does_not_drain(void **state)
{
	struct cf_conn *a;
	size_t len = 8u << 20;
	uint8_t *buf = calloc(1, len);
	int raw;
	int64_t t0;

	(void)state;
	assert_non_null(buf);
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	t0 = now_ms();
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 1, buf, len, 200),
			 -ETIMEDOUT);
	assert_true(now_ms() - t0 < 5000);
	/* Half a frame went out: nothing may follow it. */
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 2, "x", 1, T_MS),
			 -EPIPE);
	free(buf);
	cf_conn_free(a);
	close(raw);
}

static void test_conn__error_frame_round_trip(void **state)
{
	struct cf_conn *a, *b;
	struct cf_frame f;
	uint32_t code;
	char why[64];

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(
	    cf_conn_send_error(a, 9, CF_PERR_LIMIT, "too many\ncalls", T_MS),
	    0);
	assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
	assert_int_equal(f.type, CF_FRAME_ERROR);
	assert_int_equal(f.id, 9);
	assert_int_equal(cf_conn_parse_error(&f, &code, why, sizeof(why)), 0);
	assert_int_equal(code, CF_PERR_LIMIT);
	assert_string_equal(why, "too many?calls");
	cf_frame_clear(&f);
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__bad_error_payload_is_eproto(void **state)
{
	struct cf_frame f = {.type = CF_FRAME_ERROR};
	uint8_t p[10] = {0, 0, 0, 2, 0, 0, 0, 9, 'a', 'b'};
	uint32_t code;
	char why[8];

	(void)state;
	f.payload = p;
	f.len = sizeof(p);
	assert_int_equal(cf_conn_parse_error(&f, &code, why, sizeof(why)),
			 -EPROTO);
	f.type = CF_FRAME_REPLY;
	assert_int_equal(cf_conn_parse_error(&f, &code, why, sizeof(why)),
			 -EPROTO);
}

static void
test_conn__close_write_gives_peer_eof_and_keeps_reading(void **state)
{
	struct cf_conn *a, *b;
	struct cf_frame f;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(cf_conn_close_write(a, T_MS), 0);
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 1, "x", 1, T_MS),
			 -EPIPE);
	assert_int_equal(cf_conn_recv(b, &f, T_MS), -ECONNRESET);
	assert_int_equal(cf_conn_send(b, CF_FRAME_REPLY, 1, 1, "y", 1, T_MS),
			 0);
	assert_int_equal(cf_conn_recv(a, &f, T_MS), 0);
	assert_int_equal(f.payload[0], 'y');
	cf_frame_clear(&f);
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__spin_mode_receives_frames(void **state)
{
	struct cf_conn *a, *b;
	struct cf_frame f;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	cf_conn_set_spin(b, 2000);
	assert_int_equal(cf_conn_recv(b, &f, 20), -ETIMEDOUT);
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 3, "q", 1, T_MS),
			 0);
	assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
	assert_int_equal(f.id, 3);
	cf_frame_clear(&f);
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__many_small_frames_in_one_read(void **state)
{
	struct cf_conn *a, *b;
	struct cf_frame f;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, i, &i,
					      sizeof(i), T_MS),
				 0);
	for (uint32_t i = 0; i < 100; i++) {
		uint32_t v;
		assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
		assert_int_equal(f.id, i);
		assert_int_equal(f.len, sizeof(v));
		memcpy(&v, f.payload, sizeof(v));
		assert_int_equal(v, i);
		cf_frame_clear(&f);
	}
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__new_takes_the_fd_even_when_it_fails(void **state)
{
	struct cf_conn *c = (struct cf_conn *)&c;
	int fds[2];

	(void)state;
	assert_int_equal(cf_conn_new(-1, NULL, CF_FRAME_MAX_DEFAULT, &c),
			 -EBADF);
	assert_null(c);
	/* TLS needs a socket; the pipe's read end is closed on failure. */
	assert_int_equal(pipe(fds), 0);
	{
		SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
		SSL *ssl = SSL_new(ctx);
		assert_non_null(ssl);
		assert_int_equal(
		    cf_conn_new(fds[0], ssl, CF_FRAME_MAX_DEFAULT, &c),
		    -ENOTSOCK);
		SSL_CTX_free(ctx);
	}
	assert_int_equal(close(fds[0]), -1);
	assert_int_equal(errno, EBADF);
	close(fds[1]);
}

/* ------------------------------------------------------- held frames */

/* HOLD_MAX in conn.c: the most bytes held back. */
#define T_HOLD_MAX 16384

/* Payload bytes that differ per frame, so a frame mixed up with another,
 * cut short or shifted does not compare equal. */
static void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

/* Whether nothing arrives on fd within ms. */
static bool raw_quiet(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 0;
}

/* Reads exactly len bytes from a raw stream, waiting at most T_MS for
 * each piece. */
static void raw_read_exact(int fd, uint8_t *p, size_t len)
{
	size_t have = 0;

	while (have < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		assert_int_equal(poll(&pfd, 1, T_MS), 1);
		n = read(fd, p + have, len - have);
		assert_true(n > 0);
		have += (size_t)n;
	}
}

/* Reads one frame's bytes from a raw stream and checks header and
 * payload (fill_pattern with seed id). */
static void raw_expect_frame(int fd, uint32_t id, uint16_t fn, size_t len)
{
	uint8_t *got = malloc(CF_FRAME_HDR_LEN + len);
	uint8_t *want = malloc(CF_FRAME_HDR_LEN + len);

	assert_non_null(got);
	assert_non_null(want);
	raw_header(want, (uint32_t)len, id, CF_FRAME_REPLY, fn);
	fill_pattern(want + CF_FRAME_HDR_LEN, len, id);
	raw_read_exact(fd, got, CF_FRAME_HDR_LEN + len);
	assert_memory_equal(got, want, CF_FRAME_HDR_LEN + len);
	free(got);
	free(want);
}

/* Receives one frame with cf_conn_recv and checks it as above. */
static void conn_expect_frame(struct cf_conn *c, uint32_t id, size_t len)
{
	struct cf_frame f;
	uint8_t *want = malloc(len > 0 ? len : 1);

	assert_non_null(want);
	fill_pattern(want, len, id);
	assert_int_equal(cf_conn_recv(c, &f, T_MS), 0);
	assert_int_equal(f.id, id);
	assert_int_equal(f.type, CF_FRAME_REPLY);
	assert_int_equal(f.len, len);
	if (len > 0)
		assert_memory_equal(f.payload, want, len);
	cf_frame_clear(&f);
	free(want);
}

static int send_held_pattern(struct cf_conn *c, uint32_t id, uint16_t fn,
			     size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(p);
	fill_pattern(p, len, id);
	rc = cf_conn_send_held(c, CF_FRAME_REPLY, fn, id, len > 0 ? p : NULL,
			       len, T_MS);
	free(p);
	return rc;
}

static void test_conn__held_frame_waits_for_flush(void **state)
{
	struct cf_conn *a;
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(send_held_pattern(a, 5, 77, 100), 0);
	/* A short wait only: the bytes, were they sent, would already be
	 * in the socket, since a socketpair write is synchronous. */
	assert_true(raw_quiet(raw, 100));
	assert_int_equal(cf_conn_flush(a, T_MS), 0);
	raw_expect_frame(raw, 5, 77, 100);
	assert_true(raw_quiet(raw, 0));
	cf_conn_free(a);
	close(raw);
}

static void test_conn__holding_true_while_held_false_after_flush(void **state)
{
	struct cf_conn *a;
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	assert_false(cf_conn_holding(a));
	assert_int_equal(send_held_pattern(a, 1, 1, 10), 0);
	assert_true(cf_conn_holding(a));
	assert_int_equal(cf_conn_flush(a, T_MS), 0);
	assert_false(cf_conn_holding(a));
	raw_expect_frame(raw, 1, 1, 10);
	cf_conn_free(a);
	close(raw);
}

/* SOCK_SEQPACKET keeps each write a record of its own, and one recv
 * returns one record: what the first recv gets is what the flush wrote
 * in one call. (On a stream socket one recv would merge writes.) */
static void test_conn__held_frames_go_out_in_one_write(void **state)
{
	static const size_t lens[] = {0, 1, 100, 3000, 8};
	size_t total = 0;
	uint8_t *got, *want, *w;
	struct cf_conn *a;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(cf_conn_new(sv[0], NULL, CF_FRAME_MAX_DEFAULT, &a),
			 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		total += CF_FRAME_HDR_LEN + lens[i];
		assert_int_equal(
		    send_held_pattern(a, (uint32_t)(10 + i), 3, lens[i]), 0);
	}
	want = malloc(total);
	got = malloc(total + 1);
	assert_non_null(want);
	assert_non_null(got);
	w = want;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		raw_header(w, (uint32_t)lens[i], (uint32_t)(10 + i),
			   CF_FRAME_REPLY, 3);
		fill_pattern(w + CF_FRAME_HDR_LEN, lens[i],
			     (uint32_t)(10 + i));
		w += CF_FRAME_HDR_LEN + lens[i];
	}
	assert_true(raw_quiet(sv[1], 50));
	assert_int_equal(cf_conn_flush(a, T_MS), 0);
	assert_int_equal(recv(sv[1], got, total + 1, MSG_DONTWAIT),
			 (ssize_t)total);
	assert_memory_equal(got, want, total);
	assert_true(raw_quiet(sv[1], 0));
	free(got);
	free(want);
	cf_conn_free(a);
	close(sv[1]);
}

static void test_conn__send_after_held_frames_sends_them_first(void **state)
{
	struct cf_conn *a, *b;
	uint8_t p[50];

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(send_held_pattern(a, 1, 2, 20), 0);
	assert_int_equal(send_held_pattern(a, 2, 2, 30), 0);
	fill_pattern(p, sizeof(p), 3);
	assert_int_equal(
	    cf_conn_send(a, CF_FRAME_REPLY, 2, 3, p, sizeof(p), T_MS), 0);
	assert_false(cf_conn_holding(a));
	conn_expect_frame(b, 1, 20);
	conn_expect_frame(b, 2, 30);
	conn_expect_frame(b, 3, sizeof(p));
	cf_conn_free(a);
	cf_conn_free(b);
}

/* Ten frames of 4000 bytes are far more than the hold has room for. */
static void test_conn__held_frames_beyond_room_go_out_in_order(void **state)
{
	struct cf_conn *a, *b;
	const size_t len = 4000;
	uint32_t first_out = (T_HOLD_MAX / (CF_FRAME_HDR_LEN + 4000)) + 1;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(send_held_pattern(a, 100 + i, 9, len), 0);
	/* The frame that found no room went out, behind all held before
	 * it: these arrive without a flush. */
	for (uint32_t i = 0; i < first_out; i++)
		conn_expect_frame(b, 100 + i, len);
	assert_int_equal(cf_conn_flush(a, T_MS), 0);
	for (uint32_t i = first_out; i < 10; i++)
		conn_expect_frame(b, 100 + i, len);
	assert_false(cf_conn_holding(a));
	assert_false(cf_conn_input_pending(b));
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_conn__large_frame_is_not_held(void **state)
{
	struct cf_conn *a;
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(send_held_pattern(a, 8, 4, 9000), 0);
	assert_false(cf_conn_holding(a));
	/* No flush: the frame is already on the wire. */
	raw_expect_frame(raw, 8, 4, 9000);
	cf_conn_free(a);
	close(raw);
}

/* The largest frame held is half the hold, header included. */
static void test_conn__frame_of_half_the_hold_is_held(void **state)
{
	struct cf_conn *a;
	size_t len = T_HOLD_MAX / 2 - CF_FRAME_HDR_LEN;
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(send_held_pattern(a, 6, 4, len), 0);
	assert_true(cf_conn_holding(a));
	assert_true(raw_quiet(raw, 50));
	assert_int_equal(send_held_pattern(a, 7, 4, len + 1), 0);
	/* One byte more is sent at once, and takes the held one along. */
	assert_false(cf_conn_holding(a));
	raw_expect_frame(raw, 6, 4, len);
	raw_expect_frame(raw, 7, 4, len + 1);
	cf_conn_free(a);
	close(raw);
}

static void test_conn__held_send_to_closed_peer_fails_without_sigpipe(
    void **state)
{
	struct cf_conn *a;
	int raw, rc;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	close(raw);
	/* SIGPIPE's default action would end this process here. */
	rc = send_held_pattern(a, 1, 1, 10);
	if (rc == 0)
		rc = cf_conn_flush(a, T_MS);
	assert_true(rc == -EPIPE || rc == -ECONNRESET);
	assert_false(cf_conn_holding(a));
	cf_conn_free(a);
}

static void test_conn__flush_with_nothing_held_returns_0(void **state)
{
	struct cf_conn *a;
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(cf_conn_flush(a, T_MS), 0); /* never held */
	assert_int_equal(send_held_pattern(a, 1, 1, 10), 0);
	assert_int_equal(cf_conn_flush(a, T_MS), 0);
	assert_int_equal(cf_conn_flush(a, T_MS), 0); /* held, then sent */
	raw_expect_frame(raw, 1, 1, 10);
	assert_true(raw_quiet(raw, 50));
	cf_conn_free(a);
	close(raw);
}

/* A frame held when the connection is shut down is dropped, not kept:
 * a holder that flushes before it waits must not find it held forever. */
static void test_conn__held_frame_after_shutdown_is_dropped(void **state)
{
	struct cf_conn *a;
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(send_held_pattern(a, 1, 1, 10), 0);
	cf_conn_shutdown(a);
	assert_int_equal(cf_conn_flush(a, T_MS), -EPIPE);
	assert_false(cf_conn_holding(a));
	assert_int_equal(cf_conn_flush(a, T_MS), 0);
	cf_conn_free(a);
	close(raw);
}

/* A half-close sends what is held first: held frames are the last. */
static void test_conn__close_write_sends_held_frames_first(void **state)
{
	struct cf_conn *a;
	int raw;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(send_held_pattern(a, 1, 7, 10), 0);
	assert_int_equal(cf_conn_close_write(a, T_MS), 0);
	assert_false(cf_conn_holding(a));
	raw_expect_frame(raw, 1, 7, 10);
	cf_conn_free(a);
	close(raw);
}

/* Held frames that could not go out are lost: their senders were told
 * they went, so nothing may follow them on the stream. */
static void test_conn__failed_flush_breaks_the_stream(void **state)
{
	struct cf_conn *a;
	int raw, rc;

	(void)state;
	half_pair(&a, &raw, CF_FRAME_MAX_DEFAULT);
	/* Fill the socket until a send cannot start in time. */
	do
		rc = cf_conn_send(a, CF_FRAME_REQUEST, 1, 9, NULL, 0, 0);
	while (rc == 0);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_int_equal(send_held_pattern(a, 1, 1, 10), 0);
	assert_int_equal(cf_conn_flush(a, 50), -ETIMEDOUT);
	assert_false(cf_conn_holding(a));
	assert_int_equal(cf_conn_send(a, CF_FRAME_REQUEST, 1, 2, "x", 1, T_MS),
			 -EPIPE);
	cf_conn_free(a);
	close(raw);
}

/* ------------------------------------------------------------- hello */

struct server_arg {
	struct cf_conn *c;
	uint32_t max_frame;
	uint32_t max_inflight;
	struct cf_hello out;
	int rc;
};

static void *hello_server(void *p)
{
	struct server_arg *a = p;

	a->rc =
	    cf_hello_server(a->c, T_MS, a->max_frame, a->max_inflight, &a->out);
	return NULL;
}

static void run_hello(uint32_t client_max, uint32_t server_max,
		      struct cf_hello *cl, struct server_arg *sv)
{
	struct cf_conn *a, *b;
	pthread_t th;

	pair(&a, &b, client_max);
	*sv = (struct server_arg){
	    .c = b, .max_frame = server_max, .max_inflight = 16};
	assert_int_equal(pthread_create(&th, NULL, hello_server, sv), 0);
	assert_int_equal(cf_hello_client(a, T_MS, cl), 0);
	pthread_join(th, NULL);
	assert_int_equal(sv->rc, 0);
	assert_int_equal(cf_conn_max_frame(a), cl->max_frame);
	assert_int_equal(cf_conn_max_frame(b), sv->out.max_frame);
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_hello__client_and_server_agree(void **state)
{
	struct cf_hello cl;
	struct server_arg sv;

	(void)state;
	run_hello(CF_FRAME_MAX_DEFAULT, CF_FRAME_MAX_DEFAULT, &cl, &sv);
	assert_int_equal(cl.version, CF_PROTO_VERSION);
	assert_int_equal(sv.out.version, CF_PROTO_VERSION);
	assert_int_equal(cl.max_frame, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(cl.max_inflight, 16);
	assert_int_equal(sv.out.max_inflight, 16);
}

static void test_hello__max_frame_is_the_smaller_offer(void **state)
{
	struct cf_hello cl;
	struct server_arg sv;

	(void)state;
	run_hello(1u << 20, 1u << 18, &cl, &sv);
	assert_int_equal(cl.max_frame, 1u << 18);
	assert_int_equal(sv.out.max_frame, 1u << 18);
	run_hello(1u << 17, 1u << 22, &cl, &sv);
	assert_int_equal(cl.max_frame, 1u << 17);
	assert_int_equal(sv.out.max_frame, 1u << 17);
}

static void test_hello__max_frame_never_below_floor(void **state)
{
	struct cf_hello cl;
	struct server_arg sv;

	(void)state;
	run_hello(100, CF_FRAME_MAX_DEFAULT, &cl, &sv);
	assert_int_equal(cl.max_frame, CF_FRAME_MAX_FLOOR);
	assert_int_equal(sv.out.max_frame, CF_FRAME_MAX_FLOOR);
	run_hello(CF_FRAME_MAX_DEFAULT, 1000, &cl, &sv);
	assert_int_equal(cl.max_frame, CF_FRAME_MAX_FLOOR);
	assert_int_equal(sv.out.max_frame, CF_FRAME_MAX_FLOOR);
}

/* Sends a hand-made HELLO to a cf_hello_server thread and returns the
 * error code it answered with (0 if it did not answer with an error). */
static uint32_t bad_hello(const uint8_t *p, size_t len, uint16_t type)
{
	struct cf_conn *a, *b;
	struct server_arg sv;
	struct cf_frame f;
	pthread_t th;
	uint32_t code = 0;

	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	sv = (struct server_arg){
	    .c = b, .max_frame = CF_FRAME_MAX_DEFAULT, .max_inflight = 4};
	assert_int_equal(pthread_create(&th, NULL, hello_server, &sv), 0);
	assert_int_equal(cf_conn_send(a, type, 0, 5, p, len, T_MS), 0);
	pthread_join(th, NULL);
	assert_int_equal(sv.rc, -EPROTO);
	assert_int_equal(cf_conn_recv(a, &f, T_MS), 0);
	assert_int_equal(f.type, CF_FRAME_ERROR);
	assert_int_equal(f.id, 5);
	assert_int_equal(cf_conn_parse_error(&f, &code, NULL, 0), 0);
	cf_frame_clear(&f);
	cf_conn_free(a);
	cf_conn_free(b);
	return code;
}

static void make_hello(uint8_t h[16], uint16_t min, uint16_t max)
{
	memcpy(h, "COFFER\0\0", 8);
	h[8] = (uint8_t)(min >> 8);
	h[9] = (uint8_t)min;
	h[10] = (uint8_t)(max >> 8);
	h[11] = (uint8_t)max;
	cf_put_be32(h + 12, CF_FRAME_MAX_DEFAULT);
}

static void test_hello__no_common_version_gets_version_error(void **state)
{
	uint8_t h[16];

	(void)state;
	make_hello(h, CF_PROTO_VERSION + 1, CF_PROTO_VERSION + 5);
	assert_int_equal(bad_hello(h, sizeof(h), CF_FRAME_HELLO),
			 CF_PERR_VERSION);
}

static void test_hello__version_range_including_ours_agrees(void **state)
{
	struct cf_conn *a, *b;
	struct server_arg sv;
	struct cf_frame f;
	pthread_t th;
	uint8_t h[16];

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	sv = (struct server_arg){
	    .c = b, .max_frame = CF_FRAME_MAX_DEFAULT, .max_inflight = 4};
	assert_int_equal(pthread_create(&th, NULL, hello_server, &sv), 0);
	make_hello(h, 0, 9);
	assert_int_equal(
	    cf_conn_send(a, CF_FRAME_HELLO, 0, 0, h, sizeof(h), T_MS), 0);
	pthread_join(th, NULL);
	assert_int_equal(sv.rc, 0);
	assert_int_equal(sv.out.version, CF_PROTO_VERSION);
	assert_int_equal(cf_conn_recv(a, &f, T_MS), 0);
	assert_int_equal(f.type, CF_FRAME_HELLO_REPLY);
	assert_int_equal(f.len, 18);
	assert_int_equal(f.payload[9], CF_PROTO_VERSION);
	cf_frame_clear(&f);
	cf_conn_free(a);
	cf_conn_free(b);
}

/* The CPU a hand-made HELLO of len bytes (16, or 20 with cpu) asks for,
 * as the server reads it. */
static int32_t server_cpu_of(size_t len, uint32_t cpu)
{
	struct cf_conn *a, *b;
	struct server_arg sv;
	struct cf_frame f;
	pthread_t th;
	uint8_t h[20];

	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	sv = (struct server_arg){
	    .c = b, .max_frame = CF_FRAME_MAX_DEFAULT, .max_inflight = 4};
	assert_int_equal(pthread_create(&th, NULL, hello_server, &sv), 0);
	make_hello(h, 1, 1);
	cf_put_be32(h + 16, cpu);
	assert_int_equal(cf_conn_send(a, CF_FRAME_HELLO, 0, 0, h, len, T_MS),
			 0);
	pthread_join(th, NULL);
	assert_int_equal(sv.rc, 0);
	assert_int_equal(cf_conn_recv(a, &f, T_MS), 0);
	assert_int_equal(f.type, CF_FRAME_HELLO_REPLY);
	cf_frame_clear(&f);
	cf_conn_free(a);
	cf_conn_free(b);
	return sv.out.cpu;
}

/* The client's cpu setting travels in its HELLO; a client that has none
 * (or an older one, whose HELLO stops after 16 bytes) asks for nothing. */
static void test_hello__client_cpu_reaches_the_server(void **state)
{
	struct cf_conn *a, *b;
	struct server_arg sv;
	struct cf_hello cl;
	pthread_t th;

	(void)state;
	for (int32_t cpu = -1; cpu <= 1; cpu += 2) {
		pair(&a, &b, CF_FRAME_MAX_DEFAULT);
		sv = (struct server_arg){.c = b,
					 .max_frame = CF_FRAME_MAX_DEFAULT,
					 .max_inflight = 4};
		assert_int_equal(
		    pthread_create(&th, NULL, hello_server, &sv), 0);
		assert_int_equal(cf_hello_client_cpu(a, T_MS, cpu, &cl), 0);
		pthread_join(th, NULL);
		assert_int_equal(sv.rc, 0);
		assert_int_equal(sv.out.cpu, cpu);
		cf_conn_free(a);
		cf_conn_free(b);
	}
	assert_int_equal(server_cpu_of(16, 3), -1);
	assert_int_equal(server_cpu_of(20, 3), 3);
}

/* A CPU number no cpu_set_t can hold asks for nothing. */
static void test_hello__cpu_out_of_range_is_no_wish(void **state)
{
	(void)state;
	assert_int_equal(server_cpu_of(20, CF_HELLO_CPU_MAX), -1);
	assert_int_equal(server_cpu_of(20, 0xffffffffu), -1);
	assert_int_equal(server_cpu_of(20, CF_HELLO_CPU_MAX - 1),
			 CF_HELLO_CPU_MAX - 1);
}

static void test_hello__bad_magic_gets_malformed(void **state)
{
	uint8_t h[16];

	(void)state;
	make_hello(h, 1, 1);
	h[0] = 'X';
	assert_int_equal(bad_hello(h, sizeof(h), CF_FRAME_HELLO),
			 CF_PERR_MALFORMED);
}

static void test_hello__short_hello_gets_malformed(void **state)
{
	uint8_t h[16];

	(void)state;
	make_hello(h, 1, 1);
	assert_int_equal(bad_hello(h, 15, CF_FRAME_HELLO), CF_PERR_MALFORMED);
}

static void test_hello__request_before_hello_gets_malformed(void **state)
{
	uint8_t h[16];

	(void)state;
	make_hello(h, 1, 1);
	assert_int_equal(bad_hello(h, sizeof(h), CF_FRAME_REQUEST),
			 CF_PERR_MALFORMED);
}

static void *refusing_server(void *p)
{
	struct server_arg *a = p;
	struct cf_frame f;

	a->rc = cf_conn_recv(a->c, &f, T_MS);
	if (a->rc == 0)
		a->rc = cf_conn_send_error(a->c, f.id, CF_PERR_VERSION,
					   "no common version", T_MS);
	cf_frame_clear(&f);
	return NULL;
}

/* A server that refuses before it reads (cofferd over max_clients) may
 * have closed before the client's hello went out: the client's send fails,
 * and the server's reason, already in the socket, is still what it
 * reports. */
static void test_hello__refusal_before_our_hello_is_still_read(void **state)
{
	struct cf_conn *a, *b;
	struct cf_hello cl;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	assert_int_equal(cf_conn_send_error(b, 0, CF_PERR_LIMIT,
					    "too many clients", T_MS),
			 0);
	cf_conn_free(b);
	assert_int_equal(cf_hello_client(a, T_MS, &cl), -EPROTO);
	assert_int_equal(cl.refused, CF_PERR_LIMIT);
	assert_string_equal(cl.refused_reason, "too many clients");
	cf_conn_free(a);
}

static void test_hello__client_given_error_frame_is_eproto(void **state)
{
	struct cf_conn *a, *b;
	struct server_arg sv;
	struct cf_hello cl;
	pthread_t th;

	(void)state;
	pair(&a, &b, CF_FRAME_MAX_DEFAULT);
	sv = (struct server_arg){.c = b};
	assert_int_equal(pthread_create(&th, NULL, refusing_server, &sv), 0);
	assert_int_equal(cf_hello_client(a, T_MS, &cl), -EPROTO);
	pthread_join(th, NULL);
	assert_int_equal(sv.rc, 0);
	assert_int_equal(cl.version, 0);
	/* What the server said is the caller's to report. */
	assert_int_equal(cl.refused, CF_PERR_VERSION);
	assert_string_equal(cl.refused_reason, "no common version");
	cf_conn_free(a);
	cf_conn_free(b);
}

static void test_hello__client_hello_on_the_wire(void **state)
{
	struct cf_conn *a, *b;
	struct cf_hello cl;
	struct cf_frame f;
	uint8_t want[20];

	(void)state;
	pair(&a, &b, 1u << 20);
	/* No server: the client times out, but its hello is out. */
	assert_int_equal(cf_hello_client(a, 100, &cl), -ETIMEDOUT);
	assert_int_equal(cf_conn_recv(b, &f, T_MS), 0);
	assert_int_equal(f.type, CF_FRAME_HELLO);
	make_hello(want, CF_PROTO_VERSION, CF_PROTO_VERSION);
	cf_put_be32(want + 12, 1u << 20);
	cf_put_be32(want + 16, 0xffffffffu); /* no CPU asked for */
	assert_int_equal(f.len, sizeof(want));
	assert_memory_equal(f.payload, want, sizeof(want));
	cf_frame_clear(&f);
	cf_conn_free(a);
	cf_conn_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conn__round_trip),
	    cmocka_unit_test(
		test_conn__input_pending_tells_whether_a_frame_waits),
	    cmocka_unit_test(test_conn__header_is_big_endian_on_the_wire),
	    cmocka_unit_test(test_conn__concurrent_senders_never_interleave),
	    cmocka_unit_test(test_conn__header_over_max_frame_is_emsgsize),
	    cmocka_unit_test(test_conn__frame_at_max_frame_is_accepted),
	    cmocka_unit_test(test_conn__truncated_frame_then_eof_is_econnreset),
	    cmocka_unit_test(
		test_conn__truncated_header_then_eof_is_econnreset),
	    cmocka_unit_test(test_conn__stall_mid_frame_times_out_within_bound),
	    cmocka_unit_test(test_conn__stall_with_drip_feed_still_times_out),
	    cmocka_unit_test(test_conn__idle_timeout_keeps_connection_usable),
	    cmocka_unit_test(test_conn__frame_buffered_false_before_any_read),
	    cmocka_unit_test(
		test_conn__frame_buffered_when_two_came_in_one_read),
	    cmocka_unit_test(
		test_conn__frame_buffered_false_for_part_of_payload),
	    cmocka_unit_test(
		test_conn__frame_buffered_false_for_part_of_header),
	    cmocka_unit_test(
		test_conn__nonblocking_socket_recv_times_out_on_time),
	    cmocka_unit_test(
		test_conn__nonblocking_socket_recv_sleeps_not_spins),
	    cmocka_unit_test(test_conn__nonblocking_socket_still_receives),
	    cmocka_unit_test(
		test_conn__short_timeout_after_long_one_not_stretched),
	    cmocka_unit_test(test_conn__long_timeout_after_short_one_not_cut),
	    cmocka_unit_test(test_conn__shutdown_wakes_blocked_recv),
	    cmocka_unit_test(
		test_conn__shutdown_wakes_recv_blocked_with_timeout),
	    cmocka_unit_test(
		test_conn__send_to_closed_peer_fails_without_sigpipe),
	    cmocka_unit_test(
		test_conn__send_times_out_when_peer_does_not_drain),
	    cmocka_unit_test(test_conn__error_frame_round_trip),
	    cmocka_unit_test(test_conn__bad_error_payload_is_eproto),
	    cmocka_unit_test(
		test_conn__close_write_gives_peer_eof_and_keeps_reading),
	    cmocka_unit_test(test_conn__spin_mode_receives_frames),
	    cmocka_unit_test(test_conn__many_small_frames_in_one_read),
	    cmocka_unit_test(test_conn__new_takes_the_fd_even_when_it_fails),
	    cmocka_unit_test(test_conn__held_frame_waits_for_flush),
	    cmocka_unit_test(
		test_conn__holding_true_while_held_false_after_flush),
	    cmocka_unit_test(test_conn__held_frames_go_out_in_one_write),
	    cmocka_unit_test(
		test_conn__send_after_held_frames_sends_them_first),
	    cmocka_unit_test(
		test_conn__held_frames_beyond_room_go_out_in_order),
	    cmocka_unit_test(test_conn__large_frame_is_not_held),
	    cmocka_unit_test(test_conn__frame_of_half_the_hold_is_held),
	    cmocka_unit_test(
		test_conn__held_send_to_closed_peer_fails_without_sigpipe),
	    cmocka_unit_test(test_conn__flush_with_nothing_held_returns_0),
	    cmocka_unit_test(test_conn__held_frame_after_shutdown_is_dropped),
	    cmocka_unit_test(test_conn__close_write_sends_held_frames_first),
	    cmocka_unit_test(test_conn__failed_flush_breaks_the_stream),
	    cmocka_unit_test(test_hello__client_and_server_agree),
	    cmocka_unit_test(test_hello__max_frame_is_the_smaller_offer),
	    cmocka_unit_test(test_hello__max_frame_never_below_floor),
	    cmocka_unit_test(test_hello__no_common_version_gets_version_error),
	    cmocka_unit_test(test_hello__version_range_including_ours_agrees),
	    cmocka_unit_test(test_hello__client_cpu_reaches_the_server),
	    cmocka_unit_test(test_hello__cpu_out_of_range_is_no_wish),
	    cmocka_unit_test(test_hello__bad_magic_gets_malformed),
	    cmocka_unit_test(test_hello__short_hello_gets_malformed),
	    cmocka_unit_test(test_hello__request_before_hello_gets_malformed),
	    cmocka_unit_test(test_hello__client_given_error_frame_is_eproto),
	    cmocka_unit_test(
		test_hello__refusal_before_our_hello_is_still_read),
	    cmocka_unit_test(test_hello__client_hello_on_the_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
