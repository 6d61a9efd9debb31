/*
 * conn.h - frames over one stream (a Unix socket, TCP, or TLS on either),
 * and the version handshake (docs/protocol.md).
 *
 * Every frame is a 12-byte header then its payload:
 *
 *   u32 len    payload bytes that follow, at most the negotiated maximum
 *   u32 id     request id chosen by the client; a reply echoes it
 *   u16 type   CF_FRAME_*
 *   u16 fn     function id (src/pkcs11/functions.py) of a request and of
 *              its reply; 0 otherwise
 *
 * all big-endian. A reply's payload starts with the CK_RV as u64.
 *
 * Threads: cf_conn_send may be called from many threads at once (each frame
 * goes out whole, never interleaved); cf_conn_recv from one thread at a
 * time. A send and a receive may run concurrently, TLS included.
 * cf_conn_shutdown may be called from any thread and makes a blocked
 * receive return -ECONNRESET.
 */
#ifndef CF_WIRE_CONN_H
#define CF_WIRE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define CF_FRAME_HDR_LEN 12
#define CF_PROTO_VERSION 1	     /* the version this code speaks */
#define CF_FRAME_MAX_DEFAULT (1u << 24) /* 16 MiB */
#define CF_FRAME_MAX_FLOOR (1u << 16)	/* no peer may offer less */

enum cf_frame_type {
	CF_FRAME_HELLO = 1,	  /* client -> server, first frame */
	CF_FRAME_HELLO_REPLY = 2, /* server -> client */
	CF_FRAME_REQUEST = 3,
	CF_FRAME_REPLY = 4,
	CF_FRAME_ERROR = 5, /* protocol error; payload: u32 code, string */
	/* client -> server: a deferred init, then a request, answered by one
	 * reply (docs/protocol.md, "Deferred initialisation") */
	CF_FRAME_CHAIN = 6,
};

/* Protocol error codes carried by CF_FRAME_ERROR. */
enum cf_proto_error {
	CF_PERR_VERSION = 1,	   /* no common protocol version */
	CF_PERR_MALFORMED = 2,	   /* a frame or payload did not decode */
	CF_PERR_TOO_LARGE = 3,	   /* frame over the negotiated maximum */
	CF_PERR_UNKNOWN_FN = 4,	   /* function id this server does not know */
	CF_PERR_LIMIT = 5,	   /* a per-client limit was exceeded */
	CF_PERR_DENIED = 6,	   /* access control refused the peer */
	CF_PERR_IDLE = 7,	   /* closed for idleness */
	CF_PERR_SHUTDOWN = 8,	   /* server is stopping */
};

struct cf_frame {
	uint32_t id;
	uint16_t type;
	uint16_t fn;
	uint8_t *payload; /* owned by the frame; wiped by cf_frame_clear */
	size_t len;
};

void cf_frame_clear(struct cf_frame *f);

struct cf_conn;

/* Takes ownership of fd (and of ssl, which must already be connected or
 * accepted over fd). max_frame bounds what cf_conn_recv accepts until the
 * handshake sets the negotiated value. */
int cf_conn_new(int fd, SSL *ssl, uint32_t max_frame, struct cf_conn **out);
void cf_conn_free(struct cf_conn *c); /* closes; NULL is fine */
void cf_conn_set_max_frame(struct cf_conn *c, uint32_t max_frame);
void cf_conn_shutdown(struct cf_conn *c);
int cf_conn_fd(const struct cf_conn *c);
SSL *cf_conn_ssl(const struct cf_conn *c); /* NULL for plain streams */

/*
 * Returns 0, or -ETIMEDOUT (nothing within timeout_ms; < 0 waits forever),
 * -ECONNRESET (peer gone or shut down), -EMSGSIZE (a header announced more
 * than max_frame: the stream cannot be resynchronised, close it), -EPROTO
 * (TLS failure), -ENOMEM. A partial frame followed by EOF is -ECONNRESET.
 * Waits at most timeout_ms in total for a whole frame once its first byte
 * has arrived, so a peer that stalls mid-frame cannot hold the reader.
 */
int cf_conn_recv(struct cf_conn *c, struct cf_frame *f, int timeout_ms);

/* Sends header and payload as one frame. Returns 0, -ECONNRESET, -EPIPE,
 * -ETIMEDOUT (the peer did not drain within timeout_ms), -EPROTO. */
int cf_conn_send(struct cf_conn *c, uint16_t type, uint16_t fn, uint32_t id,
		 const void *payload, size_t len, int timeout_ms);

/* Like cf_conn_send, but a small frame on a plain stream may be held
 * back, to go out with later frames in one write (one wake-up of the
 * peer): the caller promises cf_conn_flush (or any cf_conn_send) before it
 * waits for anything. Frames never held back: over TLS, or large. */
int cf_conn_send_held(struct cf_conn *c, uint16_t type, uint16_t fn,
		      uint32_t id, const void *payload, size_t len,
		      int timeout_ms);
/* Sends what cf_conn_send_held held back. Returns as cf_conn_send; on
 * failure the held frames are dropped (wiped) and the stream takes no
 * more frames, and cf_conn_holding is false afterwards either way. */
int cf_conn_flush(struct cf_conn *c, int timeout_ms);
/* Whether frames are held back. */
bool cf_conn_holding(struct cf_conn *c);

