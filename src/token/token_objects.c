/*
 * token_objects.c - where objects live: token objects as sealed records in
 * the store (cached in memory once read), session objects in memory only.
 *
 * Record format (docs/storage.md, "Record format"):
 *   "CFR1" | flags u8 (bit 0: private object)
 *   | u32 clear_len | clear        attributes readable without the token key
 *   | u32 sealed_len | sealed      cf_vault_seal(id, ad = every byte before
 *                                 sealed_len) of lv(private attrs) ||
 *                                 lv(key material); absent (len 0) when the
 *                                 object has neither
 *   | sha256(all of the above)[0..8]   detects a damaged record early
 * A private object keeps nothing in clear. Key material is always sealed.
 *
 * Index keys (store.h) let a find read only the objects that can match:
 * keyed hashes of CKA_CLASS, CKA_ID, CKA_LABEL, CKA_SUBJECT, CKA_ISSUER with
 * CKA_SERIAL_NUMBER, and CKA_VALUE of certificates and data objects, keyed
 * with the token's public index key for public objects and with the
 * vault's index key (only known after login) for private ones. Key material
 * is never indexed. A template of indexed attributes only is answered from
 * the index without reading a record (find_by_index).
 */
#include "token/core.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/log.h"
#include "token/rules.h"

#define REC_MAGIC "CFR1"
#define REC_PRIVATE 0x01
#define REC_SUM_LEN 8
#define CACHE_MAX 20000 /* cached token objects before the cache is reset */
#define MAX_INDEX_KEYS 8
/* A pseudo attribute type for the issuer + serial number pair. */
#define INDEX_ISSUER_SERIAL 0xC0FF0001UL

static bool has_secret(const struct cf_object *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->attrs[i].secret)
			return true;
	return false;
}

/* SHA-256 of the private library context, fetched once and kept (never
 * freed, like the context itself): every record read is checksummed, and a
 * fetch per record costs a locked method-store lookup. Thread-safe: a
 * thread that loses the race frees its own copy. */
static const EVP_MD *sha256_md(void)
{
	static _Atomic(EVP_MD *) cached;
	EVP_MD *md = atomic_load(&cached);
	EVP_MD *expected = NULL;

	if (md != NULL)
		return md;
	md = EVP_MD_fetch(cf_libctx(), "SHA256", NULL);
	if (md == NULL)
		return NULL;
	if (!atomic_compare_exchange_strong(&cached, &expected, md)) {
		EVP_MD_free(md);
		md = expected;
	}
	return md;
}

