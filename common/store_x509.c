/* store_x509: SQL of the X.509 keystore; see store_x509.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "store_x509.h"

static const char *const where_name[] = { "certs", "roots" };

/*
 * Prepare sql and bind arguments described by fmt: 't' text (NULL binds
 * NULL), 'b' blob (pointer, size_t), 'i' long long.
 */
static int
prep(struct store *st, sqlite3_stmt **stmt_r, const char **error_r,
    const char *sql, const char *fmt, ...)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *stmt;
	va_list ap;
	int i, rc = SQLITE_OK;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return store_sqlerr(st, "cannot prepare x509 query", error_r);
	va_start(ap, fmt);
	for (i = 0; fmt[i] != '\0' && rc == SQLITE_OK; i++) {
		switch (fmt[i]) {
		case 't': {
			const char *s = va_arg(ap, const char *);

			rc = s == NULL ? sqlite3_bind_null(stmt, i + 1) :
			    sqlite3_bind_text(stmt, i + 1, s, -1,
			    SQLITE_STATIC);
			break;
		}
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			rc = sqlite3_bind_blob(stmt, i + 1, p, (int)n,
			    SQLITE_STATIC);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int64(stmt, i + 1,
			    va_arg(ap, long long));
			break;
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		store_sqlerr(st, "cannot bind x509 query", error_r);
		sqlite3_finalize(stmt);
		return -1;
	}
	*stmt_r = stmt;
	return 0;
}

/* Step a statement that returns no rows. */
static int
run(struct store *st, sqlite3_stmt *stmt, const char *what,
    const char **error_r)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE) {
		store_sqlerr(st, what, error_r);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

static const char *
wname(int where)
{
	return where == 1 ? where_name[1] : where_name[0];
}

int
store_x509_cert_add(struct store *st, const struct store_x509_cert *r,
    int *added_r, const char **error_r)
{
	sqlite3_stmt *stmt;
	long long id;
	size_t i;

	*added_r = 0;
	if (prep(st, &stmt, error_r, "INSERT OR IGNORE INTO x509_certs "
	    "(store, thumbprint, der, subject, issuer, subject_der, "
	    "issuer_der, serial, skid, not_before, not_after, key_usage, "
	    "ext_key_usage, is_ca) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    "ttbttbbttiiiii", wname(r->where), r->thumb, r->der, r->der_len,
	    r->subject, r->issuer, r->subject_der, r->subject_der_len,
	    r->issuer_der, r->issuer_der_len, r->serial, r->skid,
	    r->not_before, r->not_after, (long long)r->key_usage,
	    (long long)r->ext_key_usage, (long long)r->is_ca) < 0)
		return -1;
	if (run(st, stmt, "cannot insert certificate", error_r) < 0)
		return -1;
	if (sqlite3_changes(store_db(st)) == 0)
		return 0;
	id = sqlite3_last_insert_rowid(store_db(st));
	for (i = 0; i < r->nemails; i++) {
		if (prep(st, &stmt, error_r, "INSERT OR IGNORE INTO x509_emails"
		    " (cert_id, email) VALUES (?, ?)", "it", id,
		    r->emails[i]) < 0)
			return -1;
		if (run(st, stmt, "cannot insert certificate email",
		    error_r) < 0)
			return -1;
	}
	*added_r = 1;
	return 0;
}

#define CERT_COLS "c.store, c.thumbprint, c.der, EXISTS (SELECT 1 FROM " \
	"x509_keys k WHERE k.thumbprint = c.thumbprint AND c.store = 'certs')"

static int
walk_certs(struct store *st, sqlite3_stmt *stmt, store_x509_cert_cb *cb,
    void *arg, const char **error_r)
{
	struct store_x509_cert row;
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.where = strcmp((const char *)sqlite3_column_text(stmt, 0),
		    "roots") == 0;
		row.thumb = (const char *)sqlite3_column_text(stmt, 1);
		row.der = sqlite3_column_blob(stmt, 2);
		row.der_len = (size_t)sqlite3_column_bytes(stmt, 2);
		row.has_key = sqlite3_column_int(stmt, 3);
		if (cb(&row, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, "cannot read certificates", error_r);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

int
store_x509_by_thumb(struct store *st, int where, const char *thumb,
    store_x509_cert_cb *cb, void *arg, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "SELECT " CERT_COLS " FROM x509_certs c "
	    "WHERE c.thumbprint = ?1 AND (?2 < 0 OR c.store = ?3) "
	    "ORDER BY c.store", "tit", thumb, (long long)where,
	    wname(where)) < 0)
		return -1;
	return walk_certs(st, stmt, cb, arg, error_r);
}

int
store_x509_by_email(struct store *st, int where, const char *email,
    store_x509_cert_cb *cb, void *arg, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "SELECT " CERT_COLS " FROM x509_emails e "
	    "JOIN x509_certs c ON c.id = e.cert_id WHERE e.email = ? "
	    "AND (? < 0 OR c.store = ?) ORDER BY c.id", "tit", email,
	    (long long)where, wname(where)) < 0)
		return -1;
	return walk_certs(st, stmt, cb, arg, error_r);
}

