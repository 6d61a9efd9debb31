/*
 * crash_kill.c - does every write that returned CKR_OK survive kill -9?
 *
 * usage: crash_kill MODULE [-r ROUNDS] [-s SEED] [-k]
 *
 * Each round forks a worker that loads MODULE, logs in and creates and
 * destroys token data objects as fast as it can, while the parent sleeps a
 * random 1-200 ms and SIGKILLs it. The worker keeps a journal (the ack file):
 * before each call an intent record, after the call returned CKR_OK an
 * acknowledgement, each written with write()+fsync so that the journal is
 * never behind what the module promised. A fresh verifier process then loads
 * the module and checks the token against the journal:
 *   - the token is listed with its label, the SO and user PINs log in;
 *   - every acknowledged create that was not later acknowledged destroyed is
 *     there, once, with the same CKA_VALUE and CKA_PRIVATE;
 *   - every acknowledged destroy stays gone;
 *   - a create or destroy that was begun but not acknowledged (the kill hit
 *     the call) may have happened or not: both are allowed. What the
 *     verifier sees settles it, and the verifier writes that to the journal,
 *     so the later rounds hold the object to it. A begun create that did
 *     happen must carry the value the worker was writing;
 *   - nothing else is on the token;
 *   - for coffer, every *.db file under the token directory passes
 *     PRAGMA integrity_check (checked by the parent with SQLite directly,
 *     after the verifier has closed the module).
 * A lost token ends the run (the later rounds could only repeat it).
 * Prints TAP, one line per round, and a summary.
 *
 * Each object's unique name is carried in CKA_APPLICATION (and repeated in
 * CKA_LABEL): PKCS#11 gives data objects no CKA_ID (section 4.5 of the
 * 2.40 base spec), and SoftHSMv2 rejects one with
 * CKR_ATTRIBUTE_TYPE_INVALID.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "harness.h"

#define ROUNDS_DEFAULT 40
#define VALUE_MAX 4096
#define ID_LEN 16 /* "r0001-s00000042" and a NUL */
#define WORKER_TIMEOUT_MS 30000
#define VERIFY_TIMEOUT_MS 60000
#define VERIFY_TOKEN_LOST 10

enum ack_op {
	ACK_CREATE_BEGIN = 1,
	ACK_CREATE_OK,
	ACK_DESTROY_BEGIN,
	ACK_DESTROY_OK,
	ACK_SEEN,   /* verifier: a begun operation left the object there */
	ACK_UNSEEN, /* verifier: a begun operation left no object */
};

/* One journal record, written whole by one write(). */
struct ack {
	uint8_t op;
	uint8_t priv;
	uint16_t len;
	uint32_t round;
	uint32_t seq;
	uint8_t sha[32];
};

enum obj_state {
	OBJ_MAYBE_CREATED, /* create begun, not acknowledged */
	OBJ_LIVE,
	OBJ_MAYBE_DESTROYED, /* destroy begun, not acknowledged */
	OBJ_GONE,
};

struct obj {
	uint64_t key; /* round << 32 | seq: journal order, so sorted */
	enum obj_state state;
	uint8_t priv;
	uint16_t len;
	uint8_t sha[32];
	bool seen; /* verifier scratch */
};

struct journal {
	struct obj *objs;
	size_t n;
	size_t cap;
	unsigned long creates, destroys, settled_there, settled_gone;
};

struct run {
	const char *module;
	struct h_scratch scratch;
	char ack_path[700];
	struct journal j;
	unsigned int round;
	uint64_t rng;
	int ready_fd; /* worker's end of the ready pipe */
};

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: reproducible from --seed, no need for crypto here. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint64_t obj_key(uint32_t round, uint32_t seq)
{
	return (uint64_t)round << 32 | seq;
}

static void obj_id(char out[ID_LEN], uint64_t key)
{
	snprintf(out, ID_LEN, "r%04" PRIu32 "-s%08" PRIu32,
		 (uint32_t)(key >> 32), (uint32_t)key);
}

static bool obj_id_parse(const unsigned char *id, CK_ULONG len, uint64_t *key)
{
	char buf[ID_LEN];
	unsigned int round, seq;
	int used = 0;

	if (len != ID_LEN - 1)
		return false;
	memcpy(buf, id, len);
	buf[len] = '\0';
	if (sscanf(buf, "r%4u-s%8u%n", &round, &seq, &used) != 2 ||
	    used != ID_LEN - 1)
		return false;
	*key = obj_key(round, seq);
	return true;
}