static bool checksum(const uint8_t *p, size_t len, uint8_t out[REC_SUM_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	const EVP_MD *sha = sha256_md();
	bool ok = sha != NULL &&
		  EVP_Digest(p, len, md, NULL, sha, NULL) == 1;
	if (ok)
		memcpy(out, md, REC_SUM_LEN);
	return ok;
}

/* Builds the record of o (whose id is set). */
static CK_RV record_build(struct cf_token *t, const struct cf_object *o,
			  uint8_t **rec, size_t *rec_len)
{
	struct cf_wbuf out, pub, sec;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	uint8_t *p;
	CK_RV rv;
	bool need_seal = o->priv || has_secret(o);

	*rec = NULL;
	cf_wbuf_init(&out, CF_STORE_RECORD_MAX, false);
	cf_wbuf_init(&pub, CF_STORE_RECORD_MAX, o->priv);
	cf_wbuf_init(&sec, CF_STORE_RECORD_MAX, true);
	if (need_seal && !t->have_key) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	rv = cf_object_encode(o, false, &pub);
	if (rv == CKR_OK)
		rv = cf_object_encode(o, true, &sec);
	if (rv != CKR_OK)
		goto out;
	cf_wbuf_put(&out, REC_MAGIC, 4);
	cf_wbuf_put_u8(&out, o->priv ? REC_PRIVATE : 0);
	if (o->priv)
		cf_wbuf_put_lv(&out, NULL, 0);
	else
		cf_wbuf_put_lv(&out, pub.data, pub.len);
	if (out.failed) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	if (need_seal) {
		struct cf_wbuf pt;
		cf_wbuf_init(&pt, CF_STORE_RECORD_MAX, true);
		if (o->priv)
			cf_wbuf_put_lv(&pt, pub.data, pub.len);
		else
			cf_wbuf_put_lv(&pt, NULL, 0);
		cf_wbuf_put_lv(&pt, sec.data, sec.len);
		if (pt.failed) {
			cf_wbuf_clear(&pt);
			rv = CKR_HOST_MEMORY;
			goto out;
		}
		rv = cf_vault_seal(&t->vault, o->id, out.data, out.len,
				   pt.data, pt.len, &sealed, &sealed_len);
		cf_wbuf_clear(&pt);
		if (rv != CKR_OK)
			goto out;
	}
	cf_wbuf_put_lv(&out, sealed, sealed_len);
	p = cf_wbuf_reserve(&out, REC_SUM_LEN);
	if (p == NULL) {
		rv = out.len >= CF_STORE_RECORD_MAX - REC_SUM_LEN
			     ? CKR_DEVICE_MEMORY
			     : CKR_HOST_MEMORY;
		goto out;
	}
	if (!checksum(out.data, out.len - REC_SUM_LEN, p)) {
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	*rec = cf_wbuf_steal(&out, rec_len);
	rv = *rec != NULL ? CKR_OK : CKR_HOST_MEMORY;
out:
	free(sealed);
	cf_wbuf_clear(&sec);
	cf_wbuf_clear(&pub);
	cf_wbuf_clear(&out);
	return rv;
}

/* Parses a record into a new object. CKR_OBJECT_HANDLE_INVALID for a
 * private object while no user is logged in (it is invisible then). */
static CK_RV record_parse(struct cf_token *t, uint64_t id, const uint8_t *rec,
			  size_t len, struct cf_object **out)
{
	struct cf_rbuf r;
	const uint8_t *magic, *clear, *sealed;
	size_t clear_len, sealed_len;
	uint8_t flags, want[REC_SUM_LEN];
	struct cf_object *o = NULL;
	struct cf_secret pt = {0};
	size_t ad_len;
	CK_RV rv = CKR_DEVICE_ERROR;

	*out = NULL;
	if (len < REC_SUM_LEN)
		goto out_bad;
	if (!checksum(rec, len - REC_SUM_LEN, want) ||
	    CRYPTO_memcmp(want, rec + len - REC_SUM_LEN, REC_SUM_LEN) != 0)
		goto out_bad;
	cf_rbuf_init(&r, rec, len - REC_SUM_LEN);
	if (!cf_rbuf_ref(&r, &magic, 4) || memcmp(magic, REC_MAGIC, 4) != 0 ||
	    !cf_rbuf_get_u8(&r, &flags) || (flags & ~REC_PRIVATE) != 0 ||
	    !cf_rbuf_ref_lv(&r, &clear, &clear_len, CF_STORE_RECORD_MAX))
		goto out_bad;
	ad_len = r.off;
	if (!cf_rbuf_ref_lv(&r, &sealed, &sealed_len, CF_STORE_RECORD_MAX) ||
	    cf_rbuf_left(&r) != 0)
		goto out_bad;
	if ((flags & REC_PRIVATE) && (t->login != CKU_USER || !t->have_key))
		return CKR_OBJECT_HANDLE_INVALID;
	o = cf_object_new();
	if (o == NULL)
		return CKR_HOST_MEMORY;
	if (clear_len > 0) {
		rv = cf_object_decode(o, clear, clear_len);
		if (rv != CKR_OK)
			goto out_bad;
	}
	/* Without the token key a public object is usable except for its
	 * key material, which stays sealed until a login. */
	if (sealed_len > 0 && t->have_key) {
		const uint8_t *a, *b;
		size_t alen, blen;

		rv = cf_vault_open(&t->vault, id, rec, ad_len, sealed,
				   sealed_len, &pt);
		if (rv != CKR_OK)
			goto out_bad;
		cf_rbuf_init(&r, pt.data, pt.len);
		if (!cf_rbuf_ref_lv(&r, &a, &alen, pt.len) ||
		    !cf_rbuf_ref_lv(&r, &b, &blen, pt.len) ||
		    cf_rbuf_left(&r) != 0)
			goto out_bad;
		rv = alen > 0 ? cf_object_decode(o, a, alen) : CKR_OK;
		if (rv == CKR_OK && blen > 0)
			rv = cf_object_decode(o, b, blen);
		if (rv != CKR_OK)
			goto out_bad;
	}
	if (o->priv != ((flags & REC_PRIVATE) != 0) || o->token != true)
		goto out_bad;
	cf_secret_clear(&pt);
	o->id = id;
	o->handle = (CK_OBJECT_HANDLE)id;
	*out = o;
	return CKR_OK;
out_bad:
	cf_error("token %.16s: object %llu failed its integrity check; "
		 "refused",
		 t->serial, (unsigned long long)id);
	cf_secret_clear(&pt);
	cf_object_unref(o);
	return CKR_DEVICE_ERROR;
}

static void index_hash(const uint8_t *key, CK_ATTRIBUTE_TYPE type,
		       const void *v, size_t len, struct cf_store_key *out)
{
	cf_vault_index_hash(key, type, v, len, out);
}

static bool issuer_serial(const struct cf_attr *is, const struct cf_attr *sn,
			  struct cf_wbuf *b)
{
	cf_wbuf_put_lv(b, is->value, is->len);
	cf_wbuf_put_lv(b, sn->value, sn->len);
	return !b->failed;
}

static const CK_ATTRIBUTE_TYPE indexed[] = {CKA_CLASS, CKA_ID, CKA_LABEL,
					    CKA_SUBJECT};

static bool value_indexed(CK_OBJECT_CLASS cls)
{
	return cls == CKO_CERTIFICATE || cls == CKO_DATA;
}

/* The index keys object o is filed under. */
static size_t index_keys(struct cf_token *t, const struct cf_object *o,
			 struct cf_store_key *keys)
{
	const uint8_t *k = o->priv ? t->vault.index_key.data
				   : t->public_index_key;
	const struct cf_attr *a, *b;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++) {
		a = cf_object_attr(o, indexed[i]);
		if (a != NULL)
			index_hash(k, a->type, a->value, a->len, &keys[n++]);
	}
	a = cf_object_attr(o, CKA_VALUE);
	if (a != NULL && value_indexed(o->cls) && !a->secret)
		index_hash(k, CKA_VALUE, a->value, a->len, &keys[n++]);
	a = cf_object_attr(o, CKA_ISSUER);
	b = cf_object_attr(o, CKA_SERIAL_NUMBER);
	if (a != NULL && b != NULL) {
		struct cf_wbuf w;
		cf_wbuf_init(&w, 1u << 20, false);
		if (issuer_serial(a, b, &w))
			index_hash(k, INDEX_ISSUER_SERIAL, w.data, w.len,
				   &keys[n++]);
		cf_wbuf_clear(&w);
	}
	return n;
}

void cf_objects_cache_clear_locked(struct cf_token *t)
{
	t->objects_gen++;
	for (size_t i = 0; i < t->cache.cap; i++)
		if (t->cache.slots[i].key != 0)
			cf_object_unref(t->cache.slots[i].val);
	cf_map_clear(&t->cache);
}

static void cache_put(struct cf_token *t, struct cf_object *o)
{
	struct cf_object *old;

	if (t->cache.n >= CACHE_MAX)
		cf_objects_cache_clear_locked(t);
	old = cf_map_remove(&t->cache, o->id);
	cf_object_unref(old);
	if (cf_map_put(&t->cache, o->id, o) == 0)
		cf_object_ref(o);
}

CK_RV cf_objects_get_locked(struct cf_token *t, CK_OBJECT_HANDLE h,
			    struct cf_object **out)
{
	struct cf_object *o;
	uint8_t *rec = NULL;
	size_t len = 0;
	uint64_t version = 0;
	CK_RV rv;
	int rc;

	*out = NULL;
	if (h == CK_INVALID_HANDLE)
		return CKR_OBJECT_HANDLE_INVALID;
	if (h >= CF_SESSION_OBJECT_BASE) {
		o = cf_map_get(&t->session_objects, h);
		if (o == NULL || !cf_token_user_visible_locked(t, o))
			return CKR_OBJECT_HANDLE_INVALID;
		*out = cf_object_ref(o);
		return CKR_OK;
	}
	if (!t->initialized)
		return CKR_OBJECT_HANDLE_INVALID;
	o = cf_map_get(&t->cache, h);
	if (o != NULL) {
		if (!cf_token_user_visible_locked(t, o))
			return CKR_OBJECT_HANDLE_INVALID;
		*out = cf_object_ref(o);
		return CKR_OK;
	}
	rc = cf_store_object_get(t->store, h, &rec, &len, &version);
	if (rc == -ENOENT)
		return CKR_OBJECT_HANDLE_INVALID;
	if (rc != 0)
		return cf_store_rv(rc);
	rv = record_parse(t, h, rec, len, &o);
	free(rec);
	if (rv != CKR_OK)
		return rv;
	o->version = version;
	cache_put(t, o);
	*out = o; /* the reference from cf_object_new */
	return CKR_OK;
}

bool cf_objects_present_locked(struct cf_token *t, CK_OBJECT_HANDLE h)
{
	struct cf_object *o;
	uint64_t version;

	/* A logged-in user sees every object, so only existence matters,
	 * and the store answers that without reading the record; anyone
	 * else must have the record read, since its private flag decides. */
	if (h != CK_INVALID_HANDLE && h < CF_SESSION_OBJECT_BASE &&
	    t->initialized && t->login == CKU_USER && t->have_key) {
		if (cf_map_get(&t->cache, h) != NULL)
			return true;
		return cf_store_object_version(t->store, h, &version) == 0;
	}
	if (cf_objects_get_locked(t, h, &o) != CKR_OK)
		return false;
	cf_object_unref(o);
	return true;
}

/* Writes token object o's record inside the caller's transaction; a
 * fresh o gets its id here. */
static CK_RV store_write(struct cf_token *t, struct cf_object *o, bool fresh)
{
	struct cf_store_key keys[MAX_INDEX_KEYS];
	uint8_t *rec = NULL;
	size_t rec_len = 0, nkeys;
	uint64_t id;
	CK_RV rv;

	if ((o->priv || has_secret(o)) && !t->have_key)
		return CKR_USER_NOT_LOGGED_IN;
	if (fresh) {
		rv = cf_store_rv(cf_store_object_new_id(t->store, &id));
		if (rv != CKR_OK)
			return rv;
		o->id = id;
	}
	rv = record_build(t, o, &rec, &rec_len);
	if (rv != CKR_OK)
		return rv;
	nkeys = index_keys(t, o, keys);
	rv = cf_store_rv(cf_store_object_put(t->store, o->id, rec, rec_len,
					     keys, nkeys));
	free(rec);
	return rv;
}

/* After the commit that wrote o: its version, for the cache. */
static void written(struct cf_token *t, struct cf_object *o)
{
	if (cf_store_object_version(t->store, o->id, &o->version) != 0)
		o->version = 0;
}

/* Writes token objects v[0..n) in one commit: all or none of them. */
static CK_RV store_put(struct cf_token *t, struct cf_object **v, size_t n,
		       bool fresh)
{
	CK_RV rv = cf_store_rv(cf_store_begin(t->store));

	if (rv != CKR_OK)
		return rv;
	for (size_t i = 0; i < n && rv == CKR_OK; i++)
		rv = store_write(t, v[i], fresh);
	if (rv == CKR_OK)
		rv = cf_store_rv(cf_store_commit(t->store));
	if (rv != CKR_OK) {
		cf_store_rollback(t->store);
		for (size_t i = 0; i < n && fresh; i++)
			v[i]->id = 0;
		return rv;
	}
	cf_token_mark_seen_locked(t);
	for (size_t i = 0; i < n; i++)
		written(t, v[i]);
	return CKR_OK;
}

static CK_RV add_session_object(struct cf_token *t, struct cf_object *o,
				CK_SESSION_HANDLE owner)
{
	if (t->next_session_object == ~(CK_OBJECT_HANDLE)0)
		return CKR_DEVICE_MEMORY;
	o->handle = ++t->next_session_object;
	o->owner = owner;
	if (cf_map_put(&t->session_objects, o->handle, o) != 0)
		return CKR_HOST_MEMORY;
	cf_object_ref(o);
	return CKR_OK;
}

/* Token objects v[0..n), new: stored in one commit, then cached. */
static CK_RV add_token_objects(struct cf_token *t, struct cf_object **v,
			       size_t n)
{
	CK_RV rv;

	if (!t->initialized)
		return CKR_TOKEN_NOT_RECOGNIZED;
	rv = store_put(t, v, n, true);
	if (rv != CKR_OK)
		return rv;
	for (size_t i = 0; i < n; i++) {
		v[i]->handle = (CK_OBJECT_HANDLE)v[i]->id;
		cache_put(t, v[i]);
	}
	return CKR_OK;
}

CK_RV cf_objects_add_locked(struct cf_token *t, struct cf_object *o,
			    CK_SESSION_HANDLE owner)
{
	if (!o->token)
		return add_session_object(t, o, owner);
	return add_token_objects(t, &o, 1);
}

CK_RV cf_objects_add_pair_locked(struct cf_token *t, struct cf_object *a,
				 struct cf_object *b, CK_SESSION_HANDLE owner)
{
	struct cf_object *both[2] = {a, b}, *first, *second;
	CK_RV rv;

	if (a->token && b->token)
		return add_token_objects(t, both, 2);
	/* At most one half is written to the store: the session half goes
	 * first and is taken back (which cannot fail) when the other cannot
	 * be added. */
	first = a->token ? b : a;
	second = first == a ? b : a;
	rv = cf_objects_add_locked(t, first, owner);
	if (rv != CKR_OK)
		return rv;
	rv = cf_objects_add_locked(t, second, owner);
	if (rv != CKR_OK && cf_objects_destroy_locked(t, first) != CKR_OK)
		rv = CKR_GENERAL_ERROR; /* a session object: not reached */
	return rv;
}

CK_RV cf_objects_replace_locked(struct cf_token *t, struct cf_object *o)
{
	struct cf_object *old;
	CK_RV rv;

	if (!o->token) {
		old = cf_map_get(&t->session_objects, o->handle);
		if (old == NULL)
			return CKR_OBJECT_HANDLE_INVALID;
		o->owner = old->owner;
		if (cf_map_put(&t->session_objects, o->handle, o) != 0)
			return CKR_HOST_MEMORY;
		cf_object_ref(o);
		cf_object_unref(old);
		return CKR_OK;
	}
	rv = store_put(t, &o, 1, false);
	if (rv == CKR_OK)
		cache_put(t, o);
	return rv;
}

CK_RV cf_objects_destroy_locked(struct cf_token *t, struct cf_object *o)
{
	int rc;

	t->objects_gen++;
	if (!o->token) {
		struct cf_object *old =
			cf_map_remove(&t->session_objects, o->handle);
		if (old == NULL)
			return CKR_OBJECT_HANDLE_INVALID;
		cf_object_unref(old);
		return CKR_OK;
	}
	rc = cf_store_object_delete(t->store, o->id);
	if (rc == -ENOENT)
		return CKR_OBJECT_HANDLE_INVALID;
	if (rc != 0)
		return cf_store_rv(rc);
	cf_token_mark_seen_locked(t);
	cf_object_unref(cf_map_remove(&t->cache, o->id));
	return CKR_OK;
}

void cf_objects_drop_session_locked(struct cf_token *t, CK_SESSION_HANDLE h)
{
	struct cf_map *m = &t->session_objects;
	bool again = true;

	/* Removal during iteration is not allowed: restart after each. */
	while (again) {
		again = false;
		for (size_t i = 0; i < m->cap; i++) {
			struct cf_object *o = m->slots[i].val;
			if (m->slots[i].key == 0 || (h != 0 && o->owner != h))
				continue;
			cf_map_remove(m, m->slots[i].key);
			cf_object_unref(o);
			t->objects_gen++;
			again = true;
			break;
		}
	}
}

static const CK_ATTRIBUTE *tmpl_find(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
				     CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (tmpl[i].type == type)
			return &tmpl[i];
	return NULL;
}

/* Picks the most selective indexed attribute of the template; returns
 * false when none can narrow the search. */
static bool pick_index(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
		       CK_ATTRIBUTE_TYPE *type, struct cf_wbuf *value)
{
	const CK_ATTRIBUTE *a, *b, *cls;

	a = tmpl_find(tmpl, n, CKA_ISSUER);
	b = tmpl_find(tmpl, n, CKA_SERIAL_NUMBER);
	if (a != NULL && b != NULL && a->pValue != NULL &&
	    b->pValue != NULL) {
		cf_wbuf_put_lv(value, a->pValue, a->ulValueLen);
		cf_wbuf_put_lv(value, b->pValue, b->ulValueLen);
		*type = INDEX_ISSUER_SERIAL;
		return !value->failed;
	}
	static const CK_ATTRIBUTE_TYPE order[] = {CKA_ID, CKA_LABEL,
						  CKA_SUBJECT};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		a = tmpl_find(tmpl, n, order[i]);
		if (a != NULL && (a->pValue != NULL || a->ulValueLen == 0)) {
			cf_wbuf_put(value, a->pValue, a->ulValueLen);
			*type = order[i];
			return !value->failed;
		}
	}
	cls = tmpl_find(tmpl, n, CKA_CLASS);
	a = tmpl_find(tmpl, n, CKA_VALUE);
	if (a != NULL && a->pValue != NULL && cls != NULL &&
	    cls->ulValueLen == sizeof(CK_OBJECT_CLASS) && cls->pValue &&
	    value_indexed(*(CK_OBJECT_CLASS *)cls->pValue)) {
		cf_wbuf_put(value, a->pValue, a->ulValueLen);
		*type = CKA_VALUE;
		return !value->failed;
	}
	if (cls != NULL && cls->ulValueLen == sizeof(CK_OBJECT_CLASS) &&
	    cls->pValue != NULL) {
		cf_wbuf_put(value, cls->pValue, cls->ulValueLen);
		*type = CKA_CLASS;
		return !value->failed;
	}
	return false;
}

