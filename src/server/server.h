/*
 * server.h - cofferd's two halves: the acceptor (daemon.c), which owns the
 * listeners and forks one worker per connection, and the worker
 * (worker.c), which serves that one connection and exits.
 */
#ifndef CF_SERVER_SERVER_H
#define CF_SERVER_SERVER_H

#include <openssl/ssl.h>

#include "server/config.h"

enum cf_listen_kind {
	CF_LISTEN_UNIX,
	CF_LISTEN_TLS,
	CF_LISTEN_TCP, /* plain, loopback only, allow_plain_tcp */
};

/* What a worker needs to know of its connection. */
struct cf_worker_args {
	int fd;
	enum cf_listen_kind kind;
	SSL_CTX *tls; /* CF_LISTEN_TLS */
	const struct cf_srv_conf *conf;
	unsigned long conn_id;
	char addr[128]; /* peer address of a TCP connection */
};

/* Serves one connection; returns the worker's exit status. Expects SIGTERM
 * and SIGINT blocked (they mean: drain and stop). */
int cf_worker_run(const struct cf_worker_args *a);

/* The acceptor: runs until SIGTERM/SIGINT; returns the exit status. */
int cf_daemon_run(struct cf_srv_conf *conf);

#endif
