/*
 * fuzz_server_config.c - cofferd's config file parser (server/config.c):
 * the input is the file given by --config, read both as at start-up
 * (cf_srv_conf_from_args, every key) and as on SIGHUP
 * (cf_srv_conf_reload_access: the access rules, other keys validated on a
 * scratch copy). The same bytes also go to cf_srv_parse_fp, the
 * fingerprint parser of allow_fingerprint and map lines. The file is
 * operator-written: a bad one must give an error, never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file file;
	static int ready;
	char *argv[4];
	char err[512];
	uint8_t fp[CF_TLS_FP_LEN];
	struct cf_srv_conf c;
	char *s;

	if (!ready) {
		fuzz_file_open(&file, "fuzz-cofferd.conf");
		ready = 1;
	}
	fuzz_file_put(&file, data, size);

	argv[0] = (char *)"cofferd";
	argv[1] = (char *)"--config";
	argv[2] = file.path;
	argv[3] = NULL;
	cf_srv_conf_defaults(&c);
	(void)cf_srv_conf_from_args(&c, 3, argv, err, sizeof(err));
	cf_srv_conf_clear(&c);

	cf_srv_conf_defaults(&c);
	c.config_path = strdup(file.path);
	if (c.config_path != NULL)
		(void)cf_srv_conf_reload_access(&c, err, sizeof(err));
	cf_srv_conf_clear(&c);

	s = fuzz_cstr(data, size);
	if (s != NULL)
		(void)cf_srv_parse_fp(s, fp);
	free(s);
	return 0;
}