static CK_RV ids_append(uint64_t **ids, size_t *n, const uint64_t *more,
			size_t m)
{
	uint64_t *nn;

	if (m == 0)
		return CKR_OK;
	nn = realloc(*ids, (*n + m) * sizeof(**ids));
	if (nn == NULL)
		return CKR_HOST_MEMORY;
	memcpy(nn + *n, more, m * sizeof(*more));
	*ids = nn;
	*n += m;
	return CKR_OK;
}

/* Ids of the token objects that may match tmpl. */
static CK_RV candidates(struct cf_token *t, const CK_ATTRIBUTE *tmpl,
			CK_ULONG n, uint64_t **ids, size_t *count)
{
	struct cf_wbuf v;
	CK_ATTRIBUTE_TYPE type;
	struct cf_store_key key;
	uint64_t *got = NULL;
	size_t ngot = 0;
	CK_RV rv = CKR_OK;

	*ids = NULL;
	*count = 0;
	cf_wbuf_init(&v, CF_STORE_RECORD_MAX, false);
	if (!pick_index(tmpl, n, &type, &v)) {
		cf_wbuf_clear(&v);
		if (v.failed)
			return CKR_HOST_MEMORY;
		return cf_store_rv(cf_store_object_list(t->store, ids, count));
	}
	index_hash(t->public_index_key, type, v.data, v.len, &key);
	rv = cf_store_rv(cf_store_object_find(t->store, &key, ids, count));
	if (rv == CKR_OK && t->login == CKU_USER && t->have_key) {
		index_hash(t->vault.index_key.data, type, v.data, v.len, &key);
		rv = cf_store_rv(
			cf_store_object_find(t->store, &key, &got, &ngot));
		if (rv == CKR_OK)
			rv = ids_append(ids, count, got, ngot);
		free(got);
	}
	cf_wbuf_clear(&v);
	if (rv != CKR_OK) {
		free(*ids);
		*ids = NULL;
		*count = 0;
	}
	return rv;
}