int
store_x509_all(struct store *st, int where, store_x509_cert_cb *cb,
    void *arg, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "SELECT " CERT_COLS " FROM x509_certs c "
	    "WHERE ? < 0 OR c.store = ? ORDER BY c.id", "it",
	    (long long)where, wname(where)) < 0)
		return -1;
	return walk_certs(st, stmt, cb, arg, error_r);
}

int
store_x509_by_subject(struct store *st, int where,
    const unsigned char *subject_der, size_t len, store_x509_cert_cb *cb,
    void *arg, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "SELECT " CERT_COLS " FROM x509_certs c "
	    "WHERE c.subject_der = ? AND (? < 0 OR c.store = ?) "
	    "ORDER BY c.id LIMIT 64", "bit", subject_der, len,
	    (long long)where, wname(where)) < 0)
		return -1;
	return walk_certs(st, stmt, cb, arg, error_r);
}

int
store_x509_thumbs_by_prefix(struct store *st, int where, const char *prefix,
    char (*out)[129], size_t max, size_t *n_r, const char **error_r)
{
	sqlite3_stmt *stmt;
	char hi[160];
	int rc;

	*n_r = 0;
	/* prefix <= t < prefix + "G" (after every hex digit): an index range */
	if (snprintf(hi, sizeof(hi), "%sG", prefix) >= (int)sizeof(hi))
		return err_set(error_r, "thumbprint too long");
	if (prep(st, &stmt, error_r, "SELECT DISTINCT thumbprint FROM "
	    "x509_certs WHERE thumbprint >= ? AND thumbprint < ? AND "
	    "(? < 0 OR store = ?) ORDER BY thumbprint LIMIT ?", "ttiti",
	    prefix, hi, (long long)where, wname(where), (long long)max) < 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && *n_r < max)
		snprintf(out[(*n_r)++], 129, "%s",
		    (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, "cannot read thumbprints", error_r);
	return 0;
}

int
store_x509_keyed_by_serial(struct store *st, const char *serial,
    store_x509_cert_cb *cb, void *arg, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "SELECT " CERT_COLS " FROM x509_certs c "
	    "JOIN x509_keys k ON k.thumbprint = c.thumbprint "
	    "WHERE c.serial = ? AND c.store = 'certs' ORDER BY c.id", "t",
	    serial) < 0)
		return -1;
	return walk_certs(st, stmt, cb, arg, error_r);
}

int
store_x509_keyed_by_skid(struct store *st, const char *skid,
    store_x509_cert_cb *cb, void *arg, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "SELECT " CERT_COLS " FROM x509_certs c "
	    "JOIN x509_keys k ON k.thumbprint = c.thumbprint "
	    "WHERE c.skid = ? AND c.store = 'certs' ORDER BY c.id", "t",
	    skid) < 0)
		return -1;
	return walk_certs(st, stmt, cb, arg, error_r);
}

int
store_x509_cert_delete(struct store *st, int where, const char *thumb,
    const char **error_r)
{
	sqlite3_stmt *stmt;
	int n;

	if (prep(st, &stmt, error_r, "DELETE FROM x509_certs WHERE "
	    "store = ? AND thumbprint = ?", "tt", wname(where), thumb) < 0 ||
	    run(st, stmt, "cannot delete certificate", error_r) < 0)
		return -1;
	n = sqlite3_changes(store_db(st));
	if (n > 0 && where == 0) {
		if (prep(st, &stmt, error_r, "DELETE FROM x509_keys WHERE "
		    "thumbprint = ?", "t", thumb) < 0 ||
		    run(st, stmt, "cannot delete key", error_r) < 0)
			return -1;
	}
	return n > 0 ? 0 : 1;
}

int
store_x509_key_put(struct store *st, const char *thumb,
    const unsigned char *sealed, size_t len, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "INSERT OR REPLACE INTO x509_keys "
	    "(thumbprint, sealed) VALUES (?, ?)", "tb", thumb, sealed,
	    len) < 0)
		return -1;
	return run(st, stmt, "cannot store key", error_r);
}

