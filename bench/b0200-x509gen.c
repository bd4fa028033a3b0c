/*
 * b0200 helper: fill a keystore with N end-entity certificates (one EC
 * P-256 key reused, distinct subjects and emails userI@dJ.example) under
 * one root, then time the import, encryption certificate selection for
 * random recipients, and the raw indexed email query for comparison.
 *   b0200-x509gen DBPATH N LOOKUPS
 * Prints "key value" lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "secret.h"
#include "store.h"
#include "store_x509.h"
#include "x509.h"

#define BATCH 1000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static X509 *
mkcert(EVP_PKEY *key, X509 *issuer, const char *cn, const char *email,
    long serial, int ca)
{
	X509 *c = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[128];

	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	if (email != NULL)
		X509_NAME_add_entry_by_txt(n, "emailAddress", MBSTRING_ASC,
		    (const unsigned char *)email, -1, -1, 0);
	X509_set_subject_name(c, n);
	X509_set_issuer_name(c, issuer != NULL ?
	    X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	ASN1_TIME_set_string(X509_getm_notBefore(c), "20240101000000Z");
	ASN1_TIME_set_string(X509_getm_notAfter(c), "20340101000000Z");
	X509_set_pubkey(c, key);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : c, c, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    ca ? "critical,CA:true" : "CA:false");
	X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, ca ?
	    "keyCertSign,cRLSign" : "digitalSignature,keyAgreement");
	X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	if (email != NULL) {
		snprintf(san, sizeof(san), "email:%s", email);
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
		    san);
		X509_add_ext(c, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(c, key, EVP_sha256());
	return c;
}

static int
count_cb(const struct x509_info *in, X509 *c, void *arg)
{
	(void)in;
	(void)c;
	(*(long *)arg)++;
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned char raw[32] = { 1 };
	struct store *st = NULL;
	struct secret_key *mk;
	struct x509_ks *ks = NULL;
	const char *error = NULL;
	EVP_PKEY *key;
	X509 *root;
	BIO *b;
	long n, lookups, i, found = 0, j;
	double t0, t_gen = 0, t_imp = 0, t_sel, t_raw;
	char cn[64], email[64];

	if (argc != 4)
		return 2;
	n = atol(argv[2]);
	lookups = atol(argv[3]);
	if (store_open(&st, argv[1], 5000, STORE_CREATE, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 1;
	}
	mk = secret_key_from_bytes(raw, sizeof(raw));
	if (x509_ks_new(st, mk, &ks, &error) < 0)
		return 1;
	key = EVP_EC_gen("P-256");
	root = mkcert(key, NULL, "Bench Root", NULL, 1, 1);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, root);
	{
		char *p;
		long len = BIO_get_mem_data(b, &p);

		if (x509_import_certs(ks, X509KS_ROOTS, (unsigned char *)p,
		    (size_t)len, NULL, &error) < 0) {
			fprintf(stderr, "%s\n", error);
			return 1;
		}
	}
	for (i = 0; i < n; i += BATCH) {
		char *p;
		long len;

		BIO_reset(b);
		t0 = now();
		for (j = i; j < i + BATCH && j < n; j++) {
			X509 *c;

			snprintf(cn, sizeof(cn), "user %ld", j);
			snprintf(email, sizeof(email), "user%ld@d%ld.example",
			    j, j % 997);
			c = mkcert(key, root, cn, email, 1000 + j, 0);
			PEM_write_bio_X509(b, c);
			X509_free(c);
		}
		t_gen += now() - t0;
		len = BIO_get_mem_data(b, &p);
		t0 = now();
		if (x509_import_certs(ks, X509KS_CERTS, (unsigned char *)p,
		    (size_t)len, NULL, &error) < 0) {
			fprintf(stderr, "%s\n", error);
			return 1;
		}
		t_imp += now() - t0;
	}
	printf("certificates %ld\n", n);
	printf("generate_per_s %.0f\n", (double)n / t_gen);
	printf("import_per_s %.0f\n", (double)n / t_imp);

	srand(42);
	t0 = now();
	for (i = 0; i < lookups; i++) {
		struct x509_certlist *l = NULL;

		j = rand() % n;
		snprintf(email, sizeof(email), "User%ld@D%ld.example", j,
		    j % 997);
		if (x509_encryption_certs(ks, email, 1798761600,
		    X509_POL_AUTO_SELECT, &l, &error) < 0) {
			fprintf(stderr, "%s\n", error);
			return 1;
		}
		found += (long)l->n;
		x509_certlist_free(&l);
	}
	t_sel = now() - t0;
	printf("selections %ld found %ld\n", lookups, found);
	printf("select_ms %.3f\n", t_sel * 1000 / (double)lookups);
	srand(42);
	t0 = now();
	for (i = 0; i < lookups; i++) {
		long cnt = 0;

		j = rand() % n;
		snprintf(email, sizeof(email), "user%ld@d%ld.example", j,
		    j % 997);
		/* the indexed query alone: list by email, no verification */
		if (x509_list(ks, X509KS_CERTS, email, count_cb, &cnt,
		    &error) < 0 || cnt != 1) {
			fprintf(stderr, "raw lookup failed\n");
			return 1;
		}
	}
	t_raw = now() - t0;
	printf("raw_email_query_ms %.3f\n", t_raw * 1000 / (double)lookups);
	{
		char plan[1024];

		store_x509_explain_email(st, plan, sizeof(plan), &error);
		printf("plan %s", plan);
	}
	X509_free(root);
	EVP_PKEY_free(key);
	BIO_free(b);
	x509_ks_free(&ks);
	secret_key_free(&mk);
	store_free(&st);
	return found == lookups ? 0 : 1;
}
