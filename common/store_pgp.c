/* store_pgp: SQL of the OpenPGP key mirror and selection (store_pgp.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "address.h"
#include "err.h"
#include "store.h"
#include "store_pgp.h"
#include "str.h"

static void
caps_text(unsigned caps, char out[4])
{
	size_t i = 0;

	if (caps & PGP_CAP_ENCRYPT)
		out[i++] = 'e';
	if (caps & PGP_CAP_SIGN)
		out[i++] = 's';
	if (caps & PGP_CAP_CERTIFY)
		out[i++] = 'c';
	out[i] = '\0';
}

/* An address or a domain, lowercased; -1 if neither. */
static int
norm_email_or_domain(const char *in, char out[ADDRESS_MAX + 1])
{
	if (strchr(in, '@') != NULL) {
		if (address_normalize(in, out, ADDRESS_MAX + 1) < 0)
			return -1;
	} else if (domain_normalize(in, out, ADDRESS_MAX + 1) < 0)
		return -1;
	str_lower(out);
	return 0;
}

static int
prep(struct store *st, sqlite3_stmt **stmt, const char *sql,
    const char **error_r)
{
	if (sqlite3_prepare_v2(store_db(st), sql, -1, stmt, NULL) != SQLITE_OK)
		return store_sqlerr(st, "prepare", error_r);
	return 0;
}

static int
run(struct store *st, sqlite3_stmt *stmt, const char *what,
    const char **error_r)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, what, error_r);
	return 0;
}