int
store_x509_key_get(struct store *st, const char *thumb,
    unsigned char **sealed_r, size_t *len_r, const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc, ret = 1;

	*sealed_r = NULL;
	*len_r = 0;
	if (prep(st, &stmt, error_r, "SELECT sealed FROM x509_keys WHERE "
	    "thumbprint = ?", "t", thumb) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(stmt, 0);

		*sealed_r = malloc(n > 0 ? n : 1);
		if (*sealed_r == NULL) {
			ret = err_set(error_r, "out of memory");
		} else {
			memcpy(*sealed_r, sqlite3_column_blob(stmt, 0), n);
			*len_r = n;
			ret = 0;
		}
	} else if (rc != SQLITE_DONE) {
		ret = store_sqlerr(st, "cannot read key", error_r);
	}
	sqlite3_finalize(stmt);
	return ret;
}

int
store_x509_crl_add(struct store *st, const struct store_x509_crl *r,
    int *added_r, const char **error_r)
{
	sqlite3_stmt *stmt;
	long long id;
	size_t i;

	*added_r = 0;
	if (prep(st, &stmt, error_r, "INSERT OR IGNORE INTO x509_crls "
	    "(thumbprint, der, issuer, issuer_der, this_update, next_update) "
	    "VALUES (?, ?, ?, ?, ?, NULLIF(?, 0))", "tbtbii", r->thumb,
	    r->der, r->der_len, r->issuer, r->issuer_der, r->issuer_der_len,
	    r->this_update, r->next_update) < 0 ||
	    run(st, stmt, "cannot insert CRL", error_r) < 0)
		return -1;
	if (sqlite3_changes(store_db(st)) == 0)
		return 0;
	id = sqlite3_last_insert_rowid(store_db(st));
	for (i = 0; i < r->nrevoked; i++) {
		if (prep(st, &stmt, error_r, "INSERT INTO x509_crl_revoked "
		    "(crl_id, serial, revoked_at) VALUES (?, ?, ?)", "iti", id,
		    r->serials[i], r->revoked_at[i]) < 0 ||
		    run(st, stmt, "cannot insert CRL entry", error_r) < 0)
			return -1;
	}
	*added_r = 1;
	return 0;
}

int
store_x509_crls_by_issuer(struct store *st, const unsigned char *issuer_der,
    size_t len, store_x509_crl_cb *cb, void *arg, const char **error_r)
{
	struct store_x509_crl row;
	sqlite3_stmt *stmt;
	int rc;

	if (prep(st, &stmt, error_r, "SELECT thumbprint, der FROM x509_crls "
	    "WHERE issuer_der = ? ORDER BY this_update DESC", "b", issuer_der,
	    len) < 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.thumb = (const char *)sqlite3_column_text(stmt, 0);
		row.der = sqlite3_column_blob(stmt, 1);
		row.der_len = (size_t)sqlite3_column_bytes(stmt, 1);
		if (cb(&row, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, "cannot read CRLs", error_r);
	return 0;
}

int
store_x509_crl_list(struct store *st, const char *thumb,
    store_x509_crl_cb *cb, void *arg, const char **error_r)
{
	struct store_x509_crl row;
	sqlite3_stmt *stmt;
	int rc;

	if (prep(st, &stmt, error_r, "SELECT l.thumbprint, l.issuer, "
	    "l.this_update, ifnull(l.next_update, 0), (SELECT count(*) FROM "
	    "x509_crl_revoked r WHERE r.crl_id = l.id), l.der "
	    "FROM x509_crls l WHERE ?1 IS NULL OR l.thumbprint = ?1 "
	    "ORDER BY l.issuer, l.this_update", "t", thumb) < 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.thumb = (const char *)sqlite3_column_text(stmt, 0);
		row.issuer = (const char *)sqlite3_column_text(stmt, 1);
		row.this_update = sqlite3_column_int64(stmt, 2);
		row.next_update = sqlite3_column_int64(stmt, 3);
		row.nrevoked = (size_t)sqlite3_column_int64(stmt, 4);
		row.der = sqlite3_column_blob(stmt, 5);
		row.der_len = (size_t)sqlite3_column_bytes(stmt, 5);
		if (cb(&row, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, "cannot read CRLs", error_r);
	return 0;
}

int
store_x509_ctl_set(struct store *st, const char *thumb, int black,
    int allow_expired, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "INSERT OR REPLACE INTO x509_ctl "
	    "(thumbprint, kind, allow_expired) VALUES (?, ?, ?)", "tti", thumb,
	    black ? "black" : "white", (long long)(allow_expired != 0)) < 0)
		return -1;
	return run(st, stmt, "cannot set trust list entry", error_r);
}

int
store_x509_ctl_remove(struct store *st, const char *thumb,
    const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "DELETE FROM x509_ctl WHERE "
	    "thumbprint = ?", "t", thumb) < 0 ||
	    run(st, stmt, "cannot remove trust list entry", error_r) < 0)
		return -1;
	return sqlite3_changes(store_db(st)) > 0 ? 0 : 1;
}

