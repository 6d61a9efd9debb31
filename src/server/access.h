/*
 * access.h - who the peer of a connection is, whether it may use cofferd,
 * and which tokens it sees (docs/cofferd.md, "Access control").
 */
#ifndef CF_SERVER_ACCESS_H
#define CF_SERVER_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "server/config.h"
#include "wire/tls.h"

enum cf_peer_kind {
	CF_PEER_UNIX, /* SO_PEERCRED */
	CF_PEER_TLS,  /* verified client certificate */
	CF_PEER_TCP,  /* plain loopback TCP: no identity */
};

struct cf_peer {
	enum cf_peer_kind kind;
	uid_t uid;
	gid_t gid; /* primary */
	pid_t pid;
	/* Supplementary groups (SO_PEERGROUPS), all of them: a map line
	 * naming one narrows what the peer sees, so none may be dropped. */
	gid_t *groups;
	size_t ngroups;
	struct cf_tls_peer tls;
	char desc[640]; /* for logs: "uid=1000 gid=1000 pid=42" */
};

/* Reads SO_PEERCRED and SO_PEERGROUPS of a Unix socket. 0 or -errno;
 * either way cf_peer_clear frees what it holds. */
int cf_peer_unix(int fd, struct cf_peer *p);
void cf_peer_clear(struct cf_peer *p);
void cf_peer_set_tls(struct cf_peer *p, const struct cf_tls_peer *t);
void cf_peer_set_tcp(struct cf_peer *p, const char *addr);

/* Whether the rules let the peer in; when not, why says so (for the log,
 * never for the peer). */
bool cf_access_allows(const struct cf_access *a, const struct cf_peer *p,
		      char *why, size_t whylen);

/* The map lines' URIs for this peer (pointers into a; not copied). Returns
 * how many were stored into out (at most max). 0: no map line names the
 * peer, so it sees every exported token. */
size_t cf_access_mapped(const struct cf_access *a, const struct cf_peer *p,
			char **out, size_t max);

#endif
