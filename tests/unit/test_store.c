/*
 * test_store.c - unit tests of the SQLite store backend (store.h).
 *
 * Each test gets a fresh directory from mkdtemp, removed afterwards. Tests
 * that play a tampered or foreign file write it with SQLite directly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/log.h"
#include "token/store/store.h"

struct fx {
	char dir[64];
	char path[128];
	struct cf_store *s;
};

static struct cf_store_key key_of(uint8_t tag)
{
	struct cf_store_key k;

	memset(k.b, tag, sizeof(k.b));
	return k;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cf-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/token.db", f->dir);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	struct dirent *e;
	DIR *d;

	cf_store_close(f->s);
	d = opendir(f->dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char p[512];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		assert_int_equal(unlink(p), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

/* The usual start: a new, open store in f->s. */
static struct fx *fx_create(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cf_store_open(f->path, true, &f->s), 0);
	assert_non_null(f->s);
	return f;
}

static void fx_reopen(struct fx *f)
{
	cf_store_close(f->s);
	f->s = NULL;
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
}

/* Runs SQL on the file behind the store's back (the store must be
 * closed or idle). */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static uint64_t new_id(struct cf_store *s)
{
	uint64_t id = 0;

	assert_int_equal(cf_store_object_new_id(s, &id), 0);
	return id;
}

/* Allocates an id and stores a record under it with one key. */
static uint64_t put_new(struct cf_store *s, const char *rec, uint8_t tag)
{
	struct cf_store_key k = key_of(tag);
	uint64_t id = new_id(s);

	assert_int_equal(cf_store_object_put(s, id, rec, strlen(rec), &k, 1),
			 0);
	return id;
}

static void assert_record(struct cf_store *s, uint64_t id, const char *want)
{
	uint8_t *rec = NULL;
	size_t len = 0;
	uint64_t version = 0;

	assert_int_equal(cf_store_object_get(s, id, &rec, &len, &version), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(rec, want, len);
	assert_true(version > 0);
	free(rec);
}

static void assert_find(struct cf_store *s, uint8_t tag, const uint64_t *want,
			size_t nwant)
{
	struct cf_store_key k = key_of(tag);
	uint64_t *ids = NULL;
	size_t n = 99;

	assert_int_equal(cf_store_object_find(s, &k, &ids, &n), 0);
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ids[i], want[i]);
	free(ids);
}

static bool changed(struct cf_store *s)
{
	bool c = true;

	assert_int_equal(cf_store_changed(s, &c), 0);
	return c;
}

/* --- open and create ---------------------------------------------------- */

static void test_store__create_then_reopen_succeeds(void **state)
{
	struct fx *f = fx_create(state);

	fx_reopen(f);
	assert_non_null(f->s);
}

static void test_store__open_missing_fails_enoent(void **state)
{
	struct fx *f = *state;

	f->s = (struct cf_store *)1;
	assert_int_equal(cf_store_open(f->path, false, &f->s), -ENOENT);
	assert_null(f->s);
}

static void test_store__create_in_missing_directory_fails_enoent(void **state)
{
	struct fx *f = *state;
	char p[256];
	struct cf_store *s = NULL;

	snprintf(p, sizeof(p), "%s/nodir/token.db", f->dir);
	assert_int_equal(cf_store_open(p, true, &s), -ENOENT);
	assert_null(s);
}

static void test_store__create_existing_fails_eexist(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store *s2 = NULL;

	assert_int_equal(cf_store_meta_put(f->s, "label", "x", 1), 0);
	assert_int_equal(cf_store_open(f->path, true, &s2), -EEXIST);
	assert_null(s2);
}

static void test_store__create_existing_leaves_it_intact(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store *s2 = NULL;
	uint8_t *v = NULL;
	size_t len = 0;

	assert_int_equal(cf_store_meta_put(f->s, "label", "x", 1), 0);
	cf_store_close(f->s);
	f->s = NULL;
	assert_int_equal(cf_store_open(f->path, true, &s2), -EEXIST);
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_meta_get(f->s, "label", &v, &len), 0);
	assert_int_equal(len, 1);
	free(v);
}

static void test_store__open_null_arguments_fail_einval(void **state)
{
	struct fx *f = *state;
	struct cf_store *s = NULL;

	assert_int_equal(cf_store_open(NULL, true, &s), -EINVAL);
	assert_int_equal(cf_store_open("", true, &s), -EINVAL);
	assert_int_equal(cf_store_open(f->path, true, NULL), -EINVAL);
	assert_int_equal(access(f->path, F_OK), -1);
}

static void test_store__open_directory_fails_eisdir(void **state)
{
	struct fx *f = *state;
	struct cf_store *s = NULL;

	assert_int_equal(cf_store_open(f->dir, false, &s), -EISDIR);
	assert_null(s);
}

static void test_store__db_and_wal_are_mode_0600(void **state)
{
	struct fx *f = *state;
	char wal[160];
	struct stat st;
	mode_t old = umask(0);

	assert_int_equal(cf_store_open(f->path, true, &f->s), 0);
	umask(old);
	assert_int_equal(cf_store_meta_put(f->s, "label", "x", 1), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_store__garbage_file_fails_eio(void **state)
{
	struct fx *f = *state;
	uint8_t junk[8192];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	write_file(f->path, junk, sizeof(junk));
	f->s = (struct cf_store *)1;
	assert_int_equal(cf_store_open(f->path, false, &f->s), -EIO);
	assert_null(f->s);
}

static void test_store__empty_file_fails_eio(void **state)
{
	struct fx *f = *state;

	write_file(f->path, "", 0);
	assert_int_equal(cf_store_open(f->path, false, &f->s), -EIO);
	assert_null(f->s);
}

/* Makes f->path a plain SQLite database of someone else's. */
static void make_foreign_db(struct fx *f)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_store__foreign_sqlite_file_fails_eio(void **state)
{
	struct fx *f = *state;

	make_foreign_db(f);
	assert_int_equal(cf_store_open(f->path, false, &f->s), -EIO);
	assert_null(f->s);
}

static void test_store__foreign_sqlite_file_left_unchanged(void **state)
{
	struct fx *f = *state;
	uint8_t before[4096];
	uint8_t after[4096];
	int fd;

	make_foreign_db(f);
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, before, sizeof(before), 0), 4096);
	assert_int_equal(cf_store_open(f->path, false, &f->s), -EIO);
	assert_int_equal(pread(fd, after, sizeof(after), 0), 4096);
	close(fd);
	assert_memory_equal(before, after, sizeof(before));
}