/* Keeps in a (ascending) only the ids also in b (ascending). */
static void ids_intersect(uint64_t *a, size_t *na, const uint64_t *b,
			  size_t nb)
{
	size_t i = 0, j = 0, k = 0;

	while (i < *na && j < nb) {
		if (a[i] < b[j]) {
			i++;
		} else if (a[i] > b[j]) {
			j++;
		} else {
			a[k++] = a[i++];
			j++;
		}
	}
	*na = k;
}

#define INDEX_ONLY_MAX 8

/* The index entries a template is made of, when every one of its entries
 * is an indexed attribute (index_keys above): then the index alone answers
 * the search. */
struct tmpl_keys {
	CK_ATTRIBUTE_TYPE type[INDEX_ONLY_MAX];
	const void *value[INDEX_ONLY_MAX];
	size_t len[INDEX_ONLY_MAX];
	size_t n;
};

static bool tmpl_keys_add(struct tmpl_keys *k, CK_ATTRIBUTE_TYPE type,
			  const void *value, size_t len)
{
	if (k->n == INDEX_ONLY_MAX || (value == NULL && len > 0))
		return false;
	k->type[k->n] = type;
	k->value[k->n] = value;
	k->len[k->n] = len;
	k->n++;
	return true;
}

static bool tmpl_index_only(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			    struct cf_wbuf *pair, struct tmpl_keys *k)
{
	const CK_ATTRIBUTE *cls = tmpl_find(tmpl, n, CKA_CLASS);
	const CK_ATTRIBUTE *is = NULL, *sn = NULL;
	bool value_ok = cls != NULL && cls->pValue != NULL &&
			cls->ulValueLen == sizeof(CK_OBJECT_CLASS) &&
			value_indexed(*(CK_OBJECT_CLASS *)cls->pValue);

	k->n = 0;
	if (n == 0)
		return false;
	for (CK_ULONG i = 0; i < n; i++) {
		const CK_ATTRIBUTE *a = &tmpl[i];

		switch (a->type) {
		case CKA_CLASS:
			if (a->ulValueLen != sizeof(CK_OBJECT_CLASS) ||
			    a->pValue == NULL)
				return false;
			break;
		case CKA_ID:
		case CKA_LABEL:
		case CKA_SUBJECT:
			break;
		case CKA_VALUE:
			if (!value_ok)
				return false;
			break;
		case CKA_ISSUER:
			if (is != NULL || a->pValue == NULL)
				return false;
			is = a;
			continue;
		case CKA_SERIAL_NUMBER:
			if (sn != NULL || a->pValue == NULL)
				return false;
			sn = a;
			continue;
		default:
			return false;
		}
		if (!tmpl_keys_add(k, a->type, a->pValue, a->ulValueLen))
			return false;
	}
	if ((is == NULL) != (sn == NULL))
		return false;
	if (is != NULL) {
		cf_wbuf_put_lv(pair, is->pValue, is->ulValueLen);
		cf_wbuf_put_lv(pair, sn->pValue, sn->ulValueLen);
		if (pair->failed ||
		    !tmpl_keys_add(k, INDEX_ISSUER_SERIAL, pair->data,
				   pair->len))
			return false;
	}
	return true;
}

