/*
 * pgp_keystore: keeps the SQLite mirror (store_pgp) in step with the
 * GnuPG keyring (pgp_keyring).  Every keyring change made through
 * Postern (import, generate, revoke, delete) is followed by a sync of
 * the keys it touched; pgp_keystore_sync() rebuilds the whole mirror
 * from the keyring (keeping trust flags and admin associations of keys
 * that are still there).  Both objects are borrowed.  Nothing is logged.
 */
#ifndef POSTERN_PGP_KEYSTORE_H
#define POSTERN_PGP_KEYSTORE_H

#include <stddef.h>

#include "pgp_keyring.h"

struct store;

/* Mirror one key (gone from the keyring: removed from the mirror). */
int pgp_keystore_sync_key(struct pgp_keyring *kr, struct store *st,
    const char *fpr, const char **error_r);
/* Mirror every key; counts may be NULL. */
int pgp_keystore_sync(struct pgp_keyring *kr, struct store *st,
    size_t *nkeys_r, int *removed_r, const char **error_r);
/* Import and mirror; imported keys are untrusted until an admin trusts
 * them.  fprs_r as pgp_keyring_import(). */
int pgp_keystore_import(struct pgp_keyring *kr, struct store *st,
    const void *data, size_t len, const char *import_passphrase,
    char ***fprs_r, size_t *n_r, const char **error_r);

#endif