static void test_store__newer_schema_version_fails_eio(void **state)
{
	struct fx *f = fx_create(state);

	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "UPDATE info SET value = 2 WHERE name = 'schema'");
	assert_int_equal(cf_store_open(f->path, false, &f->s), -EIO);
	assert_null(f->s);
}

static void test_store__newer_schema_logs_path_and_version(void **state)
{
	struct fx *f = fx_create(state);
	char logpath[160];
	char line[1024] = {0};
	FILE *lf;

	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "UPDATE info SET value = 7 WHERE name = 'schema'");
	snprintf(logpath, sizeof(logpath), "%s/log", f->dir);
	assert_int_equal(cf_log_open(CF_LOG_ERROR, logpath), 0);
	assert_int_equal(cf_store_open(f->path, false, &f->s), -EIO);
	cf_log_close();
	cf_log_set_level(CF_LOG_NONE);
	lf = fopen(logpath, "r");
	assert_non_null(lf);
	assert_non_null(fgets(line, sizeof(line), lf));
	fclose(lf);
	assert_non_null(strstr(line, f->path));
	assert_non_null(strstr(line, "version 7"));
}

/* --- metadata ------------------------------------------------------------ */

static void test_store__meta_put_then_get_round_trips(void **state)
{
	struct fx *f = fx_create(state);
	uint8_t *v = NULL;
	size_t len = 0;

	assert_int_equal(cf_store_meta_put(f->s, "label", "token one", 9), 0);
	assert_int_equal(cf_store_meta_get(f->s, "label", &v, &len), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(v, "token one", 9);
	free(v);
}

static void test_store__meta_put_replaces_value(void **state)
{
	struct fx *f = fx_create(state);
	uint8_t *v = NULL;
	size_t len = 0;

	assert_int_equal(cf_store_meta_put(f->s, "label", "first", 5), 0);
	assert_int_equal(cf_store_meta_put(f->s, "label", "2nd", 3), 0);
	assert_int_equal(cf_store_meta_get(f->s, "label", &v, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "2nd", 3);
	free(v);
}

static void test_store__meta_get_missing_fails_enoent(void **state)
{
	struct fx *f = fx_create(state);
	uint8_t *v = (uint8_t *)1;
	size_t len = 5;

	assert_int_equal(cf_store_meta_get(f->s, "nothing", &v, &len), -ENOENT);
	assert_null(v);
	assert_int_equal(len, 0);
}

static void test_store__meta_empty_value_round_trips(void **state)
{
	struct fx *f = fx_create(state);
	uint8_t *v = NULL;
	size_t len = 9;

	assert_int_equal(cf_store_meta_put(f->s, "empty", NULL, 0), 0);
	assert_int_equal(cf_store_meta_get(f->s, "empty", &v, &len), 0);
	assert_non_null(v);
	assert_int_equal(len, 0);
	free(v);
}

static void test_store__meta_at_limit_round_trips(void **state)
{
	struct fx *f = fx_create(state);
	uint8_t *big = malloc(CF_STORE_META_MAX);
	uint8_t *v = NULL;
	size_t len = 0;

	assert_non_null(big);
	for (size_t i = 0; i < CF_STORE_META_MAX; i++)
		big[i] = (uint8_t)(i >> 3);
	assert_int_equal(cf_store_meta_put(f->s, "big", big, CF_STORE_META_MAX),
			 0);
	assert_int_equal(cf_store_meta_get(f->s, "big", &v, &len), 0);
	assert_int_equal(len, CF_STORE_META_MAX);
	assert_memory_equal(v, big, len);
	free(v);
	free(big);
}

static void test_store__meta_too_large_fails_einval(void **state)
{
	struct fx *f = fx_create(state);
	uint8_t *big = calloc(1, CF_STORE_META_MAX + 1);
	uint8_t *v = NULL;
	size_t len = 0;

	assert_non_null(big);
	assert_int_equal(
	    cf_store_meta_put(f->s, "big", big, CF_STORE_META_MAX + 1),
	    -EINVAL);
	assert_int_equal(cf_store_meta_get(f->s, "big", &v, &len), -ENOENT);
	free(big);
}

static void test_store__meta_bad_arguments_fail_einval(void **state)
{
	struct fx *f = fx_create(state);
	char longname[300];
	uint8_t *v = NULL;
	size_t len = 0;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(cf_store_meta_put(f->s, NULL, "x", 1), -EINVAL);
	assert_int_equal(cf_store_meta_put(f->s, "", "x", 1), -EINVAL);
	assert_int_equal(cf_store_meta_put(f->s, longname, "x", 1), -EINVAL);
	assert_int_equal(cf_store_meta_put(f->s, "n", NULL, 1), -EINVAL);
	assert_int_equal(cf_store_meta_get(f->s, NULL, &v, &len), -EINVAL);
	assert_int_equal(cf_store_meta_get(f->s, "n", NULL, &len), -EINVAL);
	assert_int_equal(cf_store_meta_get(f->s, "n", &v, NULL), -EINVAL);
}

static void test_store__meta_of_wrong_type_in_file_fails_eio(void **state)
{
	struct fx *f = fx_create(state);
	uint8_t *v = NULL;
	size_t len = 0;

	assert_int_equal(cf_store_meta_put(f->s, "label", "x", 1), 0);
	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "UPDATE meta SET value = 'text' WHERE name='label'");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_meta_get(f->s, "label", &v, &len), -EIO);
	assert_null(v);
}

/* --- ids ----------------------------------------------------------------- */

static void test_store__new_id_is_nonzero_and_increasing(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a = new_id(f->s);
	uint64_t b = new_id(f->s);
	uint64_t c = new_id(f->s);

	assert_true(a > 0);
	assert_true(b > a);
	assert_true(c > b);
	assert_true(c < (UINT64_C(1) << 31));
}

