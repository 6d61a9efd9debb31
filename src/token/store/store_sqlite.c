/*
 * store_sqlite.c - the SQLite backend of store.h. The on-disk layout, the
 * durability settings and the id rule are specified in docs/storage.md.
 *
 * Every statement is prepared once at open. Writes outside begin/commit run
 * in their own BEGIN IMMEDIATE transaction; inside one they run under a
 * savepoint, so a write that fails part-way leaves nothing behind and the
 * caller's transaction stays usable. Everything read from the file is
 * checked before use: the file may have been tampered with.
 */
#include "token/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/log.h"
#include "token/store/gen.h"

#ifndef SQLITE_OPEN_EXRESCODE /* before SQLite 3.37 */
#define SQLITE_OPEN_EXRESCODE 0
#endif

/* Both are spliced into SQL text, hence plain decimal literals. */
#define STORE_SCHEMA_VERSION 1
#define STORE_APP_ID 1668245106 /* 0x636f6672, "cofr" in the file header */
#define STORE_STR_(x) #x
#define STORE_STR(x) STORE_STR_(x)
#define STORE_ID_MAX INT32_MAX /* ids stay below 2^31 */
#define STORE_BUSY_MS 5000
#define STORE_META_NAME_MAX 255
/* Largest string, blob or row SQLite may load for us, so that a tampered
 * file cannot make it allocate without bound; the margin covers the other
 * columns of an object row. */
#define STORE_SQLITE_LENGTH_MAX ((int)CF_STORE_RECORD_MAX + 4096)

enum store_stmt {
	ST_BEGIN,
	ST_READ_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_INFO_GET,
	ST_ID_BUMP,
	ST_VERSION_BUMP,
	ST_META_GET,
	ST_META_PUT,
	ST_OBJ_PUT,
	ST_OBJ_GET,
	ST_OBJ_VERSION,
	ST_OBJ_DELETE,
	ST_OBJ_LIST,
	ST_KEYS_DELETE,
	ST_KEY_INSERT,
	ST_KEY_FIND,
	ST_WIPE_KEYS,
	ST_WIPE_OBJECTS,
	ST_WIPE_META,
	ST_DATA_VERSION,
	ST_COUNT,
};

/* SQL reads better laid out by hand */
/* clang-format off */
static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_READ_BEGIN] = "BEGIN DEFERRED",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT op",
	[ST_RELEASE] = "RELEASE op",
	[ST_ROLLBACK_TO] = "ROLLBACK TO op",
	[ST_INFO_GET] = "SELECT value FROM info WHERE name = ?1",
	[ST_ID_BUMP] =
		"UPDATE info SET value = value + 1"
		" WHERE name = 'last_id' AND value < 2147483647",
	[ST_VERSION_BUMP] =
		"UPDATE info SET value = value + 1"
		" WHERE name = 'last_version'",
	[ST_META_GET] = "SELECT value FROM meta WHERE name = ?1",
	[ST_META_PUT] =
		"INSERT INTO meta (name, value) VALUES (?1, ?2)"
		" ON CONFLICT (name) DO UPDATE SET value = excluded.value",
	[ST_OBJ_PUT] =
		"INSERT INTO objects (id, version, record) VALUES (?1,"
		" (SELECT value FROM info WHERE name = 'last_version'), ?2)"
		" ON CONFLICT (id) DO UPDATE SET"
		" version = excluded.version, record = excluded.record",
	[ST_OBJ_GET] = "SELECT version, record FROM objects WHERE id = ?1",
	[ST_OBJ_VERSION] = "SELECT version FROM objects WHERE id = ?1",
	[ST_OBJ_DELETE] = "DELETE FROM objects WHERE id = ?1",
	[ST_OBJ_LIST] = "SELECT id FROM objects ORDER BY id",
	[ST_KEYS_DELETE] = "DELETE FROM keys WHERE obj = ?1",
	[ST_KEY_INSERT] =
		"INSERT OR IGNORE INTO keys (key, obj) VALUES (?1, ?2)",
	[ST_KEY_FIND] = "SELECT obj FROM keys WHERE key = ?1 ORDER BY obj",
	[ST_WIPE_KEYS] = "DELETE FROM keys",
	[ST_WIPE_OBJECTS] = "DELETE FROM objects",
	[ST_WIPE_META] = "DELETE FROM meta",
	[ST_DATA_VERSION] = "PRAGMA data_version",
};

/* keys is the index itself: WITHOUT ROWID with (key, obj) as its primary
 * key, so a find reads one b-tree range and gets the ids already sorted. */
