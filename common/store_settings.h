/*
 * store_settings: every SQL statement about users, domains and the
 * settings rows (schema/0001-core.sql).  Used by settings.c only.
 *
 * Rows: level is stored as 'global', 'domain' (domains and wildcard
 * domains) or 'user'; owner is "" for global, the normalised domain or
 * address otherwise.  Callers pass normalised names.  A setting row holds
 * either value (text) or sealed (a secret_seal() blob), never both.
 *
 * Writes run in their own BEGIN IMMEDIATE transaction (store_begin), so
 * concurrent writers wait for each other (busy timeout) instead of
 * failing.  Nothing is logged; errors come back through error_r.
 * Strings handed to callbacks are valid during the call only.
 */
#ifndef POSTERN_STORE_SETTINGS_H
#define POSTERN_STORE_SETTINGS_H

#include <stddef.h>

#include "address.h"

struct store;

struct store_setting_row {
	enum address_level level;	/* GLOBAL, WILDCARD, DOMAIN or USER */
	const char *owner;
	const char *name;
	const char *value;		/* NULL when sealed */
	const unsigned char *sealed;
	size_t sealed_len;
};

typedef int store_setting_cb(const struct store_setting_row *row,
    void *arg);

/* Every row of every owner in chain, with one query. */
int store_settings_load(struct store *st, const struct address_chain *chain,
    store_setting_cb *cb, void *arg, const char **error_r);
/* Insert or replace one row, creating the user or domain on demand. */
int store_settings_put(struct store *st, enum address_level level,
    const char *owner, const char *name, const char *value,
    const unsigned char *sealed, size_t sealed_len, const char **error_r);
/* *removed_r: 1 when a row was deleted, 0 when none was set. */
int store_settings_del(struct store *st, enum address_level level,
    const char *owner, const char *name, int *removed_r,
    const char **error_r);

/* Users: add is idempotent; delete removes the settings too. */
int store_user_add(struct store *st, const char *addr, const char *domain,
    const char **error_r);
/* *found_r: 0 when there was no such user. */
int store_user_delete(struct store *st, const char *addr, int *found_r,
    const char **error_r);
/* 1 found (created copied into created[sz]), 0 not found, -1 error. */
int store_user_get(struct store *st, const char *addr, char *created,
    size_t sz, const char **error_r);
/* filter: NULL, a domain or a wildcard ("*.example.com"). */
int store_user_list(struct store *st, const char *filter,
    int (*cb)(const char *addr, void *arg), void *arg,
    const char **error_r);

int store_domain_add(struct store *st, const char *domain,
    const char **error_r);
/*
 * Refused ("domain 'x' has N users") while users of the domain (for a
 * wildcard: users of any matching domain) exist, unless force; deletes
 * the domain row and its settings, never users.  *found_r as above.
 */
int store_domain_delete(struct store *st, const char *domain, int force,
    int *found_r, const char **error_r);
int store_domain_get(struct store *st, const char *domain, char *created,
    size_t sz, long long *users_r, const char **error_r);
int store_domain_list(struct store *st,
    int (*cb)(const char *domain, void *arg), void *arg,
    const char **error_r);

#endif
