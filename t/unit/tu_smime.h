/*
 * Test kit for the S/MIME suites: a throwaway PKI made with the openssl
 * command line (a CA, RSA recipient Bob, EC P-256 recipient Carol, RSA
 * signer Alice, all with e-mail addresses), helpers to run openssl and
 * gpgsm on our output (with tu_sh() from testutil.h), and file helpers.
 *
 * tu_pki_setup() is meant for an unchecked fixture (runs once in the
 * parent); tu_pki() returns the loaded material (NULL when setup failed).
 */
#ifndef POSTERN_TU_SMIME_H
#define POSTERN_TU_SMIME_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct tu_pki {
	char *dir;
	X509 *ca;
	X509 *bob, *carol, *alice;
	EVP_PKEY *bob_key, *carol_key, *alice_key;
	X509_STORE *store;		/* trusts ca */
};

void tu_pki_setup(void);
void tu_pki_teardown(void);
struct tu_pki *tu_pki(void);

/* Write len bytes to dir/name; returns the malloc'd path or NULL. */
char *tu_put(const char *dir, const char *name, const void *data,
    size_t len);
/* Is gpgsm usable here? */
int tu_have_gpgsm(void);

X509 *tu_load_cert(const char *path);
EVP_PKEY *tu_load_key(const char *path);

#endif
