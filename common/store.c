#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"

struct store {
	sqlite3 *db;
	int busy;
};

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

int
store_sqlerr(struct store *st, const char *what, const char **error_r)
{
	int code = sqlite3_extended_errcode(st->db) & 0xff;

	st->busy = code == SQLITE_BUSY || code == SQLITE_LOCKED;
	return err_set(error_r, "%s: %s", what, sqlite3_errmsg(st->db));
}

int
store_busy(struct store *st)
{
	return st->busy;
}

int
store_schema_known(void)
{
	return store_nmigrations > 0 ?
	    store_migrations[store_nmigrations - 1].version : 0;
}

static int
exec(struct store *st, const char *sql, const char *what,
    const char **error_r)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_extended_errcode(st->db) & 0xff;

		st->busy = code == SQLITE_BUSY || code == SQLITE_LOCKED;
		err_set(error_r, "%s: %s", what,
		    msg != NULL ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
store_schema_version(struct store *st)
{
	sqlite3_stmt *stmt;
	int v = 0;

	if (sqlite3_prepare_v2(st->db,
	    "SELECT max(version) FROM schema_version", -1, &stmt,
	    NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

int
store_begin(struct store *st, const char **error_r)
{
	return exec(st, "BEGIN IMMEDIATE", "cannot start transaction",
	    error_r);
}

int
store_commit(struct store *st, const char **error_r)
{
	return exec(st, "COMMIT", "cannot commit", error_r);
}

void
store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
migrate(struct store *st, const char **error_r)
{
	sqlite3_stmt *stmt = NULL;
	int i, have, rc = -1;

	if (exec(st, "CREATE TABLE IF NOT EXISTS schema_version ("
	    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	    " applied TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))",
	    "cannot create schema_version", error_r) < 0)
		return -1;
	if (store_begin(st, error_r) < 0)
		return -1;
	have = store_schema_version(st);
	if (have > store_schema_known()) {
		err_set(error_r, "database schema version %d is newer than "
		    "this Postern knows (%d): upgrade Postern", have,
		    store_schema_known());
		goto out;
	}
	for (i = 0; i < store_nmigrations; i++) {
		const struct store_migration *m = &store_migrations[i];

		if (m->version <= have)
			continue;
		if (exec(st, m->sql, err_fmt("schema %04d-%s", m->version,
		    m->name), error_r) < 0)
			goto out;
		if (sqlite3_prepare_v2(st->db, "INSERT INTO schema_version "
		    "(version, name) VALUES (?, ?)", -1, &stmt,
		    NULL) != SQLITE_OK) {
			store_sqlerr(st, "cannot record schema", error_r);
			goto out;
		}
		sqlite3_bind_int(stmt, 1, m->version);
		sqlite3_bind_text(stmt, 2, m->name, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			store_sqlerr(st, "cannot record schema", error_r);
			goto out;
		}
		sqlite3_finalize(stmt);
		stmt = NULL;
	}
	if (store_commit(st, error_r) < 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(stmt);
	if (rc < 0)
		store_rollback(st);
	return rc;
}

int
store_open(struct store **st_r, const char *path, long busy_timeout_ms,
    unsigned flags, const char **error_r)
{
	struct store *st;
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	*st_r = NULL;
	if (flags & STORE_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return err_set(error_r, "out of memory");
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		err_set(error_r, "cannot open database '%s': %s", path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : strerror(ENOMEM));
		store_free(&st);
		return -1;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, (int)busy_timeout_ms);
	if (exec(st, "PRAGMA journal_mode=WAL", "cannot set WAL mode",
	    error_r) < 0 ||
	    exec(st, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
	    "cannot set pragmas", error_r) < 0) {
		const char *why = *error_r;

		err_set(error_r, "database '%s': %s", path, why);
		store_free(&st);
		return -1;
	}
	if (!(flags & STORE_NO_MIGRATE) && migrate(st, error_r) < 0) {
		const char *why = *error_r;

		err_set(error_r, "database '%s': %s", path, why);
		store_free(&st);
		return -1;
	}
	*st_r = st;
	return 0;
}

void
store_free(struct store **stp)
{
	struct store *st = *stp;

	if (st == NULL)
		return;
	*stp = NULL;
	sqlite3_close_v2(st->db);
	free(st);
}