static void test_store__new_id_not_reused_after_delete(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a = put_new(f->s, "a", 1);
	uint64_t b;

	assert_int_equal(cf_store_object_delete(f->s, a), 0);
	b = new_id(f->s);
	assert_true(b > a);
}

static void test_store__new_id_not_reused_after_wipe(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a = put_new(f->s, "a", 1);
	uint64_t b;

	assert_int_equal(cf_store_wipe(f->s), 0);
	b = new_id(f->s);
	assert_true(b > a);
}

static void test_store__new_id_not_reused_after_reopen(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a = new_id(f->s);
	uint64_t b;

	fx_reopen(f);
	b = new_id(f->s);
	assert_true(b > a);
}

static void test_store__new_id_exhausted_fails_enospc(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = 5;

	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path,
		 "UPDATE info SET value = 2147483646 WHERE name = 'last_id'");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_object_new_id(f->s, &id), 0);
	assert_int_equal(id, 2147483647);
	assert_int_equal(cf_store_object_new_id(f->s, &id), -ENOSPC);
	assert_int_equal(id, 0);
}

static void test_store__new_id_null_fails_einval(void **state)
{
	struct fx *f = fx_create(state);

	assert_int_equal(cf_store_object_new_id(f->s, NULL), -EINVAL);
	assert_int_equal(cf_store_object_new_id(NULL, NULL), -EINVAL);
}

/* --- objects ------------------------------------------------------------- */

static void test_store__put_then_get_round_trips(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "record one", 1);

	assert_record(f->s, id, "record one");
}

static void test_store__put_empty_record_round_trips(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = new_id(f->s);
	uint8_t *rec = NULL;
	size_t len = 7;
	uint64_t version = 0;

	assert_int_equal(cf_store_object_put(f->s, id, NULL, 0, NULL, 0), 0);
	assert_int_equal(cf_store_object_get(f->s, id, &rec, &len, &version),
			 0);
	assert_non_null(rec);
	assert_int_equal(len, 0);
	free(rec);
}

static void test_store__put_record_at_limit_round_trips(void **state)
{
	struct fx *f = fx_create(state);
	uint8_t *big = malloc(CF_STORE_RECORD_MAX);
	uint64_t id = new_id(f->s);
	uint8_t *rec = NULL;
	size_t len = 0;
	uint64_t version = 0;

	assert_non_null(big);
	for (size_t i = 0; i < CF_STORE_RECORD_MAX; i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(
	    cf_store_object_put(f->s, id, big, CF_STORE_RECORD_MAX, NULL, 0),
	    0);
	assert_int_equal(cf_store_object_get(f->s, id, &rec, &len, &version),
			 0);
	assert_int_equal(len, CF_STORE_RECORD_MAX);
	assert_memory_equal(rec, big, len);
	free(rec);
	free(big);
}

static void test_store__put_too_large_record_fails_einval(void **state)
{
	struct fx *f = fx_create(state);
	uint8_t *big = calloc(1, CF_STORE_RECORD_MAX + 1);
	uint64_t id = new_id(f->s);
	uint64_t version = 0;

	assert_non_null(big);
	assert_int_equal(cf_store_object_put(f->s, id, big,
					     CF_STORE_RECORD_MAX + 1, NULL, 0),
			 -EINVAL);
	assert_int_equal(cf_store_object_version(f->s, id, &version), -ENOENT);
	free(big);
}

static void test_store__put_bumps_version(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "v1", 1);
	uint64_t v1 = 0;
	uint64_t v2 = 0;
	uint64_t v3 = 0;

	assert_int_equal(cf_store_object_version(f->s, id, &v1), 0);
	assert_int_equal(cf_store_object_put(f->s, id, "v2", 2, NULL, 0), 0);
	assert_int_equal(cf_store_object_version(f->s, id, &v2), 0);
	assert_int_equal(cf_store_object_put(f->s, id, "v2", 2, NULL, 0), 0);
	assert_int_equal(cf_store_object_version(f->s, id, &v3), 0);
	assert_true(v1 > 0);
	assert_true(v2 > v1);
	assert_true(v3 > v2);
}

static void test_store__version_equals_version_from_get(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "rec", 1);
	uint8_t *rec = NULL;
	size_t len = 0;
	uint64_t vget = 0;
	uint64_t v = 0;

	assert_int_equal(cf_store_object_put(f->s, id, "rec2", 4, NULL, 0), 0);
	assert_int_equal(cf_store_object_get(f->s, id, &rec, &len, &vget), 0);
	assert_int_equal(cf_store_object_version(f->s, id, &v), 0);
	assert_int_equal(v, vget);
	free(rec);
}

static void test_store__put_unallocated_id_fails_einval(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = new_id(f->s);
	uint64_t next;
	uint64_t version = 0;

	assert_int_equal(cf_store_object_put(f->s, id + 1, "x", 1, NULL, 0),
			 -EINVAL);
	assert_int_equal(cf_store_object_version(f->s, id + 1, &version),
			 -ENOENT);
	next = new_id(f->s);
	assert_int_equal(next, id + 1);
}

static void test_store__put_out_of_range_id_fails_einval(void **state)
{
	struct fx *f = fx_create(state);

	assert_int_equal(cf_store_object_put(f->s, 0, "x", 1, NULL, 0),
			 -EINVAL);
	assert_int_equal(
	    cf_store_object_put(f->s, UINT64_C(1) << 31, "x", 1, NULL, 0),
	    -EINVAL);
}

static void test_store__put_null_pointers_fail_einval(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = new_id(f->s);

	assert_int_equal(cf_store_object_put(f->s, id, NULL, 1, NULL, 0),
			 -EINVAL);
	assert_int_equal(cf_store_object_put(f->s, id, "x", 1, NULL, 1),
			 -EINVAL);
	assert_int_equal(cf_store_object_put(NULL, id, "x", 1, NULL, 0),
			 -EINVAL);
}

static void test_store__get_missing_object_fails_enoent(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = new_id(f->s);
	uint8_t *rec = (uint8_t *)1;
	size_t len = 3;
	uint64_t version = 3;

	assert_int_equal(cf_store_object_get(f->s, id, &rec, &len, &version),
			 -ENOENT);
	assert_null(rec);
	assert_int_equal(len, 0);
	assert_int_equal(version, 0);
}

