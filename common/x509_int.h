/* x509 internals shared by x509.c (keystore) and x509_trust.c (trust,
 * selection, decryption).  Not for other modules. */
#ifndef POSTERN_X509_INT_H
#define POSTERN_X509_INT_H

#include "x509.h"

struct x509_ks {
	struct store *st;
	const struct secret_key *mkey;
	X509_STORE *roots;		/* cache; NULL until needed */
	STACK_OF(X509) *roots_sk;	/* the same certificates */
};

/* The cached roots (loaded on first use). */
int x509_ks_roots(struct x509_ks *ks, const char **error_r);
void x509_ks_roots_drop(struct x509_ks *ks);

/* Fill a struct x509_info from a certificate (malloc'd). */
struct x509_info *x509_info_from(X509 *cert, enum x509_where where,
    int has_key);
/* Lowercased copy of s into out; -1 when too long. */
int x509_lower(const char *s, char *out, size_t outsz);
/* "YYYY-MM-DD" of an ASN1_TIME. */
void x509_asn1_date(const ASN1_TIME *t, char *buf, size_t bufsz);
/* Uppercase hex of bytes into a malloc'd string. */
char *x509_hex(const unsigned char *p, size_t n);
/* Serial as uppercase hex without leading zero bytes; malloc'd. */
char *x509_serial_hex(const ASN1_INTEGER *serial);

#endif