static const char store_schema_sql[] =
	"PRAGMA application_id = " STORE_STR(STORE_APP_ID) ";"
	"CREATE TABLE info (name TEXT PRIMARY KEY NOT NULL,"
	" value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL,"
	" value BLOB NOT NULL);"
	"CREATE TABLE objects (id INTEGER PRIMARY KEY,"
	" version INTEGER NOT NULL, record BLOB NOT NULL);"
	"CREATE TABLE keys (key BLOB NOT NULL, obj INTEGER NOT NULL,"
	" PRIMARY KEY (key, obj)) WITHOUT ROWID;"
	"CREATE INDEX keys_obj ON keys (obj);"
	"INSERT INTO info (name, value) VALUES"
	" ('schema', " STORE_STR(STORE_SCHEMA_VERSION) "),"
	" ('last_id', 0), ('last_version', 0);";
/* clang-format on */

/* Run once at each open, before anything reads the file. WAL lets readers
 * in other processes run during a write; synchronous=FULL syncs the WAL on
 * every commit, which is what makes a returned commit survive power loss
 * (NORMAL does not). secure_delete overwrites freed content so that old
 * wrapped keys do not linger in free pages. The page cache size is a
 * ceiling, filled only as pages are read; 64 MiB keeps far more of a large
 * token's records and index in memory than 8 MiB did, so a find that misses
 * the object cache rarely costs a read system call per page. */
static const char store_pragma_sql[] = "PRAGMA synchronous = FULL;"
				       "PRAGMA secure_delete = ON;"
				       "PRAGMA journal_size_limit = 33554432;"
				       "PRAGMA cache_size = -65536;";

struct cf_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_COUNT];
	int64_t data_version;
	struct cf_gen gen; /* skips the data_version check when nothing changed */
	bool in_txn;
	bool in_read; /* between read_begin and read_end */
	/* SQLite rolled the caller's transaction back on its own (I/O error,
	 * disk full, no memory): refuse the rest of it. */
	bool txn_lost;
};

/* Maps a SQLite result code to -errno and logs what the caller cannot fix.
 * Never logs record contents: only the path, the step and SQLite's generic
 * text for the code. */
static int store_err(const struct cf_store *s, int rc, const char *what)
{
	if (rc == SQLITE_IOERR_NOMEM)
		return -ENOMEM;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		cf_warn("store %s: %s: %s", s->path, what, sqlite3_errstr(rc));
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		cf_error("store %s: %s: %s", s->path, what, sqlite3_errstr(rc));
		return -EACCES;
	default:
		/* CORRUPT, NOTADB, IOERR, FULL, and anything a tampered file
		 * could provoke (a missing table, a too-large value) */
		cf_error("store %s: %s: %s (%d)", s->path, what,
			 sqlite3_errstr(rc), rc);
		return -EIO;
	}
}

static void stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no rows, then resets it. */
static int stmt_run(struct cf_store *s, enum store_stmt i, const char *what)
{
	int rc = sqlite3_step(s->st[i]);
	int r = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = store_err(s, rc, what);
	stmt_done(s->st[i]);
	return r;
}

/* Binds a blob; a zero-length blob must not be bound as a NULL pointer,
 * which SQLite would store as NULL and the NOT NULL constraint refuse. */
static int bind_blob(sqlite3_stmt *st, int col, const void *p, size_t len)
{
	if (len == 0)
		return sqlite3_bind_zeroblob(st, col, 0);
	return sqlite3_bind_blob(st, col, p, (int)len, SQLITE_STATIC);
}

/* Copies column col of the current row, which must be a blob of at most
 * max bytes; a copy of an empty blob is a 1-byte allocation so that the
 * caller always gets a pointer on success. */
static int column_blob_dup(const struct cf_store *s, sqlite3_stmt *st, int col,
			   size_t max, uint8_t **out, size_t *outlen)
{
	const void *p;
	uint8_t *copy;
	int n;

	if (sqlite3_column_type(st, col) != SQLITE_BLOB) {
		cf_error("store %s: value of wrong type", s->path);
		return -EIO;
	}
	p = sqlite3_column_blob(st, col);
	n = sqlite3_column_bytes(st, col);
	if (n < 0 || (size_t)n > max) {
		cf_error("store %s: value of %d bytes exceeds %zu", s->path, n,
			 max);
		return -EIO;
	}
	if (n > 0 && p == NULL)
		return -ENOMEM;
	copy = malloc(n > 0 ? (size_t)n : 1);
	if (copy == NULL)
		return -ENOMEM;
	if (n > 0)
		memcpy(copy, p, (size_t)n);
	*out = copy;
	*outlen = (size_t)n;
	return 0;
}