static struct obj *journal_find(struct journal *j, uint64_t key)
{
	size_t lo = 0, hi = j->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (j->objs[mid].key == key)
			return &j->objs[mid];
		if (j->objs[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int outlen = 0;

	if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1 ||
	    outlen != 32)
		return -EIO;
	return 0;
}

static int ack_write(int fd, const struct ack *a)
{
	ssize_t w;

	do {
		w = write(fd, a, sizeof(*a));
	} while (w < 0 && errno == EINTR);
	if (w != (ssize_t)sizeof(*a))
		return -EIO;
	if (fsync(fd) != 0)
		return -errno;
	return 0;
}

/* Applies one record; false when the journal contradicts itself, which
 * would be a bug in this program, not in the module. */
static bool journal_apply(struct journal *j, const struct ack *a)
{
	uint64_t key = obj_key(a->round, a->seq);
	struct obj *o;

	if (a->op == ACK_CREATE_BEGIN) {
		if (j->n > 0 && j->objs[j->n - 1].key >= key)
			return false;
		if (j->n == j->cap) {
			size_t cap = j->cap ? j->cap * 2 : 256;
			struct obj *p = realloc(j->objs, cap * sizeof(*p));

			if (p == NULL)
				return false;
			j->objs = p;
			j->cap = cap;
		}
		o = &j->objs[j->n++];
		memset(o, 0, sizeof(*o));
		o->key = key;
		o->state = OBJ_MAYBE_CREATED;
		o->priv = a->priv;
		o->len = a->len;
		memcpy(o->sha, a->sha, sizeof(o->sha));
		return true;
	}
	o = journal_find(j, key);
	if (o == NULL)
		return false;
	switch (a->op) {
	case ACK_CREATE_OK:
		if (o->state != OBJ_MAYBE_CREATED)
			return false;
		o->state = OBJ_LIVE;
		j->creates++;
		return true;
	case ACK_DESTROY_BEGIN:
		if (o->state != OBJ_LIVE)
			return false;
		o->state = OBJ_MAYBE_DESTROYED;
		return true;
	case ACK_DESTROY_OK:
		if (o->state != OBJ_MAYBE_DESTROYED)
			return false;
		o->state = OBJ_GONE;
		j->destroys++;
		return true;
	case ACK_SEEN:
	case ACK_UNSEEN:
		if (o->state != OBJ_MAYBE_CREATED &&
		    o->state != OBJ_MAYBE_DESTROYED)
			return false;
		o->state = a->op == ACK_SEEN ? OBJ_LIVE : OBJ_GONE;
		if (a->op == ACK_SEEN)
			j->settled_there++;
		else
			j->settled_gone++;
		return true;
	default:
		return false;
	}
}

/* Rebuilds the journal from the ack file. A record cut short by the kill
 * is dropped, and the file is cut back to whole records so the next
 * worker's appends stay aligned. */
static int journal_load(struct run *r)
{
	struct ack a;
	off_t whole = 0;
	ssize_t n;
	int rc = -EIO;
	int fd;

	free(r->j.objs);
	memset(&r->j, 0, sizeof(r->j));
	fd = open(r->ack_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, &a, sizeof(a));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out_close;
		if (n < (ssize_t)sizeof(a))
			break;
		if (!journal_apply(&r->j, &a)) {
			fprintf(stderr,
				"# journal inconsistent at offset "
				"%lld\n",
				(long long)whole);
			goto out_close;
		}
		whole += (off_t)sizeof(a);
	}
	if (ftruncate(fd, whole) != 0)
		goto out_close;
	rc = 0;
out_close:
	close(fd);
	return rc;
}

/* ---- worker --------------------------------------------------------- */

struct worker_state {
	struct run *r;
	uint64_t *live; /* keys the worker may destroy */
	size_t nlive;
	size_t cap;
	int ack_fd;
	CK_SESSION_HANDLE sh;
	unsigned char value[VALUE_MAX];
};

