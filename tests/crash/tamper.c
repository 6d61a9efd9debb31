/*
 * tamper.c - a token record changed behind the module's back is refused,
 * never used.
 *
 * usage: tamper MODULE
 *
 * For each case a fresh token: a child process logs in and creates three
 * private and one public token data object with known values, then the
 * module is finalized. With no process holding the module, the parent opens
 * the token's database with SQLite directly (docs/storage.md, "Record
 * format") and changes records:
 *   1. one byte of a private object's sealed ciphertext, with the record
 *      checksum recomputed, so that only the AEAD tag can catch it;
 *   2. one byte of CKA_VALUE in a public object's clear part, checksum left
 *      as it was;
 *   3. the records of two private objects swapped: each is a valid sealed
 *      record under the wrong id, which the AEAD binds.
 * A fresh child then loads the module and logs in: the tampered handles
 * must be refused, an empty-template search must list exactly the
 * untampered objects, those must read back with their original values,
 * and the module must have logged an "integrity" line.
 *
 * coffer only: the cases edit coffer's on-disk format. Prints TAP.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "harness.h"

#define VALUE_LEN 64
#define SUM_LEN 8    /* truncated SHA-256 at the end of a record */
#define NONCE_LEN 12 /* cf_vault_seal: nonce | ciphertext | tag */
#define TAG_LEN 16
#define MAX_FOUND 16
#define TIMEOUT_MS 60000

enum obj { PRIV_A, PRIV_B, PRIV_C, PUB, NOBJ };

static const struct obj_def {
	const char *name;
	bool priv;
} objs[NOBJ] = {
    [PRIV_A] = {"priv-a", true},
    [PRIV_B] = {"priv-b", true},
    [PRIV_C] = {"priv-c", true},
    [PUB] = {"pub", false},
};

struct tamper_case {
	const char *what;
	bool (*tamper)(sqlite3 *db, const CK_OBJECT_HANDLE *h);
	bool tampered[NOBJ];
};

struct setup_arg {
	int fd; /* where the child writes its NOBJ handles */
};

struct verify_arg {
	const struct tamper_case *c;
	CK_OBJECT_HANDLE h[NOBJ];
};

static void value_for(const char *name, unsigned char out[VALUE_LEN])
{
	size_t i, len = strlen(name);

	/* Distinct per object, so a mix-up of two objects shows. */
	for (i = 0; i < VALUE_LEN; i++)
		out[i] = (unsigned char)(name[i % len] * 31 + i);
}

static CK_RV open_login(struct h_module *m, CK_SESSION_HANDLE *sh)
{
	CK_SLOT_ID slot;
	CK_RV rv;

	rv = h_find_token(m, H_TOKEN_LABEL, &slot);
	if (rv != CKR_OK)
		return rv;
	rv = m->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				 NULL, NULL, sh);
	if (rv != CKR_OK)
		return rv;
	return m->f->C_Login(*sh, CKU_USER, (CK_UTF8CHAR_PTR)H_USER_PIN,
			     strlen(H_USER_PIN));
}

/* ---- child: a fresh token with known objects --------------------------- */

static int setup_main(struct h_module *m, void *arg)
{
	const struct setup_arg *a = arg;
	CK_OBJECT_HANDLE h[NOBJ];
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE, priv;
	unsigned char value[VALUE_LEN];
	CK_SESSION_HANDLE sh;
	size_t i;
	CK_RV rv;

	rv = h_token_setup(m);
	if (!h_report(rv == CKR_OK, "setup: token initialised: %s",
		      h_rv_name(rv)))
		return 1;
	rv = open_login(m, &sh);
	if (!h_report(rv == CKR_OK, "setup: user logs in: %s", h_rv_name(rv)))
		return 1;
	for (i = 0; i < NOBJ; i++) {
		priv = objs[i].priv ? CK_TRUE : CK_FALSE;
		value_for(objs[i].name, value);
		CK_ATTRIBUTE tmpl[] = {
		    {CKA_CLASS, &cls, sizeof(cls)},
		    {CKA_TOKEN, &yes, sizeof(yes)},
		    {CKA_PRIVATE, &priv, sizeof(priv)},
		    {CKA_APPLICATION, (void *)objs[i].name,
		     strlen(objs[i].name)},
		    {CKA_VALUE, value, VALUE_LEN},
		};

		rv = m->f->C_CreateObject(sh, tmpl, 5, &h[i]);
		if (!h_report(rv == CKR_OK, "setup: creates %s object %s: %s",
			      objs[i].priv ? "private" : "public", objs[i].name,
			      h_rv_name(rv)))
			return 1;
	}
	m->f->C_Logout(sh);
	m->f->C_CloseSession(sh);
	if (write(a->fd, h, sizeof(h)) != (ssize_t)sizeof(h))
		return 1;
	return 0;
}