static bool id_valid(uint64_t id)
{
	return id > 0 && id <= STORE_ID_MAX;
}

/* Reads a row of the info table. */
static int info_get(struct cf_store *s, const char *name, int64_t *val)
{
	sqlite3_stmt *st = s->st[ST_INFO_GET];
	int r = -EIO;
	int rc;

	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK)
		goto out_reset;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		cf_error("store %s: info row %s missing", s->path, name);
		goto out_reset;
	}
	if (rc != SQLITE_ROW) {
		r = store_err(s, rc, "read info");
		goto out_reset;
	}
	if (sqlite3_column_type(st, 0) != SQLITE_INTEGER) {
		cf_error("store %s: info row %s of wrong type", s->path, name);
		goto out_reset;
	}
	*val = sqlite3_column_int64(st, 0);
	r = 0;
out_reset:
	stmt_done(st);
	return r;
}

/* Notices a transaction SQLite rolled back by itself after an error. */
static void txn_check_lost(struct cf_store *s)
{
	if (s->in_txn && sqlite3_get_autocommit(s->db))
		s->txn_lost = true;
}

/* BEGIN IMMEDIATE takes the write lock; the generation says so to other
 * processes (gen.h) before anything can be committed. */
static int begin_immediate(struct cf_store *s)
{
	int r = stmt_run(s, ST_BEGIN, "begin");

	if (r == 0)
		cf_gen_enter(&s->gen);
	return r;
}

/* Starts one write: a transaction of its own, or a savepoint inside the
 * caller's. */
static int write_begin(struct cf_store *s)
{
	/* a deferred transaction that read an older snapshot cannot take the
	 * write lock: writes never happen inside a read transaction */
	if (s->in_read)
		return -EINVAL;
	if (s->in_txn) {
		txn_check_lost(s);
		if (s->txn_lost)
			return -EIO;
		return stmt_run(s, ST_SAVEPOINT, "savepoint");
	}
	return begin_immediate(s);
}

/* Ends one write begun by write_begin: keeps it when r is 0, undoes all of
 * it otherwise. Returns r, or the error of the commit. */
static int write_end(struct cf_store *s, int r)
{
	if (s->in_txn) {
		txn_check_lost(s);
		if (s->txn_lost)
			return r != 0 ? r : -EIO;
		if (r != 0) {
			(void)stmt_run(s, ST_ROLLBACK_TO, "rollback to");
			(void)stmt_run(s, ST_RELEASE, "release");
			return r;
		}
		r = stmt_run(s, ST_RELEASE, "release");
		txn_check_lost(s);
		return r;
	}
	if (r == 0)
		r = stmt_run(s, ST_COMMIT, "commit");
	/* a failed COMMIT leaves the transaction open */
	if (r != 0 && !sqlite3_get_autocommit(s->db))
		(void)stmt_run(s, ST_ROLLBACK, "rollback");
	cf_gen_leave(&s->gen);
	return r;
}

static int data_version_get(struct cf_store *s, int64_t *val)
{
	sqlite3_stmt *st = s->st[ST_DATA_VERSION];
	int rc = sqlite3_step(st);
	int r = 0;

	if (rc == SQLITE_ROW)
		*val = sqlite3_column_int64(st, 0);
	else
		r = store_err(s, rc, "data_version");
	stmt_done(st);
	return r;
}

/* Runs a string of statements that return nothing useful. */
static int exec_sql(struct cf_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_err(s, rc, what);
}

/* Reads a single-valued pragma as text into buf. */
static int pragma_text(struct cf_store *s, const char *sql, char *buf,
		       size_t size)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int r;
	int rc;

	buf[0] = '\0';
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_err(s, rc, sql);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = store_err(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, sql);
		goto out_finalize;
	}
	t = sqlite3_column_text(st, 0);
	if (t == NULL) {
		r = -ENOMEM;
		goto out_finalize;
	}
	snprintf(buf, size, "%s", (const char *)t);
	r = 0;
out_finalize:
	sqlite3_finalize(st);
	return r;
}

/* Makes the file for a new store ourselves, so that it is 0600 whatever
 * the umask, and so that SQLite's -wal and -shm files, which copy the mode
 * of the database file, are too. */
static int store_file_create(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      0600);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) != 0)
		r = -errno;
	close(fd);
	if (r != 0)
		unlink(path);
	return r;
}

/* Tells a missing or unreadable file apart before SQLite, which would
 * report both as SQLITE_CANTOPEN. */
static int store_file_probe(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat st;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	close(fd);
	return r;
}