static int
put_locked(struct store *st, const struct pgp_keyinfo *k,
    const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char caps[4];
	size_t i;
	int rc = -1;

	caps_text(k->caps, caps);
	if (prep(st, &s, "INSERT INTO pgp_keys (fpr, keyid, uid, caps, "
	    "created, expires, revoked, invalid, has_secret) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(fpr) DO UPDATE "
	    "SET keyid = ?2, uid = ?3, caps = ?4, created = ?5, expires = ?6,"
	    " revoked = ?7, invalid = ?8, has_secret = ?9, updated = "
	    "strftime('%Y-%m-%dT%H:%M:%SZ','now')", error_r) < 0)
		goto out;
	sqlite3_bind_text(s, 1, k->fpr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, k->keyid, -1, SQLITE_STATIC);
	if (k->uid != NULL)
		sqlite3_bind_text(s, 3, k->uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, caps, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)k->created);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)k->expires);
	sqlite3_bind_int(s, 7, k->revoked);
	sqlite3_bind_int(s, 8, k->invalid || k->expired || k->disabled);
	sqlite3_bind_int(s, 9, k->secret);
	if (run(st, s, "pgp key", error_r) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	if (prep(st, &s, "DELETE FROM pgp_subkeys WHERE primary_fpr = ?1",
	    error_r) < 0)
		goto out;
	sqlite3_bind_text(s, 1, k->fpr, -1, SQLITE_STATIC);
	if (run(st, s, "pgp subkeys", error_r) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	if (prep(st, &s, "INSERT OR REPLACE INTO pgp_subkeys (fpr, "
	    "primary_fpr, keyid, caps, expires, revoked) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6)", error_r) < 0)
		goto out;
	for (i = 0; i < k->nsubkeys; i++) {
		const struct pgp_subkeyinfo *sk = &k->subkeys[i];

		/* Unusable subkeys keep no capability. */
		caps_text(sk->invalid || sk->disabled ? 0 : sk->caps, caps);
		sqlite3_bind_text(s, 1, sk->fpr, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, k->fpr, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, sk->keyid, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, caps, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, (sqlite3_int64)sk->expires);
		sqlite3_bind_int(s, 6, sk->revoked);
		if (run(st, s, "pgp subkey", error_r) < 0)
			goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (prep(st, &s, "DELETE FROM pgp_emails WHERE fpr = ?1 AND "
	    "source = 'uid'", error_r) < 0)
		goto out;
	sqlite3_bind_text(s, 1, k->fpr, -1, SQLITE_STATIC);
	if (run(st, s, "pgp emails", error_r) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	if (prep(st, &s, "INSERT OR IGNORE INTO pgp_emails (fpr, email, "
	    "source) VALUES (?1, ?2, 'uid')", error_r) < 0)
		goto out;
	for (i = 0; i < k->nemails; i++) {
		sqlite3_bind_text(s, 1, k->fpr, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, k->emails[i], -1, SQLITE_STATIC);
		if (run(st, s, "pgp email", error_r) < 0)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int
store_pgp_put(struct store *st, const struct pgp_keyinfo *k,
    const char **error_r)
{
	if (store_begin(st, error_r) < 0)
		return -1;
	if (put_locked(st, k, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st, error_r);
}

static int
exec1(struct store *st, const char *sql, const char *a, const char *b,
    int *changes_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (prep(st, &s, sql, error_r) < 0)
		return -1;
	if (a != NULL)
		sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
	rc = run(st, s, "pgp", error_r);
	if (rc == 0 && changes_r != NULL)
		*changes_r = sqlite3_changes(store_db(st));
	sqlite3_finalize(s);
	return rc;
}

int
store_pgp_delete(struct store *st, const char *fpr, const char **error_r)
{
	return exec1(st, "DELETE FROM pgp_keys WHERE fpr = ?1", fpr, NULL,
	    NULL, error_r);
}

int
store_pgp_retain(struct store *st, char *const *fprs, size_t n,
    int *removed_r, const char **error_r)
{
	sqlite3_stmt *s = NULL, *d = NULL;
	int rc = -1, removed = 0;
	size_t i;

	*removed_r = 0;
	if (store_begin(st, error_r) < 0)
		return -1;
	if (prep(st, &s, "SELECT fpr FROM pgp_keys", error_r) < 0 ||
	    prep(st, &d, "DELETE FROM pgp_keys WHERE fpr = ?1", error_r) < 0)
		goto out;
	for (;;) {
		int r = sqlite3_step(s);
		const char *f;
		int keep = 0;

		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			store_sqlerr(st, "pgp keys", error_r);
			goto out;
		}
		f = (const char *)sqlite3_column_text(s, 0);
		for (i = 0; i < n && !keep; i++)
			keep = strcmp(fprs[i], f) == 0;
		if (keep)
			continue;
		sqlite3_bind_text(d, 1, f, -1, SQLITE_TRANSIENT);
		if (run(st, d, "pgp delete", error_r) < 0)
			goto out;
		removed++;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(d);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	*removed_r = removed;
	return store_commit(st, error_r);
}

int
store_pgp_set_trusted(struct store *st, const char *fpr, int trusted,
    const char **error_r)
{
	int changes = 0;

	if (exec1(st, trusted ? "UPDATE pgp_keys SET trusted = 1 WHERE fpr = "
	    "?1" : "UPDATE pgp_keys SET trusted = 0 WHERE fpr = ?1", fpr,
	    NULL, &changes, error_r) < 0)
		return -1;
	if (changes == 0)
		return err_set(error_r, "no key '%s'", fpr);
	return 0;
}

int
store_pgp_assoc_add(struct store *st, const char *fpr, const char *what,
    const char **error_r)
{
	char norm[ADDRESS_MAX + 1];
	struct store_pgp_row row;
	int r;

	if (norm_email_or_domain(what, norm) < 0)
		return err_set(error_r, "not an address or domain '%s'", what);
	if ((r = store_pgp_get(st, fpr, &row, error_r)) < 0)
		return -1;
	store_pgp_row_release(&row);
	if (r == 0)
		return err_set(error_r, "no key '%s'", fpr);
	return exec1(st, "INSERT OR IGNORE INTO pgp_emails (fpr, email, "
	    "source) VALUES (?1, ?2, 'admin')", fpr, norm, NULL, error_r);
}

int
store_pgp_assoc_remove(struct store *st, const char *fpr, const char *what,
    const char **error_r)
{
	char norm[ADDRESS_MAX + 1];
	int changes = 0;

	if (norm_email_or_domain(what, norm) < 0)
		return err_set(error_r, "not an address or domain '%s'", what);
	if (exec1(st, "DELETE FROM pgp_emails WHERE fpr = ?1 AND email = ?2 "
	    "AND source = 'admin'", fpr, norm, &changes, error_r) < 0)
		return -1;
	if (changes == 0)
		return err_set(error_r, "'%s' is not associated with '%s'",
		    norm, fpr);
	return 0;
}

int
store_pgp_resolve(struct store *st, const char *id,
    char fpr_r[PGP_FPR_MAX + 1], const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char up[PGP_FPR_MAX + 1];
	size_t i;
	int r, rc = -1;

	*fpr_r = '\0';
	if (strncasecmp(id, "0x", 2) == 0)
		id += 2;
	for (i = 0; id[i] != '\0' && i < PGP_FPR_MAX; i++) {
		if (!isxdigit((unsigned char)id[i]))
			return 0;
		up[i] = toupper((unsigned char)id[i]);
	}
	up[i] = '\0';
	if (id[i] != '\0' || (i != 16 && i != 40 && i != 64))
		return 0;
	if (prep(st, &s, "SELECT fpr FROM pgp_keys WHERE fpr = ?1 OR "
	    "keyid = ?1 UNION SELECT primary_fpr FROM pgp_subkeys WHERE "
	    "fpr = ?1 OR keyid = ?1 LIMIT 2", error_r) < 0)
		return -1;
	sqlite3_bind_text(s, 1, up, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		snprintf(fpr_r, PGP_FPR_MAX + 1, "%s",
		    (const char *)sqlite3_column_text(s, 0));
		rc = 1;
		if (sqlite3_step(s) == SQLITE_ROW) {
			*fpr_r = '\0';
			rc = err_set(error_r, "key ID '%s' is ambiguous", id);
		}
	} else if (r == SQLITE_DONE)
		rc = 0;
	else
		store_sqlerr(st, "pgp resolve", error_r);
	sqlite3_finalize(s);
	return rc;
}

void
store_pgp_row_release(struct store_pgp_row *row)
{
	str_array_free(&row->emails, row->nemails);
	str_array_free(&row->assoc, row->nassoc);
	free(row->uid);
	memset(row, 0, sizeof(*row));
}

static int
strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return -1;
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static int
row_fill(struct store *st, sqlite3_stmt *s, struct store_pgp_row *row,
    const char **error_r)
{
	sqlite3_stmt *e = NULL;
	const char *t;
	int r, rc = -1;

	memset(row, 0, sizeof(*row));
	snprintf(row->fpr, sizeof(row->fpr), "%s",
	    (const char *)sqlite3_column_text(s, 0));
	snprintf(row->keyid, sizeof(row->keyid), "%s",
	    (const char *)sqlite3_column_text(s, 1));
	t = (const char *)sqlite3_column_text(s, 2);
	if (t != NULL && (row->uid = strdup(t)) == NULL)
		return err_set(error_r, "out of memory");
	snprintf(row->caps, sizeof(row->caps), "%s",
	    (const char *)sqlite3_column_text(s, 3));
	row->created = (time_t)sqlite3_column_int64(s, 4);
	row->expires = (time_t)sqlite3_column_int64(s, 5);
	row->revoked = sqlite3_column_int(s, 6);
	row->invalid = sqlite3_column_int(s, 7);
	row->has_secret = sqlite3_column_int(s, 8);
	row->trusted = sqlite3_column_int(s, 9);
	if (prep(st, &e, "SELECT email, source FROM pgp_emails WHERE fpr = ?1 "
	    "ORDER BY source DESC, email", error_r) < 0)
		goto out;
	sqlite3_bind_text(e, 1, row->fpr, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(e)) == SQLITE_ROW) {
		const char *em = (const char *)sqlite3_column_text(e, 0);
		const char *src = (const char *)sqlite3_column_text(e, 1);
		int ok = strcmp(src, "uid") == 0 ?
		    strv_push(&row->emails, &row->nemails, em) :
		    strv_push(&row->assoc, &row->nassoc, em);

		if (ok < 0) {
			err_set(error_r, "out of memory");
			goto out;
		}
	}
	if (r != SQLITE_DONE) {
		store_sqlerr(st, "pgp emails", error_r);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(e);
	if (rc < 0)
		store_pgp_row_release(row);
	return rc;
}

#define ROW_COLS "k.fpr, k.keyid, k.uid, k.caps, k.created, k.expires, " \
	"k.revoked, k.invalid, k.has_secret, k.trusted"

int
store_pgp_get(struct store *st, const char *fpr, struct store_pgp_row *row,
    const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int r, rc = -1;

	memset(row, 0, sizeof(*row));
	if (prep(st, &s, "SELECT " ROW_COLS " FROM pgp_keys k WHERE "
	    "k.fpr = ?1", error_r) < 0)
		return -1;
	sqlite3_bind_text(s, 1, fpr, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		rc = row_fill(st, s, row, error_r) < 0 ? -1 : 1;
	else if (r == SQLITE_DONE)
		rc = 0;
	else
		store_sqlerr(st, "pgp key", error_r);
	sqlite3_finalize(s);
	return rc;
}

int
store_pgp_list(struct store *st, const char *email, int trusted_only,
    int (*cb)(const struct store_pgp_row *row, void *arg), void *arg,
    const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char norm[ADDRESS_MAX + 1];
	int r, rc = -1;

	if (email != NULL && norm_email_or_domain(email, norm) < 0)
		return err_set(error_r, "not an address or domain '%s'",
		    email);
	if (prep(st, &s, "SELECT " ROW_COLS " FROM pgp_keys k WHERE "
	    "(?1 IS NULL OR EXISTS (SELECT 1 FROM pgp_emails e WHERE "
	    "e.fpr = k.fpr AND e.email = ?1)) AND (?2 = 0 OR k.trusted = 1) "
	    "ORDER BY k.uid, k.created", error_r) < 0)
		return -1;
	if (email != NULL)
		sqlite3_bind_text(s, 1, norm, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, trusted_only);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_pgp_row row;
		int stop;

		if (row_fill(st, s, &row, error_r) < 0)
			goto out;
		stop = cb(&row, arg);
		store_pgp_row_release(&row);
		if (stop)
			break;
	}
	if (r != SQLITE_DONE && r != SQLITE_ROW) {
		store_sqlerr(st, "pgp list", error_r);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* A key usable at ?3: trusted, not revoked/invalid/expired, with a
 * usable subkey (or primary) of capability ?4. */
#define USABLE "k.trusted = 1 AND k.revoked = 0 AND k.invalid = 0 AND " \
	"(k.expires = 0 OR k.expires > ?3) AND EXISTS (SELECT 1 FROM " \
	"pgp_subkeys s WHERE s.primary_fpr = k.fpr AND instr(s.caps, ?4) > 0 " \
	"AND s.revoked = 0 AND (s.expires = 0 OR s.expires > ?3))"

static int
addr_and_domain(const char *addr, char a[ADDRESS_MAX + 1],
    const char **d_r, const char **error_r)
{
	if (address_normalize(addr, a, ADDRESS_MAX + 1) < 0)
		return err_set(error_r, "bad address '%s'", addr);
	str_lower(a);
	*d_r = address_domain(a);
	return 0;
}

int
store_pgp_select_encrypt(struct store *st, const char *addr, time_t now,
    char ***fprs_r, size_t *n_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char a[ADDRESS_MAX + 1];
	const char *d = NULL;
	char **v = NULL;
	size_t n = 0;
	int r, rc = -1;

	*fprs_r = NULL;
	*n_r = 0;
	if (addr_and_domain(addr, a, &d, error_r) < 0)
		return -1;
	if (prep(st, &s, "SELECT DISTINCT k.fpr, k.created FROM pgp_keys k "
	    "JOIN pgp_emails e ON e.fpr = k.fpr WHERE (e.email = ?1 OR "
	    "(e.email = ?2 AND e.source = 'admin')) AND " USABLE
	    " ORDER BY k.created DESC, k.fpr", error_r) < 0)
		return -1;
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, d, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)now);
	sqlite3_bind_text(s, 4, "e", -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (strv_push(&v, &n, (const char *)sqlite3_column_text(s, 0))
		    < 0) {
			err_set(error_r, "out of memory");
			goto out;
		}
	if (r != SQLITE_DONE) {
		store_sqlerr(st, "pgp select", error_r);
		goto out;
	}
	*fprs_r = v;
	*n_r = n;
	v = NULL;
	n = 0;
	rc = 0;
out:
	str_array_free(&v, n);
	sqlite3_finalize(s);
	return rc;
}

int
store_pgp_select_signer(struct store *st, const char *addr, time_t now,
    char fpr_r[PGP_FPR_MAX + 1], const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char a[ADDRESS_MAX + 1];
	const char *d = NULL;
	int r, rc = -1;

	*fpr_r = '\0';
	if (addr_and_domain(addr, a, &d, error_r) < 0)
		return -1;
	if (prep(st, &s, "SELECT k.fpr FROM pgp_keys k JOIN pgp_emails e ON "
	    "e.fpr = k.fpr WHERE k.has_secret = 1 AND (e.email = ?1 OR "
	    "(e.email = ?2 AND e.source = 'admin')) AND " USABLE
	    " ORDER BY (e.email = ?1) DESC, k.created DESC, k.fpr LIMIT 1",
	    error_r) < 0)
		return -1;
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, d, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)now);
	sqlite3_bind_text(s, 4, "s", -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		snprintf(fpr_r, PGP_FPR_MAX + 1, "%s",
		    (const char *)sqlite3_column_text(s, 0));
		rc = 1;
	} else if (r == SQLITE_DONE)
		rc = 0;
	else
		store_sqlerr(st, "pgp signer", error_r);
	sqlite3_finalize(s);
	return rc;
}
