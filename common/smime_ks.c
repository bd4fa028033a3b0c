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