/* Makes the new file's directory entries durable: SQLite syncs the WAL's
 * contents but the name of the database file is ours. */
static int store_dir_sync(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;
	int r = 0;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out_free_dir;
	}
	if (fsync(fd) != 0)
		r = -errno;
	close(fd);
out_free_dir:
	free(dir);
	return r;
}

static void store_unlink_all(const char *path)
{
	static const char *const suffix[] = {"-wal", "-shm", "-journal",
					     "-gen"};
	size_t n = strlen(path);
	char *p = malloc(n + 9);

	unlink(path);
	if (p == NULL)
		return;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, n + 9, "%s%s", path, suffix[i]);
		unlink(p);
	}
	free(p);
}

/* The file is untrusted: no triggers or views may run on our statements,
 * and no schema may call functions with side effects. */
static int store_harden(struct cf_store *s)
{
	int rc;

	rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
				       NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0,
				       NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0,
				       NULL);
	if (rc != SQLITE_OK)
		return store_err(s, rc, "configure");
	sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, STORE_SQLITE_LENGTH_MAX);
	sqlite3_limit(s->db, SQLITE_LIMIT_ATTACHED, 0);
	rc = sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	if (rc != SQLITE_OK)
		return store_err(s, rc, "busy timeout");
	return 0;
}

static int store_journal_wal(struct cf_store *s)
{
	char mode[16];
	int r;

	r = pragma_text(s, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
	if (r != 0)
		return r;
	if (strcmp(mode, "wal") != 0) {
		cf_error("store %s: cannot use WAL (journal mode %s)", s->path,
			 mode);
		return -EIO;
	}
	return 0;
}

static int store_schema_create(struct cf_store *s)
{
	int r;

	r = exec_sql(s, "BEGIN IMMEDIATE", "begin");
	if (r != 0)
		return r;
	r = exec_sql(s, store_schema_sql, "create schema");
	if (r == 0)
		r = exec_sql(s, "COMMIT", "commit");
	if (r != 0 && !sqlite3_get_autocommit(s->db))
		(void)exec_sql(s, "ROLLBACK", "rollback");
	return r;
}

/* Refuses what is not a coffer store of a version this code understands.
 * Runs before the statements are prepared: a newer schema may not have the
 * tables they name. */
static int store_schema_check(struct cf_store *s)
{
	sqlite3_stmt *st = NULL;
	char appid[24];
	int64_t version;
	int r;
	int rc;

	r = pragma_text(s, "PRAGMA application_id", appid, sizeof(appid));
	if (r != 0)
		return r;
	if (strtoll(appid, NULL, 10) != STORE_APP_ID) {
		cf_error("store %s: not a coffer store", s->path);
		return -EIO;
	}
	rc = sqlite3_prepare_v2(s->db,
				"SELECT value FROM info WHERE name = 'schema'",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_err(s, rc, "read schema version");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_type(st, 0) != SQLITE_INTEGER) {
		r = rc == SQLITE_ROW || rc == SQLITE_DONE
			? -EIO
			: store_err(s, rc, "read schema version");
		if (r == -EIO)
			cf_error("store %s: no schema version", s->path);
		goto out_finalize;
	}
	version = sqlite3_column_int64(st, 0);
	if (version != STORE_SCHEMA_VERSION) {
		cf_error("store %s: schema version %lld not supported "
			 "(this build knows %d)",
			 s->path, (long long)version, STORE_SCHEMA_VERSION);
		r = -EIO;
		goto out_finalize;
	}
	r = 0;
out_finalize:
	sqlite3_finalize(st);
	return r;
}

static int store_prepare_all(struct cf_store *s)
{
	for (int i = 0; i < ST_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
					    SQLITE_PREPARE_PERSISTENT,
					    &s->st[i], NULL);
		if (rc != SQLITE_OK)
			return store_err(s, rc, "prepare");
	}
	return 0;
}