/* The ids filed under every key of k, hashed with one index key. */
static CK_RV ids_under_all(struct cf_token *t, const uint8_t *index_key,
			   const struct tmpl_keys *k, uint64_t **ids,
			   size_t *count)
{
	struct cf_store_key key;
	uint64_t *more;
	size_t nmore;
	CK_RV rv = CKR_OK;

	*ids = NULL;
	*count = 0;
	for (size_t i = 0; i < k->n && rv == CKR_OK; i++) {
		index_hash(index_key, k->type[i], k->value[i], k->len[i],
			   &key);
		if (i == 0) {
			rv = cf_store_rv(
			    cf_store_object_find(t->store, &key, ids, count));
		} else {
			rv = cf_store_rv(cf_store_object_find(t->store, &key,
							      &more, &nmore));
			if (rv == CKR_OK)
				ids_intersect(*ids, count, more, nmore);
			free(more);
		}
		if (*count == 0)
			break;
	}
	if (rv != CKR_OK) {
		free(*ids);
		*ids = NULL;
		*count = 0;
	}
	return rv;
}

/*
 * A template made only of indexed attributes (CKA_CLASS, CKA_ID,
 * CKA_LABEL, CKA_SUBJECT, CKA_ISSUER with CKA_SERIAL_NUMBER, and CKA_VALUE
 * of certificates and data objects: what applications look keys and
 * certificates up by) is answered from the index without reading a
 * record. That is exact: an index key is a keyed hash of the attribute's
 * type and whole value, none of these attributes is ever hidden, and a
 * hit under the private index key (known only after a login) is a private
 * object the logged-in user may see. *handled says whether it applied.
 */
