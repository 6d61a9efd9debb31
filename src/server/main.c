/*
 * main.c - cofferd: exports a PKCS#11 module's tokens over the coffer wire
 * protocol (docs/cofferd.md). Runs in the foreground; logs to stderr,
 * syslog or a file; never writes to stdout.
 */
#include <stdio.h>

#include "common/log.h"
#include "server/config.h"
#include "server/server.h"

int main(int argc, char **argv)
{
	struct cf_srv_conf conf;
	char err[1024] = "";
	int rc;

	cf_srv_conf_defaults(&conf);
	rc = cf_srv_conf_from_args(&conf, argc, argv, err, sizeof(err));
	if (rc != 0) {
		cf_srv_conf_clear(&conf);
		if (rc == 1)
			return 0; /* --help, --version */
		fprintf(stderr, "cofferd: %s\n", err);
		return 2;
	}
	cf_log_set_ident("cofferd");
	if (cf_log_open(conf.log_level,
			conf.log_dest != NULL ? conf.log_dest : "stderr") !=
	    0) {
		fprintf(stderr, "cofferd: cannot open log %s\n", conf.log_dest);
		cf_srv_conf_clear(&conf);
		return 2;
	}
	rc = cf_daemon_run(&conf);
	cf_srv_conf_clear(&conf);
	return rc;
}