int cf_store_open(const char *path, bool create, struct cf_store **out)
{
	struct cf_store *s = NULL;
	bool made = false;
	int r = -EINVAL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || path[0] == '\0' || out == NULL)
		return -EINVAL;
	r = create ? store_file_create(path) : store_file_probe(path);
	if (r != 0)
		return r;
	made = create;
	r = -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto out_unlink;
	s->path = strdup(path);
	if (s->path == NULL)
		goto out_close;
	/* The file exists by now, so no SQLITE_OPEN_CREATE: SQLite must not
	 * make one behind our back if it was removed in between. */
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
				 SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		r = store_err(s, rc, "open");
		goto out_close;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_db_readonly(s->db, "main") != 0) {
		cf_error("store %s: file is read-only", path);
		r = -EACCES;
		goto out_close;
	}
	r = store_harden(s);
	/* a file that is not ours is refused before anything is written to
	 * it (switching to WAL rewrites the header) */
	if (r == 0 && !create)
		r = store_schema_check(s);
	if (r == 0)
		r = store_journal_wal(s);
	if (r == 0)
		r = exec_sql(s, store_pragma_sql, "settings");
	if (r == 0 && create)
		r = store_schema_create(s);
	if (r == 0 && create)
		r = store_dir_sync(path);
	if (r == 0)
		r = store_prepare_all(s);
	/* changes made before this point are seen by whatever the caller
	 * loads next, so the baseline is taken here */
	if (r == 0)
		r = data_version_get(s, &s->data_version);
	if (r != 0)
		goto out_close;
	cf_gen_open(&s->gen, path);
	*out = s;
	s = NULL; /* transferred */
	made = false;
	r = 0;
out_close:
	cf_store_close(s);
out_unlink:
	if (made)
		store_unlink_all(path);
	return r;
}

void cf_store_close(struct cf_store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	/* closing rolls back an open transaction */
	if (sqlite3_close(s->db) != SQLITE_OK)
		cf_error("store %s: close: %s", s->path, sqlite3_errmsg(s->db));
	cf_gen_close(&s->gen);
	free(s->path);
	free(s);
}

int cf_store_begin(struct cf_store *s)
{
	int r;

	if (s == NULL || s->in_txn || s->in_read)
		return -EINVAL;
	r = begin_immediate(s);
	if (r != 0)
		return r;
	s->in_txn = true;
	s->txn_lost = false;
	return 0;
}

int cf_store_commit(struct cf_store *s)
{
	int r;

	if (s == NULL || !s->in_txn)
		return -EINVAL;
	txn_check_lost(s);
	if (s->txn_lost) {
		cf_error("store %s: transaction was rolled back", s->path);
		r = -EIO;
	} else {
		r = stmt_run(s, ST_COMMIT, "commit");
		if (r != 0 && !sqlite3_get_autocommit(s->db))
			(void)stmt_run(s, ST_ROLLBACK, "rollback");
	}
	cf_gen_leave(&s->gen);
	s->in_txn = false;
	s->txn_lost = false;
	return r;
}

void cf_store_rollback(struct cf_store *s)
{
	if (s == NULL || !s->in_txn)
		return;
	if (!sqlite3_get_autocommit(s->db))
		(void)stmt_run(s, ST_ROLLBACK, "rollback");
	cf_gen_leave(&s->gen);
	s->in_txn = false;
	s->txn_lost = false;
}

int cf_store_read_begin(struct cf_store *s)
{
	int r;

	if (s == NULL || s->in_txn || s->in_read)
		return -EINVAL;
	r = stmt_run(s, ST_READ_BEGIN, "begin read");
	if (r == 0)
		s->in_read = true;
	return r;
}

void cf_store_read_end(struct cf_store *s)
{
	if (s == NULL || !s->in_read)
		return;
	/* Nothing was written, so ending it cannot lose anything; a failed
	 * COMMIT (it never should) still must not leave it open. */
	if (!sqlite3_get_autocommit(s->db) &&
	    stmt_run(s, ST_COMMIT, "end read") != 0 &&
	    !sqlite3_get_autocommit(s->db))
		(void)stmt_run(s, ST_ROLLBACK, "rollback");
	s->in_read = false;
}

static bool meta_name_valid(const char *name)
{
	return name != NULL && name[0] != '\0' &&
	       strnlen(name, STORE_META_NAME_MAX + 1) <= STORE_META_NAME_MAX;
}

int cf_store_meta_get(struct cf_store *s, const char *name, uint8_t **val,
		      size_t *len)
{
	sqlite3_stmt *st;
	int r = -EINVAL;
	int rc;

	if (val != NULL)
		*val = NULL;
	if (len != NULL)
		*len = 0;
	if (s == NULL || !meta_name_valid(name) || val == NULL || len == NULL)
		return -EINVAL;
	st = s->st[ST_META_GET];
	rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		r = store_err(s, rc, "bind");
		goto out_reset;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = -ENOENT;
		goto out_reset;
	}
	if (rc != SQLITE_ROW) {
		r = store_err(s, rc, "read meta");
		goto out_reset;
	}
	r = column_blob_dup(s, st, 0, CF_STORE_META_MAX, val, len);
out_reset:
	stmt_done(st);
	return r;
}

