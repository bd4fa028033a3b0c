/*
 * store_x509: the SQL of the X.509 keystore (schema/0010-x509.sql).  Only
 * common/x509*.c call this; everything else uses x509.h.  Rows are handed
 * to callbacks while the statement runs (pointers valid for the call
 * only); a callback returning non-zero stops the walk (not an error).
 * Return 0 or -1 with *error_r, or 0/1/-1 (found/not found/error) where
 * said.  Nothing is logged.
 */
#ifndef POSTERN_STORE_X509_H
#define POSTERN_STORE_X509_H

#include <stddef.h>
#include <time.h>

struct store;

struct store_x509_cert {
	int where;			/* enum x509_where */
	const char *thumb;
	const unsigned char *der;
	size_t der_len;
	const char *subject, *issuer;
	const unsigned char *subject_der, *issuer_der;
	size_t subject_der_len, issuer_der_len;
	const char *serial;
	const char *skid;		/* NULL when absent */
	long long not_before, not_after;
	long key_usage, ext_key_usage;
	int is_ca;
	const char *const *emails;
	size_t nemails;
	int has_key;			/* on read */
};

typedef int store_x509_cert_cb(const struct store_x509_cert *row,
    void *arg);

/* Insert unless (where, thumb) exists: *added_r 1 or 0. */
int store_x509_cert_add(struct store *st, const struct store_x509_cert *row,
    int *added_r, const char **error_r);
/* Queries; where -1 means both stores.  Only der, der_len, where, thumb
 * and has_key are filled on read. */
int store_x509_by_thumb(struct store *st, int where, const char *thumb,
    store_x509_cert_cb *cb, void *arg, const char **error_r);
int store_x509_by_email(struct store *st, int where, const char *email,
    store_x509_cert_cb *cb, void *arg, const char **error_r);
int store_x509_all(struct store *st, int where, store_x509_cert_cb *cb,
    void *arg, const char **error_r);
int store_x509_by_subject(struct store *st, int where,
    const unsigned char *subject_der, size_t len, store_x509_cert_cb *cb,
    void *arg, const char **error_r);
/* Thumbprints starting with prefix (uppercase hex), at most max. */
int store_x509_thumbs_by_prefix(struct store *st, int where,
    const char *prefix, char (*out)[129], size_t max, size_t *n_r,
    const char **error_r);
/* Certificates store, with a key only. */
int store_x509_keyed_by_serial(struct store *st, const char *serial,
    store_x509_cert_cb *cb, void *arg, const char **error_r);
int store_x509_keyed_by_skid(struct store *st, const char *skid,
    store_x509_cert_cb *cb, void *arg, const char **error_r);
/* 0 deleted, 1 not found.  Deleting from certs deletes the key. */
int store_x509_cert_delete(struct store *st, int where, const char *thumb,
    const char **error_r);

int store_x509_key_put(struct store *st, const char *thumb,
    const unsigned char *sealed, size_t len, const char **error_r);
/* 0 found (*sealed_r malloc'd), 1 none. */
int store_x509_key_get(struct store *st, const char *thumb,
    unsigned char **sealed_r, size_t *len_r, const char **error_r);

struct store_x509_crl {
	const char *thumb;
	const unsigned char *der;
	size_t der_len;
	const char *issuer;
	const unsigned char *issuer_der;
	size_t issuer_der_len;
	long long this_update, next_update;	/* next 0: absent */
	const char *const *serials;		/* revoked, uppercase hex */
	const long long *revoked_at;
	size_t nrevoked;
};
typedef int store_x509_crl_cb(const struct store_x509_crl *row, void *arg);

int store_x509_crl_add(struct store *st, const struct store_x509_crl *row,
    int *added_r, const char **error_r);
/* By issuer: der filled.  List: everything but der/serials (nrevoked). */
int store_x509_crls_by_issuer(struct store *st,
    const unsigned char *issuer_der, size_t len, store_x509_crl_cb *cb,
    void *arg, const char **error_r);
int store_x509_crl_list(struct store *st, const char *thumb,
    store_x509_crl_cb *cb, void *arg, const char **error_r);

int store_x509_ctl_set(struct store *st, const char *thumb, int black,
    int allow_expired, const char **error_r);
int store_x509_ctl_remove(struct store *st, const char *thumb,
    const char **error_r);
int store_x509_ctl_get(struct store *st, const char *thumb, int *black_r,
    int *allow_expired_r, const char **error_r);
int store_x509_ctl_list(struct store *st,
    int (*cb)(const char *thumb, int black, int allow_expired, void *arg),
    void *arg, const char **error_r);

/* Selections; level is the address_level_name() text, kind the name. */
int store_x509_sel_add(struct store *st, const char *level,
    const char *owner, const char *thumb, const char *kind,
    int replace_kind, const char **error_r);
int store_x509_sel_remove(struct store *st, const char *level,
    const char *owner, const char *thumb, const char *kind,
    const char **error_r);
/* Rows of one level/owner/kind, or (level NULL) every row, optionally
 * for one thumbprint (thumb NULL: all). */
int store_x509_sel_list(struct store *st, const char *level,
    const char *owner, const char *kind, const char *thumb,
    int (*cb)(const char *level, const char *owner, const char *thumb,
    const char *kind, void *arg), void *arg, const char **error_r);
int store_x509_sel_delete_thumb(struct store *st, const char *thumb,
    const char **error_r);

/* For the index test: EXPLAIN QUERY PLAN of the email lookup. */
int store_x509_explain_email(struct store *st, char *buf, size_t bufsz,
    const char **error_r);

#endif
