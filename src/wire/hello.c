/*
 * hello.c - the version handshake of conn.h.
 *
 * HELLO:       magic[8] "COFFER\0\0", u16 min version, u16 max version,
 *              u32 largest frame the client accepts          (16 bytes)
 *              then optionally u32 the CPU the client asks its calls to
 *              be served on, 0xffffffff for none              (20 bytes)
 * HELLO_REPLY: magic[8], u16 chosen version, u32 largest frame the server
 *              accepts, u32 calls the server runs at once    (18 bytes)
 *
 * Bytes after these are ignored, so a later version may append fields. Both
 * sides agree on max_frame = max(min(client's, server's), FLOOR), so they
 * compute the same value without another round trip.
 */
#include "wire/conn.h"

#include <errno.h>
#include <string.h>

#include "common/buf.h"

#define HELLO_LEN 16
#define HELLO_CPU_LEN 20
#define REPLY_LEN 18
#define NO_CPU 0xffffffffu

static const uint8_t magic[8] = {'C', 'O', 'F', 'F', 'E', 'R', 0, 0};

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t agree_max_frame(uint32_t a, uint32_t b)
{
	uint32_t m = a < b ? a : b;
	return m < CF_FRAME_MAX_FLOOR ? CF_FRAME_MAX_FLOOR : m;
}

/* The highest version both ranges hold, or 0. This code speaks only
 * CF_PROTO_VERSION; a later one would list what it still speaks. */
static uint16_t pick_version(uint16_t min, uint16_t max)
{
	if (min <= CF_PROTO_VERSION && CF_PROTO_VERSION <= max)
		return CF_PROTO_VERSION;
	return 0;
}

int cf_hello_client(struct cf_conn *c, int timeout_ms, struct cf_hello *out)
{
	return cf_hello_client_cpu(c, timeout_ms, -1, out);
}

int cf_hello_client_cpu(struct cf_conn *c, int timeout_ms, int32_t cpu,
			struct cf_hello *out)
{
	uint8_t hello[HELLO_CPU_LEN];
	uint32_t mine, theirs, inflight;
	struct cf_frame f;
	uint16_t version;
	int rc;

	memset(out, 0, sizeof(*out));
	/* The receive bound cf_conn_new was given is what we accept. */
	mine = cf_conn_max_frame(c);
	memcpy(hello, magic, sizeof(magic));
	put_be16(hello + 8, CF_PROTO_VERSION);
	put_be16(hello + 10, CF_PROTO_VERSION);
	cf_put_be32(hello + 12, mine);
	cf_put_be32(hello + 16, cpu >= 0 ? (uint32_t)cpu : NO_CPU);
	rc = cf_conn_send(c, CF_FRAME_HELLO, 0, 0, hello, sizeof(hello),
			  timeout_ms);
	if (rc < 0) {
		/* A server that refuses at once (too many clients) may have
		 * closed before our hello went out: its reason may still be
		 * there to read, and is worth more than the failed send. */
		if (cf_conn_recv(c, &f, timeout_ms) != 0)
			return rc;
		if (f.type != CF_FRAME_ERROR) {
			cf_frame_clear(&f);
			return rc;
		}
	} else {
		rc = cf_conn_recv(c, &f, timeout_ms);
		if (rc < 0)
			return rc;
	}
	if (f.type == CF_FRAME_ERROR) {
		/* The server refused us, and says why. */
		if (cf_conn_parse_error(&f, &out->refused, out->refused_reason,
					sizeof(out->refused_reason)) != 0 ||
		    out->refused == 0)
			out->refused = CF_PERR_MALFORMED;
		rc = -EPROTO;
		goto out_clear;
	}
	if (f.type != CF_FRAME_HELLO_REPLY || f.len < REPLY_LEN ||
	    memcmp(f.payload, magic, sizeof(magic)) != 0) {
		rc = -EPROTO;
		goto out_clear;
	}
	version = get_be16(f.payload + 8);
	theirs = cf_get_be32(f.payload + 10);
	inflight = cf_get_be32(f.payload + 14);
	if (version != CF_PROTO_VERSION || inflight == 0) {
		rc = -EPROTO;
		goto out_clear;
	}
	out->version = version;
	out->cpu = cpu;
	out->max_frame = agree_max_frame(mine, theirs);
	out->max_inflight = inflight;
	cf_conn_set_max_frame(c, out->max_frame);
	rc = 0;
out_clear:
	cf_frame_clear(&f);
	return rc;
}

static int refuse(struct cf_conn *c, uint32_t id, enum cf_proto_error code,
		  const char *why, int timeout_ms)
{
	/* Best effort: the peer may be gone already. */
	(void)cf_conn_send_error(c, id, code, why, timeout_ms);
	return -EPROTO;
}

int cf_hello_server(struct cf_conn *c, int timeout_ms, uint32_t max_frame,
		    uint32_t max_inflight, struct cf_hello *out)
{
	uint8_t reply[REPLY_LEN];
	struct cf_frame f;
	uint16_t min, max, version;
	uint32_t agreed;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cf_conn_recv(c, &f, timeout_ms);
	if (rc == -EMSGSIZE)
		return refuse(c, 0, CF_PERR_TOO_LARGE, "hello too large",
			      timeout_ms);
	if (rc < 0)
		return rc;
	if (f.type != CF_FRAME_HELLO || f.len < HELLO_LEN ||
	    memcmp(f.payload, magic, sizeof(magic)) != 0) {
		rc = refuse(c, f.id, CF_PERR_MALFORMED,
			    "expected a coffer HELLO", timeout_ms);
		goto out_clear;
	}
	min = get_be16(f.payload + 8);
	max = get_be16(f.payload + 10);
	version = pick_version(min, max);
	if (version == 0) {
		rc = refuse(c, f.id, CF_PERR_VERSION,
			    "no common protocol version (server speaks 1)",
			    timeout_ms);
		goto out_clear;
	}
	agreed = agree_max_frame(cf_get_be32(f.payload + 12), max_frame);
	if (max_inflight == 0)
		max_inflight = 1;
	memcpy(reply, magic, sizeof(magic));
	put_be16(reply + 8, version);
	cf_put_be32(reply + 10, max_frame < CF_FRAME_MAX_FLOOR
				    ? CF_FRAME_MAX_FLOOR
				    : max_frame);
	cf_put_be32(reply + 14, max_inflight);
	rc = cf_conn_send(c, CF_FRAME_HELLO_REPLY, 0, f.id, reply,
			  sizeof(reply), timeout_ms);
	if (rc < 0)
		goto out_clear;
	cf_conn_set_max_frame(c, agreed);
	out->version = version;
	out->max_frame = agreed;
	out->max_inflight = max_inflight;
	out->cpu = -1;
	if (f.len >= HELLO_CPU_LEN) {
		uint32_t cpu = cf_get_be32(f.payload + 16);

		if (cpu < CF_HELLO_CPU_MAX)
			out->cpu = (int32_t)cpu;
	}
out_clear:
	cf_frame_clear(&f);
	return rc;
}