static void test_store__get_bad_arguments_fail_einval(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "x", 1);
	uint8_t *rec = NULL;
	size_t len = 0;
	uint64_t version = 0;

	assert_int_equal(cf_store_object_get(f->s, 0, &rec, &len, &version),
			 -EINVAL);
	assert_int_equal(cf_store_object_get(f->s, id, NULL, &len, &version),
			 -EINVAL);
	assert_int_equal(cf_store_object_get(f->s, id, &rec, NULL, &version),
			 -EINVAL);
	assert_int_equal(cf_store_object_version(f->s, id, NULL), -EINVAL);
	assert_int_equal(cf_store_object_version(f->s, 0, &version), -EINVAL);
}

static void test_store__find_returns_every_object_with_key(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a = put_new(f->s, "a", 7);
	uint64_t b = put_new(f->s, "b", 8);
	uint64_t c = put_new(f->s, "c", 7);
	uint64_t want7[] = {a, c};
	uint64_t want8[] = {b};

	assert_find(f->s, 7, want7, 2);
	assert_find(f->s, 8, want8, 1);
}

static void test_store__find_unknown_key_returns_nothing(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store_key k = key_of(9);
	uint64_t *ids = (uint64_t *)1;
	size_t n = 4;

	(void)put_new(f->s, "a", 1);
	assert_int_equal(cf_store_object_find(f->s, &k, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_null(ids);
}

static void test_store__find_matches_any_of_several_keys(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store_key keys[3] = {key_of(1), key_of(2), key_of(3)};
	uint64_t id = new_id(f->s);
	uint64_t want[] = {id};

	assert_int_equal(cf_store_object_put(f->s, id, "r", 1, keys, 3), 0);
	assert_find(f->s, 1, want, 1);
	assert_find(f->s, 2, want, 1);
	assert_find(f->s, 3, want, 1);
}

static void test_store__put_replaces_key_set(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store_key first[2] = {key_of(1), key_of(2)};
	struct cf_store_key second[2] = {key_of(2), key_of(3)};
	uint64_t id = new_id(f->s);
	uint64_t want[] = {id};

	assert_int_equal(cf_store_object_put(f->s, id, "r", 1, first, 2), 0);
	assert_int_equal(cf_store_object_put(f->s, id, "r", 1, second, 2), 0);
	assert_find(f->s, 1, NULL, 0);
	assert_find(f->s, 2, want, 1);
	assert_find(f->s, 3, want, 1);
}

static void test_store__duplicate_keys_in_put_count_once(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store_key keys[2] = {key_of(4), key_of(4)};
	uint64_t id = new_id(f->s);
	uint64_t want[] = {id};

	assert_int_equal(cf_store_object_put(f->s, id, "r", 1, keys, 2), 0);
	assert_find(f->s, 4, want, 1);
}

static void test_store__find_bad_arguments_fail_einval(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store_key k = key_of(1);
	uint64_t *ids = NULL;
	size_t n = 0;

	assert_int_equal(cf_store_object_find(f->s, NULL, &ids, &n), -EINVAL);
	assert_int_equal(cf_store_object_find(f->s, &k, NULL, &n), -EINVAL);
	assert_int_equal(cf_store_object_find(f->s, &k, &ids, NULL), -EINVAL);
	assert_int_equal(cf_store_object_list(f->s, NULL, &n), -EINVAL);
	assert_int_equal(cf_store_object_list(f->s, &ids, NULL), -EINVAL);
}

static void test_store__list_returns_all_ids_ascending(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t want[40];
	uint64_t *ids = NULL;
	size_t n = 0;

	for (size_t i = 0; i < 40; i++)
		want[i] = put_new(f->s, "r", (uint8_t)i);
	assert_int_equal(cf_store_object_list(f->s, &ids, &n), 0);
	assert_int_equal(n, 40);
	assert_memory_equal(ids, want, sizeof(want));
	free(ids);
}

static void test_store__list_of_empty_store_returns_nothing(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t *ids = (uint64_t *)1;
	size_t n = 3;

	assert_int_equal(cf_store_object_list(f->s, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_null(ids);
}

static void test_store__delete_then_get_fails_enoent(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "r", 1);
	uint8_t *rec = NULL;
	size_t len = 0;
	uint64_t version = 0;

	assert_int_equal(cf_store_object_delete(f->s, id), 0);
	assert_int_equal(cf_store_object_get(f->s, id, &rec, &len, &version),
			 -ENOENT);
	assert_int_equal(cf_store_object_version(f->s, id, &version), -ENOENT);
}

static void test_store__delete_removes_keys(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a = put_new(f->s, "a", 1);
	uint64_t b = put_new(f->s, "b", 1);
	uint64_t want[] = {b};

	assert_int_equal(cf_store_object_delete(f->s, a), 0);
	assert_find(f->s, 1, want, 1);
}

static void test_store__delete_removes_from_list(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a = put_new(f->s, "a", 1);
	uint64_t b = put_new(f->s, "b", 1);
	uint64_t *ids = NULL;
	size_t n = 0;

	assert_int_equal(cf_store_object_delete(f->s, a), 0);
	assert_int_equal(cf_store_object_list(f->s, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], b);
	free(ids);
}

static void test_store__delete_twice_fails_enoent(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "r", 1);

	assert_int_equal(cf_store_object_delete(f->s, id), 0);
	assert_int_equal(cf_store_object_delete(f->s, id), -ENOENT);
}

static void test_store__delete_bad_id_fails_einval(void **state)
{
	struct fx *f = fx_create(state);

	assert_int_equal(cf_store_object_delete(f->s, 0), -EINVAL);
	assert_int_equal(cf_store_object_delete(f->s, UINT64_C(1) << 40),
			 -EINVAL);
}

static void test_store__wipe_removes_objects_keys_and_meta(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t *ids = NULL;
	uint8_t *v = NULL;
	size_t n = 0;

	(void)put_new(f->s, "a", 1);
	(void)put_new(f->s, "b", 2);
	assert_int_equal(cf_store_meta_put(f->s, "label", "x", 1), 0);
	assert_int_equal(cf_store_wipe(f->s), 0);
	assert_int_equal(cf_store_object_list(f->s, &ids, &n), 0);
	assert_int_equal(n, 0);
	assert_find(f->s, 1, NULL, 0);
	assert_int_equal(cf_store_meta_get(f->s, "label", &v, &n), -ENOENT);
	assert_int_equal(cf_store_check(f->s), 0);
}

/* --- transactions -------------------------------------------------------- */

static void test_store__rollback_discards_all_writes(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t kept = put_new(f->s, "kept", 1);
	uint64_t id;
	uint64_t *ids = NULL;
	uint8_t *v = NULL;
	size_t n = 0;
	uint64_t want[] = {kept};

	assert_int_equal(cf_store_begin(f->s), 0);
	id = put_new(f->s, "new", 1);
	assert_int_equal(cf_store_object_put(f->s, kept, "changed", 7, NULL, 0),
			 0);
	assert_int_equal(cf_store_meta_put(f->s, "label", "x", 1), 0);
	cf_store_rollback(f->s);

	assert_int_equal(cf_store_object_list(f->s, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], kept);
	free(ids);
	assert_record(f->s, kept, "kept");
	assert_find(f->s, 1, want, 1);
	assert_int_equal(cf_store_meta_get(f->s, "label", &v, &n), -ENOENT);
	assert_int_equal(new_id(f->s), id);
}

static void test_store__rollback_undoes_delete_and_wipe(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "r", 1);

	assert_int_equal(cf_store_begin(f->s), 0);
	assert_int_equal(cf_store_object_delete(f->s, id), 0);
	assert_int_equal(cf_store_wipe(f->s), 0);
	cf_store_rollback(f->s);
	assert_record(f->s, id, "r");
}

static void test_store__commit_persists_across_reopen(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id;
	uint8_t *v = NULL;
	size_t len = 0;
	uint64_t want[1];

	assert_int_equal(cf_store_begin(f->s), 0);
	id = put_new(f->s, "durable", 5);
	assert_int_equal(cf_store_meta_put(f->s, "label", "L", 1), 0);
	assert_int_equal(cf_store_commit(f->s), 0);
	fx_reopen(f);
	assert_record(f->s, id, "durable");
	want[0] = id;
	assert_find(f->s, 5, want, 1);
	assert_int_equal(cf_store_meta_get(f->s, "label", &v, &len), 0);
	free(v);
}

static void test_store__write_outside_transaction_persists(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "alone", 1);

	fx_reopen(f);
	assert_record(f->s, id, "alone");
}

