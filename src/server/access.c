/* access.c - see access.h. */
#include "server/access.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

/* The peer's supplementary groups as they were when it connected. The
 * kernel says how much room a longer list needs (ERANGE). */
static int peer_groups(int fd, struct cf_peer *p)
{
	socklen_t len = 64 * sizeof(gid_t);

	for (int tries = 0; tries < 4; tries++) {
		gid_t *g = malloc(len > 0 ? len : sizeof(gid_t));
		socklen_t got = len;

		if (g == NULL)
			return -ENOMEM;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &got) == 0) {
			p->groups = g;
			p->ngroups = got / sizeof(gid_t);
			return 0;
		}
		free(g);
		/* Before Linux 4.13 there is no SO_PEERGROUPS: only the
		 * primary group is known, as SO_PEERCRED gives it. */
		if (errno == ENOPROTOOPT)
			return 0;
		if (errno != ERANGE || got <= len)
			return -errno;
		len = got; /* the groups may change between the calls */
	}
	return -ERANGE;
}

int cf_peer_unix(int fd, struct cf_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int rc;

	memset(p, 0, sizeof(*p));
	p->kind = CF_PEER_UNIX;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -errno;
	p->uid = cred.uid;
	p->gid = cred.gid;
	p->pid = cred.pid;
	rc = peer_groups(fd, p);
	if (rc != 0)
		return rc;
	snprintf(p->desc, sizeof(p->desc), "uid=%lu gid=%lu pid=%ld",
		 (unsigned long)cred.uid, (unsigned long)cred.gid,
		 (long)cred.pid);
	return 0;
}

void cf_peer_clear(struct cf_peer *p)
{
	free(p->groups);
	p->groups = NULL;
	p->ngroups = 0;
}

/* Primary or supplementary. */
static bool in_group(const struct cf_peer *p, unsigned long gid)
{
	if (p->gid == gid)
		return true;
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == gid)
			return true;
	return false;
}

void cf_peer_set_tls(struct cf_peer *p, const struct cf_tls_peer *t)
{
	char hex[96];

	p->kind = CF_PEER_TLS;
	p->tls = *t;
	cf_tls_fp_hex(t->fp, hex);
	snprintf(p->desc, sizeof(p->desc), "subject=\"%s\" fp=%.23s...",
		 t->subject, hex);
}

void cf_peer_set_tcp(struct cf_peer *p, const char *addr)
{
	memset(p, 0, sizeof(*p));
	p->kind = CF_PEER_TCP;
	snprintf(p->desc, sizeof(p->desc), "tcp=%s", addr);
}

static bool fp_eq(const uint8_t *a, const uint8_t *b)
{
	return CRYPTO_memcmp(a, b, CF_TLS_FP_LEN) == 0;
}

bool cf_access_allows(const struct cf_access *a, const struct cf_peer *p,
		      char *why, size_t whylen)
{
	switch (p->kind) {
	case CF_PEER_UNIX:
		/* No rules: the socket's owner and mode are the gate. */
		if (a->nuids == 0 && a->ngids == 0)
			return true;
		for (size_t i = 0; i < a->nuids; i++)
			if (a->uids[i] == p->uid)
				return true;
		for (size_t i = 0; i < a->ngids; i++)
			if (in_group(p, a->gids[i]))
				return true;
		snprintf(why, whylen,
			 "uid %lu gid %lu not in allow_uid/allow_gid",
			 (unsigned long)p->uid, (unsigned long)p->gid);
		return false;
	case CF_PEER_TLS:
		/* No rules: any certificate the CA issued. */
		if (a->subjects.n == 0 && a->nfps == 0)
			return true;
		for (size_t i = 0; i < a->subjects.n; i++)
			if (strcasecmp(a->subjects.v[i], p->tls.subject) == 0)
				return true;
		for (size_t i = 0; i < a->nfps; i++)
			if (fp_eq(a->fps[i], p->tls.fp))
				return true;
		snprintf(why, whylen,
			 "certificate not in allow_subject/allow_fingerprint");
		return false;
	case CF_PEER_TCP:
		return true; /* loopback only, and only when configured */
	}
	snprintf(why, whylen, "unknown peer kind");
	return false;
}

static bool map_names(const struct cf_map_rule *r, const struct cf_peer *p)
{
	switch (r->kind) {
	case CF_MAP_UID:
		return p->kind == CF_PEER_UNIX && r->id == p->uid;
	case CF_MAP_GID:
		return p->kind == CF_PEER_UNIX && in_group(p, r->id);
	case CF_MAP_SUBJECT:
		return p->kind == CF_PEER_TLS &&
		       strcasecmp(r->subject, p->tls.subject) == 0;
	case CF_MAP_FINGERPRINT:
		return p->kind == CF_PEER_TLS && fp_eq(r->fp, p->tls.fp);
	}
	return false;
}

size_t cf_access_mapped(const struct cf_access *a, const struct cf_peer *p,
			char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nmaps && n < max; i++)
		if (map_names(&a->maps[i], p))
			out[n++] = a->maps[i].uri;
	return n;
}