int
store_x509_ctl_get(struct store *st, const char *thumb, int *black_r,
    int *allow_expired_r, const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc, ret = 1;

	if (prep(st, &stmt, error_r, "SELECT kind, allow_expired FROM x509_ctl"
	    " WHERE thumbprint = ?", "t", thumb) < 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*black_r = strcmp((const char *)sqlite3_column_text(stmt, 0),
		    "black") == 0;
		*allow_expired_r = sqlite3_column_int(stmt, 1);
		ret = 0;
	} else if (rc != SQLITE_DONE) {
		ret = store_sqlerr(st, "cannot read trust list", error_r);
	}
	sqlite3_finalize(stmt);
	return ret;
}

int
store_x509_ctl_list(struct store *st,
    int (*cb)(const char *thumb, int black, int allow_expired, void *arg),
    void *arg, const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc;

	if (prep(st, &stmt, error_r, "SELECT thumbprint, kind, allow_expired "
	    "FROM x509_ctl ORDER BY kind, thumbprint", "") < 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (cb((const char *)sqlite3_column_text(stmt, 0),
		    strcmp((const char *)sqlite3_column_text(stmt, 1),
		    "black") == 0, sqlite3_column_int(stmt, 2), arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, "cannot read trust list", error_r);
	return 0;
}

int
store_x509_sel_add(struct store *st, const char *level, const char *owner,
    const char *thumb, const char *kind, int replace_kind,
    const char **error_r)
{
	sqlite3_stmt *stmt;

	if (replace_kind) {
		if (prep(st, &stmt, error_r, "DELETE FROM x509_selections "
		    "WHERE level = ? AND owner = ? AND kind = ?", "ttt", level,
		    owner, kind) < 0 ||
		    run(st, stmt, "cannot replace selection", error_r) < 0)
			return -1;
	}
	if (prep(st, &stmt, error_r, "INSERT OR IGNORE INTO x509_selections "
	    "(level, owner, thumbprint, kind) VALUES (?, ?, ?, ?)", "tttt",
	    level, owner, thumb, kind) < 0)
		return -1;
	return run(st, stmt, "cannot add selection", error_r);
}

int
store_x509_sel_remove(struct store *st, const char *level, const char *owner,
    const char *thumb, const char *kind, const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "DELETE FROM x509_selections WHERE "
	    "level = ? AND owner = ? AND thumbprint = ? AND kind = ?", "tttt",
	    level, owner, thumb, kind) < 0 ||
	    run(st, stmt, "cannot remove selection", error_r) < 0)
		return -1;
	return sqlite3_changes(store_db(st)) > 0 ? 0 : 1;
}

int
store_x509_sel_list(struct store *st, const char *level, const char *owner,
    const char *kind, const char *thumb,
    int (*cb)(const char *level, const char *owner, const char *thumb,
    const char *kind, void *arg), void *arg, const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc;

	if (prep(st, &stmt, error_r, "SELECT level, owner, thumbprint, kind "
	    "FROM x509_selections WHERE (?1 IS NULL OR (level = ?1 AND "
	    "owner = ?2 AND kind = ?3)) AND (?4 IS NULL OR thumbprint = ?4) "
	    "ORDER BY level, owner, kind, created, thumbprint", "tttt", level,
	    owner, kind, thumb) < 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (cb((const char *)sqlite3_column_text(stmt, 0),
		    (const char *)sqlite3_column_text(stmt, 1),
		    (const char *)sqlite3_column_text(stmt, 2),
		    (const char *)sqlite3_column_text(stmt, 3), arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, "cannot read selections", error_r);
	return 0;
}

int
store_x509_sel_delete_thumb(struct store *st, const char *thumb,
    const char **error_r)
{
	sqlite3_stmt *stmt;

	if (prep(st, &stmt, error_r, "DELETE FROM x509_selections WHERE "
	    "thumbprint = ?", "t", thumb) < 0)
		return -1;
	return run(st, stmt, "cannot delete selections", error_r);
}


int
store_x509_explain_email(struct store *st, char *buf, size_t bufsz,
    const char **error_r)
{
	sqlite3_stmt *stmt;
	size_t off = 0;
	int rc;

	if (prep(st, &stmt, error_r, "EXPLAIN QUERY PLAN SELECT " CERT_COLS
	    " FROM x509_emails e JOIN x509_certs c ON c.id = e.cert_id "
	    "WHERE e.email = ? AND (? < 0 OR c.store = ?) ORDER BY c.id",
	    "tit", "a@b", 0LL, "certs") < 0)
		return -1;
	buf[0] = '\0';
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && off < bufsz) {
		int n = snprintf(buf + off, bufsz - off, "%s\n",
		    (const char *)sqlite3_column_text(stmt, 3));

		if (n < 0)
			break;
		off += (size_t)n;
	}
	sqlite3_finalize(stmt);
	return 0;
}
