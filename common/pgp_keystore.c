/* pgp_keystore: keyring <-> SQLite mirror (see pgp_keystore.h). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pgp_keystore.h"
#include "store.h"
#include "store_pgp.h"

int
pgp_keystore_sync_key(struct pgp_keyring *kr, struct store *st,
    const char *fpr, const char **error_r)
{
	struct pgp_keyinfo *keys = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (pgp_keyring_list(kr, fpr, &keys, &n, error_r) < 0)
		return -1;
	if (n == 0) {
		rc = store_pgp_delete(st, fpr, error_r);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (store_pgp_put(st, &keys[i], error_r) < 0)
			goto out;
	rc = 0;
out:
	pgp_keyinfo_free_array(&keys, n);
	return rc;
}

int
pgp_keystore_sync(struct pgp_keyring *kr, struct store *st,
    size_t *nkeys_r, int *removed_r, const char **error_r)
{
	struct pgp_keyinfo *keys = NULL;
	char **fprs = NULL;
	size_t n = 0, i;
	int removed = 0, rc = -1;

	if (pgp_keyring_list(kr, NULL, &keys, &n, error_r) < 0)
		return -1;
	if (n > 0 && (fprs = calloc(n, sizeof(*fprs))) == NULL) {
		err_set(error_r, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		fprs[i] = keys[i].fpr;
		if (store_pgp_put(st, &keys[i], error_r) < 0)
			goto out;
	}
	if (store_pgp_retain(st, fprs, n, &removed, error_r) < 0)
		goto out;
	if (nkeys_r != NULL)
		*nkeys_r = n;
	if (removed_r != NULL)
		*removed_r = removed;
	rc = 0;
out:
	free(fprs);
	pgp_keyinfo_free_array(&keys, n);
	return rc;
}

int
pgp_keystore_import(struct pgp_keyring *kr, struct store *st,
    const void *data, size_t len, const char *import_passphrase,
    char ***fprs_r, size_t *n_r, const char **error_r)
{
	char **fprs = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (pgp_keyring_import(kr, data, len, import_passphrase, &fprs, &n,
	    error_r) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (pgp_keystore_sync_key(kr, st, fprs[i], error_r) < 0)
			goto out;
	if (fprs_r != NULL) {
		*fprs_r = fprs;
		*n_r = n;
		fprs = NULL;
	}
	rc = 0;
out:
	str_array_free(&fprs, n);
	return rc;
}
