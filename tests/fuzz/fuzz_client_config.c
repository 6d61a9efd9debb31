/*
 * fuzz_client_config.c - libcoffer-client.so's config parser
 * (client/config.c): the input is client.conf text for
 * cf_client_conf_parse, and also the file cf_client_conf_load reads
 * (COFFER_CLIENT_CONF), so its checks of the parsed server line run too.
 * The server string that results, and the input itself, then go to
 * cf_client_parse_tls with the buffer sizes the client uses. A client
 * reads a file any user may point it at: a bad one must give an error,
 * never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void split_tls(const char *server)
{
	char host[256], port[16];

	(void)cf_client_parse_tls(server, host, sizeof(host), port,
				  sizeof(port));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const env[] = {
	    "COFFER_SERVER",	 "COFFER_CLIENT_CERT",
	    "COFFER_CLIENT_KEY", "COFFER_CLIENT_CA",
	    "COFFER_TIMEOUT_MS", "COFFER_CONNECT_TIMEOUT_MS",
	    "COFFER_SPIN_USEC",
	};
	static struct fuzz_file file;
	static int ready;
	struct cf_client_conf *c;
	char err[512];
	char *text;

	if (!ready) {
		/* Only the file may set anything. */
		for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
			unsetenv(env[i]);
		fuzz_file_open(&file, "fuzz-client.conf");
		if (setenv("COFFER_CLIENT_CONF", file.path, 1) != 0)
			abort();
		ready = 1;
	}
	c = calloc(1, sizeof(*c));
	text = fuzz_cstr(data, size);
	if (c == NULL || text == NULL)
		goto out_free;

	c->timeout_ms = CF_CLIENT_TIMEOUT_DEFAULT;
	c->connect_timeout_ms = CF_CLIENT_CONNECT_TIMEOUT_DEFAULT;
	if (cf_client_conf_parse(c, "fuzz", text, err, sizeof(err)) == 0)
		split_tls(c->server);
	split_tls(text);

	fuzz_file_put(&file, data, size);
	if (cf_client_conf_load(c, err, sizeof(err)) == 0)
		split_tls(c->server);
out_free:
	free(text);
	free(c);
	return 0;
}
