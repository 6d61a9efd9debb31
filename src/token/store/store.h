/*
 * store.h - the token's persistence, behind a narrow interface that knows
 * nothing of PKCS#11: an object is an id, an opaque record and a set of
 * opaque index keys; the token also keeps small named metadata blobs. SQLite
 * is the embedded backend (store_sqlite.c); another backend (a shared
 * PostgreSQL store is planned) implements the same functions.
 *
 * Durability: once a put, delete or commit returned 0 it survives kill -9
 * and power loss. Files are created 0600. One struct cf_store is used by one
 * thread at a time (the token lock serialises it); several processes may
 * open the same path at once.
 *
 * Returns: 0, or a negative errno: -ENOENT (no such object or key), -EBUSY
 * (another process holds the write lock past the busy timeout), -EIO (I/O,
 * a full disk, or corruption), -ENOMEM, -EINVAL (bad argument, or a call
 * not allowed in the current transaction state), -EEXIST (create on a path
 * that exists), -EACCES (the file or its directory is read-only or not
 * ours to write: refused at open, or by a write), -ENOSPC (object ids
 * exhausted: cf_store_object_new_id only).
 *
 * Reads outside any transaction each run in a read transaction of their
 * own, which costs file locking system calls every time; a caller making
 * several reads in a row (a find) brackets them with cf_store_read_begin
 * and cf_store_read_end.
 */
#ifndef CF_STORE_H
#define CF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF_STORE_KEY_LEN 16
#define CF_STORE_RECORD_MAX (16u << 20) /* largest record accepted */
#define CF_STORE_META_MAX (1u << 20)

struct cf_store;

/* An index key: an opaque fixed-size tag the caller derives from what it
 * wants to find an object by (the token uses a keyed hash). */
struct cf_store_key {
	uint8_t b[CF_STORE_KEY_LEN];
};

/* create: make a new store at path (fails with -EEXIST if one exists);
 * otherwise open an existing one (-ENOENT if none). */
int cf_store_open(const char *path, bool create, struct cf_store **out)
	__attribute__((warn_unused_result));
void cf_store_close(struct cf_store *s);

/* Groups the writes that follow into one durable, atomic commit. Takes the
 * cross-process write lock at once (waiting up to the busy timeout). */
int cf_store_begin(struct cf_store *s) __attribute__((warn_unused_result));
int cf_store_commit(struct cf_store *s) __attribute__((warn_unused_result));
void cf_store_rollback(struct cf_store *s);

/* Read transaction: the reads up to read_end see one snapshot of the store
 * and take the file locks once. Only reads may run inside one (a write, a
 * begin or a nested read_begin is -EINVAL), and it should be short: the
 * WAL cannot be checkpointed past a snapshot still being read. read_end
 * never fails and is a no-op without a read_begin. */
int cf_store_read_begin(struct cf_store *s)
	__attribute__((warn_unused_result));
void cf_store_read_end(struct cf_store *s);

/* Metadata: small named blobs (token label, wrapped keys, counters).
 * get returns a malloc'd copy in *val; free it with free(). */
int cf_store_meta_get(struct cf_store *s, const char *name, uint8_t **val,
		      size_t *len) __attribute__((warn_unused_result));
int cf_store_meta_put(struct cf_store *s, const char *name, const void *val,
		      size_t len) __attribute__((warn_unused_result));

/* Allocates a fresh object id (never reused, never 0, below 2^31). Call it
 * inside begin/commit together with the put that uses it. */
int cf_store_object_new_id(struct cf_store *s, uint64_t *id)
	__attribute__((warn_unused_result));

/* Inserts or replaces object id with its record and exactly these index
 * keys. Each put bumps the object's version. */
int cf_store_object_put(struct cf_store *s, uint64_t id, const void *rec,
			size_t len, const struct cf_store_key *keys,
			size_t nkeys) __attribute__((warn_unused_result));

/* *rec is malloc'd; free it with free(). version changes with every put. */
int cf_store_object_get(struct cf_store *s, uint64_t id, uint8_t **rec,
			size_t *len, uint64_t *version)
	__attribute__((warn_unused_result));

/* Current version of object id without reading its record. */
int cf_store_object_version(struct cf_store *s, uint64_t id,
			    uint64_t *version)
	__attribute__((warn_unused_result));

int cf_store_object_delete(struct cf_store *s, uint64_t id)
	__attribute__((warn_unused_result));

/* Ids of the objects that carry key, ascending; *ids is malloc'd (may be
 * NULL when *n is 0). */
int cf_store_object_find(struct cf_store *s, const struct cf_store_key *key,
			 uint64_t **ids, size_t *n)
	__attribute__((warn_unused_result));

/* Ids of every object, ascending. */
int cf_store_object_list(struct cf_store *s, uint64_t **ids, size_t *n)
	__attribute__((warn_unused_result));

/* Sets *changed when another connection (this or another process) committed
 * since the previous call; cheap enough to call on every operation. */
int cf_store_changed(struct cf_store *s, bool *changed)
	__attribute__((warn_unused_result));

/* Runs the backend's full consistency check; 0 when sound. */
int cf_store_check(struct cf_store *s) __attribute__((warn_unused_result));

/* Deletes every object, index key and metadata blob (token
 * re-initialisation); use inside begin/commit so the wipe and the new
 * metadata land together. Object ids are still never reused. */
int cf_store_wipe(struct cf_store *s) __attribute__((warn_unused_result));

#endif