static void test_store__close_with_open_transaction_discards_it(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t *ids = NULL;
	size_t n = 0;

	assert_int_equal(cf_store_begin(f->s), 0);
	(void)put_new(f->s, "lost", 1);
	fx_reopen(f);
	assert_int_equal(cf_store_object_list(f->s, &ids, &n), 0);
	assert_int_equal(n, 0);
}

static void test_store__failed_put_in_transaction_keeps_the_rest(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a;
	uint64_t b;

	assert_int_equal(cf_store_begin(f->s), 0);
	a = put_new(f->s, "a", 1);
	assert_int_equal(cf_store_object_put(f->s, a + 1, "x", 1, NULL, 0),
			 -EINVAL);
	b = put_new(f->s, "b", 1);
	assert_int_equal(cf_store_commit(f->s), 0);
	fx_reopen(f);
	assert_record(f->s, a, "a");
	assert_record(f->s, b, "b");
	assert_int_equal(cf_store_check(f->s), 0);
}

static void test_store__begin_twice_fails_einval(void **state)
{
	struct fx *f = fx_create(state);

	assert_int_equal(cf_store_begin(f->s), 0);
	assert_int_equal(cf_store_begin(f->s), -EINVAL);
	cf_store_rollback(f->s);
}

static void test_store__commit_without_begin_fails_einval(void **state)
{
	struct fx *f = fx_create(state);

	assert_int_equal(cf_store_commit(f->s), -EINVAL);
	cf_store_rollback(f->s);
	assert_int_equal(cf_store_begin(NULL), -EINVAL);
	assert_int_equal(cf_store_commit(NULL), -EINVAL);
}

static void
test_store__begin_while_other_handle_writes_fails_ebusy(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store *s2 = NULL;

	assert_int_equal(cf_store_open(f->path, false, &s2), 0);
	assert_int_equal(cf_store_begin(s2), 0);
	assert_int_equal(cf_store_begin(f->s), -EBUSY);
	cf_store_rollback(s2);
	assert_int_equal(cf_store_begin(f->s), 0);
	assert_int_equal(cf_store_commit(f->s), 0);
	cf_store_close(s2);
}

/* --- several handles ----------------------------------------------------- */

static void test_store__second_handle_sees_commit(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store *s2 = NULL;
	uint64_t id;

	assert_int_equal(cf_store_open(f->path, false, &s2), 0);
	assert_int_equal(cf_store_begin(s2), 0);
	id = put_new(s2, "from s2", 3);
	assert_int_equal(cf_store_commit(s2), 0);
	assert_record(f->s, id, "from s2");
	cf_store_close(s2);
}

static void test_store__changed_false_after_open(void **state)
{
	struct fx *f = fx_create(state);

	assert_false(changed(f->s));
	fx_reopen(f);
	assert_false(changed(f->s));
}

static void test_store__changed_true_once_per_foreign_commit(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store *s2 = NULL;

	assert_int_equal(cf_store_open(f->path, false, &s2), 0);
	assert_false(changed(f->s));
	(void)put_new(s2, "one", 1);
	assert_true(changed(f->s));
	assert_false(changed(f->s));
	assert_int_equal(cf_store_meta_put(s2, "label", "x", 1), 0);
	assert_true(changed(f->s));
	assert_false(changed(f->s));
	cf_store_close(s2);
}

static void test_store__changed_false_after_own_commit(void **state)
{
	struct fx *f = fx_create(state);

	(void)put_new(f->s, "mine", 1);
	assert_false(changed(f->s));
}

static void test_store__changed_false_after_foreign_rollback(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store *s2 = NULL;

	assert_int_equal(cf_store_open(f->path, false, &s2), 0);
	assert_int_equal(cf_store_begin(s2), 0);
	(void)put_new(s2, "never", 1);
	cf_store_rollback(s2);
	assert_false(changed(f->s));
	cf_store_close(s2);
}

