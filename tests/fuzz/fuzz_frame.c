/*
 * fuzz_frame.c - cofferd's first contact with a client: arbitrary bytes
 * through cf_hello_server, then cf_conn_recv until the stream ends or goes
 * bad. The input travels over a socketpair, as it would over a socket; the
 * writing end is closed after it, so every read ends in EOF, never a wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/conn.h"

/* Stays below a Unix socket's default buffer, so one non-blocking write
 * takes it all. */
#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_conn *c;
	struct cf_hello h;
	struct cf_frame f;
	int sv[2];
	int rc;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	/* The server's replies land in sv[1]'s buffer; a handful of small
	 * frames fit, and nobody needs to read them. */
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);
	if (cf_conn_new(sv[0], NULL, CF_FRAME_MAX_FLOOR, &c) < 0) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	rc = cf_hello_server(c, 0, CF_FRAME_MAX_FLOOR, 4, &h);
	while (rc == 0) {
		rc = cf_conn_recv(c, &f, 0);
		if (rc == 0 && f.type == CF_FRAME_ERROR) {
			uint32_t code;
			char why[64];
			(void)cf_conn_parse_error(&f, &code, why, sizeof(why));
		}
		cf_frame_clear(&f);
	}
	cf_conn_free(c);
	close(sv[1]);
	return 0;
}
