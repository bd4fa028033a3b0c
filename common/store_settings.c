/* store_settings: SQL for users, domains and settings (see the header). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "store.h"
#include "store_settings.h"

static const char *
db_level(enum address_level level)
{
	switch (level) {
	case ADDRESS_LEVEL_USER:
		return "user";
	case ADDRESS_LEVEL_DOMAIN:
	case ADDRESS_LEVEL_WILDCARD:
		return "domain";
	default:
		return "global";
	}
}

static int
prepare(struct store *st, const char *sql, sqlite3_stmt **stmt_r,
    const char **error_r)
{
	if (sqlite3_prepare_v2(store_db(st), sql, -1, stmt_r, NULL) !=
	    SQLITE_OK) {
		*stmt_r = NULL;
		return store_sqlerr(st, "cannot prepare statement", error_r);
	}
	return 0;
}

/* Run one statement with text parameters; no rows expected. */
static int
exec_text(struct store *st, const char *sql, const char *what, int nparams,
    const char *const *params, const char **error_r)
{
	sqlite3_stmt *stmt;
	int i, rc;

	if (prepare(st, sql, &stmt, error_r) < 0)
		return -1;
	for (i = 0; i < nparams; i++)
		sqlite3_bind_text(stmt, i + 1, params[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, what, error_r);
	return 0;
}

/* Users whose domain is d, or matches the wildcard d. */
static int
count_users(struct store *st, const char *d, long long *n_r,
    const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc;

	*n_r = 0;
	if (domain_is_wildcard(d)) {
		if (prepare(st, "SELECT count(*) FROM users WHERE "
		    "length(domain) > length(?1) AND "
		    "substr(domain, length(domain) - length(?1) + 1) = ?1",
		    &stmt, error_r) < 0)
			return -1;
		sqlite3_bind_text(stmt, 1, d + 1, -1, SQLITE_STATIC);
	} else {
		if (prepare(st, "SELECT count(*) FROM users WHERE domain = ?",
		    &stmt, error_r) < 0)
			return -1;
		sqlite3_bind_text(stmt, 1, d, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*n_r = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return store_sqlerr(st, "cannot count users", error_r);
	return 0;
}

int
store_settings_load(struct store *st, const struct address_chain *chain,
    store_setting_cb *cb, void *arg, const char **error_r)
{
	struct buf sql;
	sqlite3_stmt *stmt = NULL;
	int rc = -1, step, bad = 0;
	size_t i;

	buf_init(&sql, 64 * 1024);
	bad |= buf_puts(&sql, "SELECT level, owner, name, value, sealed "
	    "FROM settings WHERE 0");
	for (i = 0; i < chain->n; i++)
		bad |= buf_puts(&sql, " OR (level = ? AND owner = ?)");
	if (bad) {
		err_set(error_r, "settings query too long");
		goto out;
	}
	if (prepare(st, sql.data, &stmt, error_r) < 0)
		goto out;
	for (i = 0; i < chain->n; i++) {
		sqlite3_bind_text(stmt, (int)(2 * i + 1),
		    db_level(chain->item[i].level), -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, (int)(2 * i + 2),
		    chain->item[i].owner, -1, SQLITE_STATIC);
	}
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_setting_row row;
		const char *level = (const char *)sqlite3_column_text(stmt, 0);

		memset(&row, 0, sizeof(row));
		row.owner = (const char *)sqlite3_column_text(stmt, 1);
		row.name = (const char *)sqlite3_column_text(stmt, 2);
		if (level == NULL || row.owner == NULL || row.name == NULL)
			continue;
		if (strcmp(level, "user") == 0)
			row.level = ADDRESS_LEVEL_USER;
		else if (strcmp(level, "domain") == 0)
			row.level = domain_is_wildcard(row.owner) ?
			    ADDRESS_LEVEL_WILDCARD : ADDRESS_LEVEL_DOMAIN;
		else
			row.level = ADDRESS_LEVEL_GLOBAL;
		if (sqlite3_column_type(stmt, 4) == SQLITE_BLOB) {
			row.sealed = sqlite3_column_blob(stmt, 4);
			row.sealed_len = (size_t)sqlite3_column_bytes(stmt, 4);
		} else {
			row.value = (const char *)sqlite3_column_text(stmt, 3);
			if (row.value == NULL)
				row.value = "";
		}
		if (cb(&row, arg) != 0) {
			err_set(error_r, "settings row '%s' at %s '%s' rejected",
			    row.name, level, row.owner);
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		store_sqlerr(st, "cannot read settings", error_r);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(stmt);
	buf_release(&sql);
	return rc;
}

static int
ensure_owner(struct store *st, enum address_level level, const char *owner,
    const char **error_r)
{
	const char *p[2];

	switch (level) {
	case ADDRESS_LEVEL_USER:
		p[0] = owner;
		p[1] = address_domain(owner);
		if (p[1] == NULL)
			return err_set(error_r, "bad address '%s'", owner);
		return exec_text(st, "INSERT OR IGNORE INTO users (email, "
		    "domain) VALUES (?, ?)", "cannot add user", 2, p,
		    error_r);
	case ADDRESS_LEVEL_DOMAIN:
	case ADDRESS_LEVEL_WILDCARD:
		p[0] = owner;
		return exec_text(st, "INSERT OR IGNORE INTO domains (name) "
		    "VALUES (?)", "cannot add domain", 1, p, error_r);
	default:
		return 0;
	}
}

int
store_settings_put(struct store *st, enum address_level level,
    const char *owner, const char *name, const char *value,
    const unsigned char *sealed, size_t sealed_len, const char **error_r)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1;

	if (store_begin(st, error_r) < 0)
		return -1;
	if (ensure_owner(st, level, owner, error_r) < 0)
		goto out;
	if (prepare(st, "INSERT INTO settings (level, owner, name, value, "
	    "sealed) VALUES (?, ?, ?, ?, ?) ON CONFLICT (level, owner, name) "
	    "DO UPDATE SET value = excluded.value, sealed = excluded.sealed, "
	    "updated = strftime('%Y-%m-%dT%H:%M:%SZ','now')", &stmt,
	    error_r) < 0)
		goto out;
	sqlite3_bind_text(stmt, 1, db_level(level), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, level == ADDRESS_LEVEL_GLOBAL ? "" : owner,
	    -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, name, -1, SQLITE_STATIC);
	if (sealed != NULL) {
		sqlite3_bind_null(stmt, 4);
		sqlite3_bind_blob(stmt, 5, sealed, (int)sealed_len,
		    SQLITE_STATIC);
	} else {
		sqlite3_bind_text(stmt, 4, value, -1, SQLITE_STATIC);
		sqlite3_bind_null(stmt, 5);
	}
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_sqlerr(st, err_fmt("cannot set '%s'", name), error_r);
		goto out;
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
store_settings_del(struct store *st, enum address_level level,
    const char *owner, const char *name, int *removed_r,
    const char **error_r)
{
	const char *p[3];

	*removed_r = 0;
	p[0] = db_level(level);
	p[1] = level == ADDRESS_LEVEL_GLOBAL ? "" : owner;
	p[2] = name;
	if (store_begin(st, error_r) < 0)
		return -1;
	if (exec_text(st, "DELETE FROM settings WHERE level = ? AND "
	    "owner = ? AND name = ?", err_fmt("cannot unset '%s'", name), 3,
	    p, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	*removed_r = sqlite3_changes(store_db(st)) > 0;
	if (store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

int
store_user_add(struct store *st, const char *addr, const char *domain,
    const char **error_r)
{
	const char *p[2] = { addr, domain };

	if (store_begin(st, error_r) < 0)
		return -1;
	if (exec_text(st, "INSERT OR IGNORE INTO users (email, domain) "
	    "VALUES (?, ?)", "cannot add user", 2, p, error_r) < 0 ||
	    store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

int
store_user_delete(struct store *st, const char *addr, int *found_r,
    const char **error_r)
{
	const char *p[1] = { addr };

	*found_r = 0;
	if (store_begin(st, error_r) < 0)
		return -1;
	if (exec_text(st, "DELETE FROM users WHERE email = ?",
	    "cannot delete user", 1, p, error_r) < 0)
		goto fail;
	*found_r = sqlite3_changes(store_db(st)) > 0;
	if (exec_text(st, "DELETE FROM settings WHERE level = 'user' AND "
	    "owner = ?", "cannot delete user settings", 1, p, error_r) < 0 ||
	    store_commit(st, error_r) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

static int
copy_created(sqlite3_stmt *stmt, int col, char *created, size_t sz)
{
	const char *c = (const char *)sqlite3_column_text(stmt, col);

	if (sz > 0)
		snprintf(created, sz, "%s", c != NULL ? c : "");
	return 1;
}

int
store_user_get(struct store *st, const char *addr, char *created, size_t sz,
    const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc, found = 0;

	if (prepare(st, "SELECT created FROM users WHERE email = ?", &stmt,
	    error_r) < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, addr, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		found = copy_created(stmt, 0, created, sz);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, "cannot read user", error_r);
	return found;
}

static int
list_rows(struct store *st, sqlite3_stmt *stmt,
    int (*cb)(const char *name, void *arg), void *arg, const char *what,
    const char **error_r)
{
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(stmt, 0);

		if (n != NULL && cb(n, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, what, error_r);
	return 0;
}

int
store_user_list(struct store *st, const char *filter,
    int (*cb)(const char *addr, void *arg), void *arg,
    const char **error_r)
{
	sqlite3_stmt *stmt;

	if (filter == NULL) {
		if (prepare(st, "SELECT email FROM users ORDER BY domain, "
		    "email", &stmt, error_r) < 0)
			return -1;
	} else if (domain_is_wildcard(filter)) {
		if (prepare(st, "SELECT email FROM users WHERE "
		    "length(domain) > length(?1) AND "
		    "substr(domain, length(domain) - length(?1) + 1) = ?1 "
		    "ORDER BY domain, email", &stmt, error_r) < 0)
			return -1;
		sqlite3_bind_text(stmt, 1, filter + 1, -1, SQLITE_STATIC);
	} else {
		if (prepare(st, "SELECT email FROM users WHERE domain = ? "
		    "ORDER BY email", &stmt, error_r) < 0)
			return -1;
		sqlite3_bind_text(stmt, 1, filter, -1, SQLITE_STATIC);
	}
	return list_rows(st, stmt, cb, arg, "cannot list users", error_r);
}

int
store_domain_add(struct store *st, const char *domain, const char **error_r)
{
	const char *p[1] = { domain };

	if (store_begin(st, error_r) < 0)
		return -1;
	if (exec_text(st, "INSERT OR IGNORE INTO domains (name) VALUES (?)",
	    "cannot add domain", 1, p, error_r) < 0 ||
	    store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

int
store_domain_delete(struct store *st, const char *domain, int force,
    int *found_r, const char **error_r)
{
	const char *p[1] = { domain };
	long long n;

	*found_r = 0;
	if (store_begin(st, error_r) < 0)
		return -1;
	if (count_users(st, domain, &n, error_r) < 0)
		goto fail;
	if (n > 0 && !force) {
		err_set(error_r, "domain '%s' has %lld user%s "
		    "(delete them first, or use --force)", domain, n,
		    n == 1 ? "" : "s");
		goto fail;
	}
	if (exec_text(st, "DELETE FROM domains WHERE name = ?",
	    "cannot delete domain", 1, p, error_r) < 0)
		goto fail;
	*found_r = sqlite3_changes(store_db(st)) > 0;
	if (exec_text(st, "DELETE FROM settings WHERE level = 'domain' AND "
	    "owner = ?", "cannot delete domain settings", 1, p,
	    error_r) < 0 || store_commit(st, error_r) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

int
store_domain_get(struct store *st, const char *domain, char *created,
    size_t sz, long long *users_r, const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc, found = 0;

	*users_r = 0;
	if (prepare(st, "SELECT created FROM domains WHERE name = ?", &stmt,
	    error_r) < 0)
		return -1;
	sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		found = copy_created(stmt, 0, created, sz);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, "cannot read domain", error_r);
	if (found && count_users(st, domain, users_r, error_r) < 0)
		return -1;
	return found;
}

int
store_domain_list(struct store *st,
    int (*cb)(const char *domain, void *arg), void *arg,
    const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prepare(st, "SELECT name FROM domains ORDER BY name", &stmt,
	    error_r) < 0)
		return -1;
	return list_rows(st, stmt, cb, arg, "cannot list domains", error_r);
}
