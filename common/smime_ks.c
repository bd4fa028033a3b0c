/*
 * smime_ks: struct smime_keys over the X.509 keystore (x509.h): private
 * keys by RecipientInfo (x509_key_by_rid) and signer validation
 * (x509_verify for signing, with the keystore's human reason).
 */
#include <stdio.h>
#include <string.h>

#include "smime.h"
#include "smime_int.h"
#include "x509.h"

static int
ks_find_key(void *arg, const struct smime_rid *rid, EVP_PKEY **pkey_r,
    X509 **cert_r, const char **error_r)
{
	struct x509_rid xr = { rid->issuer, rid->serial, rid->ski };
	int r;

	r = x509_key_by_rid(arg, &xr, cert_r, pkey_r, NULL, error_r);
	if (r < 0)
		return -1;
	return r == 0 ? 1 : 0;
}

static int
ks_validate(void *arg, X509 *signer, STACK_OF(X509) *untrusted, time_t at,
    int *trusted_r, char *reason, size_t size, const char **error_r)
{
	struct x509_verdict v;

	x509_verdict_init(&v);
	if (x509_verify(arg, signer, untrusted, at, X509_USE_SIGN, &v,
	    error_r) < 0) {
		x509_verdict_release(&v);
		return -1;
	}
	*trusted_r = v.valid != 0;
	smime_strlcpy(reason, v.valid ? "" : v.reason, size);
	x509_verdict_release(&v);
	return 0;
}

void
smime_keys_from_ks(struct smime_keys *k, struct x509_ks *ks)
{
	memset(k, 0, sizeof(*k));
	k->find_key = ks_find_key;
	k->validate = ks_validate;
	k->arg = ks;
}

static int
ks_find_key_strict(void *arg, const struct smime_rid *rid, EVP_PKEY **pkey_r,
    X509 **cert_r, const char **error_r)
{
	struct smime_ks_strict *st = arg;
	struct x509_rid xr = { rid->issuer, rid->serial, rid->ski };
	char thumb[X509_THUMB_LEN + 1];
	int r, allow = 0;

	r = x509_key_by_rid(st->ks, &xr, cert_r, pkey_r, thumb, error_r);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (x509_strict_allows(st->ks, st->rcpt, thumb, st->at, &allow,
	    st->reason, sizeof(st->reason), error_r) < 0)
		allow = -1;
	if (allow <= 0) {
		EVP_PKEY_free(*pkey_r);
		X509_free(*cert_r);
		*pkey_r = NULL;
		*cert_r = NULL;
		st->refused++;
		return allow < 0 ? -1 : 0;
	}
	return 1;
}

static int
ks_validate_strict(void *arg, X509 *signer, STACK_OF(X509) *untrusted,
    time_t at, int *trusted_r, char *reason, size_t size,
    const char **error_r)
{
	struct smime_ks_strict *st = arg;

	return ks_validate(st->ks, signer, untrusted, at, trusted_r, reason,
	    size, error_r);
}

void
smime_keys_from_ks_strict(struct smime_keys *k, struct smime_ks_strict *st,
    struct x509_ks *ks, const char *rcpt, time_t at)
{
	memset(st, 0, sizeof(*st));
	st->ks = ks;
	st->rcpt = rcpt;
	st->at = at != 0 ? at : time(NULL);
	memset(k, 0, sizeof(*k));
	k->find_key = ks_find_key_strict;
	k->validate = ks_validate_strict;
	k->arg = st;
}
