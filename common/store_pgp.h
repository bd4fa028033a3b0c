/*
 * store_pgp: the SQLite mirror of the OpenPGP keyring (schema
 * 0020-pgp.sql), the admin trust flag, admin associations and the key
 * selection rules.  All the SQL of the OpenPGP side lives here.
 *
 * Rules (CipherMail, seed 002):
 * - no key is trusted until an admin trusts it; the flag is on the
 *   primary and covers its subkeys;
 * - emails come from valid self-signed user IDs only (pgp_keyinfo),
 *   plus addresses or domains an admin associated with the key;
 * - encryption keys for a recipient: every trusted, unrevoked, valid,
 *   unexpired key with a usable (unrevoked, unexpired) encryption
 *   subkey, associated with the recipient's address or its domain;
 * - the signing key of a sender: its trusted, valid secret key with a
 *   usable signing (sub)key, associated with the address (or, failing
 *   that, the domain); the newest when several.
 *
 * Emails and domains are compared lowercase.  Writers wrap their changes
 * in one transaction.  Results are malloc'd (str_array_free() for string
 * arrays, store_pgp_row_release() for rows).  Nothing is logged.
 */
#ifndef POSTERN_STORE_PGP_H
#define POSTERN_STORE_PGP_H

#include <stddef.h>
#include <time.h>

#include "pgp_keyring.h"

struct store;

struct store_pgp_row {
	char fpr[PGP_FPR_MAX + 1];
	char keyid[17];
	char *uid;
	char caps[4];		/* "esc" subset */
	time_t created, expires;
	int revoked, invalid, has_secret, trusted;
	char **emails;		/* from UIDs */
	size_t nemails;
	char **assoc;		/* admin associations */
	size_t nassoc;
};

/* Insert or update one key from the keyring; keeps trust and admin
 * associations. */
int store_pgp_put(struct store *st, const struct pgp_keyinfo *k,
    const char **error_r);
int store_pgp_delete(struct store *st, const char *fpr, const char **error_r);
/* Delete every key not in fprs (sync); *removed_r counts them. */
int store_pgp_retain(struct store *st, char *const *fprs, size_t n,
    int *removed_r, const char **error_r);

/* 0 done, -1 error (unknown key: error "no key '...'"). */
int store_pgp_set_trusted(struct store *st, const char *fpr, int trusted,
    const char **error_r);
/* what: an address or a domain (normalised here). */
int store_pgp_assoc_add(struct store *st, const char *fpr, const char *what,
    const char **error_r);
int store_pgp_assoc_remove(struct store *st, const char *fpr,
    const char *what, const char **error_r);

/* The primary fingerprint for a primary/subkey fingerprint or a 16-digit
 * key ID (case-insensitive).  1 found, 0 not, -1 error. */
int store_pgp_resolve(struct store *st, const char *id,
    char fpr_r[PGP_FPR_MAX + 1], const char **error_r);

/* One key: 1 found, 0 not, -1 error. */
int store_pgp_get(struct store *st, const char *fpr,
    struct store_pgp_row *row, const char **error_r);
/* List, filtered by email/domain (UID or association) and trust;
 * callback per row (the row is released after the callback). */
int store_pgp_list(struct store *st, const char *email, int trusted_only,
    int (*cb)(const struct store_pgp_row *row, void *arg), void *arg,
    const char **error_r);
void store_pgp_row_release(struct store_pgp_row *row);

/* Selection at time now. */
int store_pgp_select_encrypt(struct store *st, const char *addr, time_t now,
    char ***fprs_r, size_t *n_r, const char **error_r);
/* 1 found (fpr_r set), 0 none, -1 error. */
int store_pgp_select_signer(struct store *st, const char *addr, time_t now,
    char fpr_r[PGP_FPR_MAX + 1], const char **error_r);

#endif