static int worker_create(struct h_module *m, struct worker_state *w,
			 uint32_t seq)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, priv = (seq & 1) ? CK_TRUE : CK_FALSE;
	CK_OBJECT_HANDLE h;
	char id[ID_LEN], label[32];
	struct ack a = {.op = ACK_CREATE_BEGIN};
	uint64_t key = obj_key(w->r->round, seq);
	CK_ULONG len = 1 + rng_next(&w->r->rng) % VALUE_MAX;
	CK_RV rv;
	CK_ULONG i;

	for (i = 0; i < len; i++)
		w->value[i] = (unsigned char)rng_next(&w->r->rng);
	obj_id(id, key);
	snprintf(label, sizeof(label), "crash %s", id);
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &priv, sizeof(priv)},
	    {CKA_APPLICATION, id, ID_LEN - 1},
	    {CKA_LABEL, label, strlen(label)},
	    {CKA_VALUE, w->value, len},
	};

	a.priv = priv;
	a.len = (uint16_t)len;
	a.round = w->r->round;
	a.seq = seq;
	if (sha256(w->value, len, a.sha) != 0 || ack_write(w->ack_fd, &a))
		return 3;
	rv = m->f->C_CreateObject(w->sh, tmpl, 6, &h);
	if (rv != CKR_OK) {
		h_note("worker: C_CreateObject %s: %s", id, h_rv_name(rv));
		return 4;
	}
	a.op = ACK_CREATE_OK;
	if (ack_write(w->ack_fd, &a) != 0)
		return 3;
	if (w->nlive == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		uint64_t *p = realloc(w->live, cap * sizeof(*p));

		if (p == NULL)
			return 3;
		w->live = p;
		w->cap = cap;
	}
	w->live[w->nlive++] = key;
	return 0;
}

static int worker_destroy(struct h_module *m, struct worker_state *w)
{
	size_t pick = rng_next(&w->r->rng) % w->nlive;
	uint64_t key = w->live[pick];
	struct ack a = {.op = ACK_DESTROY_BEGIN};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG found = 0;
	char id[ID_LEN];
	CK_RV rv;

	obj_id(id, key);
	CK_ATTRIBUTE tmpl[] = {{CKA_APPLICATION, id, ID_LEN - 1}};

	rv = m->f->C_FindObjectsInit(w->sh, tmpl, 1);
	if (rv == CKR_OK) {
		rv = m->f->C_FindObjects(w->sh, h, 2, &found);
		m->f->C_FindObjectsFinal(w->sh);
	}
	if (rv != CKR_OK || found != 1) {
		h_note("worker: find %s: %s, %lu found", id, h_rv_name(rv),
		       (unsigned long)found);
		return 4;
	}
	a.round = (uint32_t)(key >> 32);
	a.seq = (uint32_t)key;
	if (ack_write(w->ack_fd, &a) != 0)
		return 3;
	rv = m->f->C_DestroyObject(w->sh, h[0]);
	if (rv != CKR_OK) {
		h_note("worker: C_DestroyObject %s: %s", id, h_rv_name(rv));
		return 4;
	}
	a.op = ACK_DESTROY_OK;
	if (ack_write(w->ack_fd, &a) != 0)
		return 3;
	w->live[pick] = w->live[--w->nlive];
	return 0;
}