static void test_store__changed_null_fails_einval(void **state)
{
	struct fx *f = fx_create(state);
	bool c = true;

	assert_int_equal(cf_store_changed(f->s, NULL), -EINVAL);
	assert_int_equal(cf_store_changed(NULL, &c), -EINVAL);
	assert_false(c);
}

/* --- damage and tampering ------------------------------------------------ */

static void test_store__check_passes_on_good_store(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store_key keys[3] = {key_of(1), key_of(2), key_of(3)};

	for (int i = 0; i < 50; i++) {
		uint64_t id = new_id(f->s);
		assert_int_equal(
		    cf_store_object_put(f->s, id, "rec", 3, keys, 3), 0);
	}
	assert_int_equal(cf_store_meta_put(f->s, "label", "x", 1), 0);
	assert_int_equal(cf_store_check(f->s), 0);
}

static void test_store__check_finds_orphaned_key(void **state)
{
	struct fx *f = fx_create(state);

	(void)put_new(f->s, "r", 1);
	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "INSERT INTO keys VALUES (zeroblob(16), 1000)");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_check(f->s), -EIO);
}

static void test_store__check_finds_id_beyond_counter(void **state)
{
	struct fx *f = fx_create(state);

	(void)put_new(f->s, "r", 1);
	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "UPDATE objects SET id = 77");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_check(f->s), -EIO);
}

/* Overwrites the last page of a closed store with junk. */
static void damage_last_page(const char *path)
{
	uint8_t junk[4096];
	struct stat st;
	int fd;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size >= 8 * 4096);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), st.st_size - 4096),
			 4096);
	assert_int_equal(close(fd), 0);
}

/* Many objects, so that the tables span pages after the schema's. */
static uint64_t fill_and_close(struct fx *f)
{
	char rec[600];
	uint64_t last = 0;

	memset(rec, 'r', sizeof(rec) - 1);
	rec[sizeof(rec) - 1] = '\0';
	assert_int_equal(cf_store_begin(f->s), 0);
	for (int i = 0; i < 200; i++)
		last = put_new(f->s, rec, (uint8_t)i);
	assert_int_equal(cf_store_commit(f->s), 0);
	cf_store_close(f->s);
	f->s = NULL;
	return last;
}

static void test_store__check_finds_damaged_page(void **state)
{
	struct fx *f = fx_create(state);

	(void)fill_and_close(f);
	damage_last_page(f->path);
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_check(f->s), -EIO);
}

static void test_store__list_over_damaged_page_fails_eio(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t *ids = NULL;
	size_t n = 0;

	(void)fill_and_close(f);
	damage_last_page(f->path);
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_object_list(f->s, &ids, &n), -EIO);
	assert_null(ids);
	assert_int_equal(n, 0);
}

static void test_store__truncated_file_fails_eio(void **state)
{
	struct fx *f = fx_create(state);
	struct stat st;
	uint64_t *ids = NULL;
	size_t n = 0;
	int r;

	(void)fill_and_close(f);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(truncate(f->path, st.st_size / 2), 0);
	/* a torn file may be refused at open or at first use */
	r = cf_store_open(f->path, false, &f->s);
	if (r == 0)
		r = cf_store_object_list(f->s, &ids, &n);
	assert_int_equal(r, -EIO);
	assert_null(ids);
}

static void test_store__oversized_record_in_file_fails_eio(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "small", 1);
	uint8_t *rec = NULL;
	size_t len = 0;
	uint64_t version = 0;

	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "UPDATE objects SET record = zeroblob(16777217)");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_object_get(f->s, id, &rec, &len, &version),
			 -EIO);
	assert_null(rec);
	assert_int_equal(len, 0);
}

static void test_store__huge_record_in_file_fails_eio(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "small", 1);
	uint8_t *rec = NULL;
	size_t len = 0;
	uint64_t version = 0;

	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "UPDATE objects SET record = zeroblob(40000000)");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_object_get(f->s, id, &rec, &len, &version),
			 -EIO);
	assert_null(rec);
}

static void test_store__record_of_wrong_type_fails_eio(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "r", 1);
	uint8_t *rec = NULL;
	size_t len = 0;
	uint64_t version = 0;

	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "UPDATE objects SET record = 12345");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_object_get(f->s, id, &rec, &len, &version),
			 -EIO);
	assert_null(rec);
}

static void test_store__bad_version_in_file_fails_eio(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = put_new(f->s, "r", 1);
	uint64_t version = 9;

	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "UPDATE objects SET version = -4");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_object_version(f->s, id, &version), -EIO);
	assert_int_equal(version, 0);
}

static void test_store__bad_id_in_keys_fails_eio(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t *ids = NULL;
	size_t n = 0;

	(void)put_new(f->s, "r", 1);
	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "INSERT INTO keys VALUES (x'0101010101010101"
			  "0101010101010101', 4294967296)");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	{
		struct cf_store_key k = key_of(1);
		assert_int_equal(cf_store_object_find(f->s, &k, &ids, &n),
				 -EIO);
	}
	assert_null(ids);
	assert_int_equal(n, 0);
}

static void test_store__missing_id_counter_fails_eio(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t id = 1;

	cf_store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "DELETE FROM info WHERE name = 'last_id'");
	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_object_new_id(f->s, &id), -EIO);
	assert_int_equal(id, 0);
}

/* --- crashes and allocation failures ------------------------------------- */

/* A child commits objects one by one and reports each id once its commit
 * returned; it is killed at an arbitrary point. */
static void test_store__commit_survives_kill_9(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t ids[64];
	size_t got = 0;
	int fds[2];
	pid_t pid;
	int status;

	cf_store_close(f->s);
	f->s = NULL;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cf_store *s = NULL;

		close(fds[0]);
		if (cf_store_open(f->path, false, &s) != 0)
			_exit(1);
		for (;;) {
			uint64_t id = 0;
			struct cf_store_key k = key_of(1);

			if (cf_store_begin(s) != 0 ||
			    cf_store_object_new_id(s, &id) != 0 ||
			    cf_store_object_put(s, id, "crash", 5, &k, 1) !=
				0 ||
			    cf_store_commit(s) != 0)
				_exit(1);
			if (write(fds[1], &id, sizeof(id)) != sizeof(id))
				_exit(1);
		}
	}
	close(fds[1]);
	while (got < 64 &&
	       read(fds[0], &ids[got], sizeof(ids[0])) == sizeof(ids[0]))
		got++;
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(fds[0]);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(got, 64);

	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_check(f->s), 0);
	for (size_t i = 0; i < got; i++)
		assert_record(f->s, ids[i], "crash");
}