/* Sends CF_FRAME_ERROR with code and a human-readable reason. */
int cf_conn_send_error(struct cf_conn *c, uint32_t id, enum cf_proto_error code,
		       const char *reason, int timeout_ms);

/*
 * The handshake. HELLO carries the magic "COFFER\0\0", u16 min and max
 * version, u32 the largest frame the client accepts. HELLO_REPLY carries the
 * magic, u16 the chosen version, u32 the largest frame the server accepts,
 * u32 the most calls it runs at once for this client. No common version
 * gets CF_FRAME_ERROR(CF_PERR_VERSION) and the server closes.
 */
/* CPU numbers a HELLO may carry (glibc's cpu_set_t). */
#define CF_HELLO_CPU_MAX 1024

struct cf_hello {
	uint16_t version;
	uint32_t max_frame;    /* min of both sides' offers */
	uint32_t max_inflight; /* server's per-client limit */
	/* cf_hello_client: the server's refusal, when it sent one in place
	 * of its reply (the call returns -EPROTO): code 0 for none. */
	uint32_t refused;
	char refused_reason[128];
	/* The CPU the client asks its calls to be served on (its cpu
	 * setting), -1 for none: the client sends it, the server reads it. */
	int32_t cpu;
};

int cf_hello_client(struct cf_conn *c, int timeout_ms, struct cf_hello *out);
/* The same, asking the server to serve the connection on CPU cpu (-1: no
 * wish). */
int cf_hello_client_cpu(struct cf_conn *c, int timeout_ms, int32_t cpu,
			struct cf_hello *out);
/* Reads the client's HELLO and answers it; on success sets the connection's
 * max_frame to the agreed value. Returns -EPROTO for a bad hello (after
 * telling the peer why). */
int cf_hello_server(struct cf_conn *c, int timeout_ms, uint32_t max_frame,
		    uint32_t max_inflight, struct cf_hello *out);

/*
 * Additions to the contract above.
 *
 * After -EMSGSIZE, or -ETIMEDOUT once part of a frame had arrived, the
 * receiving side is out of step with the peer: later receives return
 * -ECONNRESET (sending still works, so a CF_FRAME_ERROR can go out). After
 * a send returned -ETIMEDOUT part-way through a frame, later sends return
 * -EPIPE. cf_conn_free never writes (no TLS close_notify): a process that
 * inherited a connection over fork() may free it without disturbing the
 * parent's stream; use cf_conn_close_write for an orderly close.
 * cf_conn_new takes fd and ssl even when it fails (it closes and frees
 * them then), so a caller never cleans them up after the call.
 */

/* The mid-frame bound of cf_conn_recv when it is called with timeout_ms < 0
 * (wait forever for the first byte, but not for the rest). */
#define CF_CONN_STALL_MS 30000

/* The current receive bound (after the handshake: the agreed one). */
uint32_t cf_conn_max_frame(const struct cf_conn *c);

/* Opt-in low latency: before it sleeps in poll(), the receiver polls
 * without sleeping for up to usec microseconds, saving the wake-up when a
 * reply is close. Burns that much CPU per wait. 0 (the default) turns it
 * off. Thread-safe. */
void cf_conn_set_spin(struct cf_conn *c, unsigned usec);

/* Whether bytes of a next frame are already at hand (buffered here, in
 * TLS, or in the socket), so that a receive would not sleep. For the
 * thread that holds the read role, between receives. */
bool cf_conn_input_pending(struct cf_conn *c);

/* Whether bytes of a next frame were already read into this side's
 * buffer: cf_conn_input_pending without a system call, blind to what is
 * still in the socket or TLS. For the reader, between receives. */
bool cf_conn_input_buffered(const struct cf_conn *c);

/* Whether a whole next frame is in this side's buffer, so that
 * cf_conn_recv returns it without reading. For the reader. */
bool cf_conn_frame_buffered(const struct cf_conn *c);

/* Half-close: this side sends no more frames (TLS: close_notify, then
 * shutdown(SHUT_WR)); receiving goes on until the peer closes too, when
 * cf_conn_recv returns -ECONNRESET. Later sends return -EPIPE. Returns 0 or
 * -errno. Thread-safe (takes the send lock). */
int cf_conn_close_write(struct cf_conn *c, int timeout_ms);

/* Decodes a CF_FRAME_ERROR payload, which is u32 code, u32 length and that
 * many bytes of reason (UTF-8, no NUL). reason gets a NUL-terminated copy,
 * cut to reasonlen - 1 bytes and with control characters replaced by '?';
 * reason may be NULL. Returns 0 or -EPROTO (not an error frame, or a bad
 * payload). */
int cf_conn_parse_error(const struct cf_frame *f, uint32_t *code,
			char *reason, size_t reasonlen);

/* A BIO over the connected socket fd for OpenSSL: every read and write is
 * non-blocking (MSG_DONTWAIT) and writes never raise SIGPIPE
 * (MSG_NOSIGNAL). It never closes fd. cf_tls_accept and cf_tls_connect put
 * it under their SSL objects; cf_conn_new puts it under an SSL that came
 * with another BIO. NULL when out of memory. */
BIO *cf_conn_bio_new(int fd);

#endif