/* Runs until killed; returns only on a failure (its exit status). */
static int worker_main(struct h_module *m, void *arg)
{
	struct worker_state w = {.r = arg};
	struct journal *j = &w.r->j;
	CK_SLOT_ID slot;
	uint32_t seq = 0;
	char one = 'r';
	size_t i;
	CK_RV rv;
	int rc;

	/* The parent draws the next delays from the same generator state;
	 * stir it so the worker's values do not repeat them. */
	w.r->rng ^= 0x9e3779b97f4a7c15ULL * w.r->round;
	rng_next(&w.r->rng);
	w.ack_fd = open(w.r->ack_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (w.ack_fd < 0)
		return 3;
	for (i = 0; i < j->n; i++) {
		if (j->objs[i].state != OBJ_LIVE)
			continue;
		if (w.nlive == w.cap) {
			size_t cap = w.cap ? w.cap * 2 : 256;
			uint64_t *p = realloc(w.live, cap * sizeof(*p));

			if (p == NULL)
				return 3;
			w.live = p;
			w.cap = cap;
		}
		w.live[w.nlive++] = j->objs[i].key;
	}
	rv = h_find_token(m, H_TOKEN_LABEL, &slot);
	if (rv == CKR_OK)
		rv = m->f->C_OpenSession(slot,
					 CKF_SERIAL_SESSION | CKF_RW_SESSION,
					 NULL, NULL, &w.sh);
	if (rv == CKR_OK)
		rv = m->f->C_Login(w.sh, CKU_USER, (CK_UTF8CHAR_PTR)H_USER_PIN,
				   strlen(H_USER_PIN));
	if (rv != CKR_OK) {
		h_note("worker: token, session or login: %s", h_rv_name(rv));
		return 4;
	}
	if (write(w.r->ready_fd, &one, 1) != 1)
		return 3;
	for (;;) {
		/* One destroy for every two creates keeps the token growing
		 * slowly, so later rounds also kill during destroys of
		 * objects made rounds ago. */
		if (w.nlive > 0 && rng_next(&w.r->rng) % 3 == 0)
			rc = worker_destroy(m, &w);
		else
			rc = worker_create(m, &w, ++seq);
		if (rc != 0)
			return rc;
	}
}

/* ---- verifier ------------------------------------------------------- */

struct verify_state {
	struct run *r;
	int ack_fd;
	unsigned int violations;
	unsigned long objects;
};

static void violation(struct verify_state *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void violation(struct verify_state *v, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->violations++;
	if (v->violations <= 20)
		h_note("VIOLATION: %s", msg);
}

static CK_RV get_attr(struct h_module *m, CK_SESSION_HANDLE sh,
		      CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t, void *buf,
		      CK_ULONG *len)
{
	CK_ATTRIBUTE a = {t, buf, *len};
	CK_RV rv = m->f->C_GetAttributeValue(sh, h, &a, 1);

	*len = a.ulValueLen;
	return rv;
}

static void settle(struct verify_state *v, struct obj *o, bool there)
{
	struct ack a = {.op = there ? ACK_SEEN : ACK_UNSEEN};

	a.round = (uint32_t)(o->key >> 32);
	a.seq = (uint32_t)o->key;
	if (ack_write(v->ack_fd, &a) != 0)
		violation(v, "cannot write the journal");
}

static void verify_object(struct verify_state *v, struct h_module *m,
			  CK_SESSION_HANDLE sh, CK_OBJECT_HANDLE h)
{
	static unsigned char value[VALUE_MAX + 1];
	unsigned char id[64];
	CK_OBJECT_CLASS cls = 0;
	CK_BBOOL priv = CK_FALSE;
	CK_ULONG len;
	uint8_t sha[32];
	char idstr[ID_LEN];
	uint64_t key;
	struct obj *o;
	CK_RV rv;

	len = sizeof(cls);
	rv = get_attr(m, sh, h, CKA_CLASS, &cls, &len);
	if (rv != CKR_OK || cls != CKO_DATA) {
		violation(v, "object %lu: class %s/%lu, not a data object",
			  (unsigned long)h, h_rv_name(rv), (unsigned long)cls);
		return;
	}
	len = sizeof(id);
	rv = get_attr(m, sh, h, CKA_APPLICATION, id, &len);
	if (rv != CKR_OK || !obj_id_parse(id, len, &key)) {
		violation(v,
			  "object %lu: CKA_APPLICATION %s, %ld bytes, "
			  "not one of ours (a half-made object?)",
			  (unsigned long)h, h_rv_name(rv), (long)len);
		return;
	}
	obj_id(idstr, key);
	o = journal_find(&v->r->j, key);
	if (o == NULL) {
		violation(v, "%s: on the token, never created", idstr);
		return;
	}
	if (o->seen) {
		violation(v, "%s: on the token twice", idstr);
		return;
	}
	o->seen = true;
	if (o->state == OBJ_GONE) {
		violation(v, "%s: destroyed, but back", idstr);
		return;
	}
	len = sizeof(priv);
	rv = get_attr(m, sh, h, CKA_PRIVATE, &priv, &len);
	if (rv != CKR_OK || priv != (o->priv ? CK_TRUE : CK_FALSE))
		violation(v, "%s: CKA_PRIVATE %s/%u, wrote %u", idstr,
			  h_rv_name(rv), priv, o->priv);
	len = sizeof(value);
	rv = get_attr(m, sh, h, CKA_VALUE, value, &len);
	if (rv != CKR_OK || len != o->len || sha256(value, len, sha) != 0 ||
	    memcmp(sha, o->sha, sizeof(sha)) != 0) {
		violation(v,
			  "%s: CKA_VALUE %s, %lu bytes, wrote %u bytes, "
			  "%s",
			  idstr, h_rv_name(rv), (unsigned long)len, o->len,
			  rv == CKR_OK && len == o->len ? "content differs"
							: "length differs");
		return;
	}
	if (o->state == OBJ_MAYBE_CREATED || o->state == OBJ_MAYBE_DESTROYED)
		settle(v, o, true);
	v->objects++;
}

static void verify_objects(struct verify_state *v, struct h_module *m,
			   CK_SESSION_HANDLE sh)
{
	struct journal *j = &v->r->j;
	CK_OBJECT_HANDLE h[64];
	CK_ULONG n, i;
	char idstr[ID_LEN];
	size_t k;
	CK_RV rv;

	rv = m->f->C_FindObjectsInit(sh, NULL, 0);
	if (rv != CKR_OK) {
		violation(v, "C_FindObjectsInit: %s", h_rv_name(rv));
		return;
	}
	for (;;) {
		rv = m->f->C_FindObjects(sh, h, 64, &n);
		if (rv != CKR_OK) {
			violation(v, "C_FindObjects: %s", h_rv_name(rv));
			break;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			verify_object(v, m, sh, h[i]);
	}
	m->f->C_FindObjectsFinal(sh);
	for (k = 0; k < j->n; k++) {
		struct obj *o = &j->objs[k];

		if (o->seen)
			continue;
		obj_id(idstr, o->key);
		if (o->state == OBJ_LIVE)
			violation(v,
				  "%s: acknowledged create (%s, %u bytes) "
				  "is missing",
				  idstr, o->priv ? "private" : "public",
				  o->len);
		else if (o->state != OBJ_GONE)
			settle(v, o, false);
	}
}

static int verify_main(struct h_module *m, void *arg)
{
	struct verify_state v = {.r = arg};
	CK_SESSION_HANDLE sh;
	CK_SLOT_ID slot;
	CK_RV rv;

	v.ack_fd = open(v.r->ack_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (v.ack_fd < 0)
		return 3;
	rv = h_find_token(m, H_TOKEN_LABEL, &slot);
	if (rv != CKR_OK) {
		h_note("VIOLATION: token '%s' is gone: %s", H_TOKEN_LABEL,
		       h_rv_name(rv));
		return VERIFY_TOKEN_LOST;
	}
	rv = m->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				 NULL, NULL, &sh);
	if (rv != CKR_OK) {
		h_note("VIOLATION: C_OpenSession: %s", h_rv_name(rv));
		return VERIFY_TOKEN_LOST;
	}
	rv = m->f->C_Login(sh, CKU_SO, (CK_UTF8CHAR_PTR)H_SO_PIN,
			   strlen(H_SO_PIN));
	if (rv != CKR_OK)
		violation(&v, "SO login: %s", h_rv_name(rv));
	else
		m->f->C_Logout(sh);
	rv = m->f->C_Login(sh, CKU_USER, (CK_UTF8CHAR_PTR)H_USER_PIN,
			   strlen(H_USER_PIN));
	if (rv != CKR_OK) {
		/* Without the user, private objects cannot be checked;
		 * a token nobody can log in to is as good as lost. */
		h_note("VIOLATION: user login: %s", h_rv_name(rv));
		return VERIFY_TOKEN_LOST;
	}
	verify_objects(&v, m, sh);
	m->f->C_Logout(sh);
	m->f->C_CloseSession(sh);
	close(v.ack_fd);
	if (v.violations > 20)
		h_note("... %u violations in all", v.violations);
	h_note("verifier: %lu objects checked", v.objects);
	return v.violations == 0 ? 0 : 1;
}

/* ---- SQLite integrity ------------------------------------------------ */

static unsigned int db_checked;
static unsigned int db_bad;

static int check_db(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t len = strlen(path);
	const char *res;
	int rc;

	(void)st;
	(void)ftw;
	if (flag != FTW_F || len < 3 || strcmp(path + len - 3, ".db") != 0)
		return 0;
	db_checked++;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt,
					NULL);
	if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
		res = (const char *)sqlite3_column_text(stmt, 0);
		if (res == NULL || strcmp(res, "ok") != 0) {
			printf("# VIOLATION: %s: integrity_check: %s\n", path,
			       res ? res : "(null)");
			db_bad++;
		}
	} else {
		printf("# VIOLATION: %s: cannot check: %s\n", path,
		       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		db_bad++;
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return 0;
}

static bool check_dbs(const struct run *r)
{
	db_checked = 0;
	db_bad = 0;
	if (nftw(r->scratch.token_dir, check_db, 16, FTW_PHYS) != 0) {
		printf("# VIOLATION: cannot walk %s\n", r->scratch.token_dir);
		return false;
	}
	if (db_checked == 0) {
		printf("# VIOLATION: no *.db file under %s\n",
		       r->scratch.token_dir);
		return false;
	}
	return db_bad == 0;
}

/* ---- parent ---------------------------------------------------------- */

/* Kills the worker at a random moment. Most rounds start the clock when
 * the worker is logged in, so that the kill lands among writes; every
 * fourth round starts it at fork, so that some kills land in
 * C_Initialize, token open or login. */
static int round_kill(struct run *r, unsigned int *delay_ms)
{
	*delay_ms = 1 + (unsigned int)(rng_next(&r->rng) % 200);
	return h_kill_when_ready(r->module, worker_main, r, &r->ready_fd,
				 r->round % 4 != 3, *delay_ms,
				 WORKER_TIMEOUT_MS);
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s MODULE [-r ROUNDS] [-s SEED] [-k]\n", argv0);
	return 2;
}

int main(int argc, char **argv)
{
	struct run r = {0};
	struct h_results res;
	unsigned int rounds = ROUNDS_DEFAULT, passed = 0, delay = 0;
	unsigned long before_c, before_d;
	uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	bool keep = false, lost = false, ok;
	int opt, st, rc = 1;

	while ((opt = getopt(argc, argv, "r:s:k")) != -1) {
		if (opt == 'r')
			rounds = (unsigned int)strtoul(optarg, NULL, 10);
		else if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
		else if (opt == 'k')
			keep = true;
		else
			return usage(argv[0]);
	}
	if (optind != argc - 1 || rounds == 0)
		return usage(argv[0]);
	r.module = argv[optind];
	r.rng = seed ? seed : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A reader that goes away (| head) must not stop the cleanup. */
	signal(SIGPIPE, SIG_IGN);
	if (h_scratch_new(&r.scratch, r.module) != 0) {
		printf("Bail out! cannot make a scratch directory\n");
		return 1;
	}
	snprintf(r.ack_path, sizeof(r.ack_path), "%s/ack", r.scratch.dir);
	if (h_results_init(&res) != 0) {
		printf("Bail out! pipe\n");
		goto out_scratch;
	}
	printf("TAP version 13\n1..%u\n", rounds);
	printf("# module %s, scratch %s, seed 0x%016" PRIx64 "\n", r.module,
	       r.scratch.dir, seed);
	st = h_wait(h_spawn(r.module, h_token_setup_main, NULL), VERIFY_TIMEOUT_MS);
	if (st != 0 || journal_load(&r) != 0) {
		printf("Bail out! token setup failed (%d)\n", st);
		goto out_results;
	}
	for (r.round = 1; r.round <= rounds && !lost; r.round++) {
		before_c = r.j.creates;
		before_d = r.j.destroys;
		ok = true;
		st = round_kill(&r, &delay);
		if (st != 0) {
			printf("# worker ended by itself (status %d)\n", st);
			ok = false;
		}
		if (journal_load(&r) != 0) {
			printf("Bail out! cannot read the journal\n");
			goto out_results;
		}
		st = h_wait(h_spawn(r.module, verify_main, &r),
			    VERIFY_TIMEOUT_MS);
		if (st == VERIFY_TOKEN_LOST)
			lost = true;
		if (st != 0)
			ok = false;
		if (journal_load(&r) != 0) {
			printf("Bail out! cannot read the journal\n");
			goto out_results;
		}
		if (!r.scratch.softhsm && !lost && !check_dbs(&r))
			ok = false;
		if (ok)
			passed++;
		printf("%s %u - round %u: killed after %u ms%s; "
		       "%lu creates, %lu destroys acknowledged\n",
		       ok ? "ok" : "not ok", r.round, r.round, delay,
		       r.round % 4 == 3 ? " from fork" : " once ready",
		       r.j.creates - before_c, r.j.destroys - before_d);
	}
	if (lost)
		printf("Bail out! token lost in round %u\n", r.round - 1);
	printf("# summary: %u of %u rounds passed%s; %lu creates and %lu "
	       "destroys acknowledged; interrupted calls settled as done "
	       "%lu, not done %lu\n",
	       passed, r.round - 1, lost ? " (token lost)" : "", r.j.creates,
	       r.j.destroys, r.j.settled_there, r.j.settled_gone);
	rc = passed == rounds ? 0 : 1;
out_results:
	h_results_close(&res);
out_scratch:
	if (keep)
		printf("# kept %s\n", r.scratch.dir);
	else
		h_scratch_remove(&r.scratch);
	free(r.j.objs);
	return rc;
}