/* SQLite's allocator, wrapped to fail its Nth call. */
static sqlite3_mem_methods real_mem;
static long mem_calls;
static long mem_fail_at; /* 0: never */
static bool mem_failed;

static bool mem_should_fail(void)
{
	if (mem_fail_at != 0 && ++mem_calls == mem_fail_at) {
		mem_failed = true;
		return true;
	}
	return false;
}

static void *mem_malloc(int n)
{
	return mem_should_fail() ? NULL : real_mem.xMalloc(n);
}

static void *mem_realloc(void *p, int n)
{
	return mem_should_fail() ? NULL : real_mem.xRealloc(p, n);
}

static void mem_install(void)
{
	sqlite3_mem_methods m;

	assert_int_equal(sqlite3_shutdown(), SQLITE_OK);
	assert_int_equal(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem),
			 SQLITE_OK);
	m = real_mem;
	m.xMalloc = mem_malloc;
	m.xRealloc = mem_realloc;
	assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &m), SQLITE_OK);
	assert_int_equal(sqlite3_initialize(), SQLITE_OK);
}

static void mem_uninstall(void)
{
	mem_fail_at = 0;
	assert_int_equal(sqlite3_shutdown(), SQLITE_OK);
	assert_int_equal(sqlite3_config(SQLITE_CONFIG_MALLOC, &real_mem),
			 SQLITE_OK);
	assert_int_equal(sqlite3_initialize(), SQLITE_OK);
}

/* open, one durable create, find, close */
static int alloc_scenario(const char *path)
{
	struct cf_store *s = NULL;
	struct cf_store_key k = key_of(3);
	uint64_t *ids = NULL;
	uint64_t id = 0;
	size_t n = 0;
	int r;

	r = cf_store_open(path, false, &s);
	if (r != 0)
		return r;
	r = cf_store_begin(s);
	if (r == 0)
		r = cf_store_object_new_id(s, &id);
	if (r == 0)
		r = cf_store_object_put(s, id, "rec", 3, &k, 1);
	if (r == 0)
		r = cf_store_commit(s);
	else
		cf_store_rollback(s);
	if (r == 0)
		r = cf_store_object_find(s, &k, &ids, &n);
	free(ids);
	cf_store_close(s);
	return r;
}

static size_t object_count(struct fx *f)
{
	uint64_t *ids = NULL;
	size_t n = 0;

	assert_int_equal(cf_store_open(f->path, false, &f->s), 0);
	assert_int_equal(cf_store_check(f->s), 0);
	assert_int_equal(cf_store_object_list(f->s, &ids, &n), 0);
	free(ids);
	cf_store_close(f->s);
	f->s = NULL;
	return n;
}

/* Each failure gives -ENOMEM, leaves the store sound, and a create either
 * happened entirely or not at all (a commit that fails late may already be
 * durable). */