static CK_RV find_by_index(struct cf_token *t, const CK_ATTRIBUTE *tmpl,
			   CK_ULONG n, bool *handled, uint64_t **ids,
			   size_t *count)
{
	struct cf_wbuf pair;
	struct tmpl_keys k;
	uint64_t *priv = NULL;
	size_t npriv = 0;
	CK_RV rv = CKR_OK;

	*handled = false;
	*ids = NULL;
	*count = 0;
	cf_wbuf_init(&pair, CF_STORE_RECORD_MAX, false);
	if (!tmpl_index_only(tmpl, n, &pair, &k))
		goto out;
	*handled = true;
	rv = ids_under_all(t, t->public_index_key, &k, ids, count);
	if (rv == CKR_OK && t->login == CKU_USER && t->have_key) {
		rv = ids_under_all(t, t->vault.index_key.data, &k, &priv,
				   &npriv);
		if (rv == CKR_OK)
			rv = ids_append(ids, count, priv, npriv);
		free(priv);
	}
	if (rv != CKR_OK) {
		free(*ids);
		*ids = NULL;
		*count = 0;
	}
out:
	cf_wbuf_clear(&pair);
	return rv;
}

/* A search must not become an oracle for what cannot be read: an object
 * matches only if every attribute the template names is one the caller
 * could read (and is present, so unsealed key material never matches). */