static int meta_put_locked(struct cf_store *s, const char *name,
			   const void *val, size_t len)
{
	sqlite3_stmt *st = s->st[ST_META_PUT];
	int rc;

	rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 2, val, len);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return store_err(s, rc, "bind");
	}
	return stmt_run(s, ST_META_PUT, "write meta");
}

int cf_store_meta_put(struct cf_store *s, const char *name, const void *val,
		      size_t len)
{
	int r;

	if (s == NULL || !meta_name_valid(name) || (val == NULL && len > 0) ||
	    len > CF_STORE_META_MAX)
		return -EINVAL;
	r = write_begin(s);
	if (r != 0)
		return r;
	r = meta_put_locked(s, name, val, len);
	return write_end(s, r);
}

static int new_id_locked(struct cf_store *s, uint64_t *id)
{
	bool bumped;
	int64_t last;
	int r;

	r = stmt_run(s, ST_ID_BUMP, "allocate id");
	if (r != 0)
		return r;
	bumped = sqlite3_changes(s->db) == 1;
	r = info_get(s, "last_id", &last);
	if (r != 0)
		return r;
	if (!bumped) {
		cf_error("store %s: object ids exhausted", s->path);
		return -ENOSPC;
	}
	if (last <= 0 || last > STORE_ID_MAX) {
		cf_error("store %s: id counter out of range", s->path);
		return -EIO;
	}
	*id = (uint64_t)last;
	return 0;
}

int cf_store_object_new_id(struct cf_store *s, uint64_t *id)
{
	uint64_t got = 0;
	int r;

	if (id != NULL)
		*id = 0;
	if (s == NULL || id == NULL)
		return -EINVAL;
	r = write_begin(s);
	if (r != 0)
		return r;
	r = write_end(s, new_id_locked(s, &got));
	if (r == 0)
		*id = got;
	return r;
}

static int keys_put_locked(struct cf_store *s, uint64_t id,
			   const struct cf_store_key *keys, size_t nkeys)
{
	sqlite3_stmt *st = s->st[ST_KEY_INSERT];
	int r;
	int rc;

	rc = sqlite3_bind_int64(s->st[ST_KEYS_DELETE], 1, (sqlite3_int64)id);
	if (rc != SQLITE_OK) {
		stmt_done(s->st[ST_KEYS_DELETE]);
		return store_err(s, rc, "bind");
	}
	r = stmt_run(s, ST_KEYS_DELETE, "delete keys");
	for (size_t i = 0; r == 0 && i < nkeys; i++) {
		rc = sqlite3_bind_blob(st, 1, keys[i].b, CF_STORE_KEY_LEN,
				       SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
		if (rc != SQLITE_OK) {
			stmt_done(st);
			return store_err(s, rc, "bind");
		}
		r = stmt_run(s, ST_KEY_INSERT, "write key");
	}
	return r;
}

static int object_put_locked(struct cf_store *s, uint64_t id, const void *rec,
			     size_t len, const struct cf_store_key *keys,
			     size_t nkeys)
{
	sqlite3_stmt *st = s->st[ST_OBJ_PUT];
	int64_t last;
	int r;
	int rc;

	/* an id new_id has not handed out yet would be handed out again */
	r = info_get(s, "last_id", &last);
	if (r != 0)
		return r;
	if ((int64_t)id > last)
		return -EINVAL;
	r = stmt_run(s, ST_VERSION_BUMP, "bump version");
	if (r != 0)
		return r;
	rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 2, rec, len);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return store_err(s, rc, "bind");
	}
	r = stmt_run(s, ST_OBJ_PUT, "write object");
	if (r != 0)
		return r;
	return keys_put_locked(s, id, keys, nkeys);
}

int cf_store_object_put(struct cf_store *s, uint64_t id, const void *rec,
			size_t len, const struct cf_store_key *keys,
			size_t nkeys)
{
	int r;

	if (s == NULL || !id_valid(id) || (rec == NULL && len > 0) ||
	    len > CF_STORE_RECORD_MAX || (keys == NULL && nkeys > 0))
		return -EINVAL;
	r = write_begin(s);
	if (r != 0)
		return r;
	r = object_put_locked(s, id, rec, len, keys, nkeys);
	return write_end(s, r);
}

/* Reads the version column of the current row of an objects query. */
static int column_version(const struct cf_store *s, sqlite3_stmt *st, int col,
			  uint64_t *version)
{
	sqlite3_int64 v;

	if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
		goto out_bad;
	v = sqlite3_column_int64(st, col);
	if (v <= 0)
		goto out_bad;
	*version = (uint64_t)v;
	return 0;
out_bad:
	cf_error("store %s: object version out of range", s->path);
	return -EIO;
}