static void test_store__allocation_failures_fail_cleanly(void **state)
{
	struct fx *f = fx_create(state);
	size_t before = 0;
	long n;

	cf_store_close(f->s);
	f->s = NULL;
	for (n = 1; n < 100000; n++) {
		size_t after;
		int r;

		mem_install();
		mem_calls = 0;
		mem_failed = false;
		mem_fail_at = n;
		r = alloc_scenario(f->path);
		mem_uninstall();
		if (!mem_failed) {
			assert_int_equal(r, 0);
			break;
		}
		if (r != 0 && r != -ENOMEM)
			fail_msg("allocation %ld: got %d, want -ENOMEM", n, r);
		after = object_count(f);
		if (r == 0)
			assert_int_equal(after, before + 1);
		else
			assert_true(after == before || after == before + 1);
		before = after;
	}
	assert_true(n > 10);
	assert_int_equal(sqlite3_memory_used(), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

/* --- read transactions ---------------------------------------------------- */

static void test_store__reads_inside_read_transaction_work(void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a = put_new(f->s, "alpha", 1);
	uint64_t b = put_new(f->s, "beta", 1);
	uint64_t want[] = {a, b};

	assert_int_equal(cf_store_read_begin(f->s), 0);
	assert_find(f->s, 1, want, 2);
	assert_record(f->s, a, "alpha");
	assert_record(f->s, b, "beta");
	cf_store_read_end(f->s);
	/* and the handle is usable for writes again afterwards */
	put_new(f->s, "gamma", 2);
}

static void test_store__writes_inside_read_transaction_fail_einval(
	void **state)
{
	struct fx *f = fx_create(state);
	uint64_t a = put_new(f->s, "alpha", 1);
	struct cf_store_key k = key_of(1);
	uint64_t id = 0;

	assert_int_equal(cf_store_read_begin(f->s), 0);
	assert_int_equal(cf_store_read_begin(f->s), -EINVAL);
	assert_int_equal(cf_store_begin(f->s), -EINVAL);
	assert_int_equal(cf_store_object_put(f->s, a, "x", 1, &k, 1), -EINVAL);
	assert_int_equal(cf_store_object_new_id(f->s, &id), -EINVAL);
	assert_int_equal(cf_store_object_delete(f->s, a), -EINVAL);
	assert_int_equal(cf_store_meta_put(f->s, "m", "v", 1), -EINVAL);
	cf_store_read_end(f->s);
	assert_record(f->s, a, "alpha");
}

static void test_store__read_begin_inside_write_transaction_fails_einval(
	void **state)
{
	struct fx *f = fx_create(state);

	assert_int_equal(cf_store_begin(f->s), 0);
	assert_int_equal(cf_store_read_begin(f->s), -EINVAL);
	assert_int_equal(cf_store_commit(f->s), 0);
}

static void test_store__read_end_without_begin_is_noop(void **state)
{
	struct fx *f = fx_create(state);

	cf_store_read_end(f->s);
	cf_store_read_end(NULL);
	assert_int_equal(cf_store_read_begin(NULL), -EINVAL);
	put_new(f->s, "alpha", 1);
}

/* A read transaction reads one snapshot: another handle's commit during it
 * shows only after read_end, and change detection still reports it. */
static void test_store__read_transaction_sees_one_snapshot(void **state)
{
	struct fx *f = fx_create(state);
	struct cf_store *other = NULL;
	uint64_t a = put_new(f->s, "alpha", 1);
	uint64_t b;
	uint64_t one[1];
	uint64_t two[2];

	assert_int_equal(cf_store_open(f->path, false, &other), 0);
	one[0] = a;
	assert_int_equal(cf_store_read_begin(f->s), 0);
	assert_find(f->s, 1, one, 1);
	b = put_new(other, "beta", 1);
	assert_find(f->s, 1, one, 1);
	cf_store_read_end(f->s);
	two[0] = a;
	two[1] = b;
	assert_find(f->s, 1, two, 2);
	assert_true(changed(f->s));
	cf_store_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_store__create_then_reopen_succeeds),
	    T(test_store__open_missing_fails_enoent),
	    T(test_store__create_in_missing_directory_fails_enoent),
	    T(test_store__create_existing_fails_eexist),
	    T(test_store__create_existing_leaves_it_intact),
	    T(test_store__open_null_arguments_fail_einval),
	    T(test_store__open_directory_fails_eisdir),
	    T(test_store__db_and_wal_are_mode_0600),
	    T(test_store__garbage_file_fails_eio),
	    T(test_store__empty_file_fails_eio),
	    T(test_store__foreign_sqlite_file_fails_eio),
	    T(test_store__foreign_sqlite_file_left_unchanged),
	    T(test_store__newer_schema_version_fails_eio),
	    T(test_store__newer_schema_logs_path_and_version),
	    T(test_store__meta_put_then_get_round_trips),
	    T(test_store__meta_put_replaces_value),
	    T(test_store__meta_get_missing_fails_enoent),
	    T(test_store__meta_empty_value_round_trips),
	    T(test_store__meta_at_limit_round_trips),
	    T(test_store__meta_too_large_fails_einval),
	    T(test_store__meta_bad_arguments_fail_einval),
	    T(test_store__meta_of_wrong_type_in_file_fails_eio),
	    T(test_store__new_id_is_nonzero_and_increasing),
	    T(test_store__new_id_not_reused_after_delete),
	    T(test_store__new_id_not_reused_after_wipe),
	    T(test_store__new_id_not_reused_after_reopen),
	    T(test_store__new_id_exhausted_fails_enospc),
	    T(test_store__new_id_null_fails_einval),
	    T(test_store__put_then_get_round_trips),
	    T(test_store__put_empty_record_round_trips),
	    T(test_store__put_record_at_limit_round_trips),
	    T(test_store__put_too_large_record_fails_einval),
	    T(test_store__put_bumps_version),
	    T(test_store__version_equals_version_from_get),
	    T(test_store__put_unallocated_id_fails_einval),
	    T(test_store__put_out_of_range_id_fails_einval),
	    T(test_store__put_null_pointers_fail_einval),
	    T(test_store__get_missing_object_fails_enoent),
	    T(test_store__get_bad_arguments_fail_einval),
	    T(test_store__find_returns_every_object_with_key),
	    T(test_store__find_unknown_key_returns_nothing),
	    T(test_store__find_matches_any_of_several_keys),
	    T(test_store__put_replaces_key_set),
	    T(test_store__duplicate_keys_in_put_count_once),
	    T(test_store__find_bad_arguments_fail_einval),
	    T(test_store__list_returns_all_ids_ascending),
	    T(test_store__list_of_empty_store_returns_nothing),
	    T(test_store__delete_then_get_fails_enoent),
	    T(test_store__delete_removes_keys),
	    T(test_store__delete_removes_from_list),
	    T(test_store__delete_twice_fails_enoent),
	    T(test_store__delete_bad_id_fails_einval),
	    T(test_store__wipe_removes_objects_keys_and_meta),
	    T(test_store__rollback_discards_all_writes),
	    T(test_store__rollback_undoes_delete_and_wipe),
	    T(test_store__commit_persists_across_reopen),
	    T(test_store__write_outside_transaction_persists),
	    T(test_store__close_with_open_transaction_discards_it),
	    T(test_store__failed_put_in_transaction_keeps_the_rest),
	    T(test_store__begin_twice_fails_einval),
	    T(test_store__commit_without_begin_fails_einval),
	    T(test_store__begin_while_other_handle_writes_fails_ebusy),
	    T(test_store__second_handle_sees_commit),
	    T(test_store__changed_false_after_open),
	    T(test_store__changed_true_once_per_foreign_commit),
	    T(test_store__changed_false_after_own_commit),
	    T(test_store__changed_false_after_foreign_rollback),
	    T(test_store__changed_null_fails_einval),
	    T(test_store__check_passes_on_good_store),
	    T(test_store__check_finds_orphaned_key),
	    T(test_store__check_finds_id_beyond_counter),
	    T(test_store__check_finds_damaged_page),
	    T(test_store__list_over_damaged_page_fails_eio),
	    T(test_store__truncated_file_fails_eio),
	    T(test_store__oversized_record_in_file_fails_eio),
	    T(test_store__huge_record_in_file_fails_eio),
	    T(test_store__record_of_wrong_type_fails_eio),
	    T(test_store__bad_version_in_file_fails_eio),
	    T(test_store__bad_id_in_keys_fails_eio),
	    T(test_store__missing_id_counter_fails_eio),
	    T(test_store__commit_survives_kill_9),
	    T(test_store__reads_inside_read_transaction_work),
	    T(test_store__writes_inside_read_transaction_fail_einval),
	    T(test_store__read_begin_inside_write_transaction_fails_einval),
	    T(test_store__read_end_without_begin_is_noop),
	    T(test_store__read_transaction_sees_one_snapshot),
	    T(test_store__allocation_failures_fail_cleanly),
	};

	/* the failure tests provoke error logs on purpose */
	cf_log_set_level(CF_LOG_NONE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