/* ---- parent: editing the database -------------------------------------- */

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

struct layout {
	size_t clear_off, clear_len;
	size_t sealed_off, sealed_len;
};

/* Splits a record as docs/storage.md describes it; false when it does not
 * have that shape (the test's idea of the format is out of date). */
static bool record_layout(const unsigned char *r, size_t len, struct layout *l)
{
	size_t off = 5, body;

	if (len < 4 + 1 + 4 + 4 + SUM_LEN || memcmp(r, "CFR1", 4) != 0)
		return false;
	body = len - SUM_LEN;
	l->clear_len = get_be32(r + off);
	off += 4;
	if (l->clear_len > body - off)
		return false;
	l->clear_off = off;
	off += l->clear_len;
	if (4 > body - off)
		return false;
	l->sealed_len = get_be32(r + off);
	off += 4;
	if (l->sealed_len != body - off)
		return false;
	l->sealed_off = off;
	return true;
}

static bool record_checksum(unsigned char *r, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(r, len - SUM_LEN, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < SUM_LEN)
		return false;
	memcpy(r + len - SUM_LEN, md, SUM_LEN);
	return true;
}

/* *rec is malloc'd. */
static bool record_get(sqlite3 *db, CK_OBJECT_HANDLE id, unsigned char **rec,
		       size_t *len)
{
	sqlite3_stmt *st = NULL;
	const void *blob;
	int n;
	bool ok = false;

	*rec = NULL;
	*len = 0;
	if (sqlite3_prepare_v2(db, "SELECT record FROM objects WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto out;
	blob = sqlite3_column_blob(st, 0);
	n = sqlite3_column_bytes(st, 0);
	if (blob == NULL || n <= 0)
		goto out;
	*rec = malloc((size_t)n);
	if (*rec == NULL)
		goto out;
	memcpy(*rec, blob, (size_t)n);
	*len = (size_t)n;
	ok = true;
out:
	if (!ok)
		h_note("reading record %lu: %s", (unsigned long)id,
		       sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return ok;
}

static bool record_put(sqlite3 *db, CK_OBJECT_HANDLE id,
		       const unsigned char *rec, size_t len)
{
	sqlite3_stmt *st = NULL;
	bool ok = false;

	if (sqlite3_prepare_v2(db, "UPDATE objects SET record = ? WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_bind_blob(st, 1, rec, (int)len, SQLITE_TRANSIENT) !=
		SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto out;
	ok = sqlite3_changes(db) == 1;
out:
	if (!ok)
		h_note("writing record %lu: %s", (unsigned long)id,
		       sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return ok;
}

/* Case 1: a byte in the middle of the ciphertext, checksum made right
 * again, so the record passes every check but the GCM tag. */
static bool tamper_sealed(sqlite3 *db, const CK_OBJECT_HANDLE *h)
{
	unsigned char *rec, sum[SUM_LEN];
	struct layout l;
	size_t len, at = 0;
	bool ok = false;

	if (!record_get(db, h[PRIV_A], &rec, &len))
		return h_report(false, "read %s's record", objs[PRIV_A].name);
	if (!record_layout(rec, len, &l) ||
	    l.sealed_len <= NONCE_LEN + TAG_LEN) {
		h_report(false, "%s's record has a sealed part",
			 objs[PRIV_A].name);
		goto out;
	}
	/* Our checksum must agree with the module's before the flip, or the
	 * rewritten one would be caught instead of the tag. */
	memcpy(sum, rec + len - SUM_LEN, SUM_LEN);
	if (!h_report(record_checksum(rec, len) &&
			  memcmp(sum, rec + len - SUM_LEN, SUM_LEN) == 0,
		      "the test computes %s's record checksum as the module "
		      "does",
		      objs[PRIV_A].name))
		goto out;
	at =
	    l.sealed_off + NONCE_LEN + (l.sealed_len - NONCE_LEN - TAG_LEN) / 2;
	rec[at] ^= 0x01;
	ok = record_checksum(rec, len) && record_put(db, h[PRIV_A], rec, len);
	h_report(ok,
		 "flip byte %zu of %s's record (ciphertext, %zu sealed "
		 "bytes) and rewrite its checksum",
		 at, objs[PRIV_A].name, l.sealed_len);
out:
	free(rec);
	return ok;
}

/* Finds the value of attribute type in an attribute encoding
 * ("count u32, entries type u64 | len u32 | value"). */
static bool attr_find(const unsigned char *p, size_t len, uint64_t type,
		      size_t *off, size_t *vlen)
{
	size_t pos = 4;
	uint32_t count, i;

	if (len < 4)
		return false;
	count = get_be32(p);
	for (i = 0; i < count; i++) {
		uint64_t t;
		uint32_t n;

		if (12 > len - pos)
			return false;
		t = (uint64_t)get_be32(p + pos) << 32 | get_be32(p + pos + 4);
		n = get_be32(p + pos + 8);
		pos += 12;
		if (n > len - pos)
			return false;
		if (t == type) {
			*off = pos;
			*vlen = n;
			return true;
		}
		pos += n;
	}
	return false;
}

/* Case 2: a byte of CKA_VALUE in the public object's clear part. Nothing
 * else stops the module from returning the changed value but the record
 * checksum, which stays as it was. */
static bool tamper_clear(sqlite3 *db, const CK_OBJECT_HANDLE *h)
{
	unsigned char *rec;
	struct layout l;
	size_t len, off = 0, vlen = 0, at;
	bool ok = false;

	if (!record_get(db, h[PUB], &rec, &len))
		return h_report(false, "read %s's record", objs[PUB].name);
	if (!record_layout(rec, len, &l) ||
	    !attr_find(rec + l.clear_off, l.clear_len, CKA_VALUE, &off,
		       &vlen) ||
	    vlen != VALUE_LEN) {
		h_report(false, "%s's record holds CKA_VALUE in clear",
			 objs[PUB].name);
		goto out;
	}
	at = l.clear_off + off;
	rec[at] ^= 0x01;
	ok = record_put(db, h[PUB], rec, len);
	h_report(ok,
		 "flip byte %zu of %s's record (first byte of CKA_VALUE in "
		 "clear), checksum unchanged",
		 at, objs[PUB].name);
out:
	free(rec);
	return ok;
}

/* Case 3: two intact private records under each other's id. */
static bool tamper_swap(sqlite3 *db, const CK_OBJECT_HANDLE *h)
{
	unsigned char *a = NULL, *b = NULL;
	size_t alen, blen;
	bool ok = false;

	if (!record_get(db, h[PRIV_A], &a, &alen) ||
	    !record_get(db, h[PRIV_B], &b, &blen))
		goto out;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	ok = record_put(db, h[PRIV_A], b, blen) &&
	     record_put(db, h[PRIV_B], a, alen);
	if (sqlite3_exec(db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) !=
	    SQLITE_OK)
		ok = false;
out:
	h_report(ok, "swap the records of %s (id %lu) and %s (id %lu)",
		 objs[PRIV_A].name, (unsigned long)h[PRIV_A], objs[PRIV_B].name,
		 (unsigned long)h[PRIV_B]);
	free(a);
	free(b);
	return ok;
}

/* The one *.db file under the token directory. */
static bool find_db(const struct h_scratch *s, char *path, size_t pathlen)
{
	DIR *d = opendir(s->token_dir);
	struct dirent *e;
	int found = 0;

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n < 4 || strcmp(e->d_name + n - 3, ".db") != 0)
			continue;
		found++;
		snprintf(path, pathlen, "%s/%s", s->token_dir, e->d_name);
	}
	closedir(d);
	return found == 1;
}

static bool tamper_db(const struct h_scratch *s, const struct tamper_case *c,
		      const CK_OBJECT_HANDLE *h)
{
	char path[1024];
	sqlite3 *db = NULL;
	bool ok;

	if (!find_db(s, path, sizeof(path)))
		return h_report(false, "exactly one .db file in %s",
				s->token_dir);
	/* Never CREATE: the token's file must be there. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		h_report(false, "open %s: %s", path,
			 db ? sqlite3_errmsg(db) : "no memory");
		sqlite3_close(db);
		return false;
	}
	sqlite3_busy_timeout(db, 5000);
	ok = c->tamper(db, h);
	if (sqlite3_close(db) != SQLITE_OK)
		ok = h_report(false, "close %s", path);
	return ok;
}

/* ---- child: what the module makes of it -------------------------------- */

static bool is_refusal(CK_RV rv)
{
	/* CKR_DEVICE_ERROR (the record failed its check) and
	 * CKR_OBJECT_HANDLE_INVALID (the object is not there for the caller)
	 * both mean refused: no attribute of the record was handed out. */
	return rv == CKR_DEVICE_ERROR || rv == CKR_OBJECT_HANDLE_INVALID;
}

static void check_refused(struct h_module *m, CK_SESSION_HANDLE sh,
			  const struct verify_arg *a, const char *when)
{
	unsigned char value[VALUE_LEN + 16];
	char app[32];
	size_t i;
	CK_RV rv;

	for (i = 0; i < NOBJ; i++) {
		CK_ATTRIBUTE attrs[] = {
		    {CKA_VALUE, value, sizeof(value)},
		    {CKA_APPLICATION, app, sizeof(app)},
		};

		if (!a->c->tampered[i])
			continue;
		rv = m->f->C_GetAttributeValue(sh, a->h[i], attrs, 2);
		h_report(is_refusal(rv),
			 "%s: C_GetAttributeValue on tampered %s (handle "
			 "%lu) %s is refused: %s",
			 a->c->what, objs[i].name, (unsigned long)a->h[i], when,
			 h_rv_name(rv));
	}
}

static void check_find(struct h_module *m, CK_SESSION_HANDLE sh,
		       const struct verify_arg *a)
{
	CK_OBJECT_HANDLE found[MAX_FOUND];
	CK_ULONG n = 0, i;
	size_t j, want = 0, listed = 0, bad = 0;
	CK_RV rv;

	rv = m->f->C_FindObjectsInit(sh, NULL, 0);
	if (rv == CKR_OK) {
		rv = m->f->C_FindObjects(sh, found, MAX_FOUND, &n);
		m->f->C_FindObjectsFinal(sh);
	}
	for (j = 0; j < NOBJ; j++) {
		bool seen = false;

		for (i = 0; rv == CKR_OK && i < n; i++)
			seen = seen || found[i] == a->h[j];
		if (a->c->tampered[j]) {
			bad += seen;
		} else {
			want++;
			listed += seen;
		}
	}
	h_report(rv == CKR_OK && bad == 0 && listed == want && n == want,
		 "%s: an empty-template search lists exactly the %zu "
		 "untampered objects: %s, %lu found, %zu tampered among them",
		 a->c->what, want, h_rv_name(rv), (unsigned long)n, bad);
}

static void check_intact(struct h_module *m, CK_SESSION_HANDLE sh,
			 const struct verify_arg *a)
{
	unsigned char value[VALUE_LEN + 16], want[VALUE_LEN];
	char app[32];
	CK_BBOOL priv;
	size_t i;
	CK_RV rv;

	for (i = 0; i < NOBJ; i++) {
		CK_ATTRIBUTE attrs[] = {
		    {CKA_VALUE, value, sizeof(value)},
		    {CKA_APPLICATION, app, sizeof(app) - 1},
		    {CKA_PRIVATE, &priv, sizeof(priv)},
		};

		if (a->c->tampered[i])
			continue;
		value_for(objs[i].name, want);
		priv = CK_FALSE;
		rv = m->f->C_GetAttributeValue(sh, a->h[i], attrs, 3);
		if (rv == CKR_OK)
			app[attrs[1].ulValueLen] = '\0';
		else
			app[0] = '\0';
		h_report(rv == CKR_OK && attrs[0].ulValueLen == VALUE_LEN &&
			     memcmp(value, want, VALUE_LEN) == 0 &&
			     strcmp(app, objs[i].name) == 0 &&
			     priv == (objs[i].priv ? CK_TRUE : CK_FALSE),
			 "%s: untampered %s (handle %lu) reads back with its "
			 "value, name and CKA_PRIVATE: %s",
			 a->c->what, objs[i].name, (unsigned long)a->h[i],
			 h_rv_name(rv));
	}
}

static int verify_main(struct h_module *m, void *arg)
{
	const struct verify_arg *a = arg;
	CK_SESSION_HANDLE sh;
	CK_RV rv;

	rv = open_login(m, &sh);
	if (!h_report(rv == CKR_OK, "%s: user logs in after tampering: %s",
		      a->c->what, h_rv_name(rv)))
		return 1;
	check_refused(m, sh, a, "before any search");
	check_find(m, sh, a);
	/* A refusal must not be one-shot: the search read the records too. */
	check_refused(m, sh, a, "after the search");
	check_intact(m, sh, a);
	m->f->C_Logout(sh);
	m->f->C_CloseSession(sh);
	return 0;
}

/* ---- parent ------------------------------------------------------------- */

static bool append_log_dest(const struct h_scratch *s, char *log, size_t loglen)
{
	const char *conf = getenv("COFFER_CONF");
	FILE *f;
	bool ok;

	snprintf(log, loglen, "%s/coffer.log", s->dir);
	if (conf == NULL)
		return false;
	f = fopen(conf, "ae");
	if (f == NULL)
		return false;
	ok = fprintf(f, "log_dest = %s\n", log) > 0;
	if (fclose(f) != 0)
		ok = false;
	return ok;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Whether the log has a line with "integrity" after offset from. */
static bool log_has_integrity(const char *path, long from, char *line,
			      size_t linelen)
{
	FILE *f = fopen(path, "re");
	bool found = false;

	line[0] = '\0';
	if (f == NULL)
		return false;
	if (fseek(f, from, SEEK_SET) == 0)
		while (!found && fgets(line, (int)linelen, f) != NULL)
			found = strstr(line, "integrity") != NULL;
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	return found;
}

static bool run_case(const char *module, const struct tamper_case *c)
{
	struct h_scratch s;
	struct setup_arg sa;
	struct verify_arg va;
	char log[700], line[512];
	int fds[2], st;
	long log_from;
	bool ok = false;
	ssize_t n;

	h_note("case: %s", c->what);
	if (h_scratch_new(&s, module) != 0)
		return h_report(false, "%s: scratch directory", c->what);
	if (!append_log_dest(&s, log, sizeof(log))) {
		h_report(false, "%s: log_dest in coffer.conf", c->what);
		goto out_scratch;
	}
	if (pipe(fds) != 0) {
		h_report(false, "%s: pipe", c->what);
		goto out_scratch;
	}
	sa.fd = fds[1];
	st = h_wait(h_spawn(module, setup_main, &sa), TIMEOUT_MS);
	close(fds[1]);
	memset(&va, 0, sizeof(va));
	va.c = c;
	n = read(fds[0], va.h, sizeof(va.h));
	close(fds[0]);
	if (!h_report(st == 0 && n == (ssize_t)sizeof(va.h),
		      "%s: setup child exits cleanly (%d) with the handles",
		      c->what, st))
		goto out_scratch;
	/* The module is loaded nowhere now. */
	if (!tamper_db(&s, c, va.h))
		goto out_scratch;
	log_from = file_size(log);
	st = h_wait(h_spawn(module, verify_main, &va), TIMEOUT_MS);
	h_report(st == 0, "%s: checking child exits cleanly (%d)", c->what, st);
	ok = h_report(log_has_integrity(log, log_from, line, sizeof(line)),
		      "%s: the module logged an integrity failure", c->what);
	if (ok)
		h_note("log: %s", line);
	ok = ok && st == 0;
out_scratch:
	h_scratch_remove(&s);
	return ok;
}

static const struct tamper_case cases[] = {
    {"sealed byte, checksum fixed", tamper_sealed, {[PRIV_A] = true}},
    {"clear byte, checksum stale", tamper_clear, {[PUB] = true}},
    {"private records swapped",
     tamper_swap,
     {[PRIV_A] = true, [PRIV_B] = true}},
};

int main(int argc, char **argv)
{
	struct h_results res;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MODULE\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A reader that goes away (| head) must not stop the cleanup. */
	signal(SIGPIPE, SIG_IGN);
	printf("TAP version 13\n");
	if (strstr(argv[1], "softhsm") != NULL) {
		printf("1..0 # SKIP edits coffer's own record format\n");
		return 0;
	}
	if (h_results_init(&res) != 0) {
		printf("Bail out! pipe\n");
		return 1;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(argv[1], &cases[i]);
		h_results_drain(&res);
	}
	printf("1..%u\n", res.count);
	h_results_close(&res);
	return res.failed == 0 && res.count > 0 ? 0 : 1;
}