int cf_store_object_get(struct cf_store *s, uint64_t id, uint8_t **rec,
			size_t *len, uint64_t *version)
{
	sqlite3_stmt *st;
	uint64_t v = 0;
	int r = -EINVAL;
	int rc;

	if (rec != NULL)
		*rec = NULL;
	if (len != NULL)
		*len = 0;
	if (version != NULL)
		*version = 0;
	if (s == NULL || !id_valid(id) || rec == NULL || len == NULL)
		return -EINVAL;
	st = s->st[ST_OBJ_GET];
	rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (rc != SQLITE_OK) {
		r = store_err(s, rc, "bind");
		goto out_reset;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = -ENOENT;
		goto out_reset;
	}
	if (rc != SQLITE_ROW) {
		r = store_err(s, rc, "read object");
		goto out_reset;
	}
	r = column_version(s, st, 0, &v);
	if (r == 0)
		r = column_blob_dup(s, st, 1, CF_STORE_RECORD_MAX, rec, len);
	if (r == 0 && version != NULL)
		*version = v;
out_reset:
	stmt_done(st);
	return r;
}

int cf_store_object_version(struct cf_store *s, uint64_t id, uint64_t *version)
{
	sqlite3_stmt *st;
	int r = -EINVAL;
	int rc;

	if (version != NULL)
		*version = 0;
	if (s == NULL || !id_valid(id) || version == NULL)
		return -EINVAL;
	st = s->st[ST_OBJ_VERSION];
	rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (rc != SQLITE_OK) {
		r = store_err(s, rc, "bind");
		goto out_reset;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		r = -ENOENT;
	else if (rc != SQLITE_ROW)
		r = store_err(s, rc, "read version");
	else
		r = column_version(s, st, 0, version);
out_reset:
	stmt_done(st);
	return r;
}

static int object_delete_locked(struct cf_store *s, uint64_t id)
{
	int r;
	int rc;

	rc = sqlite3_bind_int64(s->st[ST_OBJ_DELETE], 1, (sqlite3_int64)id);
	if (rc != SQLITE_OK) {
		stmt_done(s->st[ST_OBJ_DELETE]);
		return store_err(s, rc, "bind");
	}
	r = stmt_run(s, ST_OBJ_DELETE, "delete object");
	if (r != 0)
		return r;
	if (sqlite3_changes(s->db) == 0)
		return -ENOENT;
	return keys_put_locked(s, id, NULL, 0);
}

int cf_store_object_delete(struct cf_store *s, uint64_t id)
{
	int r;

	if (s == NULL || !id_valid(id))
		return -EINVAL;
	r = write_begin(s);
	if (r != 0)
		return r;
	r = object_delete_locked(s, id);
	return write_end(s, r);
}

/* Steps st to the end, collecting the ids in its first column. */
static int collect_ids(struct cf_store *s, sqlite3_stmt *st, uint64_t **ids,
		       size_t *n)
{
	uint64_t *v = NULL;
	size_t cnt = 0;
	size_t cap = 0;
	int r = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);

		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
		    !id_valid((uint64_t)id)) {
			cf_error("store %s: object id out of range", s->path);
			r = -EIO;
			goto out_free;
		}
		if (cnt == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			uint64_t *nv;

			if (ncap > SIZE_MAX / sizeof(*v)) {
				r = -ENOMEM;
				goto out_free;
			}
			nv = realloc(v, ncap * sizeof(*v));
			if (nv == NULL) {
				r = -ENOMEM;
				goto out_free;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = (uint64_t)id;
	}
	if (rc != SQLITE_DONE) {
		r = store_err(s, rc, "read ids");
		goto out_free;
	}
	*ids = v;
	*n = cnt;
	v = NULL; /* transferred */
out_free:
	free(v);
	return r;
}

int cf_store_object_find(struct cf_store *s, const struct cf_store_key *key,
			 uint64_t **ids, size_t *n)
{
	sqlite3_stmt *st;
	int r;
	int rc;

	if (ids != NULL)
		*ids = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || key == NULL || ids == NULL || n == NULL)
		return -EINVAL;
	st = s->st[ST_KEY_FIND];
	rc = sqlite3_bind_blob(st, 1, key->b, CF_STORE_KEY_LEN, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		r = store_err(s, rc, "bind");
	else
		r = collect_ids(s, st, ids, n);
	stmt_done(st);
	return r;
}