static bool matches(const struct cf_object *o, const CK_ATTRIBUTE *tmpl,
		    CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (cf_rules_attr_hidden(o, tmpl[i].type))
			return false;
	return cf_object_match(o, tmpl, n);
}

static CK_RV handles_push(CK_OBJECT_HANDLE **out, size_t *n, size_t *cap,
			  CK_OBJECT_HANDLE h)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		CK_OBJECT_HANDLE *nn = realloc(*out, nc * sizeof(*nn));
		if (nn == NULL)
			return CKR_HOST_MEMORY;
		*out = nn;
		*cap = nc;
	}
	(*out)[(*n)++] = h;
	return CKR_OK;
}

CK_RV cf_objects_find_locked(struct cf_token *t, const CK_ATTRIBUTE *tmpl,
			     CK_ULONG n, CK_OBJECT_HANDLE **out, size_t *count)
{
	uint64_t *ids = NULL;
	size_t nids = 0, cap = 0;
	bool by_index = false;
	CK_RV rv = CKR_OK;

	*out = NULL;
	*count = 0;
	if (t->initialized) {
		/* One read transaction for the index lookups and every record
		 * read: each read on its own would lock and unlock the files
		 * again (a quarter of a find's time went to fcntl). */
		rv = cf_store_rv(cf_store_read_begin(t->store));
		if (rv != CKR_OK)
			return rv;
		rv = find_by_index(t, tmpl, n, &by_index, &ids, &nids);
		if (rv == CKR_OK && !by_index)
			rv = candidates(t, tmpl, n, &ids, &nids);
		if (rv != CKR_OK) {
			cf_store_read_end(t->store);
			return rv;
		}
	}
	for (size_t i = 0; by_index && i < nids && rv == CKR_OK; i++)
		rv = handles_push(out, count, &cap, (CK_OBJECT_HANDLE)ids[i]);
	for (size_t i = 0; !by_index && i < nids && rv == CKR_OK; i++) {
		struct cf_object *o;
		CK_RV grv = cf_objects_get_locked(t, ids[i], &o);

		/* Invisible (private without login) and damaged objects are
		 * simply not found; damage was logged. */
		if (grv == CKR_HOST_MEMORY)
			rv = grv;
		if (grv != CKR_OK)
			continue;
		if (matches(o, tmpl, n))
			rv = handles_push(out, count, &cap, o->handle);
		cf_object_unref(o);
	}
	free(ids);
	if (t->initialized)
		cf_store_read_end(t->store);
	for (size_t i = 0; i < t->session_objects.cap && rv == CKR_OK; i++) {
		struct cf_object *o = t->session_objects.slots[i].val;
		if (t->session_objects.slots[i].key == 0 ||
		    !cf_token_user_visible_locked(t, o))
			continue;
		if (matches(o, tmpl, n))
			rv = handles_push(out, count, &cap, o->handle);
	}
	if (rv != CKR_OK) {
		free(*out);
		*out = NULL;
		*count = 0;
	}
	return rv;
}