int cf_store_object_list(struct cf_store *s, uint64_t **ids, size_t *n)
{
	int r;

	if (ids != NULL)
		*ids = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || ids == NULL || n == NULL)
		return -EINVAL;
	r = collect_ids(s, s->st[ST_OBJ_LIST], ids, n);
	stmt_done(s->st[ST_OBJ_LIST]);
	return r;
}

int cf_store_changed(struct cf_store *s, bool *changed)
{
	uint64_t token;
	int64_t v;
	int r;

	if (changed != NULL)
		*changed = false;
	if (s == NULL || changed == NULL)
		return -EINVAL;
	/* sampled before the check, so a commit racing it is seen next
	 * time (gen.h) */
	if (!cf_gen_must_check(&s->gen, &token))
		return 0;
	r = data_version_get(s, &v);
	if (r != 0)
		return r;
	*changed = v != s->data_version;
	s->data_version = v;
	cf_gen_checked(&s->gen, token);
	return 0;
}

/* Runs a query whose single integer result must be 0; what names the
 * inconsistency it counts. */
static int check_count_zero(struct cf_store *s, const char *sql,
			    const char *what)
{
	sqlite3_stmt *st = NULL;
	int r;
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_err(s, rc, "check");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = store_err(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc,
			      "check");
		goto out_finalize;
	}
	if (sqlite3_column_int64(st, 0) != 0) {
		cf_error("store %s: check: %lld %s", s->path,
			 (long long)sqlite3_column_int64(st, 0), what);
		r = -EIO;
		goto out_finalize;
	}
	r = 0;
out_finalize:
	sqlite3_finalize(st);
	return r;
}

/* The consistency this backend relies on beyond what SQLite checks. */
/* clang-format off */
static const struct {
	const char *sql;
	const char *what;
} store_checks[] = {
	{"SELECT (SELECT count(*) FROM info WHERE name = 'schema'"
	 "  AND value = " STORE_STR(STORE_SCHEMA_VERSION) ") != 1"
	 " OR (SELECT count(*) FROM info WHERE name = 'last_id'"
	 "  AND typeof(value) = 'integer'"
	 "  AND value BETWEEN 0 AND 2147483647) != 1"
	 " OR (SELECT count(*) FROM info WHERE name = 'last_version'"
	 "  AND typeof(value) = 'integer' AND value >= 0) != 1",
	 "bad info rows"},
	{"SELECT count(*) FROM objects WHERE id < 1"
	 " OR id > (SELECT value FROM info WHERE name = 'last_id')"
	 " OR typeof(version) != 'integer' OR version < 1"
	 " OR version > (SELECT value FROM info WHERE name = 'last_version')"
	 " OR typeof(record) != 'blob' OR length(record) > 16777216",
	 "bad object rows"},
	{"SELECT count(*) FROM keys WHERE typeof(key) != 'blob'"
	 " OR length(key) != 16"
	 " OR NOT EXISTS (SELECT 1 FROM objects WHERE id = keys.obj)",
	 "bad or orphaned index keys"},
	{"SELECT count(*) FROM meta WHERE typeof(value) != 'blob'"
	 " OR length(value) > 1048576",
	 "bad metadata rows"},
};
/* clang-format on */

_Static_assert(CF_STORE_RECORD_MAX == 16777216u &&
		   CF_STORE_META_MAX == 1048576u,
	       "store_checks must follow the limits in store.h");

int cf_store_check(struct cf_store *s)
{
	char first[256];
	int r;

	if (s == NULL)
		return -EINVAL;
	/* integrity_check reports page-level damage, never row contents */
	r = pragma_text(s, "PRAGMA integrity_check(1)", first, sizeof(first));
	if (r != 0)
		return r;
	if (strcmp(first, "ok") != 0) {
		cf_error("store %s: integrity check: %s", s->path, first);
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(store_checks) / sizeof(store_checks[0]);
	     i++) {
		r = check_count_zero(s, store_checks[i].sql,
				     store_checks[i].what);
		if (r != 0)
			return r;
	}
	return 0;
}

static int wipe_locked(struct cf_store *s)
{
	int r;

	r = stmt_run(s, ST_WIPE_KEYS, "wipe keys");
	if (r == 0)
		r = stmt_run(s, ST_WIPE_OBJECTS, "wipe objects");
	if (r == 0)
		r = stmt_run(s, ST_WIPE_META, "wipe meta");
	return r;
}

int cf_store_wipe(struct cf_store *s)
{
	int r;

	if (s == NULL)
		return -EINVAL;
	r = write_begin(s);
	if (r != 0)
		return r;
	r = wipe_locked(s);
	return write_end(s, r);
}
